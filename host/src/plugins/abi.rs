//! The input documents of ABI v1 (`{"config": ..., "input": ...}`), built
//! the same way for the server and the CLI.

use serde::de::IgnoredAny;
use serde_json::{Value, json};

/// The bytes of a sample request body given as JSON (a dry run's input):
/// a string is sent as its text when the content type is not JSON; any
/// other value, or any value under a JSON content type, as JSON.
pub(crate) fn sample_body(body: &Value, content_type: &str) -> Vec<u8> {
    match (body, is_json(content_type)) {
        (Value::String(text), false) => text.clone().into_bytes(),
        (value, _) => value.to_string().into_bytes(),
    }
}

/// Whether a content type carries JSON (`application/json`, `*+json`).
pub(crate) fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The document an inbound transform receives:
/// `{"config": CONFIG, "input": {"headers": {...}, "content_type": "...", "body": BODY}}`.
///
/// `config` is JSON text, passed on as it is (an import keeps its config as
/// text, so the hot path neither parses nor re-serialises it). `headers` are
/// written in the order given; names must be unique. A JSON body is checked
/// and passed on as it came (the plugin parses it anyway); any other body
/// becomes a JSON string. Written straight into one buffer: this runs
/// before every transformed inbound request.
pub fn inbound_call<'a>(
    config: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    content_type: &str,
    body: &[u8],
) -> Result<Vec<u8>, String> {
    let json_body = is_json(content_type);
    if json_body {
        serde_json::from_slice::<IgnoredAny>(body)
            .map_err(|error| format!("the body is not valid JSON: {error}"))?;
    }
    let mut document = Vec::with_capacity(config.len() + body.len() + 512);
    document.extend_from_slice(b"{\"config\":");
    document.extend_from_slice(config.as_bytes());
    document.extend_from_slice(b",\"input\":{\"headers\":{");
    for (index, (name, value)) in headers.into_iter().enumerate() {
        if index > 0 {
            document.push(b',');
        }
        write_json_string(&mut document, name);
        document.push(b':');
        write_json_string(&mut document, value);
    }
    document.extend_from_slice(b"},\"content_type\":");
    write_json_string(&mut document, content_type);
    document.extend_from_slice(b",\"body\":");
    if json_body {
        document.extend_from_slice(body);
    } else {
        write_json_string(&mut document, &String::from_utf8_lossy(body));
    }
    document.extend_from_slice(b"}}");
    Ok(document)
}

/// Appends `text` as a JSON string literal.
fn write_json_string(document: &mut Vec<u8>, text: &str) {
    // Writing a `str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *document, text);
}

/// The document a payload builder receives.
pub(crate) fn payload_call(config: &Value, event: &Value) -> Vec<u8> {
    json!({"config": config, "input": event})
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_string_is_text_unless_the_content_type_is_json() {
        let text = json!("stage=won");
        let cases = [
            (&text, "application/x-www-form-urlencoded", "stage=won"),
            (&text, "application/json", "\"stage=won\""),
            (&json!({"a": 1}), "text/plain", "{\"a\":1}"),
        ];
        for (body, content_type, sent) in cases {
            assert_eq!(
                sample_body(body, content_type),
                sent.as_bytes(),
                "{content_type}"
            );
        }
    }

    #[test]
    fn json_bodies_are_parsed_and_others_passed_as_text() {
        let headers = [("x-crm", "hubspot"), ("x-quote", "say \"hi\"\n")];
        let json_call = inbound_call(
            r#"{"a": 1}"#,
            headers,
            "application/json; charset=utf-8",
            b"[1]",
        )
        .unwrap();
        let parsed: Value = serde_json::from_slice(&json_call).unwrap();
        assert_eq!(parsed["input"]["body"], json!([1]));
        assert_eq!(parsed["input"]["headers"]["x-crm"], "hubspot");
        assert_eq!(parsed["input"]["headers"]["x-quote"], "say \"hi\"\n");
        assert_eq!(parsed["config"], json!({"a": 1}));

        let form = inbound_call(
            "null",
            headers,
            "application/x-www-form-urlencoded",
            b"a=1&b=2",
        )
        .unwrap();
        let parsed: Value = serde_json::from_slice(&form).unwrap();
        assert_eq!(parsed["input"]["body"], "a=1&b=2");

        assert!(inbound_call("null", headers, "application/vnd.api+json", b"{").is_err());
        assert!(inbound_call("null", headers, "application/json", b"{} {}").is_err());

        let spliced = inbound_call(
            r#"{"k": "v"}"#,
            [],
            "application/json",
            br#" {"a": [1, "x"]} "#,
        )
        .unwrap();
        let parsed: Value = serde_json::from_slice(&spliced).unwrap();
        assert_eq!(
            parsed,
            json!({"config": {"k": "v"}, "input": {"headers": {}, "content_type": "application/json", "body": {"a": [1, "x"]}}})
        );
    }
}
