//! Where a command gets a confirm ticket: `--confirm URL --confirm-key KEY`, or
//! `--confirm-json FILE|-` with the JSON output of `confirm` or `login`.

use std::io::Read;
use std::path::Path;

use docspace_tfa::ConfirmTicket;
use serde_json::Value;

use crate::args::TicketArgs;
use crate::output::Failure;

type Result<T> = std::result::Result<T, Failure>;

/// The ticket the options name, if any.
pub fn from_args(args: &TicketArgs) -> Result<Option<ConfirmTicket>> {
    if let Some(path) = &args.confirm_json {
        return from_json_file(path).map(Some);
    }
    match (&args.confirm, &args.confirm_key) {
        (Some(url), Some(key)) => Ok(Some(ConfirmTicket::from_url(url, key.as_str())?)),
        (Some(_), None) => Err(Failure::usage("--confirm needs --confirm-key")),
        (None, _) => Ok(None),
    }
}

/// Reads `--confirm-json`: a file, or stdin for `-`.
pub fn from_json_file(path: &Path) -> Result<ConfirmTicket> {
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::usage(format!("cannot read --confirm-json from stdin: {e}")))?;
        s
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            Failure::usage(format!(
                "cannot read --confirm-json {}: {e}",
                path.display()
            ))
        })?
    };
    from_json(&text)
}

/// The ticket in the JSON output of `confirm` (`confirmUrl`/`confirmKey`, or the older
/// `url`/`cookieValue`) or of `login` (`confirmUrl`/`confirmKey`).
pub fn from_json(text: &str) -> Result<ConfirmTicket> {
    // The message never repeats the text: it holds a key.
    let value: Value = serde_json::from_str(text)
        .map_err(|_| Failure::usage("--confirm-json is not a JSON document"))?;
    if value.is_null() {
        // `confirm`'s output when TFA does not apply: the same answer as the call itself.
        return Err(Failure::tfa_not_applicable(
            "--confirm-json holds null: two-factor authentication does not apply to this user",
        ));
    }
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| value.get(*n).and_then(Value::as_str))
            .filter(|s| !s.trim().is_empty())
    };
    let url = field(&["confirmUrl", "url"])
        .ok_or_else(|| Failure::usage("--confirm-json has no confirmUrl"))?;
    // No key beside the URL: the one in it, when it carries one (a phone link).
    let key = match field(&["confirmKey", "cookieValue"]) {
        Some(key) => key,
        None if crate::commands::link_carries_key(url) => "",
        None => return Err(Failure::usage("--confirm-json has no confirmKey")),
    };
    Ok(ConfirmTicket::from_url(url, key)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:1/confirm/TfaActivation?type=TfaActivation&uid=u-1";

    #[test]
    fn reads_confirm_and_login_output() {
        for text in [
            format!(
                r#"{{"confirmUrl":"{URL}","confirmKey":"1.k","url":"{URL}","cookieValue":"1.k"}}"#
            ),
            format!(r#"{{"url":"{URL}","cookieName":"x","cookieValue":"1.k"}}"#),
            format!(
                r#"{{"status":"tfa_activation_required","confirmUrl":"{URL}","confirmKey":"1.k"}}"#
            ),
        ] {
            let t = from_json(&text).unwrap();
            assert_eq!(
                (t.confirm_type(), t.uid(), t.key().expose()),
                ("TfaActivation", "u-1", "1.k")
            );
        }
    }

    #[test]
    fn a_phone_link_brings_its_own_key() {
        // `confirm --json` of an SMS member: the key is in the URL, confirmKey as printed.
        let url = "http://h/confirm/PhoneActivation?type=PhoneActivation&key=1.k&encemail=e";
        for text in [
            format!(
                r#"{{"confirmUrl":"{url}","confirmKey":null,"url":"{url}","cookieValue":null}}"#
            ),
            format!(r#"{{"confirmUrl":"{url}","confirmKey":"1.k"}}"#),
        ] {
            let t = from_json(&text).unwrap();
            assert!(t.is_phone_activation());
            assert_eq!(t.key().expose(), "1.k");
        }
    }

    #[test]
    fn refuses_what_is_no_ticket_without_echoing_it() {
        let f = from_json("null").unwrap_err();
        assert_eq!((f.exit, f.kind), (7, "tfa_not_applicable"));
        assert!(f.message.contains("does not apply"), "{}", f.message);
        for (text, want) in [
            ("{\"secret-ish\"", "not a JSON document"),
            (r#"{"confirmKey":"1.k"}"#, "no confirmUrl"),
            (
                r#"{"confirmUrl":"http://h/confirm/TfaAuth?type=TfaAuth&uid=u","confirmKey":null}"#,
                "no confirmKey",
            ),
            (&format!(r#"{{"url":"{URL}"}}"#), "no confirmKey"),
        ] {
            let f = from_json(text).unwrap_err();
            assert_eq!(f.exit, 2);
            assert!(f.message.contains(want), "{}", f.message);
            assert!(!f.message.contains("secret-ish") && !f.message.contains("1.k"));
        }
    }
}
