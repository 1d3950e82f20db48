//! Confirm keys: what the portal's confirm links carry (`Confirm: type=…&uid=…&key=…`, or the
//! key in the `asc_confirm_key_<type>` cookie). Keys are random, bound to `(type, uid)`, valid
//! for the key lifetime and reusable within it, as the server's stateless keys are
//! (`docs/server.md`, "The settings endpoints": the `confirm` scheme).

use std::collections::HashMap;

use super::random::random_hex;
use crate::error::Result;

/// The confirm types the emulator issues keys for.
pub(crate) const TFA_ACTIVATION: &str = "TfaActivation";
pub(crate) const TFA_AUTH: &str = "TfaAuth";
pub(crate) const PHONE_ACTIVATION: &str = "PhoneActivation";
pub(crate) const PHONE_AUTH: &str = "PhoneAuth";

/// What a confirm key was issued for.
struct IssuedKey {
    confirm_type: String,
    uid: String,
    issued: u64,
}

/// Outcome of checking a confirm key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum KeyCheck {
    Ok,
    Invalid,
    Expired,
}

/// The confirm keys issued so far, by key.
#[derive(Default)]
pub(crate) struct Tickets {
    keys: HashMap<String, IssuedKey>,
}

impl Tickets {
    /// Issues a confirm key for `(confirm_type, uid)` at `now`, valid for `interval` seconds
    /// (keys expired by then are forgotten).
    pub(crate) fn issue(
        &mut self,
        confirm_type: &str,
        uid: &str,
        now: u64,
        interval: u64,
    ) -> Result<String> {
        self.keys
            .retain(|_, k| now <= k.issued.saturating_add(interval));
        let key = format!("{now}.{}", random_hex(16)?);
        self.keys.insert(
            key.clone(),
            IssuedKey {
                confirm_type: confirm_type.to_owned(),
                uid: uid.to_ascii_lowercase(),
                issued: now,
            },
        );
        Ok(key)
    }

    /// Checks a confirm key for `(confirm_type, uid)` at `now`.
    pub(crate) fn check(
        &self,
        confirm_type: &str,
        uid: &str,
        key: &str,
        now: u64,
        interval: u64,
    ) -> KeyCheck {
        let Some(issued) = self.keys.get(key) else {
            return KeyCheck::Invalid;
        };
        if !issued.confirm_type.eq_ignore_ascii_case(confirm_type)
            || !issued.uid.eq_ignore_ascii_case(uid.trim())
        {
            return KeyCheck::Invalid;
        }
        if now > issued.issued.saturating_add(interval) {
            return KeyCheck::Expired;
        }
        KeyCheck::Ok
    }
}

/// `{base}/confirm/{type}?type={type}&uid={uid}`, the URL of a confirm link.
pub(crate) fn confirm_url(base_url: &str, confirm_type: &str, uid: &str) -> String {
    format!("{base_url}/confirm/{confirm_type}?type={confirm_type}&uid={uid}")
}

/// `{base}/confirm/{type}?type={type}&key={key}&encemail={encemail}`, the URL of a phone
/// confirm link (`CommonLinkUtility.cs:217-265` in the server): the key travels in the URL,
/// the user is named by the encrypted e-mail.
pub(crate) fn phone_confirm_url(
    base_url: &str,
    confirm_type: &str,
    key: &str,
    email: &str,
) -> String {
    format!(
        "{base_url}/confirm/{confirm_type}?type={confirm_type}&key={key}&encemail={}",
        encrypt_email(email)
    )
}

/// The emulator's stand-in for the server's e-mail encryption: opaque (lower-case hex of the
/// lower-cased e-mail), URL-safe, and reversible by [`decrypt_email`].
pub(crate) fn encrypt_email(email: &str) -> String {
    email
        .trim()
        .to_ascii_lowercase()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The e-mail of an `encemail`, or `None` when it is not one the emulator made.
pub(crate) fn decrypt_email(encemail: &str) -> Option<String> {
    let bytes = encemail.as_bytes();
    if bytes.is_empty() || bytes.len() % 2 != 0 {
        return None;
    }
    let decoded: Option<Vec<u8>> = bytes
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect();
    String::from_utf8(decoded?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encemail_round_trips_and_refuses_strangers() {
        let enc = encrypt_email(" Bot@Example.com ");
        assert_eq!(decrypt_email(&enc).as_deref(), Some("bot@example.com"));
        assert!(enc.bytes().all(|b| b.is_ascii_hexdigit()));
        for bad in ["", "abc", "zz", "ff"] {
            assert_eq!(decrypt_email(bad), None, "{bad}");
        }
    }
}
