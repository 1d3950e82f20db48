//! Keeping secrets out of error messages.
//!
//! Three layers, because a server's answer can hold a secret in three ways: [`scrub`] blanks
//! the values of JSON fields named like secrets (`"token"`, `"code"`, …) even in truncated
//! JSON; [`Redactions`] removes every secret the *request* carried (token, ticket key, code,
//! password) wherever the server echoes it; [`skeleton`] and [`blank_quoted`] reduce a
//! wrong-shaped answer to its shape, so a secret without a naming key cannot show either.

use serde_json::Value;

use crate::error::Error;
use crate::request::{Credential, Request};
use crate::secret::Secret;

/// How many characters of a body an error message may quote.
pub(crate) const SNIPPET_CHARS: usize = 200;

/// The shortest value [`Redactions`] removes: shorter ones would blank out ordinary text.
const MIN_REDACTED_CHARS: usize = 4;

/// Secret values that a request carried, to be removed from every text the server sent back
/// (error messages, body snippets, a redirect's `Location`) before it reaches an [`Error`].
///
/// [`scrub`] hides the values of JSON fields named like secrets; this catches the rest: a
/// message that quotes the code (`Incorrect code 123456`), an HTML error page that echoes the
/// request, a redirect that repeats `authentication/{code}`, a plain-text body quoting the token.
pub(crate) struct Redactions(Vec<String>);

impl Redactions {
    /// The secret values a request carries, which no text from the server may echo into an
    /// error: the client's token, the ticket's key, and the secret fields of the JSON body (the
    /// code, the password).
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
        Redactions::new(values)
    }

    /// From the raw values: each also percent-encoded, longest first, short ones dropped.
    fn new(raw: Vec<String>) -> Redactions {
        let mut values = Vec::with_capacity(raw.len() * 2);
        for value in raw {
            if value.chars().count() < MIN_REDACTED_CHARS {
                continue;
            }
            let encoded =
                percent_encoding::utf8_percent_encode(&value, crate::confirm::QUERY_VALUE)
                    .to_string();
            if encoded != value {
                values.push(encoded);
            }
            values.push(value);
        }
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Redactions(values)
    }

    /// `text` with every value replaced by `***`, and a value cut off at the end of a bounded
    /// snippet (`…`) hidden too.
    fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for value in &self.0 {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), "***");
            }
        }
        if let Some(head) = out.strip_suffix('…') {
            let cut = self.0.iter().find_map(|value| {
                value
                    .char_indices()
                    .map(|(i, _)| i)
                    .skip(MIN_REDACTED_CHARS)
                    .chain(std::iter::once(value.len()))
                    .filter(|&i| head.ends_with(&value[..i]))
                    .last()
            });
            if let Some(len) = cut {
                out = format!("{}***…", &head[..head.len() - len]);
            }
        }
        out
    }

    /// `e` with every text that came from the server redacted.
    pub(crate) fn error(&self, mut e: Error) -> Error {
        if self.0.is_empty() {
            return e;
        }
        match &mut e {
            Error::Status {
                message, snippet, ..
            } => {
                if let Some(m) = message {
                    *m = self.apply(m);
                }
                *snippet = self.apply(snippet);
            }
            Error::Redirect {
                location: Some(location),
                ..
            } => *location = self.apply(location),
            Error::Decode {
                reason, snippet, ..
            } => {
                *reason = self.apply(reason);
                *snippet = self.apply(snippet);
            }
            _ => {}
        }
        e
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
];

/// Replaces the values of secret JSON fields in `text` with `***` (also in truncated JSON).
pub(crate) fn scrub(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while pos < text.len() {
        let next = SECRET_FIELDS
            .iter()
            .filter_map(|f| {
                let pat = format!("\"{f}\"");
                lower[pos..].find(&pat).map(|i| (pos + i, pat.len()))
            })
            .min_by_key(|(i, _)| *i);
        let Some((start, len)) = next else {
            out.push_str(&text[pos..]);
            break;
        };
        let after_key = start + len;
        out.push_str(&text[pos..after_key]);
        let rest = &text[after_key..];
        let trimmed = rest.trim_start();
        let Some(value) = trimmed.strip_prefix(':') else {
            pos = after_key;
            continue;
        };
        let value_trimmed = value.trim_start();
        let value_start = text.len() - value_trimmed.len();
        out.push_str(&text[after_key..value_start]);
        if let Some(inner) = value_trimmed.strip_prefix('"') {
            out.push_str("\"***");
            let mut escaped = false;
            let mut end = None;
            for (i, c) in inner.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = Some(i);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            match end {
                Some(i) => {
                    out.push('"');
                    pos = value_start + 1 + i + 1;
                }
                None => pos = text.len(),
            }
        } else if value_trimmed.starts_with(['{', '[']) || value_trimmed.starts_with("null") {
            pos = value_start;
        } else {
            let end = value_trimmed
                .find([',', '}', ']'])
                .unwrap_or(value_trimmed.len());
            out.push_str("***");
            pos = value_start + end;
        }
    }
    out
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
    bounded(&scrub(&String::from_utf8_lossy(head)))
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
