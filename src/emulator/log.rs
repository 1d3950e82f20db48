//! The request log: what reached the emulator, for tests to assert on.

use std::fmt;

use serde_json::Value;

use super::creds::Creds;
use super::routes::template_of;
use crate::redact::scrub;

/// One request the emulator received, and the status it answered.
///
/// Read the log with [`Emulator::requests`](super::Emulator::requests). `Debug` leaves secrets
/// out: the confirm key is never stored, and the body is shown with its secret fields
/// (`password`, `code`, `token`, …) replaced by `***`; the path of a login with a code is shown
/// as `authentication/{code}`. [`body`](Self::body) and [`path`](Self::path) give the real
/// values to a test that asks for them.
#[derive(Clone)]
pub struct LoggedRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) template: Option<&'static str>,
    pub(crate) authorization: bool,
    pub(crate) auth_cookie: bool,
    pub(crate) confirm: Option<LoggedConfirm>,
    pub(crate) body: Option<Value>,
    pub(crate) status: u16,
}

/// The `Confirm` header of a logged request, without its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedConfirm {
    confirm_type: String,
    uid: String,
    key_in_header: bool,
    key_in_cookie: bool,
}

impl LoggedConfirm {
    /// The ticket's type, such as `TfaActivation`.
    pub fn confirm_type(&self) -> &str {
        &self.confirm_type
    }

    /// The ticket's user id.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// Whether the key was in the header itself (`…&key=…`).
    pub fn key_in_header(&self) -> bool {
        self.key_in_header
    }

    /// Whether the key came from the `asc_confirm_key_<type>` cookie instead.
    pub fn key_in_cookie(&self) -> bool {
        self.key_in_cookie
    }
}

impl LoggedRequest {
    pub(crate) fn new(method: &str, path: &str, creds: &Creds, body: &[u8], status: u16) -> Self {
        let body = std::str::from_utf8(body)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_owned())));
        LoggedRequest {
            method: method.to_owned(),
            path: path.trim_matches('/').to_owned(),
            template: template_of(path),
            authorization: creds.has_authorization,
            auth_cookie: creds.has_auth_cookie,
            confirm: creds.confirm.as_ref().map(|c| LoggedConfirm {
                confirm_type: c.confirm_type.clone(),
                uid: c.uid.clone(),
                key_in_header: c.key_in_header,
                key_in_cookie: c.key_in_cookie,
            }),
            body,
            status,
        }
    }

    /// The method, upper case (`GET`, `POST`, `PUT`, …).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path under `/api/2.0/` as sent, without query (`settings/tfaapp/validate`,
    /// `authentication/123456`). May contain a code: do not log it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The endpoint's path template (`authentication/{code}` for a login with a code), or
    /// `None` for a path the emulator does not serve.
    pub fn template(&self) -> Option<&'static str> {
        self.template
    }

    /// Whether the request carried an `Authorization` header.
    pub fn has_authorization(&self) -> bool {
        self.authorization
    }

    /// Whether the request carried the `asc_auth_key` cookie.
    pub fn has_auth_cookie(&self) -> bool {
        self.auth_cookie
    }

    /// The `Confirm` header, if any (type, uid, and where the key came from).
    pub fn confirm(&self) -> Option<&LoggedConfirm> {
        self.confirm.as_ref()
    }

    /// The body parsed as JSON (a JSON string holding the text when it was not JSON), or
    /// `None` when there was none. Holds secrets (passwords, codes) as sent.
    pub fn body(&self) -> Option<&Value> {
        self.body.as_ref()
    }

    /// The status the emulator answered.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether this request is `method path`: the method case-insensitively; the path as sent
    /// or as the endpoint's template, with or without a leading `/api/2.0/`.
    pub fn is(&self, method: &str, path: &str) -> bool {
        let path = path.trim_matches('/');
        let path = path
            .strip_prefix("api/2.0/")
            .unwrap_or(path)
            .trim_matches('/');
        self.method.eq_ignore_ascii_case(method)
            && (self.path.eq_ignore_ascii_case(path)
                || self.template.is_some_and(|t| t.eq_ignore_ascii_case(path)))
    }
}

impl fmt::Debug for LoggedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = match self.template {
            Some(t) if t.contains('{') => t,
            _ => self.path.as_str(),
        };
        f.debug_struct("LoggedRequest")
            .field("method", &self.method)
            .field("path", &path)
            .field("authorization", &self.authorization)
            .field("auth_cookie", &self.auth_cookie)
            .field("confirm", &self.confirm)
            // A JSON body with its secret fields blanked; anything else (a string the server
            // could not parse as JSON) only by its length: it may be a form with a password.
            .field(
                "body",
                &self.body.as_ref().map(|b| match b {
                    serde_json::Value::String(raw) => format!("<{} bytes, not JSON>", raw.len()),
                    json => scrub(&json.to_string()),
                }),
            )
            .field("status", &self.status)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let creds = Creds::from_headers(&[(
            "confirm".to_owned(),
            "type=TfaAuth&uid=u1&key=SECRETKEY".to_owned(),
        )]);
        let r = LoggedRequest::new(
            "POST",
            "authentication/654321",
            &creds,
            br#"{"userName":"a@b.c","password":"hunter2","code":"654321","mobilePhone":"12345678901"}"#,
            200,
        );
        let dbg = format!("{r:?}");
        for secret in ["SECRETKEY", "hunter2", "654321", "12345678901"] {
            assert!(!dbg.contains(secret), "{dbg}");
        }
        assert!(dbg.contains("authentication/{code}") && dbg.contains("a@b.c"));
        assert!(r.is("post", "/api/2.0/authentication/{code}"));
        assert!(r.is("POST", "authentication/654321"));
        assert!(!r.is("GET", "authentication/{code}"));
        assert_eq!(r.body().unwrap()["code"], "654321");
    }
}
