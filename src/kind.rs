//! [`ErrorKind`]: what a failure means, the value to `match` on (a leaf: the classification
//! itself is in `src/answer.rs`, the error in `src/error.rs`).

use std::fmt;

/// What kind of failure an [`Error`](crate::Error) is; the value to `match` on.
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
    /// ([`Error::recognized_message`](crate::Error::recognized_message) names the refusals it knows).
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
    /// [`Error::body_snippet`](crate::Error::body_snippet)).
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
    /// A short `snake_case` name, stable across releases: the `kind` the CLI prints in its
    /// JSON errors (the CLI adds `usage` for its own command-line mistakes).
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
