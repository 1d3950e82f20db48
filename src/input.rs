//! Checking a TFA code, or a phone number, before it is sent.

use crate::error::{Error, Result};

/// The longest code accepted (backup codes are 6 characters by default; the portal can be
/// configured for longer ones).
pub const MAX_CODE_LEN: usize = 64;

/// Normalizes a code the way a person types it, or rejects it before any request is sent.
///
/// Leading and trailing whitespace and inner spaces are removed (apps show `"123 456"`). What
/// remains must be 1 to 64 characters of `[A-Za-z0-9_-]`: app codes are digits, backup codes
/// use that alphabet. A blank code is refused here because the server answers it with a `500`.
///
/// The error never contains the code (a backup code is a secret).
///
/// ```
/// use docspace_tfa::{normalize_code, ErrorKind};
///
/// assert_eq!(normalize_code(" 123 456\n")?, "123456");
/// assert_eq!(normalize_code("aB3_-x")?, "aB3_-x");
/// assert_eq!(normalize_code("   ").unwrap_err().kind(), ErrorKind::InvalidInput);
/// assert_eq!(normalize_code("12345'").unwrap_err().kind(), ErrorKind::InvalidInput);
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the code is empty, too long,
/// or holds a character no code can have.
pub fn normalize_code(code: &str) -> Result<String> {
    let cleaned: String = code
        .trim()
        .chars()
        .filter(|c| *c != ' ' && *c != '\u{a0}')
        .collect();
    if cleaned.is_empty() {
        return Err(Error::invalid_input("code", "it is empty"));
    }
    if cleaned.chars().count() > MAX_CODE_LEN {
        return Err(Error::invalid_input(
            "code",
            format!("it is longer than {MAX_CODE_LEN} characters"),
        ));
    }
    if let Some(bad) = cleaned
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        let shown = if bad.is_control() || bad.is_whitespace() {
            format!("{:?}", bad)
        } else {
            format!("'{bad}'")
        };
        return Err(Error::invalid_input(
            "code",
            format!(
                "it holds {shown}; codes are digits (app) or letters, digits, '_' and '-' (backup)"
            ),
        ));
    }
    Ok(cleaned)
}

/// Normalizes a phone number as the server does (every character but the digits `0`–`9`
/// dropped, cut to 64 digits), or refuses an empty one before anything is sent (the server
/// would answer a `500` "Enter mobile phone number").
///
/// Nothing else is checked, as on the server: the country code is part of the digits
/// (`+1 (234) 567-8901` → `12345678901`). Digits of other scripts are not digits here.
/// The error never repeats the number.
///
/// ```
/// use docspace_tfa::{normalize_phone, ErrorKind};
///
/// assert_eq!(normalize_phone("+1 (234) 567-8901")?, "12345678901");
/// assert_eq!(normalize_phone(" +-() ").unwrap_err().kind(), ErrorKind::InvalidInput);
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the number holds no digit.
pub fn normalize_phone(phone: &str) -> Result<String> {
    let digits = crate::phone::phone_digits(phone);
    if digits.is_empty() {
        return Err(Error::invalid_input(
            "phone number",
            "it holds no digit (the server keeps only the digits 0-9)",
        ));
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        assert_eq!(normalize_code("\t12 34 56 ").unwrap(), "123456");
        assert!(normalize_code("").is_err());
        assert!(normalize_code("12\t34").is_err());
        assert!(normalize_code(&"1".repeat(65)).is_err());
        assert!(normalize_code(&"1".repeat(64)).is_ok());
        assert!(normalize_code("12/34").is_err());
        assert!(normalize_code("１２３").is_err());
    }
}
