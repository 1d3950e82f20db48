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
//! `Error` is opaque (a box around a private representation, as `csv`'s and `jiff`'s errors
//! are): read it through its accessors. No error holds a token, password, confirm key, manual key or backup code: every text that
//! came from the server (body snippets, the envelope's message and type, a redirect's
//! `Location`) is bounded, scrubbed of the JSON fields that carry secrets and of every secret
//! the request carried; a wrong-shaped answer is shown as its skeleton, strings blanked; and the
//! login-with-code path is named by its template (`authentication/{code}`), never with the code
//! in it. That cleaning happens once, where an error is made (`src/answer.rs`,
//! `src/client.rs`): the constructors here take texts that are clean already.

use std::fmt;
use std::time::Duration;

mod advice;
mod constructors;

pub use self::advice::Advice;
pub(crate) use self::advice::Tries;
pub use crate::kind::ErrorKind;
use crate::messages::ServerMessage;

/// A boxed error from a lower layer (the HTTP transport).
type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every way a call can fail: one opaque type to match on by its [`kind`](Error::kind).
///
/// The accessors say what is known about the failure: [`kind`](Error::kind) (what it means
/// and what to do), [`status`](Error::status), [`operation`](Error::operation) (which
/// request), [`server_message`](Error::server_message), [`error_type`](Error::error_type),
/// [`recognized_message`](Error::recognized_message), [`retry_after`](Error::retry_after),
/// [`body_snippet`](Error::body_snippet), [`is_html`](Error::is_html), and
/// [`source`](std::error::Error::source) for the transport's or the file system's own error.
/// `Display` is one lower-case line that holds no secret: what failed, how many attempts were
/// made over how long (when more than one), and, where the answer tells, what to do next
/// ([`advice`](Error::advice)). `Debug` is short, as [`std::io::Error`]'s is: the kind, the
/// operation, the status and that line, so that a `main` returning `Result<(), Error>` prints
/// something a person can read.
///
/// ```
/// use docspace_tfa::{Client, ErrorKind};
///
/// let err = Client::builder().base_url("ftp://portal.example.com").build().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// assert_eq!(err.status(), None);
/// ```
pub struct Error(Box<Inner>);

/// The failure, and what the call around it adds.
struct Inner {
    repr: Repr,
    /// More than one attempt, when the call retried.
    tries: Option<Tries>,
    /// What to do next, when the answer tells.
    advice: Option<Advice>,
}

/// Where the failure happened; private, so that it can grow without breaking anyone. Every
/// text in it that came from the server was bounded and redacted before it got here (see
/// `src/redact.rs`): an `Error` is never reopened to clean it.
#[derive(Debug, thiserror::Error)]
enum Repr {
    /// Bad input caught before any request was sent. `reason` never holds a secret value.
    #[error("invalid {what}: {reason}")]
    InvalidInput { what: &'static str, reason: String },

    /// The request did not get a complete answer: connection, TLS, protocol or timeout.
    #[error("{operation}: {}: {source}", if *.timeout { "timed out" } else { "network error" })]
    Transport {
        operation: String,
        timeout: bool,
        #[source]
        source: BoxError,
    },

    /// The server answered with an error status.
    #[error("{0}")]
    Status(StatusError),

    /// The server answered with a redirect, which the API never does.
    #[error("{operation}: unexpected redirect (HTTP {status}) to {}; check the base URL", .location.as_deref().unwrap_or("an unnamed location"))]
    Redirect {
        operation: String,
        status: u16,
        location: Option<String>,
    },

    /// A successful status, but the body was not what was expected.
    #[error(
        "{operation}: could not decode {expected}: {reason}{}",
        Snippet(snippet)
    )]
    Decode {
        operation: String,
        expected: &'static str,
        reason: String,
        snippet: String,
    },

    /// The response body was larger than the client accepts.
    #[error("{operation}: response body exceeds the limit of {limit} bytes")]
    ResponseTooLarge { operation: String, limit: u64 },

    /// The portal's answers so far rule out the next step of a flow, so it was not sent.
    #[error("{operation}: {reason}")]
    Precondition {
        operation: String,
        kind: ErrorKind,
        reason: String,
    },

    /// An error status the server gives because of a known defect of its own (the SMS
    /// login's `phoneNoise` defect): the server's answer, and what it means and what to do.
    #[error("{operation}: HTTP {status}{}", DefectMessage(message))]
    ServerDefect {
        operation: String,
        status: u16,
        kind: ErrorKind,
        message: Option<String>,
        error_type: Option<String>,
    },
    /// A local I/O operation failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// `Display` helper: `": message"` for a server's message, nothing without one.
struct DefectMessage<'a>(&'a Option<String>);

impl fmt::Display for DefectMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(m) if !m.is_empty() => write!(f, ": {m}"),
            _ => Ok(()),
        }
    }
}

/// What an error status carried, as [`Error::status_error`] takes it. Every text is already
/// bounded and redacted.
#[derive(Debug)]
pub(crate) struct StatusError {
    /// The request, as `METHOD path-template`.
    pub(crate) operation: String,
    /// The HTTP status code.
    pub(crate) status: u16,
    /// The classification, decided from the status, the body and the endpoint.
    pub(crate) kind: ErrorKind,
    /// `error.message` from a DocSpace error envelope.
    pub(crate) message: Option<String>,
    /// `error.type` from the envelope (the server's exception type).
    pub(crate) error_type: Option<String>,
    /// The start of a body that was not an error envelope; empty otherwise.
    pub(crate) snippet: String,
    /// The `Retry-After` delay the server asked for.
    pub(crate) retry_after: Option<Duration>,
    /// Whether the body was an HTML page, not the portal's JSON.
    pub(crate) html: bool,
    /// The server message recognized in `message`, in any culture.
    pub(crate) recognized: Option<ServerMessage>,
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detail = StatusDetail {
            status: self.status,
            message: self.message.as_deref(),
            snippet: &self.snippet,
            html: self.html,
        };
        write!(f, "{}: HTTP {}{detail}", self.operation, self.status)
    }
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.repr, f)?;
        if let Some(tries) = &self.0.tries {
            write!(f, "; {tries}")?;
        }
        if let Some(advice) = &self.0.advice {
            write!(f, "; {advice}")?;
        }
        Ok(())
    }
}

/// Short and readable, as [`std::io::Error`]'s: `Error { kind: …, operation: …, status: …,
/// message: … }`, the message being the `Display` line (no secret is in it).
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind());
        if let Some(operation) = self.operation() {
            d.field("operation", &operation);
        }
        if let Some(status) = self.status() {
            d.field("status", &status);
        }
        d.field("message", &self.to_string()).finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0.repr)
    }
}

impl Error {
    /// The classification to match on.
    pub fn kind(&self) -> ErrorKind {
        match &self.0.repr {
            Repr::InvalidInput { .. } => ErrorKind::InvalidInput,
            Repr::Transport { timeout: true, .. } => ErrorKind::Timeout,
            Repr::Transport { .. } => ErrorKind::Network,
            Repr::Status(s) => s.kind,
            Repr::Redirect { .. } => ErrorKind::Redirect,
            Repr::Decode { .. } => ErrorKind::Decode,
            Repr::ResponseTooLarge { .. } => ErrorKind::ResponseTooLarge,
            Repr::Io { .. } => ErrorKind::Io,
            Repr::Precondition { kind, .. } => *kind,
            Repr::ServerDefect { kind, .. } => *kind,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match &self.0.repr {
            Repr::Status(s) => Some(s.status),
            Repr::Redirect { status, .. } => Some(*status),
            Repr::ServerDefect { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The request that failed, as `METHOD path-template` (`POST settings/tfaapp/validate`,
    /// `POST authentication/{code}`: a path that would hold a secret is named by its
    /// template), or the request whose answer ruled out the next step; `None` for bad input
    /// caught before sending and for local I/O.
    pub fn operation(&self) -> Option<&str> {
        match &self.0.repr {
            Repr::Transport { operation, .. }
            | Repr::Redirect { operation, .. }
            | Repr::Decode { operation, .. }
            | Repr::ResponseTooLarge { operation, .. }
            | Repr::Precondition { operation, .. }
            | Repr::ServerDefect { operation, .. } => Some(operation),
            Repr::Status(s) => Some(&s.operation),
            Repr::InvalidInput { .. } | Repr::Io { .. } => None,
        }
    }

    /// The server's `error.message`, when the answer was a DocSpace error envelope: its first
    /// 200 characters, scrubbed of secrets.
    ///
    /// Show it to a person; never branch on it (it is localized): branch on
    /// [`kind`](Error::kind), or on [`recognized_message`](Error::recognized_message).
    pub fn server_message(&self) -> Option<&str> {
        match &self.0.repr {
            Repr::Status(s) => s.message.as_deref(),
            Repr::ServerDefect { message, .. } => message.as_deref(),
            _ => None,
        }
    }

    /// The server's exception type from the error envelope (`error.type`, such as
    /// `System.InvalidOperationException`), when it sent one; bounded like
    /// [`server_message`](Error::server_message).
    pub fn error_type(&self) -> Option<&str> {
        match &self.0.repr {
            Repr::Status(s) => s.error_type.as_deref(),
            Repr::ServerDefect { error_type, .. } => error_type.as_deref(),
            _ => None,
        }
    }

    /// The server message the crate recognized in the error, in any of the server's cultures:
    /// how a refusal ([`ServerMessage::AccessDenied`](crate::ServerMessage::AccessDenied), a
    /// disabled account) is told from "not available" behind the same `403`.
    pub fn recognized_message(&self) -> Option<ServerMessage> {
        match &self.0.repr {
            Repr::Status(s) => s.recognized,
            _ => None,
        }
    }

    /// The bounded, secret-scrubbed start of a body that was not the portal's JSON (an HTML
    /// error page, plain text, a truncated body), for debugging; `None` when there was none.
    /// `Display` does not quote an HTML page: it says what it was.
    pub fn body_snippet(&self) -> Option<&str> {
        let snippet = match &self.0.repr {
            Repr::Status(s) => &s.snippet,
            Repr::Decode { snippet, .. } => snippet,
            _ => return None,
        };
        Some(snippet.as_str()).filter(|s| !s.is_empty())
    }

    /// Whether the error status came with an HTML page (a proxy's, a gateway's or a web
    /// server's) instead of the portal's JSON; its start is in
    /// [`body_snippet`](Error::body_snippet).
    pub fn is_html(&self) -> bool {
        matches!(&self.0.repr, Repr::Status(s) if s.html)
    }

    /// The delay a `429` (or `503`) asked for in `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.0.repr {
            Repr::Status(s) => s.retry_after,
            _ => None,
        }
    }

    /// Whether the server rejected the TFA code ([`ErrorKind::InvalidCode`]).
    pub fn is_invalid_code(&self) -> bool {
        self.kind() == ErrorKind::InvalidCode
    }

    /// Whether the failure is the server's known defect rather than the caller's mistake: a
    /// login with an SMS code to a number of 10 or more digits, which every released server
    /// answers `401` even for the right code (its `phoneNoise` defect; see
    /// [`SmsSent`](crate::SmsSent)). The advice
    /// ([`Advice::SmsPhoneNoiseDefect`], the end of the message) says what to do instead.
    pub fn is_server_defect(&self) -> bool {
        matches!(self.0.repr, Repr::ServerDefect { .. })
    }

    /// Whether too many attempts were made ([`ErrorKind::RateLimited`]).
    pub fn is_rate_limited(&self) -> bool {
        self.kind() == ErrorKind::RateLimited
    }

    /// Whether the request timed out ([`ErrorKind::Timeout`]).
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// What to do next, where the answer tells more than its status (an empty `401` or
    /// `404`, a host name that does not resolve, the portal's attempt lock, …); the end of
    /// `Display`. `None` where the message says it all.
    pub fn advice(&self) -> Option<&Advice> {
        self.0.advice.as_ref()
    }

    /// How many attempts the call made (1 unless it was retried; 0 for a failure before any
    /// request, such as bad input).
    pub fn attempts(&self) -> u32 {
        match (&self.0.tries, &self.0.repr) {
            (Some(tries), _) => tries.attempts,
            (None, Repr::InvalidInput { .. } | Repr::Io { .. }) => 0,
            (None, _) => 1,
        }
    }
}

/// The crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests;
