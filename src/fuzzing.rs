//! The answer-handling path without the network, for the fuzz targets under `fuzz/`.
//!
//! Only `cargo fuzz` builds it (it passes `--cfg fuzzing`); no normal build has it. The two
//! parsers the fuzz targets call directly, [`unwrap_envelope`] and [`parse_set_cookie`], are
//! crate-private otherwise. [`answer`] also checks that the typed fast path of
//! `src/typed.rs` never reads a body differently from the general path.

use std::fmt;

use serde_json::Value;
use ureq::http::{HeaderMap, HeaderValue, Method};

use crate::answer::{parse_success_body, status_error, Reply, Shape};
use crate::error::Result;
use crate::redact::{scrub, snippet, Redactions, SNIPPET_CHARS};
use crate::request::{Credential, ErrorClass, Request};
use crate::typed;

pub use crate::answer::unwrap_envelope;
pub use crate::text::parse_set_cookie;

/// Does what [`Client::send`] and the endpoints do with an answer of `status`, with these
/// `Set-Cookie` values and this body: classify an error status for every endpoint class,
/// or parse a success body and decode every model and the login outcome from it. Formats
/// every error and checks that snippets stay bounded.
pub fn answer(status: u16, set_cookies: &[&str], body: &[u8]) {
    let mut headers = HeaderMap::new();
    for cookie in set_cookies {
        if let Ok(v) = HeaderValue::from_str(cookie) {
            headers.append("set-cookie", v);
        }
    }
    let snip = snippet(body);
    assert!(
        snip.chars().count() <= SNIPPET_CHARS + 1,
        "unbounded snippet"
    );
    if !(200..300).contains(&status) {
        for class in [ErrorClass::Validate, ErrorClass::Login, ErrorClass::Other] {
            let req = Request::new(
                Method::POST,
                "settings/tfaapp/validate",
                Credential::Anonymous,
            )
            .errors(class);
            let e = status_error(&req, status, &headers, body, &Redactions::none());
            let _ = format!("{e} {e:?} {:?}", e.kind());
        }
        return;
    }
    let value = match parse_success_body(body) {
        Ok(v) => v,
        Err(reason) => {
            let _ = scrub(&reason);
            return;
        }
    };
    // The one-pass envelope parser must agree with the general path.
    if let Some(general) = std::str::from_utf8(body)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
    {
        assert_eq!(
            value,
            unwrap_envelope(general),
            "fast and general paths differ"
        );
    }
    let reply = Reply {
        operation: "GET settings/tfaapp/setup".to_owned(),
        value,
        headers,
    };
    fn show<T: fmt::Debug>(r: Result<T>) {
        match r {
            Ok(v) => drop(format!("{v:?}")),
            Err(e) => drop(format!("{e} {e:?}")),
        }
    }
    // The typed fast path (src/typed.rs) may only ever give what the general path gives.
    fn agree<T: PartialEq + fmt::Debug>(fast: Option<T>, general: Result<T>) {
        if let Some(fast) = fast {
            match general {
                Ok(general) => assert_eq!(fast, general, "fast and general decodes differ"),
                Err(e) => panic!("the fast path accepted what the general path refuses: {e}"),
            }
        }
    }
    agree(
        typed::object::<crate::SetupCode>(body),
        reply.decode::<crate::SetupCode>("setup code", Shape::Object),
    );
    agree(
        typed::list_of_objects::<crate::TfaMethod>(body),
        reply.decode::<Vec<crate::TfaMethod>>("list of TFA methods", Shape::ListOfObjects),
    );
    agree(
        typed::list_of_objects::<crate::BackupCode>(body),
        reply.decode::<Vec<crate::BackupCode>>("list of backup codes", Shape::ListOfObjects),
    );
    agree(
        typed::object::<crate::Me>(body),
        reply.decode::<crate::Me>("user", Shape::Object),
    );
    agree(typed::boolean(body), reply.decode_bool());
    show(reply.decode::<crate::SetupCode>("setup code", Shape::Object));
    show(reply.decode::<Vec<crate::TfaMethod>>("list of TFA methods", Shape::ListOfObjects));
    show(reply.decode::<crate::ConfirmData>("confirm data", Shape::Object));
    show(reply.decode::<Vec<crate::BackupCode>>("list of backup codes", Shape::ListOfObjects));
    show(reply.decode::<crate::Me>("user", Shape::Object));
    show(reply.decode_bool());
    show(crate::auth::outcome(&reply));
    let _ = reply.set_cookies().count();
}

/// [`scrub`] and [`snippet`] on arbitrary text.
pub fn scrub_and_snippet(text: &str) -> (String, String) {
    (scrub(text), snippet(text.as_bytes()))
}
