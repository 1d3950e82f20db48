//! The shared secret of an authenticator ([`TotpKey`]) and its base32 text form.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use data_encoding::{Encoding, Specification, BASE32_NOPAD};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// HMAC-SHA1, keyed once per [`TotpKey`].
pub(crate) type HmacSha1 = Hmac<Sha1>;

/// The secret an authenticator app shares with the portal: the key of HMAC-SHA1.
///
/// Build it from the portal's `manualEntryKey` with [`TotpKey::from_base32`] (or from a
/// [`SetupCode`](crate::SetupCode) with [`SetupCode::totp_key`](crate::SetupCode::totp_key)),
/// or from raw bytes with [`TotpKey::from_bytes`].
///
/// The key is a secret: `Debug` prints only its length (`TotpKey("***", 10 bytes)`), there is
/// no `Display`, no error message contains it, and `==` compares in constant time. Read it with
/// [`as_bytes`](TotpKey::as_bytes) or [`to_base32`](TotpKey::to_base32) where it has to go.
///
/// # Key size
///
/// DocSpace secrets are 10 bytes (80 bits, 16 base32 characters). That is below the 128 bits
/// RFC 4226 requires and the 160 bits it recommends, and several TOTP libraries refuse such keys
/// as "too small". This type accepts keys of any non-zero length, because the portal decides the
/// size and an authenticator has to work with what it gets.
///
/// ```
/// use docspace_tfa::totp::TotpKey;
///
/// // As the portal writes it, and as a person types it from the screen.
/// let key = TotpKey::from_base32("JBSWY3DPEHPK3PXP")?;
/// assert_eq!(key, TotpKey::from_base32("jbsw y3dp-ehpk 3pxp")?);
/// assert_eq!(key.as_bytes(), b"Hello!\xde\xad\xbe\xef");
/// assert_eq!(key.to_base32().expose(), "JBSWY3DPEHPK3PXP");
/// assert_eq!(format!("{key:?}"), r#"TotpKey("***", 10 bytes)"#);
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
#[derive(Clone)]
pub struct TotpKey {
    bytes: Vec<u8>,
    /// HMAC-SHA1 with the key already set, cloned for every code.
    mac: HmacSha1,
}

impl TotpKey {
    /// Parses a base32 key (RFC 4648) the way authenticator apps accept it.
    ///
    /// Upper and lower case are the same; spaces, tabs, line breaks and hyphens anywhere (apps
    /// and portals show the key in groups such as `JBSW Y3DP EHPK 3PXP`) are ignored; trailing
    /// `=` padding is optional. Like the apps, the unused low bits of the last character are
    /// ignored.
    ///
    /// ```
    /// use docspace_tfa::{totp::TotpKey, ErrorKind};
    ///
    /// let key = TotpKey::from_base32(" gezd gnbv-gy3t qojq\n")?;
    /// assert_eq!(key.as_bytes(), b"1234567890");
    /// assert_eq!(TotpKey::from_base32("GEZDGNBVGY3TQOJQ======")?, key);
    ///
    /// let err = TotpKey::from_base32("GEZDGNBVGY3TQOJ0").unwrap_err(); // a zero, not an O
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the text is empty (or
    /// holds only separators and padding), holds a character that is not a base32 letter
    /// (`A`–`Z`, `2`–`7`), has `=` before the end, or has a length no byte string encodes to
    /// (1, 3 or 6 characters past a multiple of 8). The message names the position of a bad
    /// character, never the character or the key.
    pub fn from_base32(text: &str) -> Result<TotpKey> {
        let bytes =
            decode_base32(text).map_err(|reason| Error::invalid_input("TOTP key", reason))?;
        TotpKey::from_bytes(&bytes)
    }

    /// Wraps raw key bytes.
    ///
    /// ```
    /// use docspace_tfa::totp::TotpKey;
    ///
    /// let key = TotpKey::from_bytes(b"12345678901234567890")?;
    /// assert_eq!(key.to_base32().expose(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when `bytes` is empty.
    pub fn from_bytes(bytes: &[u8]) -> Result<TotpKey> {
        if bytes.is_empty() {
            return Err(Error::invalid_input("TOTP key", "it is empty"));
        }
        // HMAC takes keys of any length, so this does not fail for a non-empty key; the error
        // is mapped rather than unwrapped all the same.
        let mac = <HmacSha1 as Mac>::new_from_slice(bytes)
            .map_err(|_| Error::invalid_input("TOTP key", "HMAC-SHA1 refused the key length"))?;
        Ok(TotpKey {
            bytes: bytes.to_vec(),
            mac,
        })
    }

    /// The key in RFC 4648 base32, upper case, without `=` padding: the form of the portal's
    /// `manualEntryKey` (10 bytes give 16 characters).
    pub fn to_base32(&self) -> Secret {
        Secret::new(BASE32_NOPAD.encode(&self.bytes))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// HMAC-SHA1 keyed with this key, ready for a message.
    pub(crate) fn mac(&self) -> &HmacSha1 {
        &self.mac
    }
}

impl PartialEq for TotpKey {
    /// Compares the key bytes in constant time (the length is not secret).
    fn eq(&self, other: &TotpKey) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for TotpKey {}

impl fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TotpKey(\"***\", {} bytes)", self.bytes.len())
    }
}

impl FromStr for TotpKey {
    type Err = Error;

    /// The same as [`TotpKey::from_base32`].
    fn from_str(text: &str) -> Result<TotpKey> {
        TotpKey::from_base32(text)
    }
}

/// Base32 (RFC 4648 alphabet, no padding) that ignores the unused bits of the last character,
/// as authenticator apps do. `BASE32_NOPAD` alone would refuse such keys.
fn lenient_base32() -> Option<&'static Encoding> {
    static ENCODING: OnceLock<Option<Encoding>> = OnceLock::new();
    ENCODING
        .get_or_init(|| {
            let mut spec = Specification::new();
            spec.symbols.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
            spec.check_trailing_bits = false;
            spec.encoding().ok()
        })
        .as_ref()
}

/// Normalizes and decodes a base32 key; the error is a reason that never contains the text.
pub(crate) fn decode_base32(text: &str) -> std::result::Result<Vec<u8>, String> {
    let mut cleaned = String::with_capacity(text.len());
    let mut padding = false;
    for (index, c) in text.chars().enumerate() {
        let position = index + 1;
        match c {
            ' ' | '\t' | '\n' | '\r' | '\u{a0}' | '-' => {}
            '=' => padding = true,
            'A'..='Z' | 'a'..='z' | '2'..='7' => {
                if padding {
                    return Err(format!(
                        "character {position} follows '=' padding, which may only come at the end"
                    ));
                }
                cleaned.push(c.to_ascii_uppercase());
            }
            '0' | '1' | '8' | '9' => {
                return Err(format!(
                    "character {position} is a digit base32 does not use (it has only 2-7; \
                     read 0 as O and 1 as I or L?)"
                ))
            }
            _ => {
                return Err(format!(
                    "character {position} is not a base32 letter (A-Z, 2-7)"
                ))
            }
        }
    }
    if cleaned.is_empty() {
        return Err(if text.trim().is_empty() {
            "it is empty".to_owned()
        } else {
            "it holds no base32 letters".to_owned()
        });
    }
    if matches!(cleaned.len() % 8, 1 | 3 | 6) {
        return Err(format!(
            "{} base32 characters cannot encode whole bytes (a length of 1, 3 or 6 past a \
             multiple of 8 is impossible); is a character missing or extra?",
            cleaned.len()
        ));
    }
    let encoding =
        lenient_base32().ok_or_else(|| "the base32 decoder is unavailable".to_owned())?;
    encoding.decode(cleaned.as_bytes()).map_err(|e| {
        format!(
            "it is not valid base32 ({} at position {})",
            e.kind,
            e.position + 1
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        // 1..=5 bytes give 2, 4, 5, 7, 8 characters.
        for (n, len) in [(1, 2), (2, 4), (3, 5), (4, 7), (5, 8), (10, 16), (20, 32)] {
            let key = TotpKey::from_bytes(&vec![0xA5; n]).unwrap();
            let text = key.to_base32();
            assert_eq!(text.expose().len(), len, "{n} bytes");
            assert_eq!(TotpKey::from_base32(text.expose()).unwrap(), key);
        }
        for bad in ["A", "ABC", "ABCDEF", "ABCDEFGHA"] {
            let reason = decode_base32(bad).unwrap_err();
            assert!(reason.contains("impossible"), "{bad}: {reason}");
        }
    }

    #[test]
    fn trailing_bits_are_ignored() {
        // "MY" is 'f' (0x66) with the two unused bits clear; "MZ" and "M3" set them.
        assert_eq!(decode_base32("MY").unwrap(), b"f");
        assert_eq!(decode_base32("MZ").unwrap(), b"f");
        assert_eq!(decode_base32("M3").unwrap(), b"f");
        assert_eq!(
            TotpKey::from_bytes(b"f").unwrap().to_base32().expose(),
            "MY"
        );
    }

    #[test]
    fn reasons_never_echo_the_text() {
        for bad in [
            "JBSWY3DP!HPK3PXP",
            "JBSWY3DP0HPK3PXP",
            "JBSW=Y3DP",
            "JBSWY3DPEHPK3P",
        ] {
            let reason = decode_base32(bad).unwrap_err();
            assert!(!reason.contains("JBSW"), "{reason}");
            assert!(!reason.contains('!'), "{reason}");
        }
        assert_eq!(decode_base32("  ").unwrap_err(), "it is empty");
        assert_eq!(
            decode_base32("--==").unwrap_err(),
            "it holds no base32 letters"
        );
    }

    #[test]
    fn equality_and_debug() {
        let a = TotpKey::from_bytes(b"abc").unwrap();
        let b = TotpKey::from_bytes(b"abd").unwrap();
        let c = TotpKey::from_bytes(b"abcd").unwrap();
        assert_eq!(a, a.clone());
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(format!("{a:?}"), r#"TotpKey("***", 3 bytes)"#);
        assert!(TotpKey::from_bytes(b"").is_err());
    }
}
