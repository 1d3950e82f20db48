//! Confirm tickets: the credential that `tfaapp/setup` and `tfaapp/validate` really require.
//!
//! A real portal guards setup and validate with its `confirm` scheme, not with the bearer token
//! the documentation shows. The ticket has three parts:
//!
//! - `type` and `uid`, from the query of a confirm URL such as
//!   `https://portal/confirm/TfaActivation?type=TfaActivation&uid=<guid>`;
//! - `key`, from the `asc_confirm_key_<type>` cookie that comes with that URL, or from the
//!   `cookieValue` of `GET settings/tfaapp/confirm`.
//!
//! It travels in a request header, `Confirm: type=…&uid=…&key=…`, and a request that carries a
//! ticket carries no `Authorization` header: the server refuses a `TfaAuth` ticket on an
//! authenticated request, and acts on the token's user instead of the ticket's for a
//! `TfaActivation` ticket.
//!
//! Where tickets come from:
//! - a TFA-challenged login ([`LoginOutcome`](crate::LoginOutcome)), ready to use;
//! - [`Tfa::confirm`](crate::Tfa::confirm) for a signed-in user, then
//!   [`ConfirmTicket::from_confirm_data`];
//! - [`Tfa::unlink_self`](crate::Tfa::unlink_self), ready to use;
//! - a confirm URL and key you already hold: [`ConfirmTicket::from_url`].

use std::fmt;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::{Error, Result};
use crate::models::ConfirmData;
use crate::secret::Secret;

/// Characters escaped in the `Confirm` header's values: everything but the URL-safe
/// unreserved set, so `+`, `/`, `=` and `&` inside a key survive the server's query parser.
pub(crate) const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The prefix of the cookie that carries a confirm key: `asc_confirm_key_<type>`.
pub(crate) const CONFIRM_COOKIE_PREFIX: &str = "asc_confirm_key_";

/// A confirm ticket (`type`, `uid`, `key`) for `tfaapp/setup` and `tfaapp/validate`.
///
/// `Debug` shows the type and uid, never the key.
///
/// ```
/// use docspace_tfa::ConfirmTicket;
///
/// let ticket = ConfirmTicket::from_url(
///     "https://portal.example.com/confirm/TfaActivation?type=TfaActivation&uid=9b5e6c9e-1b9c-4c2e-8f4a-1f6f2b1c0e11",
///     "1700000000.abcdef",
/// )?;
/// assert_eq!(ticket.confirm_type(), "TfaActivation");
/// assert_eq!(ticket.uid(), "9b5e6c9e-1b9c-4c2e-8f4a-1f6f2b1c0e11");
/// assert!(!format!("{ticket:?}").contains("abcdef"));
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ConfirmTicket {
    confirm_type: String,
    uid: String,
    key: Secret,
    url: Option<String>,
}

impl ConfirmTicket {
    /// Builds a ticket from its three parts.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when a part is empty.
    pub fn new(
        confirm_type: impl Into<String>,
        uid: impl Into<String>,
        key: impl Into<Secret>,
    ) -> Result<Self> {
        let (confirm_type, uid, key) = (confirm_type.into(), uid.into(), key.into());
        if confirm_type.trim().is_empty() {
            return Err(Error::invalid_input("confirm ticket", "the type is empty"));
        }
        if uid.trim().is_empty() {
            return Err(Error::invalid_input("confirm ticket", "the uid is empty"));
        }
        if key.expose().trim().is_empty() {
            return Err(Error::invalid_input("confirm ticket", "the key is empty"));
        }
        Ok(ConfirmTicket {
            confirm_type,
            uid,
            key,
            url: None,
        })
    }

    /// Builds a ticket from a confirm URL (whose query holds `type` and `uid`) and the key.
    ///
    /// A relative URL such as `/confirm/TfaAuth?type=TfaAuth&uid=…` works too.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the URL has no query,
    /// when `type` or `uid` is missing or empty, or when the key is empty.
    pub fn from_url(url: &str, key: impl Into<Secret>) -> Result<Self> {
        let without_fragment = url.split('#').next().unwrap_or_default();
        let query = match without_fragment.split_once('?') {
            Some((_, q)) => q,
            None => {
                return Err(Error::invalid_input(
                    "confirm URL",
                    "it has no query with `type` and `uid`",
                ))
            }
        };
        let mut ticket = Self::from_query(query, key)?;
        ticket.url = Some(url.to_owned());
        Ok(ticket)
    }

    /// Builds a ticket from the query part of a confirm URL (`type=…&uid=…`, with or without a
    /// leading `?`) and the key. A `key` inside the query is used when `key` is empty.
    ///
    /// # Errors
    ///
    /// As for [`from_url`](Self::from_url).
    pub fn from_query(query: &str, key: impl Into<Secret>) -> Result<Self> {
        let pairs = parse_query(query.trim_start_matches('?'));
        let find = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let confirm_type = find("type")
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                Error::invalid_input("confirm URL", "the query has no `type` parameter")
            })?;
        let uid = find("uid")
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| {
                Error::invalid_input("confirm URL", "the query has no `uid` parameter")
            })?;
        let mut key: Secret = key.into();
        if key.is_empty() {
            if let Some(k) = find("key") {
                key = Secret::new(k);
            }
        }
        Self::new(confirm_type, uid, key)
    }

    /// Builds a ticket from the answer of [`Tfa::confirm`](crate::Tfa::confirm).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the answer carries no
    /// key (the SMS method, or an older server that sends the key only as a cookie; the
    /// client's [`Tfa::confirm`](crate::Tfa::confirm) already fills it in from `Set-Cookie`),
    /// or when the URL lacks `type` or `uid`.
    pub fn from_confirm_data(data: &ConfirmData) -> Result<Self> {
        let key = data
            .cookie_value
            .clone()
            .filter(|k| !k.expose().is_empty())
            .ok_or_else(|| Error::invalid_input("confirm data", "it carries no confirm key"))?;
        Self::from_url(&data.url, key)
    }

    /// Builds a ticket from a confirm URL and the `Set-Cookie` values of the answer that
    /// carried it: the key is the `asc_confirm_key_<type>` cookie (or, failing that, any
    /// non-empty `asc_confirm_key_*` cookie).
    pub(crate) fn from_url_and_cookies<'a>(
        url: &str,
        set_cookies: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self> {
        let query = url.split('#').next().unwrap_or_default();
        let query = query.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let confirm_type = parse_query(query)
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("type"))
            .map(|(_, v)| v)
            .unwrap_or_default();
        let wanted = format!("{CONFIRM_COOKIE_PREFIX}{confirm_type}");
        let (_, key) = confirm_key_cookie(set_cookies, &wanted).ok_or_else(|| {
            Error::invalid_input(
                "confirm ticket",
                format!("the answer has no `{wanted}` cookie"),
            )
        })?;
        Self::from_url(url, key)
    }

    /// The ticket's type, such as `TfaActivation` or `TfaAuth`.
    pub fn confirm_type(&self) -> &str {
        &self.confirm_type
    }

    /// The user id the ticket is for.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The confirm key.
    pub fn key(&self) -> &Secret {
        &self.key
    }

    /// The confirm URL the ticket was built from, if it was built from one.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The name of the cookie that would carry this ticket's key: `asc_confirm_key_<type>`.
    pub fn cookie_name(&self) -> String {
        format!("{CONFIRM_COOKIE_PREFIX}{}", self.confirm_type)
    }

    /// Whether this is a `TfaAuth` ticket (a code check for an already linked app).
    pub fn is_tfa_auth(&self) -> bool {
        self.confirm_type.eq_ignore_ascii_case("TfaAuth")
    }

    /// The value of the `Confirm` request header: `type=…&uid=…&key=…`, percent-encoded.
    pub(crate) fn header_value(&self) -> String {
        format!(
            "type={}&uid={}&key={}",
            utf8_percent_encode(&self.confirm_type, QUERY_VALUE),
            utf8_percent_encode(&self.uid, QUERY_VALUE),
            utf8_percent_encode(self.key.expose(), QUERY_VALUE),
        )
    }
}

impl fmt::Debug for ConfirmTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfirmTicket")
            .field("confirm_type", &self.confirm_type)
            .field("uid", &self.uid)
            .field("key", &self.key)
            .field("url", &self.url.as_deref().map(redact_url))
            .finish()
    }
}

/// Query parameters whose values [`redact_url`] hides (a confirm link may carry its key).
const SECRET_PARAMS: &[&str] = &["key", "token", "code", "secret", "password"];

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

/// Splits `a=1&b=2` into decoded pairs (`+` is a space, as in HTML forms).
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

/// Percent-decodes one query component, treating `+` as a space.
fn decode_component(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
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

/// Finds the confirm key among `Set-Cookie` header values: the non-empty
/// `asc_confirm_key_*` cookie named `preferred` (case-insensitively), or failing that the last
/// non-empty `asc_confirm_key_*` one. Returns the cookie's name and value.
pub(crate) fn confirm_key_cookie<'a>(
    set_cookies: impl IntoIterator<Item = &'a str>,
    preferred: &str,
) -> Option<(String, Secret)> {
    let is_confirm = |name: &str| {
        name.len() > CONFIRM_COOKIE_PREFIX.len()
            && name
                .get(..CONFIRM_COOKIE_PREFIX.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(CONFIRM_COOKIE_PREFIX))
    };
    let cookies: Vec<(String, String)> = set_cookies
        .into_iter()
        .filter_map(parse_set_cookie)
        .filter(|(n, v)| !v.is_empty() && is_confirm(n))
        .collect();
    let chosen = cookies
        .iter()
        .rev()
        .find(|(n, _)| n.eq_ignore_ascii_case(preferred))
        .or_else(|| cookies.last())?;
    Some((chosen.0.clone(), Secret::new(chosen.1.clone())))
}

/// Finds the value of cookie `name` among `Set-Cookie` header values (the last one wins, as in
/// a browser). Empty values (a cookie being cleared) are skipped.
pub(crate) fn find_cookie<'a>(
    set_cookies: impl IntoIterator<Item = &'a str>,
    name: &str,
) -> Option<Secret> {
    set_cookies
        .into_iter()
        .filter_map(parse_set_cookie)
        .filter(|(n, v)| n.eq_ignore_ascii_case(name) && !v.is_empty())
        .last()
        .map(|(_, v)| Secret::new(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn header_value_encodes_key() {
        let t = ConfirmTicket::new("TfaActivation", "u-1", "a+b/c=&d").unwrap();
        assert_eq!(
            t.header_value(),
            "type=TfaActivation&uid=u-1&key=a%2Bb%2Fc%3D%26d"
        );
    }

    #[test]
    fn missing_parts_are_errors() {
        for url in [
            "https://p/confirm/TfaAuth",
            "https://p/confirm/TfaAuth?uid=1",
            "https://p/confirm/TfaAuth?type=TfaAuth",
            "https://p/confirm/TfaAuth?type=&uid=1",
            "?",
            "",
        ] {
            let e = ConfirmTicket::from_url(url, "k").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{url}");
        }
        assert!(ConfirmTicket::from_url("https://p/c?type=TfaAuth&uid=1", "").is_err());
    }

    #[test]
    fn query_decodes_and_takes_key_from_query() {
        let t = ConfirmTicket::from_query("?type=TfaAuth&uid=a%2Db&key=x%2By", "").unwrap();
        assert_eq!(t.uid(), "a-b");
        assert_eq!(t.key().expose(), "x+y");
        assert!(t.is_tfa_auth());
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
        assert_eq!(k.unwrap().expose(), "abc");
    }
}
