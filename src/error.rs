//! The one error type of the crate and the classification a caller matches on.
//!
//! Every failure is an [`Error`]. Most callers only need [`Error::kind`], which answers the
//! question "what should my program do now?": ask for the code again ([`ErrorKind::InvalidCode`]),
//! wait ([`ErrorKind::RateLimited`]), get a new ticket or token ([`ErrorKind::Unauthorized`]),
//! tell an administrator ([`ErrorKind::NotAvailable`]), retry later ([`ErrorKind::Network`],
//! [`ErrorKind::Timeout`], [`ErrorKind::Server`]) or report a bug ([`ErrorKind::Decode`]).
//!
//! The classification uses the status code, whether the body was a DocSpace error envelope,
//! the exception type the envelope names, and which endpoint answered. Where the server gives
//! one status and type two meanings (a `403` `InvalidOperationException` is a refusal or "not
//! available"), the message decides: it is recognized in every culture the server speaks
//! ([`ServerMessage`](crate::ServerMessage)), and an unknown text counts as "not available".
//!
//! No variant holds a token, password, confirm key, manual key or backup code: every text that
//! came from the server (body snippets, the envelope's message and type, a redirect's
//! `Location`) is bounded, scrubbed of the JSON fields that carry secrets and of every secret
//! the request carried; a wrong-shaped answer is shown as its skeleton, strings blanked; and the
//! login-with-code path is named by its template (`authentication/{code}`), never with the code
//! in it.

use std::fmt;
use std::time::Duration;

/// A boxed error from a lower layer (the HTTP transport).
type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of failure an [`Error`] is; the value to `match` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input caught before any request was sent: an empty or impossible code, a malformed
    /// base URL or confirm URL, a missing token.
    InvalidInput,
    /// The connection could not be made or broke before a complete answer arrived (DNS, refused,
    /// reset, TLS, a malformed HTTP response).
    Network,
    /// The connect timeout or the per-request deadline passed.
    Timeout,
    /// The server rejected the TFA code (`400` from `tfaapp/validate`). Ask for a new code.
    InvalidCode,
    /// Any other `400 Bad Request`: the server refused the request's content.
    BadRequest,
    /// `401`: no valid token or ticket, an expired ticket, wrong user name or password, or a
    /// failed login with a code.
    Unauthorized,
    /// `403`: the caller may not do this (not an admin, not the owner, a framework refusal),
    /// or a login of a disabled account. The server says which in its message
    /// ([`Error::recognized_message`] names the refusals it knows).
    Forbidden,
    /// Too many attempts: the brute-force lock of `tfaapp/validate` or of the login (a `403`
    /// with an error body), or a `429`.
    RateLimited,
    /// The authenticator-app (or SMS) method is switched off or not offered on the portal, no
    /// app is linked, or the app is already linked: a `403` `InvalidOperationException` whose
    /// message is not a refusal (servers from 3.5), a `415` "Not available." or a `500` with the
    /// "not available" text (servers up to 3.2.1), or a `405`.
    NotAvailable,
    /// `404`: the endpoint or the named object does not exist.
    NotFound,
    /// A `5xx` answer, including an HTML error page from a reverse proxy (see
    /// [`Error::body_snippet`]).
    Server,
    /// A status code with no more specific kind (for example `402 Payment Required`).
    UnexpectedStatus,
    /// The server answered with a redirect (`3xx`). The API never redirects; a redirect usually
    /// means a wrong base URL (for example `http://` where the portal wants `https://`).
    /// Credentials are never sent to the redirect target.
    Redirect,
    /// The answer was not the JSON that was expected: not UTF-8, not JSON, truncated, or of
    /// another shape.
    Decode,
    /// The response body exceeded the client's size limit.
    ResponseTooLarge,
    /// A local I/O error, such as failing to write a QR image to a file.
    Io,
    /// Two-factor authentication does not apply to the caller: `GET settings/tfaapp/confirm`
    /// answered `null` (TFA is off, the caller is not among the users it is mandatory for, or
    /// the caller's IP address is trusted). There is nothing to set up or validate.
    TfaNotApplicable,
}

impl ErrorKind {
    /// A short `snake_case` name, stable across releases (the CLI prints it).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::InvalidCode => "invalid_code",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::NotAvailable => "not_available",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Server => "server",
            ErrorKind::UnexpectedStatus => "unexpected_status",
            ErrorKind::Redirect => "redirect",
            ErrorKind::Decode => "decode",
            ErrorKind::ResponseTooLarge => "response_too_large",
            ErrorKind::Io => "io",
            ErrorKind::TfaNotApplicable => "tfa_not_applicable",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every way a call can fail.
///
/// Match on [`Error::kind`] rather than on the variants: the variants say *where* the failure
/// happened (before sending, in transport, in the answer's status, in its body), the kind says
/// *what* it means.
///
/// ```
/// use docspace_tfa::{Client, ErrorKind};
///
/// let err = Client::builder().base_url("ftp://portal.example.com").build().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// assert_eq!(err.status(), None);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad input caught before any request was sent.
    #[error("invalid {what}: {reason}")]
    #[non_exhaustive]
    InvalidInput {
        /// What was invalid: `"code"`, `"base URL"`, `"confirm URL"`, ….
        what: &'static str,
        /// Why, in a few words. Never contains the rejected value when it may be a secret.
        reason: String,
    },

    /// The request did not get a complete answer: connection, TLS, protocol or timeout.
    #[error("{operation}: {}: {source}", if *.timeout { "timed out" } else { "network error" })]
    #[non_exhaustive]
    Transport {
        /// The request, as `METHOD path-template`.
        operation: String,
        /// Whether a timeout (connect or deadline) ended the request.
        timeout: bool,
        /// The transport's own error.
        #[source]
        source: BoxError,
    },

    /// The server answered with an error status.
    #[error("{operation}: HTTP {status}{}", StatusDetail { status: *status, message: message.as_deref(), snippet, html: *html })]
    #[non_exhaustive]
    Status {
        /// The request, as `METHOD path-template`.
        operation: String,
        /// The HTTP status code.
        status: u16,
        /// The classification, decided from the status, the body and the endpoint.
        kind: ErrorKind,
        /// `error.message` from a DocSpace error envelope, when the body was one: its first
        /// 200 characters, scrubbed of secrets.
        message: Option<String>,
        /// `error.type` from the envelope (the server's exception type), when present, bounded
        /// like `message`.
        error_type: Option<String>,
        /// A bounded, secret-scrubbed start of the body when it was not an error envelope
        /// (empty, HTML, truncated); empty otherwise. Not shown by `Display` for an HTML page.
        snippet: String,
        /// The `Retry-After` delay the server asked for, if any.
        retry_after: Option<Duration>,
        /// Whether the body was an HTML page (a proxy's, a gateway's or a web server's), not
        /// the portal's JSON. `Display` says so instead of quoting it; the start of the page is
        /// in `snippet`.
        html: bool,
        /// The server message the crate recognized in `message`, in any culture.
        recognized: Option<crate::messages::ServerMessage>,
    },

    /// The server answered with a redirect, which the API never does.
    #[error("{operation}: unexpected redirect (HTTP {status}) to {}; check the base URL", .location.as_deref().unwrap_or("an unnamed location"))]
    #[non_exhaustive]
    Redirect {
        /// The request, as `METHOD path-template`.
        operation: String,
        /// The `3xx` status code.
        status: u16,
        /// The `Location` header, if any.
        location: Option<String>,
    },

    /// A successful status, but the body was not what was expected.
    #[error(
        "{operation}: could not decode {expected}: {reason}{}",
        Snippet(snippet)
    )]
    #[non_exhaustive]
    Decode {
        /// The request, as `METHOD path-template`.
        operation: String,
        /// What was expected, such as `"setup code"` or `"bool"`.
        expected: &'static str,
        /// Why decoding failed.
        reason: String,
        /// A bounded, secret-scrubbed start of the body.
        snippet: String,
    },

    /// The response body was larger than the client accepts.
    #[error("{operation}: response body exceeds the limit of {limit} bytes")]
    #[non_exhaustive]
    ResponseTooLarge {
        /// The request, as `METHOD path-template`.
        operation: String,
        /// The limit in bytes ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)).
        limit: u64,
    },

    /// The portal's answers so far rule out the next step of a flow, so it was not sent: TFA
    /// does not apply to the caller ([`ErrorKind::TfaNotApplicable`]), an app is already
    /// linked, or the portal wants SMS ([`ErrorKind::NotAvailable`]).
    #[error("{operation}: {reason}")]
    #[non_exhaustive]
    Precondition {
        /// The request whose answer decided it, as `METHOD path-template`.
        operation: String,
        /// [`ErrorKind::TfaNotApplicable`] or [`ErrorKind::NotAvailable`].
        kind: ErrorKind,
        /// What the answer said, in a few words (no secret).
        reason: String,
    },

    /// A local I/O operation failed.
    #[error("{what}: {source}")]
    #[non_exhaustive]
    Io {
        /// What was being done, such as `"write QR image to qr.png"`.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// `Display` helper: the server's message, what an HTML page means, or the body snippet.
struct StatusDetail<'a> {
    status: u16,
    message: Option<&'a str>,
    snippet: &'a str,
    html: bool,
}

impl fmt::Display for StatusDetail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message {
            Some(m) if !m.is_empty() => write!(f, ": {m}"),
            _ if self.html => {
                let reason = ureq::http::StatusCode::from_u16(self.status)
                    .ok()
                    .and_then(|s| s.canonical_reason());
                if let Some(reason) = reason {
                    write!(f, " {reason}")?;
                }
                if (500..600).contains(&self.status) {
                    f.write_str(": an HTML page from a proxy or gateway, not the portal's JSON")
                } else {
                    f.write_str(": an HTML page, not the portal's JSON (check the base URL)")
                }
            }
            _ if self.snippet.is_empty() => f.write_str(" (empty body)"),
            _ => write!(f, " (body: {})", self.snippet),
        }
    }
}

/// `Display` helper: `; body: <snippet>` or nothing.
struct Snippet<'a>(&'a str);

impl fmt::Display for Snippet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str(" (empty body)")
        } else {
            write!(f, " (body: {})", self.0)
        }
    }
}

impl Error {
    /// The classification to match on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Transport { timeout: true, .. } => ErrorKind::Timeout,
            Error::Transport { .. } => ErrorKind::Network,
            Error::Status { kind, .. } => *kind,
            Error::Redirect { .. } => ErrorKind::Redirect,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::ResponseTooLarge { .. } => ErrorKind::ResponseTooLarge,
            Error::Io { .. } => ErrorKind::Io,
            Error::Precondition { kind, .. } => *kind,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } | Error::Redirect { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's `error.message`, when the answer was a DocSpace error envelope.
    ///
    /// Show it to a person; never branch on it (it is localized).
    pub fn server_message(&self) -> Option<&str> {
        match self {
            Error::Status { message, .. } => message.as_deref(),
            _ => None,
        }
    }

    /// The server message the crate recognized in the error, in any of the server's cultures:
    /// how a refusal ([`ServerMessage::AccessDenied`](crate::ServerMessage::AccessDenied), a
    /// disabled account) is told from "not available" behind the same `403`.
    pub fn recognized_message(&self) -> Option<crate::ServerMessage> {
        match self {
            Error::Status { recognized, .. } => *recognized,
            _ => None,
        }
    }

    /// The bounded, secret-scrubbed start of a body that was not the portal's JSON (an HTML
    /// error page, plain text, a truncated body), for debugging; `None` when there was none.
    /// `Display` does not quote an HTML page: it says what it was.
    pub fn body_snippet(&self) -> Option<&str> {
        match self {
            Error::Status { snippet, .. } | Error::Decode { snippet, .. }
                if !snippet.is_empty() =>
            {
                Some(snippet)
            }
            _ => None,
        }
    }

    /// The delay a `429` (or `503`) asked for in `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the server rejected the TFA code ([`ErrorKind::InvalidCode`]).
    pub fn is_invalid_code(&self) -> bool {
        self.kind() == ErrorKind::InvalidCode
    }

    /// Whether too many attempts were made ([`ErrorKind::RateLimited`]).
    pub fn is_rate_limited(&self) -> bool {
        self.kind() == ErrorKind::RateLimited
    }

    /// Whether the request timed out ([`ErrorKind::Timeout`]).
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// Bad input, caught before sending.
    pub(crate) fn invalid_input(what: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            what,
            reason: reason.into(),
        }
    }

    /// A flow step ruled out by an earlier answer (see [`Error::Precondition`]).
    pub(crate) fn precondition(
        operation: &str,
        kind: ErrorKind,
        reason: impl Into<String>,
    ) -> Self {
        Error::Precondition {
            operation: operation.to_owned(),
            kind,
            reason: reason.into(),
        }
    }

    /// A local I/O failure.
    #[cfg_attr(not(feature = "totp"), allow(dead_code))] // used by the QR image writer
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }
}

/// The crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn error_is_send_sync_static() {
        assert_send_sync::<Error>();
    }

    #[test]
    fn display_is_lowercase_and_informative() {
        let e = Error::Status {
            operation: "POST settings/tfaapp/validate".into(),
            status: 400,
            kind: ErrorKind::InvalidCode,
            message: Some("Incorrect code".into()),
            error_type: None,
            snippet: String::new(),
            retry_after: None,
            html: false,
            recognized: None,
        };
        assert_eq!(
            e.to_string(),
            "POST settings/tfaapp/validate: HTTP 400: Incorrect code"
        );
        let e = Error::Status {
            operation: "GET settings/tfaapp/setup".into(),
            status: 403,
            kind: ErrorKind::Forbidden,
            message: None,
            error_type: None,
            snippet: String::new(),
            retry_after: None,
            html: false,
            recognized: None,
        };
        assert_eq!(
            e.to_string(),
            "GET settings/tfaapp/setup: HTTP 403 (empty body)"
        );
        let e = Error::Status {
            operation: "PUT settings/tfaapp".into(),
            status: 502,
            kind: ErrorKind::Server,
            message: None,
            error_type: None,
            snippet: "<html> <head><title>502 Bad Gateway</title></head>".into(),
            retry_after: None,
            html: true,
            recognized: None,
        };
        assert_eq!(
            e.to_string(),
            "PUT settings/tfaapp: HTTP 502 Bad Gateway: an HTML page from a proxy or gateway, \
             not the portal's JSON"
        );
        assert_eq!(
            e.body_snippet(),
            Some("<html> <head><title>502 Bad Gateway</title></head>")
        );
    }
}
