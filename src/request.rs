//! Endpoint calls described as data: method, path, credential, body, how to read their errors
//! and whether they may be sent again. What comes back is in [`crate::answer`].

use ureq::http::Method;

use crate::confirm::ConfirmTicket;
use crate::error::{Error, Result};
use crate::retry::Retry;

/// Which credential a request carries.
#[derive(Clone, Copy)]
pub(crate) enum Credential<'a> {
    /// None (login).
    Anonymous,
    /// `Authorization: Bearer <token>`; an error before sending when the client has no token.
    Bearer,
    /// `Confirm: type=…&uid=…&key=…` and no `Authorization`.
    Ticket(&'a ConfirmTicket),
    /// The token as the `asc_auth_key` cookie and no `Authorization`: the one credential
    /// `POST authentication/logout` acts on (`docs/server.md`, "The session's life"); an
    /// error before sending when the client has no token.
    Cookie,
}

/// Which rules classify a request's error statuses (see `classify` in `src/answer.rs`): the
/// same status means different things from different endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// `POST settings/tfaapp/validate`: `400` is a wrong code, a `403` with a body a lock.
    Validate,
    /// `POST authentication` and `POST authentication/{code}`: a `403` with a body is a lock.
    Login,
    /// Anything else.
    Other,
}

/// An endpoint call, described as data.
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    /// The path under `/api/2.0/`, as sent.
    pub(crate) path: String,
    /// The path as shown in errors (a template where the real path holds a secret).
    pub(crate) display_path: &'static str,
    pub(crate) credential: Credential<'a>,
    /// A JSON body.
    pub(crate) body: Option<String>,
    pub(crate) errors: ErrorClass,
    pub(crate) retry: Retry,
    /// A secret this request does not carry but a later request of the same call will (the
    /// code `Tfa::validate` sends after fetching the ticket): the server's answer to this one
    /// must not echo it into an error either.
    pub(crate) also_redact: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A request whose path is shown as is.
    pub(crate) fn new(method: Method, path: &'static str, credential: Credential<'a>) -> Self {
        Request {
            path: path.to_owned(),
            display_path: path,
            credential,
            body: None,
            errors: ErrorClass::Other,
            also_redact: None,
            retry: Retry::for_method(&method),
            method,
        }
    }

    /// Sets the JSON body.
    pub(crate) fn json(mut self, body: &impl serde::Serialize) -> Result<Self> {
        let text = serde_json::to_string(body)
            .map_err(|e| Error::invalid_input("request body", e.to_string()))?;
        self.body = Some(text);
        Ok(self)
    }

    /// Sets the rules that classify the request's error statuses.
    pub(crate) fn errors(mut self, class: ErrorClass) -> Self {
        self.errors = class;
        self
    }

    /// Names a secret of a later request to keep out of this one's errors.
    pub(crate) fn also_redact(mut self, secret: Option<&'a str>) -> Self {
        self.also_redact = secret;
        self
    }

    /// Replaces the real path (keeping the display template).
    pub(crate) fn real_path(mut self, path: String) -> Self {
        self.path = path;
        self
    }

    /// `METHOD path-template`, for errors.
    pub(crate) fn operation(&self) -> String {
        format!("{} {}", self.method, self.display_path)
    }
}
