//! The input documents of ABI v1 (`{"config": ..., "input": ...}`), built
//! the same way for the server and the CLI.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde_json::{Value, json};

/// Whether a content type carries JSON (`application/json`, `*+json`).
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The document an inbound transform receives. A JSON body is passed as
/// JSON (and must parse); any other body as a string.
pub fn inbound_call(
    config: &Value,
    headers: &BTreeMap<String, String>,
    content_type: &str,
    body: &[u8],
) -> Result<Vec<u8>, String> {
    let head = json!({"headers": headers, "content_type": content_type}).to_string();
    let config = config.to_string();
    let mut document = Vec::with_capacity(config.len() + head.len() + body.len() + 32);
    document.extend_from_slice(b"{\"config\":");
    document.extend_from_slice(config.as_bytes());
    document.extend_from_slice(b",\"input\":");
    // `head` is an object: reopen it to add the body.
    document.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    document.extend_from_slice(b",\"body\":");
    if is_json(content_type) {
        // Checked without building it, then passed on as it came: the
        // plugin parses it anyway.
        serde_json::from_slice::<IgnoredAny>(body)
            .map_err(|error| format!("the body is not valid JSON: {error}"))?;
        document.extend_from_slice(body);
    } else {
        let text = Value::String(String::from_utf8_lossy(body).into_owned());
        document.extend_from_slice(text.to_string().as_bytes());
    }
    document.extend_from_slice(b"}}");
    Ok(document)
}

/// The document a payload builder receives.
pub fn payload_call(config: &Value, event: &Value) -> Vec<u8> {
    json!({"config": config, "input": event})
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_are_parsed_and_others_passed_as_text() {
        let headers = BTreeMap::from([("x-crm".to_owned(), "hubspot".to_owned())]);
        let json_call = inbound_call(
            &json!({"a": 1}),
            &headers,
            "application/json; charset=utf-8",
            b"[1]",
        )
        .unwrap();
        let parsed: Value = serde_json::from_slice(&json_call).unwrap();
        assert_eq!(parsed["input"]["body"], json!([1]));
        assert_eq!(parsed["input"]["headers"]["x-crm"], "hubspot");
        assert_eq!(parsed["config"], json!({"a": 1}));

        let form = inbound_call(
            &json!(null),
            &headers,
            "application/x-www-form-urlencoded",
            b"a=1&b=2",
        )
        .unwrap();
        let parsed: Value = serde_json::from_slice(&form).unwrap();
        assert_eq!(parsed["input"]["body"], "a=1&b=2");

        assert!(inbound_call(&json!(null), &headers, "application/vnd.api+json", b"{").is_err());
        assert!(inbound_call(&json!(null), &headers, "application/json", b"{} {}").is_err());

        let spliced = inbound_call(
            &json!({"k": "v"}),
            &BTreeMap::new(),
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
