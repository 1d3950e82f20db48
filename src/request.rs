//! Endpoint calls described as data, and the successful answers they get.

use serde::de::DeserializeOwned;
use serde_json::Value;
use ureq::http::{HeaderMap, Method};

use crate::confirm::ConfirmTicket;
use crate::error::{Error, Result};
use crate::redact::{blank_quoted, bounded, skeleton};

/// Which credential a request carries.
#[derive(Clone, Copy)]
pub(crate) enum Credential<'a> {
    /// None (login).
    Anonymous,
    /// `Authorization: Bearer <token>`; an error before sending when the client has no token.
    Bearer,
    /// `Confirm: type=…&uid=…&key=…` and no `Authorization`.
    Ticket(&'a ConfirmTicket),
}

/// Whether a request may be sent again after a failure.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// An idempotent read.
    Safe,
    /// Spends something on the server: sent once.
    Never,
}

/// Which endpoint a request is, for classifying its error statuses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
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
    pub(crate) endpoint: Endpoint,
    pub(crate) retry: Retry,
}

impl<'a> Request<'a> {
    /// A request whose path is shown as is.
    pub(crate) fn new(method: Method, path: &'static str, credential: Credential<'a>) -> Self {
        Request {
            path: path.to_owned(),
            display_path: path,
            credential,
            body: None,
            endpoint: Endpoint::Other,
            // Every GET of the API is a read; everything else spends or changes something.
            retry: if method == Method::GET {
                Retry::Safe
            } else {
                Retry::Never
            },
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

    /// Sets the endpoint class.
    pub(crate) fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = endpoint;
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
        Error::Decode {
            operation: self.operation.clone(),
            expected,
            reason,
            snippet: bounded(&skeleton(&self.value)),
        }
    }

    /// The values of all `Set-Cookie` headers.
    pub(crate) fn set_cookies(&self) -> impl Iterator<Item = &str> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
    }
}

pub(crate) fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
