//! Reading what the portal answered: the envelope of a success, the error of a failure.
//!
//! A success is `{"response": …, "count": …, "links": …, "status": 0, "statusCode": 200}`, with
//! `response` absent when the value is `null`; the documentation's example also accepts a bare
//! value, and so do we. A failure is classified from its status, whether the body is a DocSpace
//! error envelope, the exception type it names, the endpoint, and — where the server uses one
//! status and type for two meanings — the message, recognized in any of the server's cultures
//! ([`ServerMessage`]; `docs/server.md` has the cases).
//!
//! A success becomes a [`Reply`], which the handlers decode into models of a checked
//! [`Shape`]; a failure becomes an [`Error`] whose texts are bounded and redacted here, once.

use std::time::Duration;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;
use ureq::http::HeaderMap;

use crate::error::{Advice, Error, ErrorKind, Result, StatusError};
use crate::messages::ServerMessage;
use crate::redact::{blank_quoted, bounded, quote, skeleton, snippet, Redactions};
use crate::request::{Credential, ErrorClass, Request};
use crate::secret::Secret;
use crate::text::find_cookie;

/// Parses a `2xx` body: JSON, with the envelope unwrapped. An empty body is an error: the
/// portal always answers with its envelope (a `null` value is an envelope without
/// `response`), so an empty `200` comes from something else — and read as `null` it would mean
/// "TFA does not apply" to `tfaapp/confirm`.
pub(crate) fn parse_success_body(bytes: &[u8]) -> std::result::Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the body is not UTF-8 ({e})"))?;
    if text.trim().is_empty() {
        return Err("the body is empty, not the portal's JSON envelope".to_owned());
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
/// value itself (as the documentation's example does); an envelope without `response` means `null`.
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

/// Builds the error for a non-success, non-redirect status, every text from the server
/// bounded and cleaned of the request's secrets (`redactions`).
pub(crate) fn status_error(
    req: &Request<'_>,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    redactions: &Redactions,
) -> Error {
    let envelope = std::str::from_utf8(body)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| v.get("error").cloned());
    let (raw_message, error_type, has_error_body) = match envelope {
        Some(Value::Object(e)) => (
            e.get("message").and_then(Value::as_str).map(str::to_owned),
            // Bounded: a type can be megabytes long.
            e.get("type").and_then(Value::as_str).map(quote),
            true,
        ),
        Some(Value::String(m)) => (Some(m), None, true),
        _ => (None, None, false),
    };
    // Recognized before bounding and scrubbing: the server's own text, in any culture.
    let recognized = raw_message.as_deref().and_then(ServerMessage::recognize);
    let kind = classify(
        status,
        req.errors,
        has_error_body,
        error_type.as_deref(),
        recognized,
    );
    let retry_after = header_str(headers, "retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let html = !has_error_body && is_html(headers, body);
    let empty = !has_error_body && body.iter().all(u8::is_ascii_whitespace);
    let advice = advice(req, status, kind, empty, retry_after);
    let error = Error::status_error(StatusError {
        operation: req.operation(),
        status,
        kind,
        // Bounded: a message can be megabytes long.
        message: raw_message.as_deref().map(|m| redactions.apply(&quote(m))),
        error_type: error_type.map(|t| redactions.apply(&t)),
        snippet: if has_error_body {
            String::new()
        } else {
            redactions.apply(&snippet(body))
        },
        retry_after,
        html,
        recognized,
    });
    match advice {
        Some(advice) => error.with_advice(advice),
        None => error,
    }
}

/// What to do next about an error status, where the answer tells more than its status: an
/// empty `401` is the framework refusing the credential itself, an empty `404` is no DocSpace
/// API at all (the portal's own "not found" has an error body: `docs/server.md`), a `403` lock
/// is the portal's attempt lock, whatever its text says.
fn advice(
    req: &Request<'_>,
    status: u16,
    kind: ErrorKind,
    empty: bool,
    retry_after: Option<Duration>,
) -> Option<Advice> {
    match (status, kind, req.errors) {
        (401, _, _) if empty => match req.credential {
            Credential::Bearer | Credential::Cookie => Some(Advice::TokenRefused),
            Credential::Ticket(_) => Some(Advice::TicketRefused),
            Credential::Anonymous => None,
        },
        (404, _, _) if empty => Some(Advice::NoApiAtUrl),
        (401, _, ErrorClass::Login) if req.display_path == "authentication/{code}" => {
            Some(Advice::CodeLoginRefused)
        }
        (403, ErrorKind::RateLimited, ErrorClass::Validate) => Some(Advice::CodeLock),
        (403, ErrorKind::RateLimited, ErrorClass::Login) => Some(Advice::LoginLock),
        (429, _, _) => Some(Advice::TooManyRequests { retry_after }),
        (503, _, _) => Some(Advice::Unavailable),
        _ => None,
    }
}

/// The error for a `2xx` body that is not JSON: `reason` and the body's start redacted.
pub(crate) fn undecodable_success(
    req: &Request<'_>,
    reason: &str,
    body: &[u8],
    redactions: &Redactions,
) -> Error {
    Error::decode(
        req.operation(),
        "JSON",
        redactions.apply(reason),
        redactions.apply(&snippet(body)),
    )
}

/// Whether an error body is an HTML page (a proxy's, a gateway's or a web server's), by its
/// `Content-Type` or by how it starts.
fn is_html(headers: &HeaderMap, body: &[u8]) -> bool {
    // An oversized page was replaced by the client's note of the limit: show the note.
    if body.starts_with(b"[the body exceeded the limit") {
        return false;
    }
    let content_type = header_str(headers, "content-type").unwrap_or_default();
    if content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("text/html")
    {
        return true;
    }
    let head = &body[..body.len().min(512)];
    let text = String::from_utf8_lossy(head);
    let text = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    text.starts_with("<!doctype html") || text.starts_with("<html") || text.starts_with("<head")
}

/// The classification of an error status.
///
/// The status, the body's shape, the exception type and the endpoint decide, except where the
/// server gives one status and type two meanings: a `403` `InvalidOperationException` is a
/// refusal ([`ErrorKind::Forbidden`]) or "not available" ([`ErrorKind::NotAvailable`]), and
/// only its (localized) message tells which; servers up to 3.2.1 answered the same cases with a
/// plain `500`. `recognized` is that message, when the table knows it.
pub(crate) fn classify(
    status: u16,
    errors: ErrorClass,
    has_error_body: bool,
    error_type: Option<&str>,
    recognized: Option<ServerMessage>,
) -> ErrorKind {
    let type_has = |needle: &str| error_type.map(|t| t.contains(needle)).unwrap_or(false);
    let by_message = |m: ServerMessage| {
        if m.is_refusal() {
            ErrorKind::Forbidden
        } else {
            ErrorKind::NotAvailable
        }
    };
    match status {
        400 if errors == ErrorClass::Validate => ErrorKind::InvalidCode,
        400 => ErrorKind::BadRequest,
        401 => ErrorKind::Unauthorized,
        // One status and type, two meanings: the message decides; an unknown text is the
        // more common meaning, "not available".
        403 if type_has("InvalidOperationException") => recognized
            .map(by_message)
            .unwrap_or(ErrorKind::NotAvailable),
        403 if type_has("Security") || type_has("Authoriz") => ErrorKind::Forbidden,
        // A known text without a type (a stripped body) is as conclusive.
        403 if has_error_body && error_type.is_none() && recognized.is_some() => {
            recognized.map(by_message).unwrap_or(ErrorKind::Forbidden)
        }
        403 if has_error_body && matches!(errors, ErrorClass::Validate | ErrorClass::Login) => {
            ErrorKind::RateLimited
        }
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        // No released server answers 405 here (the API reference lists it); kept for safety.
        405 => ErrorKind::NotAvailable,
        // Servers up to 3.2.1: `NotSupportedException` "Not available.".
        415 if has_error_body => ErrorKind::NotAvailable,
        429 => ErrorKind::RateLimited,
        // Servers up to 3.2.1: a plain `System.Exception` with the same texts.
        500 if has_error_body && recognized.is_some() => {
            recognized.map(by_message).unwrap_or(ErrorKind::Server)
        }
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::UnexpectedStatus,
    }
}

/// The JSON shape a model is decoded from.
#[derive(Clone, Copy)]
pub(crate) enum Shape {
    /// A JSON object.
    Object,
    /// A JSON array whose items are objects.
    ListOfObjects,
}

/// A successful answer: the envelope's `response` and the headers.
pub(crate) struct Reply {
    pub(crate) operation: String,
    /// The unwrapped value (`Null` when absent or the body was empty).
    pub(crate) value: Value,
    pub(crate) headers: HeaderMap,
}

impl Reply {
    /// Decodes the value as `T`.
    ///
    /// `shape` is checked first: serde's derived decoding would otherwise fill a struct from a
    /// JSON array by position, and accept `["a","b"]` as a setup code.
    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        expected: &'static str,
        shape: Shape,
    ) -> Result<T> {
        let shape_ok = match (&self.value, shape) {
            (Value::Null, _) => {
                return Err(self.decode_error(expected, "the answer carried no value".to_owned()))
            }
            (Value::Object(_), Shape::Object) => true,
            (Value::Array(items), Shape::ListOfObjects) => items.iter().all(Value::is_object),
            _ => false,
        };
        if !shape_ok {
            let wanted = match shape {
                Shape::Object => "an object",
                Shape::ListOfObjects => "a list of objects",
            };
            return Err(self.decode_error(expected, format!("the answer is not {wanted}")));
        }
        // serde's messages quote the values they reject (`invalid type: string "JBSWY3DP…"`).
        T::deserialize(&self.value)
            .map_err(|e| self.decode_error(expected, blank_quoted(&e.to_string())))
    }

    /// The value as a bool (`validate`, `PUT tfaapp`).
    pub(crate) fn decode_bool(&self) -> Result<bool> {
        match &self.value {
            Value::Bool(b) => Ok(*b),
            Value::Null => Err(self.decode_error("bool", "the answer carried no value".into())),
            _ => Err(self.decode_error("bool", "the answer is not a bool".into())),
        }
    }

    /// A decode error about this reply.
    ///
    /// The body parsed as JSON, so the snippet shows its skeleton: keys, bools and nulls, with
    /// every string and number blanked. An answer of the wrong shape can carry a secret without
    /// a key that names it (`["user@example.com", "JBSWY3DP…"]`). `reason` is the crate's own
    /// text, or serde's with the quoted values blanked.
    pub(crate) fn decode_error(&self, expected: &'static str, reason: String) -> Error {
        Error::decode(
            self.operation.clone(),
            expected,
            reason,
            bounded(&skeleton(&self.value)),
        )
    }

    /// The values of all `Set-Cookie` headers.
    pub(crate) fn set_cookies(&self) -> impl Iterator<Item = &str> {
        set_cookie_values(&self.headers)
    }

    /// The value of the cookie `name` the answer sets (the last non-empty one).
    pub(crate) fn cookie(&self, name: &str) -> Option<Secret> {
        cookie_in(&self.headers, name)
    }
}

/// A header's value as text, when it is present and visible ASCII.
pub(crate) fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The value of the cookie `name` that an answer with these headers sets (the last non-empty
/// one), as [`Reply::cookie`] reads it (and the fast path in `typed.rs`).
pub(crate) fn cookie_in(headers: &HeaderMap, name: &str) -> Option<Secret> {
    find_cookie(set_cookie_values(headers), name).map(Secret::new)
}

/// The values of all `Set-Cookie` headers that are visible text.
fn set_cookie_values(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
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
        use ErrorClass::*;
        assert_eq!(
            classify(400, Validate, true, None, None),
            ErrorKind::InvalidCode
        );
        assert_eq!(
            classify(400, Other, true, None, None),
            ErrorKind::BadRequest
        );
        assert_eq!(
            classify(403, Validate, true, None, None),
            ErrorKind::RateLimited
        );
        assert_eq!(
            classify(403, Validate, false, None, None),
            ErrorKind::Forbidden
        );
        assert_eq!(
            classify(
                403,
                Other,
                true,
                Some("System.InvalidOperationException"),
                None
            ),
            ErrorKind::NotAvailable
        );
        assert_eq!(
            classify(
                403,
                Validate,
                true,
                Some("System.Security.SecurityException"),
                None
            ),
            ErrorKind::Forbidden
        );
        assert_eq!(
            classify(405, Other, true, None, None),
            ErrorKind::NotAvailable
        );
        let ioe = Some("System.InvalidOperationException");
        for (message, kind) in [
            (Some(ServerMessage::AccessDenied), ErrorKind::Forbidden),
            (Some(ServerMessage::UserDisabled), ErrorKind::Forbidden),
            (
                Some(ServerMessage::TfaAppNotAvailable),
                ErrorKind::NotAvailable,
            ),
            (
                Some(ServerMessage::SmsNotAvailable),
                ErrorKind::NotAvailable,
            ),
            (Some(ServerMessage::NotAvailable), ErrorKind::NotAvailable),
            (None, ErrorKind::NotAvailable),
        ] {
            assert_eq!(
                classify(403, Other, true, ioe, message),
                kind,
                "{message:?}"
            );
            assert_eq!(
                classify(403, Login, true, ioe, message),
                kind,
                "{message:?}"
            );
        }
        let plain = Some("System.Exception");
        assert_eq!(
            classify(
                500,
                Other,
                true,
                plain,
                Some(ServerMessage::TfaAppNotAvailable)
            ),
            ErrorKind::NotAvailable
        );
        assert_eq!(
            classify(500, Other, true, plain, Some(ServerMessage::AccessDenied)),
            ErrorKind::Forbidden
        );
        assert_eq!(classify(500, Other, true, plain, None), ErrorKind::Server);
        assert_eq!(
            classify(415, Other, true, Some("System.NotSupportedException"), None),
            ErrorKind::NotAvailable
        );
        assert_eq!(
            classify(415, Other, false, None, None),
            ErrorKind::UnexpectedStatus
        );
        assert_eq!(
            classify(403, Validate, true, None, Some(ServerMessage::UserDisabled)),
            ErrorKind::Forbidden
        );
        assert_eq!(
            classify(429, Other, false, None, None),
            ErrorKind::RateLimited
        );
        assert_eq!(classify(502, Other, false, None, None), ErrorKind::Server);
        assert_eq!(
            classify(402, Other, true, None, None),
            ErrorKind::UnexpectedStatus
        );
    }
}
