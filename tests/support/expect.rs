//! Requests as data, after the gitlab crate's `src/test/client.rs`: an [`Expect`] says what
//! the crate must send (method, path, credential, headers, body) and what the mock portal
//! answers (status, headers, body); [`run`] starts one mock server for the call, makes the
//! call and asserts every mock was hit exactly as often as expected (once unless
//! [`Expect::times`]); an [`Outcome`] ([`Fails`], [`Returns`], [`Checks`]) checks what the call
//! gave back. The [`cases!`](crate::cases) macro turns a table of such rows into one `#[test]`
//! per row, so that a failing row is named by the test runner.
//!
//! Errors are read through `Error`'s accessor methods only (`kind()`, `status()`,
//! `server_message()`, `retry_after()`, `to_string()` …), never through its variants.

use std::fmt::Debug;
use std::time::Duration;

use docspace_tfa::{Client, Error, ErrorKind};
use mockito::{Matcher, Mock, Server};
use serde_json::Value;

use super::{
    assert_no_secrets, confirm_header, envelope, null_envelope, CONFIRM_KEY, JSON, LOGIN_TOKEN,
    MANUAL_KEY, PASSWORD, TOKEN,
};

/// The secrets of `support` that no error may show, whatever the case: every [`Fails`] checks
/// them in `Display` and `Debug`.
pub const SECRETS: [&str; 5] = [TOKEN, LOGIN_TOKEN, CONFIRM_KEY, MANUAL_KEY, PASSWORD];

/// The credential a request must carry, and so the ones it must leave out.
#[derive(Clone, Debug)]
enum Credential {
    /// Not checked (only for mocks that must not be hit at all).
    Unchecked,
    /// `Authorization: Bearer <token>`, and no `Confirm`.
    Bearer(String),
    /// `Confirm` of a ticket of this type for `USER_ID` with `CONFIRM_KEY`, and no
    /// `Authorization` or `Cookie`.
    Ticket(&'static str),
    /// No `Authorization`, `Confirm` or `Cookie` (the login calls).
    Nothing,
    /// `Cookie: asc_auth_key=<token>`, and no `Authorization` or `Confirm` (the logout).
    SessionCookie(String),
}

/// What the request body must be.
#[derive(Clone, Debug)]
enum Sends {
    /// Not checked.
    Unchecked,
    /// No body and no `Content-Type`.
    Nothing,
    /// Exactly this text, as `application/json`.
    Exact(String),
    /// This JSON value (key order free), as `application/json`.
    Json(Value),
    /// JSON containing at least these keys (no check of the content type).
    Partial(Value),
}

/// One expected request and the answer the mock portal gives to it.
#[derive(Clone, Debug)]
pub struct Expect {
    method: &'static str,
    path: Option<String>,
    credential: Credential,
    sends: Sends,
    headers: Vec<(&'static str, String)>,
    status: usize,
    content_type: Option<String>,
    answer_headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    hits: usize,
}

/// A `GET` of `path` (e.g. `/api/2.0/settings/tfaapp`): it must carry no body.
pub fn get(path: &str) -> Expect {
    Expect::new("GET", Some(path)).no_body()
}

/// A `PUT` of `path`.
pub fn put(path: &str) -> Expect {
    Expect::new("PUT", Some(path))
}

/// A `POST` of `path`.
pub fn post(path: &str) -> Expect {
    Expect::new("POST", Some(path))
}

/// Any request with `method`, which must not be sent at all (input refused before sending).
pub fn never(method: &'static str) -> Expect {
    Expect::new(method, None).times(0)
}

impl Expect {
    fn new(method: &'static str, path: Option<&str>) -> Self {
        Expect {
            method,
            path: path.map(str::to_owned),
            credential: Credential::Unchecked,
            sends: Sends::Unchecked,
            headers: Vec::new(),
            status: 200,
            content_type: None,
            answer_headers: Vec::new(),
            body: Vec::new(),
            hits: 1,
        }
    }

    /// The path inside `api/2.0/`, as the envelope's `links` name it.
    fn api_path(&self) -> &str {
        let path = self.path.as_deref().unwrap_or("");
        path.split_once("/api/2.0/").map_or(path, |(_, p)| p)
    }

    // -- what the crate must send --------------------------------------------------------

    /// Carries `Authorization: Bearer` with `support::TOKEN`, and no `Confirm`.
    pub fn bearer(self) -> Self {
        self.bearer_of(super::TOKEN)
    }

    /// Carries `Authorization: Bearer <token>`, and no `Confirm`.
    pub fn bearer_of(mut self, token: &str) -> Self {
        self.credential = Credential::Bearer(format!("Bearer {token}"));
        self
    }

    /// Carries the `Confirm` header of a `confirm_type` ticket for `USER_ID` with
    /// `CONFIRM_KEY`, and no `Authorization` or `Cookie`.
    pub fn ticket(mut self, confirm_type: &'static str) -> Self {
        self.credential = Credential::Ticket(confirm_type);
        self
    }

    /// Carries `token` as the `asc_auth_key` cookie, and no `Authorization` or `Confirm`.
    pub fn session_cookie(mut self, token: &str) -> Self {
        self.credential = Credential::SessionCookie(format!("asc_auth_key={token}"));
        self
    }

    /// Carries no credential at all: no `Authorization`, `Confirm` or `Cookie`.
    pub fn anonymous(mut self) -> Self {
        self.credential = Credential::Nothing;
        self
    }

    /// Carries no body and no `Content-Type`.
    pub fn no_body(mut self) -> Self {
        self.sends = Sends::Nothing;
        self
    }

    /// Carries exactly `body`, as `application/json`.
    pub fn exact(mut self, body: impl Into<String>) -> Self {
        self.sends = Sends::Exact(body.into());
        self
    }

    /// Carries the JSON `body` (any key order), as `application/json`.
    pub fn json(mut self, body: Value) -> Self {
        self.sends = Sends::Json(body);
        self
    }

    /// Carries JSON with at least the keys of `body`.
    pub fn partial(mut self, body: Value) -> Self {
        self.sends = Sends::Partial(body);
        self
    }

    /// Carries the request header `name` with exactly `value`.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Is sent `n` times (once by default; `0`: never).
    pub fn times(mut self, n: usize) -> Self {
        self.hits = n;
        self
    }

    // -- what the mock portal answers ----------------------------------------------------

    /// `200` with the success envelope around `response`, as JSON.
    pub fn ok(self, response: Value) -> Self {
        let body = envelope(self.method, self.api_path(), response);
        self.answers(200, body)
    }

    /// `200` with the envelope of a `null` answer (no `response` key), as JSON.
    pub fn ok_null(self) -> Self {
        let body = null_envelope(self.method, self.api_path());
        self.answers(200, body)
    }

    /// `status` with `body`, as JSON (`application/json; charset=utf-8`).
    pub fn answers(self, status: usize, body: impl AsRef<[u8]>) -> Self {
        self.answers_as(status, JSON, body)
    }

    /// `status` with `body` of `content_type`.
    pub fn answers_as(mut self, status: usize, content_type: &str, body: impl AsRef<[u8]>) -> Self {
        self.status = status;
        self.content_type = Some(content_type.to_owned());
        self.body = body.as_ref().to_vec();
        self
    }

    /// `status` with an empty body and no content type, as framework refusals are.
    pub fn empty(mut self, status: usize) -> Self {
        self.status = status;
        self.content_type = None;
        self.body = Vec::new();
        self
    }

    /// Adds a `Set-Cookie` header to the answer.
    pub fn cookie(self, set_cookie: impl Into<String>) -> Self {
        self.with("set-cookie", set_cookie)
    }

    /// Adds a header to the answer.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.answer_headers.push((name, value.into()));
        self
    }

    /// Creates the mock on `server`.
    pub fn mock(&self, server: &mut Server) -> Mock {
        let path = match &self.path {
            Some(p) => Matcher::Exact(p.clone()),
            None => Matcher::Any,
        };
        let mut mock = server.mock(self.method, path);
        if !matches!(self.credential, Credential::Unchecked) {
            mock = mock.match_header("accept", "application/json");
        }
        mock = match &self.credential {
            Credential::Unchecked => mock,
            Credential::Bearer(value) => mock
                .match_header("authorization", value.as_str())
                .match_header("confirm", Matcher::Missing),
            Credential::Ticket(confirm_type) => mock
                .match_header("confirm", confirm_header(confirm_type).as_str())
                .match_header("authorization", Matcher::Missing)
                .match_header("cookie", Matcher::Missing),
            Credential::Nothing => mock
                .match_header("authorization", Matcher::Missing)
                .match_header("confirm", Matcher::Missing)
                .match_header("cookie", Matcher::Missing),
            Credential::SessionCookie(cookie) => mock
                .match_header("cookie", cookie.as_str())
                .match_header("authorization", Matcher::Missing)
                .match_header("confirm", Matcher::Missing),
        };
        mock = match &self.sends {
            Sends::Unchecked => mock,
            Sends::Nothing => mock
                .match_header("content-type", Matcher::Missing)
                .match_body(Matcher::Exact(String::new())),
            Sends::Exact(body) => mock
                .match_header("content-type", "application/json")
                .match_body(Matcher::Exact(body.clone())),
            Sends::Json(body) => mock
                .match_header("content-type", "application/json")
                .match_body(Matcher::Json(body.clone())),
            Sends::Partial(body) => mock.match_body(Matcher::PartialJson(body.clone())),
        };
        for (name, value) in &self.headers {
            mock = mock.match_header(*name, value.as_str());
        }
        mock = mock.with_status(self.status);
        if let Some(content_type) = &self.content_type {
            mock = mock.with_header("content-type", content_type);
        }
        for (name, value) in &self.answer_headers {
            mock = mock.with_header(*name, value);
        }
        mock.with_body(&self.body).expect(self.hits).create()
    }

    /// [`run`] with this one expectation.
    pub fn run<T>(
        self,
        make: fn(&Server) -> Client,
        call: impl FnOnce(&Client) -> Result<T, Error>,
    ) -> Result<T, Error> {
        run(vec![self], make, call)
    }
}

/// Starts a mock server with `expects`, makes the client with `make` (e.g. `support::client`)
/// and calls `call` with it; then asserts every mock was hit as often as expected, and
/// returns what the call gave back.
pub fn run<T>(
    expects: Vec<Expect>,
    make: fn(&Server) -> Client,
    call: impl FnOnce(&Client) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut server = Server::new();
    let mocks: Vec<Mock> = expects.iter().map(|e| e.mock(&mut server)).collect();
    let result = call(&make(&server));
    for mock in &mocks {
        mock.assert();
    }
    result
}

/// What a call must give back; see [`Fails`], [`Returns`] and [`Checks`].
pub trait Outcome<T> {
    /// Asserts that `result` is this outcome.
    fn check(self, result: Result<T, Error>);
}

/// The value a call must return.
pub struct Returns<T>(pub T);

impl<T: PartialEq + Debug> Outcome<T> for Returns<T> {
    fn check(self, result: Result<T, Error>) {
        match result {
            Ok(value) => assert_eq!(value, self.0),
            Err(err) => panic!("expected {:?}, got the error {err}", self.0),
        }
    }
}

/// Assertions on the value a call must return.
pub struct Checks<F>(pub F);

impl<T, F: FnOnce(T)> Outcome<T> for Checks<F> {
    fn check(self, result: Result<T, Error>) {
        match result {
            Ok(value) => (self.0)(value),
            Err(err) => panic!("expected a value, got the error {err}"),
        }
    }
}

/// The error a call must fail with: its kind, and what else a row names (status, server
/// message, `Display` …). Every check also asserts that the `is_*` helpers agree with the
/// kind and that none of [`SECRETS`] (nor the row's own [`Fails::hides`]) shows.
#[derive(Clone, Debug)]
pub struct Fails {
    kind: ErrorKind,
    status: Option<Option<u16>>,
    message: Option<Option<String>>,
    display: Option<String>,
    contains: Vec<String>,
    lacks: Vec<String>,
    hides: Vec<String>,
    retry_after: Option<Option<Duration>>,
    at_most: Option<usize>,
}

/// The error a call must fail with, of `kind`.
pub fn fails(kind: ErrorKind) -> Fails {
    Fails {
        kind,
        status: None,
        message: None,
        display: None,
        contains: Vec::new(),
        lacks: Vec::new(),
        hides: Vec::new(),
        retry_after: None,
        at_most: None,
    }
}

impl Fails {
    /// With the HTTP status `status`.
    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(Some(status));
        self
    }

    /// With no HTTP status (nothing was answered, or the answer was a success).
    pub fn no_status(mut self) -> Self {
        self.status = Some(None);
        self
    }

    /// With the server message `message` (`Error::server_message`).
    pub fn message(mut self, message: &str) -> Self {
        self.message = Some(Some(message.to_owned()));
        self
    }

    /// With no server message.
    pub fn no_message(mut self) -> Self {
        self.message = Some(None);
        self
    }

    /// Displayed exactly as `display`.
    pub fn display(mut self, display: &str) -> Self {
        self.display = Some(display.to_owned());
        self
    }

    /// Displayed with `part` in it.
    pub fn contains(mut self, part: &str) -> Self {
        self.contains.push(part.to_owned());
        self
    }

    /// Displayed without `part`.
    pub fn lacks(mut self, part: &str) -> Self {
        self.lacks.push(part.to_owned());
        self
    }

    /// Shows none of `secrets` in `Display` or `Debug` (beside [`SECRETS`]).
    pub fn hides(mut self, secrets: &[&str]) -> Self {
        self.hides.extend(secrets.iter().map(|s| (*s).to_owned()));
        self
    }

    /// With `Retry-After` read as `delay`.
    pub fn retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(Some(delay));
        self
    }

    /// Displayed in at most `bytes` bytes.
    pub fn at_most(mut self, bytes: usize) -> Self {
        self.at_most = Some(bytes);
        self
    }

    /// Asserts `err` is this error; returns it for further checks.
    pub fn check_error(&self, err: Error) -> Error {
        let shown = err.to_string();
        assert_eq!(err.kind(), self.kind, "{shown}");
        assert_eq!(err.is_invalid_code(), self.kind == ErrorKind::InvalidCode);
        assert_eq!(err.is_rate_limited(), self.kind == ErrorKind::RateLimited);
        assert_eq!(err.is_timeout(), self.kind == ErrorKind::Timeout);
        if let Some(status) = self.status {
            assert_eq!(err.status(), status, "{shown}");
        }
        if let Some(message) = &self.message {
            assert_eq!(err.server_message(), message.as_deref(), "{shown}");
        }
        if let Some(display) = &self.display {
            assert_eq!(shown, *display);
        }
        for part in &self.contains {
            assert!(shown.contains(part.as_str()), "{part:?} not in {shown}");
        }
        for part in &self.lacks {
            assert!(!shown.contains(part.as_str()), "{part:?} in {shown}");
        }
        if let Some(bytes) = self.at_most {
            assert!(shown.len() <= bytes, "{} bytes: {shown}", shown.len());
        }
        if let Some(delay) = self.retry_after {
            assert_eq!(err.retry_after(), delay, "{shown}");
        }
        let mut secrets: Vec<&str> = SECRETS.to_vec();
        secrets.extend(self.hides.iter().map(String::as_str));
        assert_no_secrets(&err, &shown, &secrets);
        err
    }
}

impl<T: Debug> Outcome<T> for Fails {
    fn check(self, result: Result<T, Error>) {
        match result {
            Ok(value) => panic!("expected a {:?} error, got {value:?}", self.kind),
            Err(err) => {
                self.check_error(err);
            }
        }
    }
}

/// Asserts an error's kind and HTTP status (for flows where the rest is checked by hand).
pub fn assert_error(err: &Error, kind: ErrorKind, status: Option<u16>) {
    assert_eq!((err.kind(), err.status()), (kind, status), "{err}");
}

/// A table of cases, one `#[test]` per row:
///
/// ```ignore
/// cases! {
///     test_name: make_client, |c| c.tfa().methods(),
///         [get(PATH).bearer().empty(401)]
///         => fails(ErrorKind::Unauthorized).status(401);
/// }
/// ```
///
/// Each row starts one mock server with the expectations in brackets, calls the closure with
/// the client `make_client` builds, asserts every mock was hit as expected and checks the
/// outcome ([`Fails`], [`Returns`] or [`Checks`]).
#[macro_export]
macro_rules! cases {
    ($(
        $(#[$meta:meta])*
        $name:ident: $make:expr, $call:expr, [$($expect:expr),* $(,)?] => $outcome:expr;
    )*) => {
        $(
            $(#[$meta])*
            #[test]
            fn $name() {
                let result = $crate::support::run(vec![$($expect),*], $make, $call);
                $crate::support::Outcome::check($outcome, result);
            }
        )*
    };
}
