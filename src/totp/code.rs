//! One-time codes: HOTP (RFC 4226) and TOTP (RFC 6238) with HMAC-SHA1.

use hmac::Mac;
use subtle::{Choice, ConstantTimeEq};

use super::key::TotpKey;
use super::unix_now;
use crate::secret::Secret;

/// The fewest digits a code can have (RFC 4226 requires at least 6).
pub const MIN_DIGITS: u32 = 6;

/// The most digits a code can have. The truncated HMAC is a 31-bit number (at most
/// 2,147,483,647), so more than 10 digits would only add leading zeros.
pub const MAX_DIGITS: u32 = 10;

/// The widest window [`Totp::verify`] searches on each side of the current step. A larger
/// `window_steps` is capped to this (10,000 steps of 30 s are more than three days), so that a
/// huge value cannot make a check loop for hours.
pub const MAX_WINDOW_STEPS: u64 = 10_000;

/// The most characters [`Totp::verify`] looks at before calling a code garbage.
const MAX_CODE_INPUT: usize = 64;

/// The parameters of time-based one-time codes (RFC 6238): how many digits, how long a time
/// step is, and when counting starts. The hash is always HMAC-SHA1, the only one DocSpace (and
/// most authenticator apps) use.
///
/// The default is [`Totp::docspace`]: 6 digits, 30-second steps, counting from the Unix epoch.
/// Every method takes the time as an argument (seconds since the Unix epoch), so results are
/// deterministic; [`Totp::code_now`] and [`unix_now`] read the system clock.
///
/// ```
/// use docspace_tfa::totp::{Totp, TotpKey};
///
/// let key = TotpKey::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?; // "12345678901234567890"
/// // RFC 6238, Appendix B: T = 59 s, SHA-1, 8 digits.
/// assert_eq!(Totp::docspace().digits(8).code_at(&key, 59).expose(), "94287082");
/// // What an app shows at that moment, and for how much longer.
/// assert_eq!(Totp::docspace().code_at(&key, 59).expose(), "287082");
/// assert_eq!(Totp::docspace().seconds_left(59), 1);
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Totp {
    digits: u32,
    step: u64,
    t0: u64,
}

impl Default for Totp {
    /// [`Totp::docspace`].
    fn default() -> Totp {
        Totp::docspace()
    }
}

impl Totp {
    /// What the DocSpace portal uses (and what authenticator apps assume): HMAC-SHA1, 6 digits,
    /// 30-second steps, T0 = 0 (the Unix epoch).
    pub const fn docspace() -> Totp {
        Totp {
            digits: 6,
            step: 30,
            t0: 0,
        }
    }

    /// Sets the number of digits. Values outside
    /// [`MIN_DIGITS`]`..=`[`MAX_DIGITS`] (6 to 10) are clamped into that range. The RFC 6238
    /// test vectors use 8.
    pub fn digits(self, digits: u32) -> Totp {
        Totp {
            digits: digits.clamp(MIN_DIGITS, MAX_DIGITS),
            ..self
        }
    }

    /// Sets the length of a time step in seconds. `0` is taken as `1`.
    pub fn step(self, seconds: u64) -> Totp {
        Totp {
            step: seconds.max(1),
            ..self
        }
    }

    /// Sets T0, the Unix time at which counting starts (RFC 6238; `0` by default). Times before
    /// T0 count as step 0.
    pub fn t0(self, unix_time: u64) -> Totp {
        Totp {
            t0: unix_time,
            ..self
        }
    }

    /// The number of digits of a code.
    pub fn digit_count(&self) -> u32 {
        self.digits
    }

    /// The length of a time step in seconds.
    pub fn step_seconds(&self) -> u64 {
        self.step
    }

    /// T0, the Unix time at which counting starts.
    pub fn start_time(&self) -> u64 {
        self.t0
    }

    /// The step counter for a Unix time: `(unix_time - T0) / step` (RFC 6238's `T`), the moving
    /// factor given to HOTP.
    pub fn counter_at(&self, unix_time: u64) -> u64 {
        unix_time.saturating_sub(self.t0) / self.step
    }

    /// The code at a Unix time, zero-padded to [`digit_count`](Totp::digit_count) digits.
    ///
    /// ```
    /// use docspace_tfa::totp::{Totp, TotpKey};
    ///
    /// let key = TotpKey::from_base32("JBSWY3DPEHPK3PXP")?;
    /// let totp = Totp::docspace();
    /// // A code holds for its whole 30-second step.
    /// assert_eq!(totp.code_at(&key, 1_700_000_010), totp.code_at(&key, 1_700_000_039));
    /// assert_eq!(totp.code_at(&key, 1_700_000_010).expose().len(), 6);
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn code_at(&self, key: &TotpKey, unix_time: u64) -> Secret {
        hotp(key, self.counter_at(unix_time), self.digits)
    }

    /// The code for the current system time (what the app shows now).
    ///
    /// Near the end of a step the code may expire before it reaches the portal; check
    /// [`seconds_left`](Totp::seconds_left) and wait for the next step if only a second or two
    /// are left. (The portal also accepts codes up to five minutes old or ahead, so this rarely
    /// matters.)
    pub fn code_now(&self, key: &TotpKey) -> Secret {
        self.code_at(key, unix_now())
    }

    /// Seconds until the step containing `unix_time` ends: from `step` (just begun) down to `1`
    /// (last second). For a time before T0 this is the length of a step.
    ///
    /// ```
    /// use docspace_tfa::totp::Totp;
    ///
    /// let totp = Totp::docspace();
    /// assert_eq!(totp.seconds_left(1_700_000_010), 30); // a step begins
    /// assert_eq!(totp.seconds_left(1_700_000_020), 20);
    /// assert_eq!(totp.seconds_left(1_700_000_039), 1);
    /// assert_eq!(totp.seconds_left(1_700_000_040), 30);
    /// ```
    pub fn seconds_left(&self, unix_time: u64) -> u64 {
        self.step - unix_time.saturating_sub(self.t0) % self.step
    }

    /// Whether `code` is the code of a step within `window_steps` steps of the one containing
    /// `unix_time`: steps `t - window_steps ..= t + window_steps`. `0` accepts only the current
    /// step; the DocSpace portal itself accepts codes within five minutes, `10` steps of 30 s.
    ///
    /// Whitespace around the code and spaces inside it (`"123 456"`, as apps show it) are
    /// ignored. Anything else that is not exactly [`digit_count`](Totp::digit_count) ASCII
    /// digits is `false`, never a panic. Every step in the window is computed and compared in
    /// constant time, so the time taken does not depend on whether, or where, the code matched.
    /// `window_steps` is capped at [`MAX_WINDOW_STEPS`].
    ///
    /// ```
    /// use docspace_tfa::totp::{Totp, TotpKey};
    ///
    /// let key = TotpKey::from_base32("JBSWY3DPEHPK3PXP")?;
    /// let totp = Totp::docspace();
    /// let now = 1_700_000_000;
    /// let previous = totp.code_at(&key, now - 30);
    /// assert!(totp.verify(&key, previous.expose(), now, 1));
    /// assert!(!totp.verify(&key, previous.expose(), now, 0));
    /// assert!(!totp.verify(&key, "not a code", now, 1));
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn verify(&self, key: &TotpKey, code: &str, unix_time: u64, window_steps: u64) -> bool {
        let Some(given) = clean_code(code, self.digits) else {
            return false;
        };
        let window = window_steps.min(MAX_WINDOW_STEPS);
        let center = self.counter_at(unix_time);
        let first = center.saturating_sub(window);
        let last = center.saturating_add(window);
        let mut matched = Choice::from(0);
        let mut counter = first;
        loop {
            let candidate = hotp(key, counter, self.digits);
            matched |= candidate.expose().as_bytes().ct_eq(given.as_bytes());
            if counter >= last {
                break;
            }
            counter += 1;
        }
        matched.into()
    }
}

/// The HOTP code (RFC 4226) for a counter: HMAC-SHA1 of the counter as 8 big-endian bytes,
/// dynamically truncated to 31 bits, reduced to `digits` decimal digits (clamped to 6..=10) and
/// zero-padded.
///
/// TOTP is HOTP of the time-step counter: `Totp::code_at(key, t)` is
/// `hotp(key, totp.counter_at(t), digits)`. Exposed for the RFC 4226 test vectors and for
/// counter-based tokens.
///
/// ```
/// use docspace_tfa::totp::{hotp, TotpKey};
///
/// // RFC 4226, Appendix D.
/// let key = TotpKey::from_bytes(b"12345678901234567890")?;
/// assert_eq!(hotp(&key, 0, 6).expose(), "755224");
/// assert_eq!(hotp(&key, 9, 6).expose(), "520489");
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
pub fn hotp(key: &TotpKey, counter: u64, digits: u32) -> Secret {
    let digits = digits.clamp(MIN_DIGITS, MAX_DIGITS);
    let value = u64::from(truncated_hmac(key, counter)) % 10u64.pow(digits);
    Secret::new(format!("{value:0width$}", width = digits as usize))
}

/// RFC 4226 §5.3: HMAC-SHA1 of the counter, dynamic truncation to a 31-bit number.
fn truncated_hmac(key: &TotpKey, counter: u64) -> u32 {
    let mut mac = key.mac().clone();
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    // SHA-1 gives 20 bytes; the offset is at most 15, so offset + 3 <= 18 is in bounds.
    let offset = usize::from(hash[19] & 0x0f);
    let word = [
        hash[offset],
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ];
    u32::from_be_bytes(word) & 0x7fff_ffff
}

/// The code without surrounding whitespace and inner spaces, if it is exactly `digits` digits.
fn clean_code(code: &str, digits: u32) -> Option<String> {
    if code.len() > MAX_CODE_INPUT {
        return None;
    }
    // The same cleaning as every code the client sends (trim, inner spaces out).
    let cleaned = crate::normalize_code(code).ok()?;
    let right_length = cleaned.len() == digits as usize;
    (right_length && cleaned.bytes().all(|b| b.is_ascii_digit())).then_some(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamping() {
        let t = Totp::docspace().digits(3).step(0);
        assert_eq!(t.digit_count(), 6);
        assert_eq!(t.step_seconds(), 1);
        assert_eq!(Totp::docspace().digits(12).digit_count(), 10);
        assert_eq!(Totp::default(), Totp::docspace());
    }

    #[test]
    fn ten_digits_are_zero_padded() {
        let key = TotpKey::from_bytes(b"12345678901234567890").unwrap();
        // RFC 4226 Appendix D, counter 0: truncated value 1284755224.
        assert_eq!(hotp(&key, 0, 10).expose(), "1284755224");
        // Counter 9: truncated value 0x2679dc69 = 645520489, nine digits, padded to ten.
        assert_eq!(hotp(&key, 9, 10).expose(), "0645520489");
    }

    #[test]
    fn t0_and_times_before_it() {
        let key = TotpKey::from_bytes(b"12345678901234567890").unwrap();
        let t = Totp::docspace().t0(1000);
        assert_eq!(t.counter_at(999), 0);
        assert_eq!(t.counter_at(1030), 1);
        assert_eq!(t.code_at(&key, 1030), Totp::docspace().code_at(&key, 30));
        assert_eq!(t.seconds_left(10), 30);
        assert_eq!(t.seconds_left(1001), 29);
    }

    #[test]
    fn clean_code_rules() {
        assert_eq!(clean_code(" 123 456\n", 6).as_deref(), Some("123456"));
        assert_eq!(clean_code("123\u{a0}456", 6).as_deref(), Some("123456"));
        assert_eq!(clean_code("12345", 6), None);
        assert_eq!(clean_code("1234567", 6), None);
        assert_eq!(clean_code("12345a", 6), None);
        assert_eq!(clean_code("١٢٣٤٥٦", 6), None); // Arabic-Indic digits are not ASCII digits
        assert_eq!(clean_code(&" ".repeat(100), 6), None);
    }

    #[test]
    fn huge_window_is_capped_not_a_hang() {
        let key = TotpKey::from_bytes(b"k").unwrap();
        assert!(!Totp::docspace().verify(&key, "000000x", u64::MAX, u64::MAX));
        let t = Totp::docspace().step(1);
        let code = t.code_at(&key, u64::MAX);
        assert!(t.verify(&key, code.expose(), u64::MAX, u64::MAX));
    }
}
