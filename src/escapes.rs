//! Finding a secret in a server's text in whatever form the server echoes it.
//!
//! A server can echo a token, a password or a confirm key escaped: .NET's JSON writer writes
//! `+` as `\u002B`, `&` as `\u0026`, `/` sometimes as `\/`, non-ASCII as `\u00E9`; a URL in a
//! message is percent-encoded, upper or lower case (`%2B`, `%2b`); an HTML error page uses
//! entities (`&#43;`, `&#x2b;`, `&plus;`, `&amp;`). [`secret_ranges`] decodes the text (two
//! layers deep, any mix of these forms), looks for each secret in the raw text and in each
//! decoded layer, and maps every hit back to the byte range of the original text it came
//! from. A text that ends inside a secret (a truncated body, a snippet cut at its bound, an
//! escape cut in half) has its tail hidden too.

/// The shortest start of a secret hidden at the end of a text: shorter ones would blank out
/// ordinary words.
const MIN_TAIL: usize = 4;

/// A text decoded one layer, with the original byte range of each decoded byte.
struct Layer {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl Layer {
    /// The text itself, each byte its own span.
    fn identity(text: &[u8]) -> Layer {
        Layer {
            bytes: text.to_vec(),
            spans: (0..text.len()).map(|i| (i, i + 1)).collect(),
        }
    }

    /// One layer of escapes decoded; spans point into the original text through `self`.
    fn decode(&self) -> Layer {
        let text = &self.bytes;
        let mut out = Layer {
            bytes: Vec::with_capacity(text.len()),
            spans: Vec::with_capacity(text.len()),
        };
        let mut i = 0;
        while i < text.len() {
            let (decoded, len) = escape_at(&text[i..]).unwrap_or_else(|| {
                let mut one = [0u8; 4];
                one[0] = text[i];
                (Decoded { bytes: one, len: 1 }, 1)
            });
            let span = (self.spans[i].0, self.spans[i + len - 1].1);
            for b in &decoded.bytes[..decoded.len] {
                out.bytes.push(*b);
                out.spans.push(span);
            }
            i += len;
        }
        out
    }
}

/// Up to four bytes (one UTF-8 character, or one percent-decoded byte).
struct Decoded {
    bytes: [u8; 4],
    len: usize,
}

impl Decoded {
    fn char(c: char) -> Decoded {
        let mut bytes = [0u8; 4];
        let len = c.encode_utf8(&mut bytes).len();
        Decoded { bytes, len }
    }
}

/// The escape `rest` starts with, decoded, and its length.
fn escape_at(rest: &[u8]) -> Option<(Decoded, usize)> {
    match rest.first()? {
        b'\\' => json_escape(rest),
        b'%' => {
            let byte = hex_value(rest.get(1..3)?)?;
            Some((
                Decoded {
                    bytes: [byte as u8, 0, 0, 0],
                    len: 1,
                },
                3,
            ))
        }
        b'&' => html_entity(rest),
        _ => None,
    }
}

/// `\uXXXX` (a surrogate pair as one character), `\/`, `\\`, `\"`, `\'`, `\n`, ….
fn json_escape(rest: &[u8]) -> Option<(Decoded, usize)> {
    let c = match rest.get(1)? {
        b'u' => {
            let unit = hex_value(rest.get(2..6)?)?;
            if (0xD800..0xDC00).contains(&unit) {
                let low = rest
                    .get(6..8)
                    .filter(|p| *p == b"\\u")
                    .and_then(|_| hex_value(rest.get(8..12)?))
                    .filter(|low| (0xDC00..0xE000).contains(low))?;
                let c = char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?;
                return Some((Decoded::char(c), 12));
            }
            return Some((Decoded::char(char::from_u32(unit)?), 6));
        }
        b'/' => '/',
        b'\\' => '\\',
        b'"' => '"',
        b'\'' => '\'',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        _ => return None,
    };
    Some((Decoded::char(c), 2))
}

/// `&#43;`, `&#x2B;`, and the named entities of ASCII punctuation (`&amp;`, `&plus;`, …).
fn html_entity(rest: &[u8]) -> Option<(Decoded, usize)> {
    let end = rest.iter().take(12).position(|b| *b == b';')?;
    let body = std::str::from_utf8(&rest[1..end]).ok()?;
    let c = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        char::from_u32(code)?
    } else {
        named_entity(body)?
    };
    Some((Decoded::char(c), end + 1))
}

/// The HTML named entities of the characters a secret may hold.
fn named_entity(name: &str) -> Option<char> {
    const NAMED: &[(&str, char)] = &[
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("apos", '\''),
        ("plus", '+'),
        ("sol", '/'),
        ("equals", '='),
        ("percnt", '%'),
        ("num", '#'),
        ("excl", '!'),
        ("dollar", '$'),
        ("lpar", '('),
        ("rpar", ')'),
        ("ast", '*'),
        ("comma", ','),
        ("period", '.'),
        ("colon", ':'),
        ("semi", ';'),
        ("quest", '?'),
        ("commat", '@'),
        ("lsqb", '['),
        ("rsqb", ']'),
        ("bsol", '\\'),
        ("lowbar", '_'),
        ("grave", '`'),
        ("lcub", '{'),
        ("rcub", '}'),
        ("verbar", '|'),
        ("Hat", '^'),
        ("tilde", '~'),
        ("hyphen", '-'),
        ("dash", '-'),
        ("nbsp", '\u{a0}'),
    ];
    NAMED.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// The value of 2 or 4 hex digits, either case.
fn hex_value(digits: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(digits).ok()?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// The length of an escape cut off at the end of `text` (`\u00`, `%2`, `&#x2`), or 0.
fn cut_escape_len(text: &[u8]) -> usize {
    let start = text.len().saturating_sub(12);
    for i in start..text.len() {
        let tail = &text[i..];
        let cut = match tail[0] {
            b'\\' => {
                tail.len() == 1
                    || (tail[1] == b'u'
                        && tail.len() < 6
                        && tail[2..].iter().all(u8::is_ascii_hexdigit))
            }
            b'%' => tail.len() < 3 && tail[1..].iter().all(u8::is_ascii_hexdigit),
            b'&' => tail[1..]
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'#'),
            _ => false,
        };
        if cut {
            return tail.len();
        }
    }
    0
}

/// The byte ranges of `text` that hold one of `secrets`, in any of the forms the module
/// describes, sorted and merged.
pub(crate) fn secret_ranges(text: &str, secrets: &[String]) -> Vec<(usize, usize)> {
    let raw = text.as_bytes();
    let core_len = raw.len() - cut_escape_len(raw);
    let first = Layer::identity(raw);
    let second = first.decode();
    let third = second.decode();
    let mut ranges = Vec::new();
    for layer in [&first, &second, &third] {
        for secret in secrets {
            let needle = secret.as_bytes();
            if needle.is_empty() {
                continue;
            }
            let mut from = 0;
            while let Some(pos) = find(&layer.bytes[from..], needle) {
                let at = from + pos;
                ranges.push((layer.spans[at].0, layer.spans[at + needle.len() - 1].1));
                from = at + 1;
            }
            // The text ends inside the secret: hide its visible start and what follows.
            let visible = layer.spans.partition_point(|s| s.1 <= core_len);
            let stream = &layer.bytes[..visible];
            let prefix_len = secret
                .char_indices()
                .map(|(i, _)| i)
                .skip(MIN_TAIL)
                .filter(|&i| stream.ends_with(&needle[..i]))
                .last();
            if let Some(len) = prefix_len {
                ranges.push((layer.spans[visible - len].0, raw.len()));
            }
        }
    }
    merge(text, ranges)
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Sorted, overlapping ranges joined, each widened to character boundaries.
fn merge(text: &str, mut ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    for r in &mut ranges {
        while !text.is_char_boundary(r.0) {
            r.0 -= 1;
        }
        while !text.is_char_boundary(r.1) {
            r.1 += 1;
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hide(text: &str, secret: &str) -> String {
        let mut out = String::new();
        let mut copied = 0;
        for (start, end) in secret_ranges(text, &[secret.to_owned()]) {
            out.push_str(&text[copied..start]);
            out.push_str("***");
            copied = end;
        }
        out.push_str(&text[copied..]);
        out
    }

    #[test]
    fn every_form_is_found() {
        let secret = "ab+c/d&e=é";
        for (text, expected) in [
            ("x ab+c/d&e=é y", "x *** y"),
            (r"x ab\u002Bc\/d\u0026e=\u00E9 y", "x *** y"),
            (r"x ab\u002bc/d\u0026e\u003d\u00e9 y", "x *** y"),
            ("x ab%2bc%2Fd%26e%3D%C3%A9 y", "x *** y"),
            ("x ab&#43;c&#x2F;d&amp;e&equals;&#233; y", "x *** y"),
            (r"x ab\u00252Bc%2Fd%26e=é y", "x *** y"),
            ("x ab%2Bc/d", "x ***"),
            (r"x ab\u002Bc\u00", "x ***"),
            ("x ab+c&#4", "x ***"),
            ("x ab&#43;c&#x2", "x ***"),
        ] {
            assert_eq!(hide(text, secret), expected, "{text}");
        }
        assert_eq!(hide("no secret here", secret), "no secret here");
        assert_eq!(
            hide("ends in ab", secret),
            "ends in ab",
            "too short to hide"
        );
        assert_eq!(
            hide("😀 \\uD83D\\uDE00 pw😀pw", "pw😀pw"),
            "😀 \\uD83D\\uDE00 ***"
        );
        assert_eq!(hide("\\uD83D\\uDE00x", "😀x"), "***");
    }
}
