//! What reaches a terminal: server strings made harmless (a leaf of the tool: it imports
//! nothing of ours; the password prompt is in `password.rs`).

use std::borrow::Cow;

/// A server string fit for human output: control characters (ESC, BEL, CR, LF, DEL, the C1
/// range) and bidirectional overrides are shown as `\u{…}` escapes, so that a server cannot
/// move the cursor, recolour the screen, draw a fake line or reorder what is shown. JSON
/// output is never cleaned (it is exact, and its own escaping is safe).
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Control characters and the Unicode bidirectional formatting characters.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(clean("Authenticator app"), "Authenticator app");
        assert_eq!(
            clean("x\x1b[2K\rmanual key: AAAA\x07"),
            "x\\u{1b}[2K\\u{d}manual key: AAAA\\u{7}"
        );
        assert_eq!(
            clean("a\u{202e}b\u{2066}c\nd"),
            "a\\u{202e}b\\u{2066}c\\u{a}d"
        );
        assert_eq!(clean("ключ é 😀"), "ключ é 😀");
    }
}
