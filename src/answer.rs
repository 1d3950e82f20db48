//! Reading what the portal answered: the envelope of a success, the error of a failure.
//!
//! A success is `{"response": …, "count": …, "links": …, "status": 0, "statusCode": 200}`, with
//! `response` absent when the value is `null`; the documentation's example also accepts a bare
//! value, and so do we. A failure is classified from its status, whether the body is a DocSpace
//! error envelope, the exception type it names, and the endpoint — never from the message,
//! which is localized.

use std::time::Duration;

use serde::de::IgnoredAny;
use serde_json::Value;
use ureq::http::HeaderMap;

use crate::error::{Error, ErrorKind};
use crate::redact::{quote, snippet};
use crate::request::{header_str, Endpoint, Request};

/// Parses a `2xx` body: empty → `Null`; otherwise JSON, with the envelope unwrapped.
pub(crate) fn parse_success_body(bytes: &[u8]) -> std::result::Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the body is not UTF-8 ({e})"))?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    // The usual answer, the portal's envelope with `response`: one pass that builds only the
    // `response` value and skips `links`, `count` and the rest without allocating. Anything
    // else (a bare value, no or a null `response`, an unknown or repeated key, bad JSON) takes
    // the general path, which gives the same value or the error.
    if let Ok(Envelope {
        response: Some(value),
        ..
    }) = serde_json::from_str::<Envelope>(text)
    {
        return Ok(value);
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the body is not JSON ({e})"))?;
    Ok(unwrap_envelope(value))
}

/// A success envelope with only the keys a portal sends; all but `response` are skipped.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the skipped keys are named only so that they are allowed
struct Envelope {
    response: Option<Value>,
    count: Option<IgnoredAny>,
    total: Option<IgnoredAny>,
    links: Option<IgnoredAny>,
    status: Option<IgnoredAny>,
    #[serde(rename = "statusCode")]
    status_code: Option<IgnoredAny>,
}

/// Unwraps `{"response": …, "status": 0, …}`. A body without the envelope is taken as the
/// value itself (as the seed page does); an envelope without `response` means `null`.
pub fn unwrap_envelope(value: Value) -> Value {
    match value {
        Value::Object(mut map) => {
            if let Some(v) = map.remove("response") {
                return v;
            }
            let looks_like_envelope = map.contains_key("statusCode")
                || (map.contains_key("status")
                    && (map.contains_key("count") || map.contains_key("links")));
            if looks_like_envelope {
                Value::Null
            } else {
                Value::Object(map)
            }
        }
        other => other,
    }
}

/// Builds the error for a non-success, non-redirect status.
pub(crate) fn status_error(
    req: &Request<'_>,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Error {
    let envelope = std::str::from_utf8(body)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| v.get("error").cloned());
    let (message, error_type, has_error_body) = match envelope {
        Some(Value::Object(e)) => (
            // Both bounded: a message can be megabytes long.
            e.get("message").and_then(Value::as_str).map(quote),
            e.get("type").and_then(Value::as_str).map(quote),
            true,
        ),
        Some(Value::String(m)) => (Some(quote(&m)), None, true),
        _ => (None, None, false),
    };
    let kind = classify(status, req.endpoint, has_error_body, error_type.as_deref());
    let retry_after = header_str(headers, "retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    Error::Status {
        operation: req.operation(),
        status,
        kind,
        message,
        error_type,
        snippet: if has_error_body {
            String::new()
        } else {
            snippet(body)
        },
        retry_after,
    }
}

/// The classification of an error status. Never looks at message text (it is localized).
pub(crate) fn classify(
    status: u16,
    endpoint: Endpoint,
    has_error_body: bool,
    error_type: Option<&str>,
) -> ErrorKind {
    let type_has = |needle: &str| error_type.map(|t| t.contains(needle)).unwrap_or(false);
    match status {
        400 if endpoint == Endpoint::Validate => ErrorKind::InvalidCode,
        400 => ErrorKind::BadRequest,
        401 => ErrorKind::Unauthorized,
        403 if type_has("InvalidOperationException") => ErrorKind::NotAvailable,
        403 if type_has("Security") || type_has("Authoriz") => ErrorKind::Forbidden,
        403 if has_error_body && matches!(endpoint, Endpoint::Validate | Endpoint::Login) => {
            ErrorKind::RateLimited
        }
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        405 => ErrorKind::NotAvailable,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::UnexpectedStatus,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_unwrapping() {
        use serde_json::json;
        assert_eq!(
            unwrap_envelope(json!({"response": false, "status": 0})),
            json!(false)
        );
        assert_eq!(
            unwrap_envelope(json!({"count": 0, "links": [], "status": 0, "statusCode": 200})),
            Value::Null
        );
        assert_eq!(unwrap_envelope(json!(true)), json!(true));
        assert_eq!(
            unwrap_envelope(json!({"account": "a"})),
            json!({"account": "a"})
        );
    }

    #[test]
    fn the_envelope_fast_path_agrees_with_unwrap_envelope() {
        for body in [
            r#"{"response":true,"count":1,"links":[{"href":"h","action":"POST"}],"status":0,"statusCode":200}"#,
            r#"{"response":[{"id":"app"}],"count":1,"total":1,"status":0,"statusCode":200}"#,
            r#"{"response":null,"count":0,"status":0,"statusCode":200}"#,
            r#"{"count":0,"links":[],"status":0,"statusCode":200}"#,
            r#"{"response":1,"response":2,"status":0}"#,
            r#"{"response":{"a":1},"extra":true}"#,
            r#"{"resp\u006fnse":"escaped","status":0}"#,
            r#"{"account":"a","manualEntryKey":"K"}"#,
            r#"{"count":1}"#,
            "true",
            r#"["a"]"#,
        ] {
            let general = unwrap_envelope(serde_json::from_str(body).unwrap());
            assert_eq!(
                parse_success_body(body.as_bytes()).unwrap(),
                general,
                "{body}"
            );
        }
        for bad in [r#"{"response":true,"links":["#, r#"{"response":true} x"#] {
            assert!(parse_success_body(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn classification() {
        use Endpoint::*;
        assert_eq!(classify(400, Validate, true, None), ErrorKind::InvalidCode);
        assert_eq!(classify(400, Other, true, None), ErrorKind::BadRequest);
        assert_eq!(classify(403, Validate, true, None), ErrorKind::RateLimited);
        assert_eq!(classify(403, Validate, false, None), ErrorKind::Forbidden);
        assert_eq!(
            classify(403, Other, true, Some("System.InvalidOperationException")),
            ErrorKind::NotAvailable
        );
        assert_eq!(
            classify(
                403,
                Validate,
                true,
                Some("System.Security.SecurityException")
            ),
            ErrorKind::Forbidden
        );
        assert_eq!(classify(405, Other, true, None), ErrorKind::NotAvailable);
        assert_eq!(classify(429, Other, false, None), ErrorKind::RateLimited);
        assert_eq!(classify(502, Other, false, None), ErrorKind::Server);
        assert_eq!(
            classify(402, Other, true, None),
            ErrorKind::UnexpectedStatus
        );
    }
}
