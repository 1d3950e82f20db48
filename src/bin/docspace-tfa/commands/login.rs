//! `login`: a token, a TFA or SMS challenge, or (with a code or a stored TOTP key) the second
//! step at once.

use docspace_tfa::totp::TotpKey;
use docspace_tfa::{Client, LoginOutcome, Secret, SmsSent};
use serde_json::{json, Value};

use crate::output::{Failure, Out};

type Result<T> = std::result::Result<T, Failure>;

/// `login` with a password, and with `--code` when given.
pub fn login(
    out: &Out,
    client: &Client,
    user: &str,
    password: Secret,
    code: Option<&str>,
    sms: Option<SmsSent>,
) -> Result<()> {
    let outcome = match (code, sms) {
        (Some(code), Some(sent)) => LoginOutcome::Authenticated(
            client
                .auth()
                .login_with_sms_code(user, password, code, &sent)?,
        ),
        (Some(code), None) => {
            LoginOutcome::Authenticated(client.auth().login_with_code(user, password, code)?)
        }
        (None, _) => client.auth().login(user, password)?,
    };
    let value = match &outcome {
        LoginOutcome::Authenticated(s) => json!({
            "status": "authenticated",
            "token": s.token.expose(),
            "expires": s.expires,
        }),
        LoginOutcome::TfaActivationRequired { ticket, tfa_key } => json!({
            "status": "tfa_activation_required",
            "confirmUrl": ticket.url(),
            "confirmKey": ticket.key().expose(),
            "tfaKey": tfa_key.as_ref().map(Secret::expose),
        }),
        LoginOutcome::TfaCodeRequired { ticket } => json!({
            "status": "tfa_code_required",
            "confirmUrl": ticket.url(),
            "confirmKey": ticket.key().expose(),
        }),
        LoginOutcome::SmsPhoneRequired { ticket } => json!({
            "status": "sms_phone_required",
            "confirmUrl": ticket.url(),
            "confirmKey": ticket.key().expose(),
        }),
        LoginOutcome::SmsCodeSent(sent) => super::sms::sent_json(sent),
        _ => {
            return Err(Failure::usage(
                "the server answered a login outcome this tool does not know",
            ))
        }
    };
    if out.json {
        out.json(&value);
    } else {
        print_object(out, &value);
    }
    Ok(())
}

/// `login` with a stored key: the code computed at the call, never in a step's last seconds.
pub fn login_with_key(
    out: &Out,
    client: &Client,
    user: &str,
    password: Secret,
    key: &TotpKey,
) -> Result<()> {
    let session = client.auth().login_with_totp(user, password, key)?;
    let value = json!({
        "status": "authenticated",
        "token": session.token.expose(),
        "expires": session.expires,
    });
    if out.json {
        out.json(&value);
    } else {
        print_object(out, &value);
    }
    Ok(())
}

/// Prints a flat JSON object as `key: value` lines (nulls skipped).
pub(super) fn print_object(out: &Out, value: &Value) {
    if let Value::Object(map) = value {
        for (k, v) in map {
            match v {
                Value::Null => {}
                Value::String(s) => out.field(k, s),
                other => out.field(k, other.to_string()),
            }
        }
    }
}
