//! Phone numbers as the server treats them: digits only, at most 64 (`SmsSender.cs:65-70`
//! in the server, `GetPhoneValueDigits`), and the mask it means to show
//! (`BuildPhoneNoise`, `SmsSender.cs:72-97`). A leaf: imports nothing of the crate.

/// The most digits the server keeps of a number.
pub(crate) const MAX_PHONE_DIGITS: usize = 64;

/// From this many digits on, the server's `BuildPhoneNoise` throws
/// (`ArgumentOutOfRangeException`): the `phoneNoise` defect.
pub(crate) const DEFECT_MIN_DIGITS: usize = 10;

/// The number's ASCII digits, every other character dropped, cut to 64, as the server
/// normalizes it.
pub(crate) fn phone_digits(phone: &str) -> String {
    phone
        .chars()
        .filter(char::is_ascii_digit)
        .take(MAX_PHONE_DIGITS)
        .collect()
}

/// The mask the server means to build: `+`, the first 4 digits, one `*` per middle digit, the
/// last 4 (`+1234***8901`). For fewer than 8 digits, where the server shows the number
/// unmasked, at most the last 2 digits are shown (`+*****89`, and none of a 1-digit number):
/// the crate never shows a whole number.
pub(crate) fn mask_phone(phone: &str) -> String {
    let digits = phone_digits(phone);
    let n = digits.len();
    let (head, tail) = if n >= 8 { (4, 4) } else { (0, (n / 2).min(2)) };
    let mut out = String::with_capacity(n + 1);
    out.push('+');
    out.push_str(&digits[..head]);
    out.extend(std::iter::repeat_n('*', n - head - tail));
    out.push_str(&digits[n - tail..]);
    out
}

/// The server's `phoneNoise` as the crate shows it. A mask as the server writes it (`+`,
/// digits and at least one `*`, at most 65 characters) is kept; anything else is masked by the
/// crate from its digits (`None` without any): the server's mask is no mask for fewer than 8
/// digits (the raw number) and drops only the last digit of 8 (`+1234567`), and a hostile
/// answer may be anything. A whole number is never passed on.
pub(crate) fn shown_noise(noise: &str) -> Option<String> {
    let noise = noise.trim();
    let server_mask = noise.len() <= MAX_PHONE_DIGITS + 1
        && noise.contains('*')
        && noise
            .trim_start_matches('+')
            .bytes()
            .all(|b| b == b'*' || b.is_ascii_digit());
    if server_mask {
        Some(noise.to_owned())
    } else {
        let digits = phone_digits(noise);
        (!digits.is_empty()).then(|| mask_phone(&digits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_masks() {
        for (phone, digits, mask) in [
            ("+1 (234) 567-8901", "12345678901", "+1234***8901"),
            ("+123456789", "123456789", "+1234*6789"),
            ("12345678", "12345678", "+12345678"),
            ("+7 912 345-67-12", "79123456712", "+7912***6712"),
            ("555-01", "55501", "+***01"),
            ("7", "7", "+*"),
            ("12", "12", "+*2"),
            ("", "", "+"),
            ("tel: ext.", "", "+"),
        ] {
            assert_eq!(phone_digits(phone), digits, "{phone}");
            assert_eq!(mask_phone(phone), mask, "{phone}");
        }
        for (server, shown) in [
            ("+1234*6789", Some("+1234*6789")),
            ("+1234***8901", Some("+1234***8901")),
            ("5550123", Some("+*****23")),
            ("+1234567", Some("+*****67")),
            ("+1\u{1b}[2J**5678", Some("+****78")),
            ("call 555-0123 *", Some("+*****23")),
            ("****", Some("****")),
            ("tel:", None),
        ] {
            assert_eq!(shown_noise(server).as_deref(), shown, "{server:?}");
        }
        assert_eq!(shown_noise(&"*".repeat(3_000)), None);
        let long = "9".repeat(80);
        assert_eq!(phone_digits(&long).len(), MAX_PHONE_DIGITS);
        assert_eq!(mask_phone(&long).len(), MAX_PHONE_DIGITS + 1);
    }
}
