//! TypeScript to JavaScript by type stripping: the file is parsed with oxc
//! and every piece of TypeScript syntax is overwritten with spaces (newlines
//! are kept), as Node's `--experimental-strip-types` does. What remains is
//! the JavaScript the author wrote, at the same line and column, so that a
//! stack trace or a syntax error points into the `.ts` file as written.
//!
//! Syntax that has no JavaScript left after its types are removed, because
//! it generates code (`enum`, a `namespace` with values, parameter
//! properties such as `constructor(private x)`, `export =`), is refused with
//! its position and a way around it. Types are not checked: run `tsc
//! --noEmit` for that (the template project in `plugin-sdk/js` does).

use oxc_allocator::Allocator;
use oxc_ast::ast::{
    AccessorProperty, Class, ClassElement, Declaration, ExportAllDeclaration, ExportDeclaration,
    ExportFromDeclaration, ExportNamedDeclaration, ExportSpecifier, Expression, FormalParameter,
    Function, ImportDeclaration, ImportDeclarationSpecifier, ImportOrExportKind, MethodDefinition,
    MethodDefinitionType, ModuleDeclaration, PropertyDefinition, PropertyDefinitionType,
    PropertyKey, Statement, TSAsExpression, TSClassImplements, TSInstantiationExpression,
    TSNonNullExpression, TSSatisfiesExpression, TSThisParameter, TSTypeAnnotation, TSTypeAssertion,
    TSTypeParameterDeclaration, TSTypeParameterInstantiation, VariableDeclarator,
};
use oxc_ast_visit::{Visit, walk};
use oxc_parser::Parser;
use oxc_span::{GetSpan, SourceType, Span};
use oxc_syntax::scope::ScopeFlags;

use super::error::PluginError;

/// The JavaScript of a TypeScript source, with its types blanked out.
/// `filename` names the file in error messages.
pub(crate) fn strip_types(source: &str, filename: &str) -> Result<String, PluginError> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, source, SourceType::ts()).parse();
    if let Some(error) = parsed.diagnostics.first() {
        let offset = error.labels.first().map_or(0, |label| label.offset());
        return Err(PluginError::InvalidScript(format!(
            "SyntaxError: {}{}",
            error.message,
            at(source, offset, filename)
        )));
    }
    let mut stripper = Stripper {
        source,
        blanks: Vec::new(),
        refused: None,
    };
    stripper.visit_program(&parsed.program);
    if let Some((offset, reason)) = stripper.refused {
        return Err(PluginError::InvalidScript(format!(
            "{reason}{}",
            at(source, offset, filename)
        )));
    }
    let mut bytes = source.as_bytes().to_vec();
    for (start, end) in stripper.blanks {
        for byte in &mut bytes[start as usize..(end as usize).min(source.len())] {
            if *byte != b'\n' && *byte != b'\r' {
                *byte = b' ';
            }
        }
    }
    // Only whole UTF-8 sequences were replaced, each byte by an ASCII space.
    String::from_utf8(bytes).map_err(|error| {
        PluginError::InvalidScript(format!("stripping types broke the text: {error}"))
    })
}

/// ` at line L, column C of FILE` for a byte offset (columns count
/// characters, from 1).
pub(crate) fn at(source: &str, offset: u32, filename: &str) -> String {
    let (line, column) = line_and_column(source, offset as usize);
    format!(" at line {line}, column {column} of {filename}")
}

fn line_and_column(source: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(source.len());
    while !source.is_char_boundary(end) {
        end -= 1;
    }
    let before = &source[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Walks the program and collects the byte ranges to blank.
struct Stripper<'s> {
    source: &'s str,
    blanks: Vec<(u32, u32)>,
    /// The first construct that cannot be stripped: where, and why.
    refused: Option<(u32, String)>,
}

/// Class member modifiers that exist only in TypeScript.
const TS_MODIFIERS: &[&str] = &[
    "public",
    "private",
    "protected",
    "readonly",
    "override",
    "declare",
    "abstract",
];
/// JavaScript modifiers that may stand among them.
const JS_MODIFIERS: &[&str] = &["static", "async", "get", "set", "accessor"];

impl Stripper<'_> {
    fn blank(&mut self, span: Span) {
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
    fn blank_marker(&mut self, character: u8, from: u32, to: u32) {
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

    /// Blanks the TypeScript-only modifiers at the start of a class member
    /// (`private static readonly x` keeps `static`).
    fn blank_modifiers(&mut self, member: Span, key: Span) {
        let bytes = self.source.as_bytes();
        let mut position = member.start as usize;
        while position < key.start as usize {
            while position < key.start as usize && bytes[position].is_ascii_whitespace() {
                position += 1;
            }
            let word_end = (position..key.start as usize)
                .find(|index| !bytes[*index].is_ascii_alphabetic())
                .unwrap_or(key.start as usize);
            let word = &self.source[position..word_end];
            if TS_MODIFIERS.contains(&word) {
                self.blank(Span::new(position as u32, word_end as u32));
            } else if !JS_MODIFIERS.contains(&word) || word.is_empty() {
                break;
            }
            position = word_end;
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

impl<'a> Stripper<'_> {
    fn visit_method(&mut self, method: &MethodDefinition<'a>) {
        if method.r#type == MethodDefinitionType::TSAbstractMethodDefinition
            || method.value.body.is_none()
        {
            self.blank(method.span);
            return;
        }
        let key = key_span(&method.key, method.computed, self.source);
        self.blank_modifiers(method.span, key);
        if method.optional {
            self.blank_marker(b'?', key.end, method.value.params.span.start);
        }
        self.visit_property_key(&method.key);
        self.visit_function(&method.value, ScopeFlags::Function);
    }

    fn visit_property(&mut self, property: &PropertyDefinition<'a>) {
        if property.r#type == PropertyDefinitionType::TSAbstractPropertyDefinition
            || property.declare
        {
            self.blank(property.span);
            return;
        }
        let key = key_span(&property.key, property.computed, self.source);
        self.blank_modifiers(property.span, key);
        if property.optional || property.definite {
            let until = property
                .type_annotation
                .as_ref()
                .map(|annotation| annotation.span.start)
                .or_else(|| property.value.as_ref().map(|value| value.span().start))
                .unwrap_or(property.span.end);
            let marker = if property.optional { b'?' } else { b'!' };
            self.blank_marker(marker, key.end, until);
        }
        self.visit_property_key(&property.key);
        if let Some(annotation) = &property.type_annotation {
            self.blank(annotation.span);
        }
        if let Some(value) = &property.value {
            self.visit_expression(value);
        }
    }

    fn visit_accessor(&mut self, accessor: &AccessorProperty<'a>) {
        let key = key_span(&accessor.key, accessor.computed, self.source);
        self.blank_modifiers(accessor.span, key);
        if let Some(annotation) = &accessor.type_annotation {
            self.blank(annotation.span);
        }
        if let Some(value) = &accessor.value {
            self.visit_expression(value);
        }
    }
}

/// A member's key, with the `[` of a computed key included (modifiers stop
/// there).
fn key_span(key: &PropertyKey, computed: bool, source: &str) -> Span {
    let span = key.span();
    if !computed {
        return span;
    }
    let bracket = source[..span.start as usize]
        .rfind('[')
        .map_or(span.start, |index| index as u32);
    Span::new(bracket, span.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(source: &str) -> String {
        strip_types(source, "t.ts").unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn types_become_spaces_and_positions_stay() {
        let source = "import type { A } from './a';\n\
             interface Req { body: unknown }\n\
             type R = { id: string };\n\
             export function transform<T>(config: T, request: Req): R[] {\n\
             \x20 const id = (request.body as any)!.id as string;\n\
             \x20 let n!: number;\n\
             \x20 return [{ lead_profile_uid: id, funnel_stage: f<string>(config) }];\n\
             }\n\
             function f(x?: unknown): string { return String(x satisfies unknown); }\n";
        let stripped = strip(source);
        assert_eq!(stripped.len(), source.len());
        assert_eq!(stripped.lines().count(), source.lines().count());
        for gone in [
            "interface",
            "type ",
            ": Req",
            "R[]",
            " as ",
            "<T>",
            "<string>",
            "?:",
            "satisfies",
            "!:",
            "!.",
        ] {
            assert!(!stripped.contains(gone), "{gone:?} left in:\n{stripped}");
        }
        let line = stripped.lines().nth(3).unwrap();
        assert_eq!(
            line.find("transform"),
            source.lines().nth(3).unwrap().find("transform")
        );
        assert!(
            stripped.contains("const id = (request.body       ) .id          ;"),
            "{stripped}"
        );
    }

    #[test]
    fn classes_lose_modifiers_and_abstract_members() {
        let stripped = strip(
            "abstract class A implements B, C {\n\
             \x20 private readonly x: number = 1;\n\
             \x20 static y?: string;\n\
             \x20 abstract z(): void;\n\
             \x20 [key: string]: unknown;\n\
             \x20 public static m(a: number): number { return a; }\n\
             }\n",
        );
        for gone in [
            "abstract",
            "implements",
            "private",
            "readonly",
            "public",
            ": number",
            "?",
            "[key",
        ] {
            assert!(!stripped.contains(gone), "{gone:?} left in:\n{stripped}");
        }
        assert!(stripped.contains("static y"));
        assert!(stripped.contains("static m(a        )"));
    }

    #[test]
    fn code_generating_syntax_is_refused_with_its_position() {
        let error = strip_types("const a = 1;\nenum Stage { Won }\n", "t.ts").unwrap_err();
        assert!(error.to_string().contains("`enum`"), "{error}");
        assert!(
            error.to_string().contains("line 2, column 1 of t.ts"),
            "{error}"
        );
        let error =
            strip_types("class A { constructor(private x: number) {} }", "t.ts").unwrap_err();
        assert!(
            error.to_string().contains("parameter properties"),
            "{error}"
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let error = strip_types("const a = 1;\nconst b: = 2;\n", "t.ts").unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("invalid script: SyntaxError: "),
            "{message}"
        );
        assert!(message.contains("line 2, column"), "{message}");
        assert!(message.ends_with("of t.ts"), "{message}");
    }
}
