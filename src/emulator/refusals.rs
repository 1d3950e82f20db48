//! Error answers as the server's exception handler writes them, and the server's localized
//! refusal and "not available" texts (`docs/server.md`, "Errors" and "One status, two
//! meanings"; the handler is `CustomExceptionHandler` in the server's
//! `common/ASC.Api.Core/Middleware/ResponseWrapper.cs`).

use serde_json::{json, Map};

use super::http::{Body, Outgoing};
use super::state::State;
use crate::error::Error;
use crate::messages::ServerMessage;

/// The exception a controller error names in `error.type`, with its `hresult`.
#[derive(Clone, Copy)]
pub(crate) enum Exception {
    Argument,
    ArgumentNull,
    Security,
    InvalidOperation,
    NotSupported,
    NullReference,
    Plain,
}

impl Exception {
    fn type_name(self) -> &'static str {
        match self {
            Exception::Argument => "System.ArgumentException",
            Exception::ArgumentNull => "System.ArgumentNullException",
            Exception::Security => "System.Security.SecurityException",
            Exception::InvalidOperation => "System.InvalidOperationException",
            Exception::NotSupported => "System.NotSupportedException",
            Exception::NullReference => "System.NullReferenceException",
            Exception::Plain => "System.Exception",
        }
    }

    fn hresult(self) -> i64 {
        match self {
            Exception::Argument => -2_147_024_809,
            // E_POINTER, as for NullReferenceException.
            Exception::ArgumentNull => -2_147_467_261,
            Exception::Security => -2_146_233_078,
            Exception::InvalidOperation => -2_146_233_079,
            Exception::NotSupported => -2_146_233_067,
            Exception::NullReference => -2_147_467_261,
            Exception::Plain => -2_146_233_088,
        }
    }
}

/// `{"error": {"message", "type"?, "stack"?, "hresult"?}, "status": 1, "statusCode": status}`.
pub(crate) fn error(status: u16, message: &str, exception: Option<Exception>) -> Outgoing {
    let mut e = Map::new();
    e.insert("message".into(), json!(message));
    if let Some(x) = exception {
        e.insert("type".into(), json!(x.type_name()));
        e.insert(
            "stack".into(),
            json!("   at ASC.Web.Api.Controllers.Settings.TfaappController (DocSpace emulator)"),
        );
        e.insert("hresult".into(), json!(x.hresult()));
    }
    Outgoing {
        status,
        body: Body::Json(json!({"error": e, "status": 1, "statusCode": status})),
        set_cookies: Vec::new(),
    }
}

/// "Access denied" (403, `SecurityException`): the handler's fixed text for security and
/// authorization exceptions, such as a caller who may not edit portal settings.
pub(crate) fn access_denied() -> Outgoing {
    error(403, "Access denied", Some(Exception::Security))
}

/// A refusal or "not available", as the server throws it: `403` `InvalidOperationException`
/// with the text in the emulator's culture (servers from 3.5). With `legacy_errors`, as servers
/// up to 3.2.1 did: the literal "Not available." as a `415` `NotSupportedException`, every
/// other text as a plain `500` `System.Exception`.
pub(crate) fn refusal(state: &State, message: ServerMessage) -> Outgoing {
    let text = message
        .localized(&state.config.culture)
        .or_else(|| message.localized("en"))
        .unwrap_or("Not available.");
    if !state.config.legacy_errors {
        return error(403, text, Some(Exception::InvalidOperation));
    }
    match message {
        ServerMessage::NotAvailable => error(415, text, Some(Exception::NotSupported)),
        _ => error(500, text, Some(Exception::Plain)),
    }
}

/// `TfaAppNotAvailable`: the app method is off, no app is linked, or it is already linked.
pub(crate) fn not_available(state: &State) -> Outgoing {
    refusal(state, ServerMessage::TfaAppNotAvailable)
}

/// The `PUT tfaappwithlink` bug: the policy was saved, but TFA does not apply to the caller
/// and the controller reads the URL of a `null` confirm data.
pub(crate) fn null_reference() -> Outgoing {
    error(
        500,
        "Object reference not set to an instance of an object.",
        Some(Exception::NullReference),
    )
}

/// An internal failure of the emulator itself (randomness, image encoding): a plain `500`.
pub(crate) fn internal(e: &Error) -> Outgoing {
    error(500, &e.to_string(), Some(Exception::Plain))
}
