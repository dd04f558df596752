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
//!
//! Here: parsing, applying the blanks, and positions in error messages;
//! `stripper`: the walk over the syntax tree that finds what to blank and
//! what to refuse; `class_members`: its rules for a class's members.

mod class_members;
mod stripper;

use oxc_allocator::Allocator;
use oxc_ast_visit::Visit;
use oxc_parser::Parser;
use oxc_span::SourceType;

use super::error::PluginError;
use stripper::Stripper;

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
