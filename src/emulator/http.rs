//! The HTTP plumbing the endpoints share: a request as they see it ([`Incoming`]), an answer
//! ([`Outgoing`]), the envelope every success is wrapped in, the model-binding `400`, and the
//! fields of a JSON body read as the server's JSON options read them (`docs/server.md`,
//! "Envelope"). Error bodies are in [`refusals`](super::refusals); sockets in
//! [`server`](super::server).

use std::net::IpAddr;

use serde_json::{json, Map, Value};

/// A request as the handlers see it.
pub(crate) struct Incoming<'a> {
    /// Upper-case method.
    pub(crate) method: &'a str,
    /// The path under `/api/2.0/`, without query, as sent (percent-encoded).
    pub(crate) path: &'a str,
    /// The peer's address (for trusted IPs).
    pub(crate) remote_ip: Option<IpAddr>,
    /// The raw body.
    pub(crate) body: &'a [u8],
}

/// An answer's body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    /// No body at all (framework refusals).
    Empty,
    /// `application/json`.
    Json(Value),
    /// `application/problem+json` (model-binding failures).
    Problem(Value),
}

/// An answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outgoing {
    pub(crate) status: u16,
    pub(crate) body: Body,
    pub(crate) set_cookies: Vec<String>,
}

impl Outgoing {
    pub(crate) fn empty(status: u16) -> Self {
        Outgoing {
            status,
            body: Body::Empty,
            set_cookies: Vec::new(),
        }
    }

    pub(crate) fn cookie(mut self, cookie: String) -> Self {
        self.set_cookies.push(cookie);
        self
    }
}

/// What the handlers need besides the state.
pub(crate) struct Context<'a> {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base_url: &'a str,
    /// The tenant's domain: the issuer of `otpauth://` URIs.
    pub(crate) tenant_domain: &'a str,
}

/// A handler's result: the answer, or a refusal that is an answer too.
pub(crate) type Answer = std::result::Result<Outgoing, Outgoing>;

/// `{"response": value, "count", "links", "status": 0, "statusCode": 200}`; `response` is
/// omitted when the value is `null`.
pub(crate) fn ok(ctx: &Context<'_>, req: &Incoming<'_>, value: Value) -> Outgoing {
    let count = match &value {
        Value::Array(a) => a.len(),
        Value::Null => 0,
        _ => 1,
    };
    let mut envelope = Map::new();
    if !value.is_null() {
        envelope.insert("response".into(), value);
    }
    envelope.insert("count".into(), json!(count));
    envelope.insert(
        "links".into(),
        json!([{
            "href": format!("{}/api/2.0/{}", ctx.base_url, req.path.trim_matches('/')),
            "action": req.method,
        }]),
    );
    envelope.insert("status".into(), json!(0));
    envelope.insert("statusCode".into(), json!(200));
    Outgoing {
        status: 200,
        body: Body::Json(Value::Object(envelope)),
        set_cookies: Vec::new(),
    }
}

/// A model-binding failure of the whole body (the problem under `errors["$"]`); see
/// [`problem_at`].
pub(crate) fn problem(detail: &str) -> Outgoing {
    problem_at("$", detail)
}

/// A model-binding failure, as ASP.NET's `[ApiController]` answers it: a
/// `ValidationProblemDetails` with the problem under `errors[path]` (`$.id`,
/// `$.mandatoryUsers[0]`). The server's result filter then wraps it in the envelope
/// ([`wrap_problem`]).
pub(crate) fn problem_at(path: &str, detail: &str) -> Outgoing {
    let mut errors = Map::new();
    errors.insert(path.to_owned(), json!([detail]));
    Outgoing {
        status: 400,
        body: Body::Problem(json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": errors,
            "traceId": "00-00000000000000000000000000000000-0000000000000000-00",
        })),
        set_cookies: Vec::new(),
    }
}

/// Wraps a validation problem in the envelope, as the server's `CustomResponseFilterAttribute`
/// does to every `ObjectResult` (`common/ASC.Api.Core/Middleware/ResponseWrapper.cs:133-155`):
/// `{"response": {…problem…}, "count": 1, "links", "status": 1, "statusCode": 400}`
/// (`CommonApiResponse.cs:133-137` sets `status` and `statusCode` from the problem). So a
/// client finds it under `response.errors`.
pub(crate) fn wrap_problem(ctx: &Context<'_>, req: &Incoming<'_>, out: Outgoing) -> Outgoing {
    match out.body {
        Body::Problem(problem) if problem.get("response").is_none() => {
            let status = out.status;
            Outgoing {
                body: Body::Problem(json!({
                    "response": problem,
                    "count": 1,
                    "links": [{
                        "href": format!("{}/api/2.0/{}", ctx.base_url, req.path.trim_matches('/')),
                        "action": req.method,
                    }],
                    "status": 1,
                    "statusCode": status,
                })),
                ..out
            }
        }
        _ => out,
    }
}

/// A `Guid` body field as System.Text.Json reads it: absent is the empty GUID; anything but
/// a GUID string (`null`, `""`, `"not-a-guid"`) is a `400` under `$.name`.
pub(crate) fn guid_field(body: &Value, name: &str) -> std::result::Result<String, Outgoing> {
    match field(body, name) {
        None => Ok(String::new()),
        Some(Value::String(s)) if crate::text::is_guid(s) => Ok(s.clone()),
        Some(_) => Err(problem_at(
            &format!("$.{name}"),
            &format!("The JSON value could not be converted to System.Guid. Path: $.{name}"),
        )),
    }
}

/// A `List<Guid>` body field: `null` and absent are empty; an item that is not a GUID string
/// is a `400` under `$.name[i]`.
pub(crate) fn guid_list_field(
    body: &Value,
    name: &str,
) -> std::result::Result<Vec<String>, Outgoing> {
    let items = match field(body, name) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(problem_at(
                &format!("$.{name}"),
                &format!(
                    "The JSON value could not be converted to System.Collections.Generic.List`1[System.Guid]. Path: $.{name}"
                ),
            ))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| match v.as_str() {
            Some(s) if crate::text::is_guid(s) => Ok(s.to_owned()),
            _ => Err(problem_at(
                &format!("$.{name}[{i}]"),
                &format!(
                    "The JSON value could not be converted to System.Guid. Path: $.{name}[{i}]"
                ),
            )),
        })
        .collect()
}

/// Parses the JSON body; an empty or malformed body is a model-binding `400`.
pub(crate) fn json_body(req: &Incoming<'_>) -> std::result::Result<Value, Outgoing> {
    let text = std::str::from_utf8(req.body).map_err(|_| problem("The body is not UTF-8."))?;
    if text.trim().is_empty() {
        return Err(problem("A non-empty request body is required."));
    }
    serde_json::from_str(text)
        .map_err(|e| problem(&format!("The JSON value could not be converted: {e}")))
}

/// A body field, matched case-insensitively (the server's JSON options do).
pub(crate) fn field<'v>(body: &'v Value, name: &str) -> Option<&'v Value> {
    body.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A string body field; `null` and absent are `""`; another type is a binding error.
pub(crate) fn string_field(body: &Value, name: &str) -> std::result::Result<String, Outgoing> {
    match field(body, name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(problem(&format!(
            "The JSON value could not be converted to System.String. Path: $.{name}"
        ))),
    }
}

/// A `List<string>` field whose entries may be JSON `null` (saved as such, as the server's
/// JSON reader does for a list of a reference type): `trustedIps`.
pub(crate) fn nullable_list_field(
    body: &Value,
    name: &str,
) -> std::result::Result<Vec<Option<String>>, Outgoing> {
    match field(body, name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::Null => Ok(None),
                Value::String(s) => Ok(Some(s.clone())),
                _ => Err(problem(&format!(
                    "The JSON value could not be converted. Path: $.{name}"
                ))),
            })
            .collect(),
        Some(_) => Err(problem(&format!(
            "The JSON value could not be converted. Path: $.{name}"
        ))),
    }
}

/// The `session` flag of login and validate bodies.
pub(crate) fn session_flag(body: &Value) -> bool {
    field(body, "session")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}
