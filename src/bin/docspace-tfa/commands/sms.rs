//! `sms phone` and `sms send`: the SMS factor's two calls, and the `sms_code_sent` result they
//! share with `login`. The server's `phoneNoise` defect (numbers of 10 or more digits) is a
//! success with `"serverMaskFailed": true` and a note on stderr, never a failure.

use docspace_tfa::{normalize_phone, Client, ConfirmTicket, Secret, SmsSent};
use serde_json::{json, Value};

use super::login::print_object;
use crate::output::{Failure, Out};

type Result<T> = std::result::Result<T, Failure>;

/// `--phone` of `sms phone`, checked before anything is sent (exit 2 when it has no digit).
pub fn checked_phone(phone: &str) -> Result<String> {
    Ok(normalize_phone(phone)?)
}

/// `--phone` of `login --code`: where the code went, for the defect's explanation.
pub fn sent_to(phone: &str) -> Result<SmsSent> {
    checked_phone(phone)?;
    Ok(SmsSent::for_phone(phone))
}

/// `sms phone`: `POST authentication/setphone` with the ticket.
pub fn set_phone(out: &Out, client: &Client, ticket: &ConfirmTicket, phone: &str) -> Result<()> {
    let sent = client.auth().set_phone(ticket, phone)?;
    print(out, &sent);
    Ok(())
}

/// `sms send`: `POST authentication/sendsms` with the credentials.
pub fn send(out: &Out, client: &Client, user: &str, password: Secret) -> Result<()> {
    let sent = client.auth().send_sms(user, password)?;
    print(out, &sent);
    Ok(())
}

/// `{"status": "sms_code_sent", "phoneNoise", "expires", "serverMaskFailed"}`.
pub fn sent_json(sent: &SmsSent) -> Value {
    if sent.server_mask_failed {
        eprintln!(
            "note: the SMS was sent, but the portal failed to mask the number (its phoneNoise \
             defect for numbers of 10 or more digits): on this server `login --code` answers \
             401 even for the right code. Use the authenticator app, or a number of at most 9 \
             digits."
        );
    }
    json!({
        "status": "sms_code_sent",
        "phoneNoise": sent.phone_noise,
        "expires": sent.expires,
        "serverMaskFailed": sent.server_mask_failed,
    })
}

fn print(out: &Out, sent: &SmsSent) {
    let value = sent_json(sent);
    if out.json {
        out.json(&value);
    } else {
        print_object(out, &value);
    }
}
