//! The five fuzz targets and the properties each checks. A target returns
//! quietly on input it cannot use, and panics (with what broke) when the
//! code under test panics or a property fails.
//!
//! Not production code: the module is compiled only for the unit tests
//! and the `fuzzing` feature (`cargo fuzz`), so its length is not counted
//! against the 400-line guide of the production files (issue 13).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, TimeZone, Utc};
use reqwest::Url;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use crate::domain::email::EmailAddress;
use crate::domain::lead::LeadFields;
use crate::domain::stage_matching::{ResolvedStage, StageDirectory};
use crate::domain::stage_title::matching_key;
use crate::http::extract::parse_json;
use crate::http::funnel_import::{
    BatchUpdateRequest, FunnelUpdateRecord, RecordKinds, resolve_records,
};
use crate::outbound::client::{DestinationPolicy, check_target, parse_retry_after};
use crate::outbound::retry::retry_delay;
use crate::plugins::abi;
use crate::plugins::error::PluginError;
use crate::plugins::registry::transform_records;
use crate::plugins::runtime::parse_output;

/// The stages and mappings inbound records are resolved against.
static DIRECTORY: LazyLock<StageDirectory> = LazyLock::new(|| {
    let stage = |id: &str, title: &str| ResolvedStage {
        id: id.into(),
        title: title.into(),
    };
    StageDirectory::new(
        [("mql".to_owned(), stage("stage_2", "Application Started"))],
        [
            stage("stage_1", "Inquiry"),
            stage("stage_2", "Application Started"),
            stage("stage_3", "Enrolled"),
        ],
    )
});

/// The inbound endpoints: a single and a batch body, a transform's output
/// as records (lead records included), the document a transform receives,
/// stage-name matching and email parsing.
pub fn inbound(data: &[u8]) {
    let _ = parse_json::<FunnelUpdateRecord>(data);
    if let Ok(request) = parse_json::<BatchUpdateRequest>(data) {
        check_records(request.records, RecordKinds::FunnelUpdates);
    }
    if let Ok(value) = serde_json::from_slice::<Value>(data)
        && let Ok(records) = transform_records(value)
    {
        check_records(records, RecordKinds::WithLeadRecords);
    }
    let text = String::from_utf8_lossy(data);
    check_transform_document(data, &text);
    check_stage_name(&text);
    if let Ok(email) = EmailAddress::parse(&text) {
        assert_eq!(EmailAddress::parse(email.as_str()), Ok(email.clone()));
        assert_eq!(email.as_str(), text.trim());
    }
}

/// Every record gets exactly one result at its index; a record is applied
/// or failed with an error, never both or neither; lead records only come
/// from transforms, and their field edits never panic.
fn check_records(records: Vec<Value>, kinds: RecordKinds) {
    let count = records.len();
    let resolved = resolve_records(records, &DIRECTORY, kinds);
    assert_eq!(resolved.results.len(), count);
    let mut applied = vec![false; count];
    for (position, result) in resolved.results.iter().enumerate() {
        assert_eq!(result.index, position);
    }
    for (index, update) in &resolved.updates {
        let result = &resolved.results[*index];
        assert!(result.error.is_none() && result.funnel_stage.is_some());
        assert!(update.stage_id.starts_with("stage_"));
        assert!(!std::mem::replace(&mut applied[*index], true));
    }
    for (index, record) in &resolved.leads {
        assert!(kinds == RecordKinds::WithLeadRecords);
        assert!(resolved.results[*index].error.is_none());
        assert!(!std::mem::replace(&mut applied[*index], true));
        if let Ok(created) = (record.fields)(None) {
            assert!(EmailAddress::parse(created.email.as_str()).is_ok());
        }
        let _ = (record.fields)(Some(existing_lead()));
    }
    for (result, applied) in resolved.results.iter().zip(applied) {
        assert_eq!(result.error.is_some(), !applied, "{:?}", result.error);
    }
}

fn existing_lead() -> LeadFields {
    LeadFields {
        company: Some("Engines".into()),
        notes: Some("note".into()),
        score: 3,
        ..LeadFields::with_email(EmailAddress::parse("ada@example.com").expect("a valid email"))
    }
}

/// The document a transform receives is JSON, carries the body as sent
/// (parsed when it is JSON, as text otherwise) and the headers verbatim.
fn check_transform_document(data: &[u8], text: &str) {
    let headers = [("x-crm", "fuzz"), ("x-echo", text)];
    for content_type in ["application/json", "text/plain; charset=utf-8", text] {
        let Ok(document) = abi::inbound_call("{\"k\": [1]}", headers, content_type, data) else {
            assert!(abi::is_json(content_type));
            assert!(serde_json::from_slice::<IgnoredAny>(data).is_err());
            continue;
        };
        let body = if abi::is_json(content_type) {
            // A body with a number JSON allows but no f64 holds (`1e999`)
            // passes the check and reaches the plugin as written.
            match serde_json::from_slice::<Value>(data) {
                Ok(body) => body,
                Err(_) => continue,
            }
        } else {
            Value::String(text.to_owned())
        };
        let document: Value = serde_json::from_slice(&document)
            .unwrap_or_else(|error| panic!("the transform document is not JSON: {error}"));
        assert_eq!(document["config"], json!({"k": [1]}));
        assert_eq!(document["input"]["headers"]["x-echo"], text);
        assert_eq!(document["input"]["content_type"], content_type);
        assert_eq!(document["input"]["body"], body);
    }
}

/// A stage titled `name` is found by that name, padded, and with its
/// spaces written as `_` or `-`; the matching key is stable.
fn check_stage_name(name: &str) {
    let key = matching_key(name);
    assert_eq!(matching_key(&key), key, "the matching key of {name:?}");
    if key.is_empty() {
        return;
    }
    let directory = StageDirectory::new(
        [],
        [ResolvedStage {
            id: "stage_x".into(),
            title: name.to_owned(),
        }],
    );
    for variant in [
        name.to_owned(),
        format!(" \t{name}\n"),
        name.replace(' ', "_"),
        name.replace(' ', " - "),
        key.clone(),
    ] {
        assert!(
            directory.resolve(&variant).is_some(),
            "{variant:?} does not find the stage {name:?}"
        );
    }
}

/// The `template` payload builder. The first byte picks a mode: the rest is
/// the template (JSON or form, stage titles or ids), or a lead's notes
/// rendered into a JSON string or a form field and read back.
pub fn template(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest).into_owned();
    match mode % 4 {
        0 | 1 => {
            let form = mode % 4 == 1;
            let config = json!({"body": text, "format": if form { "form" } else { "json" },
                                "stage_as_id": mode & 4 != 0});
            match ::template::build_payload(config, lead_event(None)) {
                Ok(payload) => {
                    let body = payload.body.as_str().expect("the body is raw text");
                    if !form {
                        assert!(serde_json::from_str::<IgnoredAny>(body).is_ok());
                    }
                    if !text.contains("{{") {
                        assert_eq!(body, text, "a template without tags is sent as written");
                    }
                }
                Err(error) => {
                    let message = error.to_string();
                    assert!(
                        text.contains("{{") || !form,
                        "a form without tags failed: {message}"
                    );
                }
            }
        }
        2 => {
            let config = json!({"body": "{\"notes\": \"{{ lead.notes }}\"}"});
            let payload = ::template::build_payload(config, lead_event(Some(&text)))
                .unwrap_or_else(|error| panic!("notes {text:?} broke the JSON: {error}"));
            let body: Value = serde_json::from_str(payload.body.as_str().expect("raw text"))
                .expect("the rendered template is JSON");
            assert_eq!(body["notes"], text.as_str());
        }
        _ => {
            let config = json!({"body": "notes={{lead.notes}}&x=1", "format": "form"});
            let payload = ::template::build_payload(config, lead_event(Some(&text)))
                .unwrap_or_else(|error| panic!("notes {text:?} broke the form: {error}"));
            let body = payload.body.as_str().expect("raw text");
            let encoded = body
                .strip_prefix("notes=")
                .and_then(|rest| rest.strip_suffix("&x=1"))
                .expect("the template's own text is kept");
            assert!(
                encoded
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"*-._+%".contains(&b)),
                "{encoded}"
            );
            assert_eq!(form_decode(encoded), text.as_bytes());
        }
    }
}

/// A stage-change event (the SDK's `LeadEvent`, as the plugin reads it);
/// `notes` replaces the lead's notes.
fn lead_event<T: serde::de::DeserializeOwned>(notes: Option<&str>) -> T {
    serde_json::from_value(json!({
        "id": "msg_1", "event": "lead.stage_changed", "webhook_id": "wh_1",
        "object_id": "lead_1", "timestamp": "2026-11-23T14:00:00.000000Z",
        "actor": {"type": "webhook_import", "id": "imp_1", "name": "CRM \"main\"\n"},
        "lead": {
            "lead_profile_uid": "lead_1", "email": "ada@example.com", "company": "Ünïcode & Co",
            "first_name": "Ada", "last_name": null, "phone": "+44 20", "website": null,
            "position": "C\\TO", "twitter": "@ada", "linkedin": null,
            "notes": notes.unwrap_or("tab\there\u{1}"), "score": -12,
            "funnel_stage": {"id": "stage_2", "title": "Applied \"early\"", "position": 2},
            "created_at": "2026-11-23T13:59:00.000000Z", "updated_at": "2026-11-23T14:00:00.000000Z"
        },
        "previous_funnel_stage": null
    }))
    .expect("a valid event")
}

/// `application/x-www-form-urlencoded` decoding of one value.
fn form_decode(encoded: &str) -> Vec<u8> {
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).expect("ASCII");
                decoded.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
                index += 2;
            }
            other => decoded.push(other),
        }
        index += 1;
    }
    decoded
}

/// A plugin's result: `{"ok": value}` is the value, `{"err": "..."}` the
/// plugin's error, anything else an invalid output; never a panic, never
/// another error. A transform's `ok` must be a list.
pub fn abi_output(data: &[u8]) {
    match parse_output(data) {
        Ok(value) => {
            let document: Value = serde_json::from_slice(data).expect("accepted output is JSON");
            assert_eq!(document, json!({ "ok": value.clone() }));
            // Records that are not objects fail one by one later (see
            // `inbound`): only a list is required here.
            let is_list = value.is_array();
            assert_eq!(transform_records(value).is_ok(), is_list);
        }
        Err(PluginError::Plugin(message)) => {
            let document: Value = serde_json::from_slice(data).expect("an err output is JSON");
            assert_eq!(document, json!({ "err": message }));
        }
        Err(PluginError::InvalidOutput(message)) => assert!(!message.is_empty()),
        Err(other) => panic!("an output parsed into {other:?}"),
    }
}

/// `Retry-After`: delta-seconds are taken as they are, HTTP dates relative
/// to now; the delay used stays within its bounds whatever was asked.
pub fn retry_after(data: &[u8]) {
    let now = Utc
        .timestamp_opt(1_800_000_000, 0)
        .single()
        .expect("a valid time");
    if let Ok(text) = std::str::from_utf8(data) {
        let parsed = parse_retry_after(text, now);
        let trimmed = text.trim();
        if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            assert_eq!(parsed, trimmed.parse().ok().map(Duration::from_secs));
        }
        check_delay(parsed);
    }
    // An HTTP date this many seconds ahead reads back as exactly that.
    if let Some(seconds) = data.get(..4) {
        let seconds = u64::from(u32::from_le_bytes(seconds.try_into().expect("4 bytes")));
        let when = SystemTime::from(now) + Duration::from_secs(seconds);
        let header = httpdate::fmt_http_date(when);
        assert_eq!(
            parse_retry_after(&header, now),
            Some(Duration::from_secs(seconds)),
            "{header}"
        );
        let past = DateTime::<Utc>::from(when) + chrono::Duration::seconds(1);
        assert_eq!(parse_retry_after(&header, past), Some(Duration::ZERO));
    }
}

fn check_delay(asked: Option<Duration>) {
    let delay = retry_delay(&[60], 1, asked).expect("the first retry is scheduled");
    assert!(delay >= Duration::from_secs(1) && delay <= Duration::from_secs(24 * 3_600));
}

/// The SSRF policy: an address is refused exactly when the standard
/// library (or, for ranges it has no stable method for, the IANA registry)
/// calls it special, an address embedding an IPv4 address is judged as
/// that address, and a URL's IP literal is judged as the address.
pub fn destination(data: &[u8]) {
    let policy = DestinationPolicy::default();
    if let Some(octets) = data.get(..4) {
        let v4 = Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]);
        assert_eq!(
            policy.permits(IpAddr::V4(v4)),
            !special_v4(v4),
            "the policy's verdict on {v4}"
        );
    }
    if let Some(octets) = data.get(..16) {
        let bytes: [u8; 16] = octets.try_into().expect("16 bytes");
        check_v6(&policy, Ipv6Addr::from(bytes));
    }
    let text = String::from_utf8_lossy(data);
    for candidate in [
        text.to_string(),
        format!("http://{text}/"),
        format!("https://[{text}]/"),
    ] {
        let Ok(url) = Url::parse(&candidate) else {
            continue;
        };
        let verdict = check_target(&policy, &url).is_ok();
        let scheme_ok = matches!(url.scheme(), "http" | "https");
        let expected = match url.host() {
            None => false,
            Some(url::Host::Domain(_)) => scheme_ok,
            Some(url::Host::Ipv4(ip)) => scheme_ok && policy.permits(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => scheme_ok && policy.permits(IpAddr::V6(ip)),
        };
        assert_eq!(verdict, expected, "the verdict on {url}");
    }
    // An allow list permits every address it lists.
    if let Ok(allowing) = DestinationPolicy::parse_list(&text) {
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if let Ok(ip) = entry.parse::<IpAddr>() {
                assert!(allowing.permits(ip), "{entry} is listed");
            }
        }
    }
}

/// IPv4 ranges that are not public unicast (IANA special-purpose registry).
fn special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn check_v6(policy: &DestinationPolicy, ip: Ipv6Addr) {
    let permitted = policy.permits(IpAddr::V6(ip));
    if let Some(v4) = ip.to_ipv4_mapped() {
        assert_eq!(permitted, policy.permits(IpAddr::V4(v4)), "{ip} is {v4}");
        return;
    }
    if ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
    {
        assert!(!permitted, "{ip} is not public");
    }
    // The deprecated IPv4-compatible form (::a.b.c.d) reaches a.b.c.d.
    if let Some(v4) = ip.to_ipv4()
        && !ip.is_loopback()
        && !ip.is_unspecified()
    {
        assert_eq!(permitted, policy.permits(IpAddr::V4(v4)), "{ip} is {v4}");
    }
}
