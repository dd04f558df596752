//! The walk over a TypeScript syntax tree that collects the byte ranges of
//! its TypeScript syntax, to be blanked, and the first construct that
//! generates code, to be refused. Class members have their own rules, in
//! `class_members`.

use oxc_ast::ast::{
    Class, ClassElement, Declaration, ExportAllDeclaration, ExportDeclaration,
    ExportFromDeclaration, ExportNamedDeclaration, ExportSpecifier, Expression, FormalParameter,
    Function, ImportDeclaration, ImportDeclarationSpecifier, ImportOrExportKind, ModuleDeclaration,
    Statement, TSAsExpression, TSClassImplements, TSInstantiationExpression, TSNonNullExpression,
    TSSatisfiesExpression, TSThisParameter, TSTypeAnnotation, TSTypeAssertion,
    TSTypeParameterDeclaration, TSTypeParameterInstantiation, VariableDeclarator,
};
use oxc_ast_visit::{Visit, walk};
use oxc_span::{GetSpan, Span};
use oxc_syntax::scope::ScopeFlags;

/// Walks the program and collects the byte ranges to blank.
pub(super) struct Stripper<'s> {
    pub(super) source: &'s str,
    pub(super) blanks: Vec<(u32, u32)>,
    /// The first construct that cannot be stripped: where, and why.
    pub(super) refused: Option<(u32, String)>,
}

impl Stripper<'_> {
    pub(super) fn blank(&mut self, span: Span) {
        if span.start < span.end {
            self.blanks.push((span.start, span.end));
        }
    }

    fn refuse(&mut self, offset: u32, reason: &str) {
        if self.refused.is_none() {
            self.refused = Some((offset, reason.to_owned()));
        }
    }

    /// Blanks the first `character` between `from` and `to` (an optional
    /// `?` or a definite `!` after a name).
    pub(super) fn blank_marker(&mut self, character: u8, from: u32, to: u32) {
        let bytes = self.source.as_bytes();
        if let Some(index) =
            (from..to.min(bytes.len() as u32)).find(|index| bytes[*index as usize] == character)
        {
            self.blank(Span::new(index, index + 1));
        }
    }

    /// Blanks `span` and the comma after it, for a list item that goes
    /// (`import { type A, b }`).
    fn blank_with_comma(&mut self, span: Span) {
        let bytes = self.source.as_bytes();
        let mut end = span.end as usize;
        while end < bytes.len() && bytes[end].is_ascii_whitespace() {
            end += 1;
        }
        if end < bytes.len() && bytes[end] == b',' {
            self.blank(Span::new(span.start, end as u32 + 1));
        } else {
            self.blank(span);
        }
    }

    /// Whether a declaration is all types (blanked whole), refusing the
    /// ones that generate code.
    fn type_only(&mut self, declaration: &Declaration) -> bool {
        match declaration {
            Declaration::TSTypeAliasDeclaration(_) | Declaration::TSInterfaceDeclaration(_) => true,
            Declaration::VariableDeclaration(variables) => variables.declare,
            Declaration::FunctionDeclaration(function) => {
                function.declare || function.body.is_none()
            }
            Declaration::ClassDeclaration(class) => class.declare,
            Declaration::TSEnumDeclaration(enumeration) => {
                if !enumeration.declare {
                    self.refuse(
                        enumeration.span.start,
                        "TypeScript `enum` generates code, so its types cannot just be stripped; \
                         use an object instead (`const Stage = {Won: \"won\"} as const`)",
                    );
                }
                true
            }
            Declaration::TSExternalModuleDeclaration(_) | Declaration::TSGlobalDeclaration(_) => {
                true
            }
            Declaration::TSNamespaceDeclaration(namespace) => {
                if !namespace.declare {
                    self.refuse(
                        namespace.span.start,
                        "a TypeScript `namespace` generates code, so its types cannot just be \
                         stripped; use an object or module-level functions",
                    );
                }
                true
            }
            Declaration::TSImportEqualsDeclaration(import) => {
                self.refuse(
                    import.span.start,
                    "`import x = require(...)` is not supported: plugins cannot import modules",
                );
                true
            }
        }
    }
}

impl<'a> Visit<'a> for Stripper<'_> {
    fn visit_statement(&mut self, it: &Statement<'a>) {
        if let Some(declaration) = it.as_declaration()
            && self.type_only(declaration)
        {
            self.blank(it.span());
            return;
        }
        walk::walk_statement(self, it);
    }

    fn visit_module_declaration(&mut self, it: &ModuleDeclaration<'a>) {
        match it {
            ModuleDeclaration::TSExportAssignment(assignment) => self.refuse(
                assignment.span.start,
                "`export =` is not supported: write `export function transform(...)`",
            ),
            ModuleDeclaration::TSNamespaceExportDeclaration(export) => self.blank(export.span),
            _ => walk::walk_module_declaration(self, it),
        }
    }

    fn visit_export_declaration(&mut self, it: &ExportDeclaration<'a>) {
        if self.type_only(&it.declaration) {
            self.blank(it.span);
        } else {
            walk::walk_export_declaration(self, it);
        }
    }

    fn visit_export_named_declaration(&mut self, it: &ExportNamedDeclaration<'a>) {
        if it.export_kind == ImportOrExportKind::Type {
            self.blank(it.span);
        } else {
            walk::walk_export_named_declaration(self, it);
        }
    }

    fn visit_export_from_declaration(&mut self, it: &ExportFromDeclaration<'a>) {
        if it.export_kind == ImportOrExportKind::Type {
            self.blank(it.span);
        } else {
            walk::walk_export_from_declaration(self, it);
        }
    }

    fn visit_export_all_declaration(&mut self, it: &ExportAllDeclaration<'a>) {
        if it.export_kind == ImportOrExportKind::Type {
            self.blank(it.span);
        } else {
            walk::walk_export_all_declaration(self, it);
        }
    }

    fn visit_export_specifier(&mut self, it: &ExportSpecifier<'a>) {
        if it.export_kind == ImportOrExportKind::Type {
            self.blank_with_comma(it.span);
        }
    }

    fn visit_import_declaration(&mut self, it: &ImportDeclaration<'a>) {
        if it.import_kind == ImportOrExportKind::Type {
            self.blank(it.span);
            return;
        }
        for specifier in it.specifiers.iter().flatten() {
            if let ImportDeclarationSpecifier::ImportSpecifier(specifier) = specifier
                && specifier.import_kind == ImportOrExportKind::Type
            {
                self.blank_with_comma(specifier.span);
            }
        }
    }

    fn visit_ts_type_annotation(&mut self, it: &TSTypeAnnotation<'a>) {
        self.blank(it.span);
    }

    fn visit_ts_type_parameter_declaration(&mut self, it: &TSTypeParameterDeclaration<'a>) {
        self.blank(it.span);
    }

    fn visit_ts_type_parameter_instantiation(&mut self, it: &TSTypeParameterInstantiation<'a>) {
        self.blank(it.span);
    }

    fn visit_ts_as_expression(&mut self, it: &TSAsExpression<'a>) {
        self.blank(Span::new(it.expression.span().end, it.span.end));
        self.visit_expression(&it.expression);
    }

    fn visit_ts_satisfies_expression(&mut self, it: &TSSatisfiesExpression<'a>) {
        self.blank(Span::new(it.expression.span().end, it.span.end));
        self.visit_expression(&it.expression);
    }

    fn visit_ts_non_null_expression(&mut self, it: &TSNonNullExpression<'a>) {
        self.blank(Span::new(it.span.end.saturating_sub(1), it.span.end));
        self.visit_expression(&it.expression);
    }

    fn visit_ts_type_assertion(&mut self, it: &TSTypeAssertion<'a>) {
        self.blank(Span::new(it.span.start, it.expression.span().start));
        self.visit_expression(&it.expression);
    }

    fn visit_ts_instantiation_expression(&mut self, it: &TSInstantiationExpression<'a>) {
        self.blank(it.type_arguments.span);
        self.visit_expression(&it.expression);
    }

    fn visit_ts_this_parameter(&mut self, it: &TSThisParameter<'a>) {
        self.blank_with_comma(it.span);
    }

    fn visit_ts_class_implements_list(
        &mut self,
        it: &oxc_allocator::Vec<'a, TSClassImplements<'a>>,
    ) {
        let (Some(first), Some(last)) = (it.first(), it.last()) else {
            return;
        };
        let keyword = self.source[..first.span.start as usize]
            .rfind("implements")
            .map_or(first.span.start, |index| index as u32);
        self.blank(Span::new(keyword, last.span.end));
    }

    fn visit_class(&mut self, it: &Class<'a>) {
        if it.r#abstract {
            // `abstract class X`: the keyword is where the class starts.
            let text = &self.source[it.span.start as usize..];
            if let Some(index) = text.find("abstract") {
                let start = it.span.start + index as u32;
                self.blank(Span::new(start, start + "abstract".len() as u32));
            }
        }
        walk::walk_class(self, it);
    }

    fn visit_class_element(&mut self, it: &ClassElement<'a>) {
        match it {
            ClassElement::TSIndexSignature(signature) => self.blank(signature.span),
            ClassElement::MethodDefinition(method) => self.visit_method(method),
            ClassElement::PropertyDefinition(property) => self.visit_property(property),
            ClassElement::AccessorProperty(accessor) => self.visit_accessor(accessor),
            ClassElement::StaticBlock(_) => walk::walk_class_element(self, it),
        }
    }

    fn visit_function(&mut self, it: &Function<'a>, flags: ScopeFlags) {
        if it.body.is_none() || it.declare {
            // An overload signature or a declaration inside an expression.
            self.blank(it.span);
            return;
        }
        walk::walk_function(self, it, flags);
    }

    fn visit_formal_parameter(&mut self, it: &FormalParameter<'a>) {
        if it.accessibility.is_some() || it.readonly || it.r#override {
            self.refuse(
                it.span.start,
                "parameter properties (`constructor(private x)`) generate code, so their types \
                 cannot just be stripped; declare the field and assign it in the constructor",
            );
        }
        if it.optional {
            let until = it
                .type_annotation
                .as_ref()
                .map_or(it.span.end, |annotation| annotation.span.start);
            self.blank_marker(b'?', it.pattern.span().end, until);
        }
        walk::walk_formal_parameter(self, it);
    }

    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        if it.definite {
            let until = it
                .type_annotation
                .as_ref()
                .map_or(it.span.end, |annotation| annotation.span.start);
            self.blank_marker(b'!', it.id.span().end, until);
        }
        walk::walk_variable_declarator(self, it);
    }

    fn visit_expression(&mut self, it: &Expression<'a>) {
        walk::walk_expression(self, it);
    }
}
