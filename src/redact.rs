//! Keeping secrets out of error messages.
//!
//! Three layers, because a server's answer can hold a secret in three ways: [`scrub`] blanks
//! the values of JSON fields named like secrets (`"token"`, `"code"`, …) even in truncated
//! JSON; [`Redactions`] removes every secret the *request* carried (token, ticket key, code,
//! password) wherever the server echoes it; [`skeleton`] and [`blank_quoted`] reduce a
//! wrong-shaped answer to its shape, so a secret without a naming key cannot show either.

use serde_json::Value;

use crate::request::{Credential, Request};
use crate::secret::Secret;

/// How many characters of a body an error message may quote.
pub(crate) const SNIPPET_CHARS: usize = 200;

/// The shortest value [`Redactions`] removes: shorter ones would blank out ordinary text.
const MIN_REDACTED_CHARS: usize = 4;

/// Secret values that a request carried, to be removed from every text the server sent back
/// (error messages, body snippets, a redirect's `Location`) before it reaches an
/// [`Error`](crate::Error), as the error is made.
///
/// [`scrub`] hides the values of JSON fields named like secrets; this catches the rest: a
/// message that quotes the code (`Incorrect code 123456`), an HTML error page that echoes the
/// request, a redirect that repeats `authentication/{code}`, a plain-text body quoting the token.
pub(crate) struct Redactions(Vec<String>);

impl Redactions {
    /// The secret values a request carries, which no text from the server may echo into an
    /// error: the client's token, the ticket's key, the secret fields of the JSON body (the
    /// code, the password), and a secret a later request of the same call will carry
    /// ([`Request::also_redact`]).
    pub(crate) fn of(token: Option<&Secret>, req: &Request<'_>) -> Redactions {
        let mut values = Vec::new();
        if let Some(token) = token {
            values.push(token.expose().to_owned());
        }
        if let Credential::Ticket(ticket) = req.credential {
            values.push(ticket.key().expose().to_owned());
        }
        if let Some(body) = &req.body {
            if let Ok(json) = serde_json::from_str::<Value>(body) {
                collect_secret_fields(&json, &mut values);
            }
        }
        if let Some(later) = req.also_redact {
            values.push(later.to_owned());
        }
        Redactions::new(values)
    }

    /// Nothing to remove (for answers handled without a request, such as the fuzz targets').
    #[cfg_attr(not(fuzzing), allow(dead_code))]
    pub(crate) fn none() -> Redactions {
        Redactions(Vec::new())
    }

    /// From the raw values: short ones dropped, longest first. A value with spaces is also
    /// looked for in its form-encoded shape (`+` for a space); every other form (JSON
    /// escapes, percent-encoding, HTML entities) is decoded by [`crate::escapes`].
    fn new(raw: Vec<String>) -> Redactions {
        let mut values = Vec::with_capacity(raw.len());
        for value in raw {
            if value.chars().count() < MIN_REDACTED_CHARS {
                continue;
            }
            if value.contains(' ') {
                values.push(value.replace(' ', "+"));
            }
            values.push(value);
        }
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Redactions(values)
    }

    /// `text` with every value replaced by `***`, in whatever escaped form it appears, and
    /// a value cut off at the end (a truncated body, a bounded snippet's `…`) hidden too.
    pub(crate) fn apply(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_owned();
        }
        let (body, ellipsis) = match text.strip_suffix('…') {
            Some(head) => (head, "…"),
            None => (text, ""),
        };
        let ranges = crate::escapes::secret_ranges(body, &self.0);
        if ranges.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for (start, end) in ranges {
            out.push_str(&body[copied..start]);
            out.push_str("***");
            copied = end;
        }
        out.push_str(&body[copied..]);
        out.push_str(ellipsis);
        out
    }
}

/// Collects the string values of secret fields ([`SECRET_FIELDS`]) anywhere in `value`.
fn collect_secret_fields(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s)
                        if SECRET_FIELDS.contains(&k.to_ascii_lowercase().as_str()) =>
                    {
                        out.push(s.clone())
                    }
                    _ => collect_secret_fields(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secret_fields(v, out)),
        _ => {}
    }
}

/// JSON fields whose values are secrets, lower case.
const SECRET_FIELDS: &[&str] = &[
    "token",
    "password",
    "manualentrykey",
    "tfakey",
    "code",
    "cookievalue",
    "key",
    "qrcodesetupimageurl",
    // A phone number in full is a secret too (the SMS factor's `mobilePhone`).
    "mobilephone",
    "phone",
];

/// Replaces the values of secret JSON fields in `text` with `***` (also in truncated JSON).
pub(crate) fn scrub(text: &str) -> String {
    // One pass over the bytes: every index it stops at is an ASCII byte (a quote, a colon,
    // whitespace, a delimiter), so every slice below falls on a character boundary, and the
    // work is linear in the text (a server's message can be megabytes of `"key"`).
    let bytes = text.as_bytes();
    let len = bytes.len();
    let mut out = String::with_capacity(len);
    let mut copied = 0; // `text[..copied]` is in `out` already
    let mut i = 0;
    while i < len {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let Some(name_len) = secret_field_at(&bytes[i + 1..]) else {
            i += 1;
            continue;
        };
        let after_key = i + 1 + name_len + 1;
        let mut j = after_key;
        while j < len && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= len || bytes[j] != b':' {
            i = after_key;
            continue;
        }
        j += 1;
        while j < len && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        out.push_str(&text[copied..j]);
        let rest = &bytes[j..];
        if rest.first() == Some(&b'"') {
            out.push_str("\"***");
            let mut k = j + 1;
            let mut escaped = false;
            while k < len {
                match bytes[k] {
                    b'\\' if !escaped => escaped = true,
                    b'"' if !escaped => break,
                    _ => escaped = false,
                }
                k += 1;
            }
            if k < len {
                out.push('"');
                k += 1;
            }
            copied = k;
        } else if rest.first().is_some_and(|b| *b == b'{' || *b == b'[')
            || rest.starts_with(b"null")
        {
            copied = j;
        } else {
            let end = rest
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']'))
                .map_or(len, |p| j + p);
            out.push_str("***");
            copied = end;
        }
        i = copied.max(i + 1);
    }
    out.push_str(&text[copied.min(len)..]);
    out
}

/// The length of the secret field name that `rest` starts with, when a closing `"` follows it.
fn secret_field_at(rest: &[u8]) -> Option<usize> {
    SECRET_FIELDS.iter().find_map(|name| {
        let n = name.len();
        (rest.len() > n && rest[..n].eq_ignore_ascii_case(name.as_bytes()) && rest[n] == b'"')
            .then_some(n)
    })
}

/// A text from the server (an error message, a body) as an error may quote it: its start,
/// scrubbed of secret fields, at most [`SNIPPET_CHARS`] printable characters.
pub(crate) fn quote(text: &str) -> String {
    let mut head = text.len().min(SNIPPET_CHARS * 4);
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    bounded(&scrub(&text[..head]))
}

/// A serde message with the values it quotes replaced by `…`: everything between double
/// quotes, and between backticks in `invalid …` and `unknown variant …` messages (where they
/// hold a value such as ``integer `123456` ``; elsewhere they name a field).
pub(crate) fn blank_quoted(text: &str) -> String {
    let values_in_backticks = text.starts_with("invalid") || text.starts_with("unknown variant");
    let mut out = String::with_capacity(text.len());
    let mut open: Option<char> = None;
    for c in text.chars() {
        match open {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || (c == '`' && values_in_backticks) {
                    open = Some(c);
                }
            }
        }
    }
    if open.is_some() {
        out.push('…');
    }
    out
}

/// A JSON value with every string replaced by `"…"` and every number by `0`, for error
/// messages.
pub(crate) fn skeleton(value: &Value) -> String {
    fn blank(v: &Value) -> Value {
        match v {
            Value::String(_) => Value::String("…".into()),
            Value::Number(_) => Value::from(0),
            Value::Array(items) => Value::Array(items.iter().map(blank).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), blank(v))).collect())
            }
            other => other.clone(),
        }
    }
    blank(value).to_string()
}

/// A bounded, printable, secret-scrubbed start of a body for error messages.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(SNIPPET_CHARS * 4)];
    quote(&String::from_utf8_lossy(head))
}

/// At most `SNIPPET_CHARS` printable characters of `scrubbed`, whitespace collapsed.
pub(crate) fn bounded(scrubbed: &str) -> String {
    let mut out = String::new();
    let mut last_space = false;
    for c in scrubbed.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && (last_space || out.is_empty()) {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
        if out.chars().count() >= SNIPPET_CHARS {
            out.push('…');
            break;
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_hides_secret_fields() {
        let s = scrub(
            r#"{"response":{"token":"abc\"def","expires":"x","tfaKey":"KEY1", "code" : 123456}}"#,
        );
        assert!(
            !s.contains("abc")
                && !s.contains("def")
                && !s.contains("KEY1")
                && !s.contains("123456"),
            "{s}"
        );
        assert!(s.contains("expires"));
        let truncated = scrub(r#"{"response":{"manualEntryKey":"JBSWY3DP"#);
        assert!(!truncated.contains("JBSWY3DP"), "{truncated}");
        assert_eq!(scrub("plain text"), "plain text");
        assert_eq!(scrub(r#""code""#), r#""code""#);
        assert_eq!(scrub("\"code\": "), "\"code\": ***");
    }

    #[test]
    fn serde_messages_lose_their_values() {
        assert_eq!(
            blank_quoted("invalid type: string \"JBSWY3DP\", expected a boolean"),
            "invalid type: string \"…\", expected a boolean"
        );
        assert_eq!(
            blank_quoted("invalid type: integer `123456`, expected a string"),
            "invalid type: integer `…`, expected a string"
        );
        assert_eq!(
            blank_quoted("missing field `manualEntryKey`"),
            "missing field `manualEntryKey`"
        );
        assert_eq!(blank_quoted("invalid value: \"abc"), "invalid value: \"…");
    }

    #[test]
    fn snippet_is_bounded() {
        let big = "x".repeat(10_000);
        let s = snippet(big.as_bytes());
        assert!(s.chars().count() <= SNIPPET_CHARS + 1);
        assert_eq!(
            snippet(b"<html>\n\n <body>Bad   Gateway</body>"),
            "<html> <body>Bad Gateway</body>"
        );
        assert_eq!(snippet(&[0xff, 0xfe, b'a']), "\u{fffd}\u{fffd}a");
    }
}
