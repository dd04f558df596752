//! What a class member loses: the TypeScript-only modifiers (`private`,
//! `readonly`, ...), abstract and declared members whole, the `?` of an
//! optional and the `!` of a definite one, and its type; what stays is
//! walked as JavaScript.

use oxc_ast::ast::{
    AccessorProperty, MethodDefinition, MethodDefinitionType, PropertyDefinition,
    PropertyDefinitionType, PropertyKey,
};
use oxc_ast_visit::Visit;
use oxc_span::{GetSpan, Span};
use oxc_syntax::scope::ScopeFlags;

use super::stripper::Stripper;

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

impl<'a> Stripper<'_> {
    pub(super) fn visit_method(&mut self, method: &MethodDefinition<'a>) {
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

    pub(super) fn visit_property(&mut self, property: &PropertyDefinition<'a>) {
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

    pub(super) fn visit_accessor(&mut self, accessor: &AccessorProperty<'a>) {
        let key = key_span(&accessor.key, accessor.computed, self.source);
        self.blank_modifiers(accessor.span, key);
        if let Some(annotation) = &accessor.type_annotation {
            self.blank(annotation.span);
        }
        if let Some(value) = &accessor.value {
            self.visit_expression(value);
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
