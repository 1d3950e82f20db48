//! The SMS codes and the outbox of the SMS provider stand-in, as the server's `SmsKeyStorage`
//! keeps codes (`web/ASC.Web.Core/Sms/SmsKeyStorage.cs`, v3.7.2):
//!
//! - a phone's codes form one set, kept 10 minutes after its **latest** code (`:104-118`,
//!   the cache entry is re-inserted with each code); a set takes a new code while it holds at
//!   most 5 (`:107-110`), so the first code and 5 resends, then `SmsTooMuchError`;
//! - a code has 6 digits, `100000`–`999999` (`:113`), and lives 10 minutes (`:179`);
//! - a check counts against the phone (`:151-158`): more than 5 in the 10 minutes after the
//!   last counted check is "too many"; a success gives its count back (`:181`); the lookup is
//!   exact, and finding the code deletes the whole set, expired or not (`:168-180`).
//!
//! A leaf: what the endpoints in [`sms`](super::sms) read and change.

use std::collections::HashMap;
use std::fmt;

use super::random::fill_random;
use crate::error::Result;
use crate::secret::Secret;

/// `sms:keystore`: a code's lifetime, and the set's after its latest code, in seconds.
pub(crate) const CODE_LIFETIME: u64 = 600;
/// `sms:keycount`: the checks allowed per window, and the resends after the first code.
const KEY_COUNT: usize = 5;

/// One text message the SMS provider stand-in "sent", from
/// [`Emulator::sms_outbox`](crate::emulator::Emulator::sms_outbox) (and `GET /_emulator/sms`).
///
/// `Debug` shows the number masked and no code.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentSms {
    /// The number it went to: digits only, as the server sends (`SmsManager.cs:105`).
    pub phone: String,
    /// The code (6 digits).
    pub code: Secret,
    /// The text: `Code: 123456` (`SmsAuthenticationMessageToUser`, in English here).
    pub text: Secret,
    /// When it was sent, on the emulator's clock (Unix seconds).
    pub sent_at: u64,
}

impl fmt::Debug for SentSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentSms")
            .field("phone", &crate::phone::mask_phone(&self.phone))
            .field("code", &self.code)
            .field("text", &self.text)
            .field("sent_at", &self.sent_at)
            .finish()
    }
}

/// What a code check found (`SmsKeyStorage.Result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeCheck {
    Ok,
    /// No such code in the set.
    Invalid,
    /// An empty code or phone.
    Empty,
    /// More than 5 checks in the window.
    TooMuch,
    /// No set, or the code found has expired (the set is gone either way).
    Timeout,
}

/// A phone's code set: code → when it was made; the set's expiry.
struct CodeSet {
    codes: HashMap<String, u64>,
    expires: u64,
}

/// Codes, check counters and the outbox, by digits-only phone number.
#[derive(Default)]
pub(crate) struct SmsCodes {
    sets: HashMap<String, CodeSet>,
    /// phone → (checks counted, when the count expires).
    checks: HashMap<String, (usize, u64)>,
    outbox: Vec<SentSms>,
}

impl SmsCodes {
    fn live_set(&self, phone: &str, now: u64) -> Option<&CodeSet> {
        self.sets.get(phone).filter(|s| now < s.expires)
    }

    /// Whether the phone has a set still kept (`ExistsKeyAsync`).
    pub(crate) fn exists(&self, phone: &str, now: u64) -> bool {
        self.live_set(phone, now).is_some()
    }

    /// Makes a code, adds it to the set, and "sends" it (`GenerateKeyAsync`, then
    /// `SendSMSAsync`); `Ok(false)` when the set is full (`SmsTooMuchError`).
    pub(crate) fn generate_and_send(&mut self, phone: &str, now: u64) -> Result<bool> {
        if !self.exists(phone, now) {
            self.sets.remove(phone);
        }
        if self
            .sets
            .get(phone)
            .is_some_and(|s| s.codes.len() > KEY_COUNT)
        {
            return Ok(false);
        }
        let code = random_code()?;
        let set = self.sets.entry(phone.to_owned()).or_insert(CodeSet {
            codes: HashMap::new(),
            expires: 0,
        });
        set.codes.insert(code.clone(), now);
        set.expires = now + CODE_LIFETIME;
        self.outbox.push(SentSms {
            phone: phone.to_owned(),
            text: Secret::new(format!("Code: {code}")),
            code: Secret::new(code),
            sent_at: now,
        });
        Ok(true)
    }

    /// Checks a code for the phone (`ValidateKeyAsync`).
    pub(crate) fn check(&mut self, phone: &str, code: &str, now: u64) -> CodeCheck {
        let code = code.trim();
        if phone.is_empty() || code.is_empty() {
            return CodeCheck::Empty;
        }
        let counted = match self.checks.get(phone) {
            Some((n, expires)) if now < *expires => *n,
            _ => 0,
        } + 1;
        if counted > KEY_COUNT {
            return CodeCheck::TooMuch;
        }
        self.checks
            .insert(phone.to_owned(), (counted, now + CODE_LIFETIME));
        let Some(set) = self.live_set(phone, now) else {
            return CodeCheck::Timeout;
        };
        let Some(&made) = set.codes.get(code) else {
            return CodeCheck::Invalid;
        };
        self.sets.remove(phone);
        if made + CODE_LIFETIME < now {
            return CodeCheck::Timeout;
        }
        self.checks
            .insert(phone.to_owned(), (counted - 1, now + CODE_LIFETIME));
        CodeCheck::Ok
    }

    /// Every message sent so far, oldest first.
    pub(crate) fn outbox(&self) -> &[SentSms] {
        &self.outbox
    }

    /// Empties the outbox (codes stay valid).
    pub(crate) fn clear_outbox(&mut self) {
        self.outbox.clear();
    }
}

/// A random code of 6 digits, `100000`–`999999`.
fn random_code() -> Result<String> {
    let mut b = [0u8; 4];
    fill_random(&mut b)?;
    Ok((100_000 + u32::from_le_bytes(b) % 900_000).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_code(s: &SmsCodes) -> String {
        s.outbox().last().unwrap().code.expose().to_owned()
    }

    #[test]
    fn first_code_and_five_resends_then_too_many() {
        let mut s = SmsCodes::default();
        for i in 0..6 {
            assert!(s.generate_and_send("123", 1000 + i).unwrap(), "code {i}");
        }
        assert!(!s.generate_and_send("123", 1010).unwrap());
        assert_eq!(s.outbox().len(), 6);
        assert!(s.outbox().iter().all(|m| m.code.expose().len() == 6
            && m.text.expose() == format!("Code: {}", m.code.expose())));
        // The set lives 10 minutes after its latest code; then a new set starts.
        assert!(s
            .generate_and_send("123", 1005 + CODE_LIFETIME + 1)
            .unwrap());
    }

    #[test]
    fn checks_as_the_key_storage_does() {
        let mut s = SmsCodes::default();
        s.generate_and_send("123", 0).unwrap();
        let first = last_code(&s);
        s.generate_and_send("123", 500).unwrap();
        // The first code expired while the set lived on: finding it deletes the whole set.
        assert_eq!(s.check("123", &first, 700), CodeCheck::Timeout);
        assert_eq!(s.check("123", &first, 701), CodeCheck::Timeout, "set gone");
        s.generate_and_send("123", 800).unwrap();
        let code = last_code(&s);
        assert_eq!(s.check("123", " ", 801), CodeCheck::Empty);
        assert_eq!(s.check("123", "000000", 801), CodeCheck::Invalid);
        assert_eq!(s.check("123", &format!(" {code} "), 802), CodeCheck::Ok);
        assert_eq!(s.check("123", &code, 803), CodeCheck::Timeout, "used up");
        // 4 checks counted so far (the empty one is not, the success gave its count back):
        // one more, then too many.
        assert_eq!(s.check("123", "000000", 804), CodeCheck::Timeout);
        assert_eq!(s.check("123", "000000", 805), CodeCheck::TooMuch);
        assert_eq!(
            s.check("123", "000000", 803 + CODE_LIFETIME + 2),
            CodeCheck::Timeout,
            "the count ended 10 minutes after the last counted check"
        );
    }
}
