//! Small text helpers every floor of the crate shares: query strings, percent-decoding,
//! cookies, a URL with its secrets hidden, loopback hosts.
//!
//! A leaf: it imports nothing of the crate (as `ureq` keeps `query`, `cookies` and `util`), so
//! the models, the confirm tickets, the request layer and the emulator can all use it without
//! an import running back up.

use std::net::IpAddr;

use percent_encoding::{percent_decode_str, AsciiSet, NON_ALPHANUMERIC};

/// The cookie in which the portal hands out a session (login, `tfaapp/validate`).
pub(crate) const AUTH_COOKIE: &str = "asc_auth_key";

/// The prefix of the cookie that carries a confirm key: `asc_confirm_key_<type>`.
pub(crate) const CONFIRM_COOKIE_PREFIX: &str = "asc_confirm_key_";

/// Characters escaped in a query value or a path segment the crate writes (the `Confirm`
/// header's values, the code in `authentication/{code}`): everything but the URL-safe
/// unreserved set, so `+`, `/`, `=` and `&` inside a key survive the server's query parser.
pub(crate) const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Query parameters whose values [`redact_url`] hides (a confirm link may carry its key).
const SECRET_PARAMS: &[&str] = &["key", "token", "code", "secret", "password"];

/// Percent-decodes one query or cookie component, treating `+` as a space (as HTML forms and
/// the portal's query parser do). Invalid UTF-8 becomes U+FFFD.
pub(crate) fn decode_component(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Splits `a=1&b=2` (without a leading `?`) into decoded pairs; empty pieces are skipped.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

/// The query of a URL (the text between `?` and `#`), or `None` when it has none.
pub(crate) fn query_of(url: &str) -> Option<&str> {
    let without_fragment = url.split('#').next().unwrap_or_default();
    without_fragment.split_once('?').map(|(_, q)| q)
}

/// The decoded value of parameter `name` (case-insensitive; the first one wins) in `pairs`.
pub(crate) fn query_param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// A URL for `Debug` output: the values of `key`, `token`, `code`, `secret` and `password`
/// query parameters replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((head, rest)) = url.split_once('?') else {
        return url.to_owned();
    };
    let (query, fragment) = match rest.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (rest, None),
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _))
                if SECRET_PARAMS
                    .iter()
                    .any(|p| decode_component(name).eq_ignore_ascii_case(p)) =>
            {
                format!("{name}=***")
            }
            _ => pair.to_owned(),
        })
        .collect();
    let mut out = format!("{head}?{}", query.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Parses one `Set-Cookie` header value into its name and percent-decoded value.
///
/// Attributes after the first `;` are ignored. Returns `None` for a value without `=` or with
/// an empty name.
pub fn parse_set_cookie(header: &str) -> Option<(String, String)> {
    let first = header.split(';').next()?;
    let (name, value) = first.split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let value = value.trim().trim_matches('"');
    Some((
        name.to_owned(),
        percent_decode_str(value).decode_utf8_lossy().into_owned(),
    ))
}

/// The value of cookie `name` among `Set-Cookie` header values (the last one wins, as in a
/// browser). Empty values (a cookie being cleared) are skipped.
pub(crate) fn find_cookie<'a>(
    set_cookies: impl IntoIterator<Item = &'a str>,
    name: &str,
) -> Option<String> {
    // As `parse_set_cookie` reads each value, but only the last match is decoded (a value
    // that is not empty before decoding is not empty after it).
    let mut last = None;
    for header in set_cookies {
        let Some((n, v)) = header.split(';').next().and_then(|c| c.split_once('=')) else {
            continue;
        };
        let (n, v) = (n.trim(), v.trim().trim_matches('"'));
        if !n.is_empty() && n.eq_ignore_ascii_case(name) && !v.is_empty() {
            last = Some(v);
        }
    }
    last.map(|v| percent_decode_str(v).decode_utf8_lossy().into_owned())
}

/// The confirm key among `Set-Cookie` header values: the non-empty `asc_confirm_key_*` cookie
/// named `preferred` (case-insensitively), or failing that the last non-empty
/// `asc_confirm_key_*` one. Returns the cookie's name and value.
pub(crate) fn confirm_key_cookie<'a>(
    set_cookies: impl IntoIterator<Item = &'a str>,
    preferred: &str,
) -> Option<(String, String)> {
    let is_confirm = |name: &str| {
        name.len() > CONFIRM_COOKIE_PREFIX.len()
            && name
                .get(..CONFIRM_COOKIE_PREFIX.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(CONFIRM_COOKIE_PREFIX))
    };
    let mut cookies: Vec<(String, String)> = set_cookies
        .into_iter()
        .filter_map(parse_set_cookie)
        .filter(|(n, v)| !v.is_empty() && is_confirm(n))
        .collect();
    let chosen = cookies
        .iter()
        .rposition(|(n, _)| n.eq_ignore_ascii_case(preferred))
        .or_else(|| cookies.len().checked_sub(1))?;
    Some(cookies.swap_remove(chosen))
}

/// Whether a URL host is loopback: `localhost`, `127.0.0.0/8` or `::1` (brackets allowed).
pub(crate) fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// Whether `id` is a GUID as the server's JSON reader takes one for a `Guid` field: exactly
/// 36 characters, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits in either case, nothing
/// around it (System.Text.Json reads only the `D` format; anything else is a `400`).
pub(crate) fn is_guid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    id.len() == 36
        && groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_as_the_servers_json_reader_takes_them() {
        for (id, ok) in [
            ("66faa6e4-f133-11ea-b126-00ffeec8b4ef", true),
            ("66FAA6E4-F133-11EA-B126-00FFEEC8B4EF", true),
            ("00000000-0000-0000-0000-000000000000", true),
            (" 66faa6e4-f133-11ea-b126-00ffeec8b4ef", false),
            ("{66faa6e4-f133-11ea-b126-00ffeec8b4ef}", false),
            ("66faa6e4f13311eab12600ffeec8b4ef", false),
            ("66faa6e4-f133-11ea-b126-00ffeec8b4eg", false),
            ("66faa6e4-f133-11ea-b12-600ffeec8b4ef", false),
            ("not-a-guid", false),
            ("", false),
        ] {
            assert_eq!(is_guid(id), ok, "{id:?}");
        }
    }

    #[test]
    fn query_parsing_decodes_components() {
        assert_eq!(
            parse_query("type=TfaAuth&uid=a%2Db&&key=x%2By+z&flag"),
            vec![
                ("type".to_owned(), "TfaAuth".to_owned()),
                ("uid".to_owned(), "a-b".to_owned()),
                ("key".to_owned(), "x+y z".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
        assert_eq!(query_of("https://p/c?a=1#f"), Some("a=1"));
        assert_eq!(query_of("https://p/c#f?a=1"), None);
        assert_eq!(query_of("?"), Some(""));
        let pairs = parse_query("TYPE=a&type=b");
        assert_eq!(query_param(&pairs, "type").as_deref(), Some("a"));
        assert_eq!(query_param(&pairs, "uid"), None);
    }

    #[test]
    fn redact_url_hides_secret_parameters() {
        assert_eq!(
            redact_url("https://p/c?type=T&uid=u&key=k1%2B&Token=t#f"),
            "https://p/c?type=T&uid=u&key=***&Token=***#f"
        );
        assert_eq!(redact_url("https://p/c"), "https://p/c");
        assert_eq!(redact_url("/c?k%65y=x&uid"), "/c?k%65y=***&uid");
    }

    #[test]
    fn set_cookie_parsing() {
        assert_eq!(
            parse_set_cookie("asc_confirm_key_TfaAuth=12%2B3; path=/; secure; HttpOnly"),
            Some(("asc_confirm_key_TfaAuth".into(), "12+3".into()))
        );
        assert_eq!(parse_set_cookie("novalue"), None);
        assert_eq!(parse_set_cookie("=x"), None);
        let k = find_cookie(
            [
                "other=1",
                "asc_confirm_key_TfaAuth=; expires=Thu, 01 Jan 1970 00:00:00 GMT",
                "asc_confirm_key_TfaAuth=abc",
            ],
            "asc_confirm_key_TfaAuth",
        );
        assert_eq!(k.as_deref(), Some("abc"));
    }

    #[test]
    fn confirm_key_cookie_prefers_the_named_one() {
        let cookies = [
            "asc_confirm_key_TfaAuth=a",
            "asc_confirm_key_TfaActivation=b",
            "asc_confirm_key_TfaAuth=c",
            "asc_confirm_key_Other=",
        ];
        assert_eq!(
            confirm_key_cookie(cookies, "ASC_CONFIRM_KEY_TFAAUTH"),
            Some(("asc_confirm_key_TfaAuth".into(), "c".into()))
        );
        assert_eq!(
            confirm_key_cookie(cookies, "asc_confirm_key_Missing"),
            Some(("asc_confirm_key_TfaAuth".into(), "c".into()))
        );
        assert_eq!(confirm_key_cookie(["asc_confirm_key_=x", "a=b"], ""), None);
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.9.8.7",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "portal.example.com",
            "[::2]",
            "",
            "localhost.example",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
