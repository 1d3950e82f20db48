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

use percent_encoding::utf8_percent_encode;

use crate::error::{Error, Result};
use crate::models::ConfirmData;
use crate::secret::Secret;
use crate::text::{
    confirm_key_cookie, parse_query, query_of, query_param, redact_url, CONFIRM_COOKIE_PREFIX,
    QUERY_VALUE,
};

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
    /// The `encemail` of a phone ticket (`PhoneActivation`), which names its user by the
    /// encrypted e-mail instead of a `uid`.
    encemail: Option<String>,
    key: Secret,
    url: Option<String>,
    /// The `Confirm` header's value, made once (it holds the key): a ticket is sent often.
    header: Secret,
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
        let header = checked_header(&confirm_type, ("uid", &uid), &key)?;
        Ok(ConfirmTicket {
            confirm_type,
            uid,
            encemail: None,
            key,
            url: None,
            header,
        })
    }

    /// Builds a phone ticket (`PhoneActivation`), which names its user by `encemail` (the
    /// encrypted e-mail of the confirm URL) instead of a `uid`: `Confirm:
    /// type=…&encemail=…&key=…`. The server signs phone keys over the e-mail and type.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when a part is empty.
    pub fn with_encemail(
        confirm_type: impl Into<String>,
        encemail: impl Into<String>,
        key: impl Into<Secret>,
    ) -> Result<Self> {
        let (confirm_type, encemail, key) = (confirm_type.into(), encemail.into(), key.into());
        let header = checked_header(&confirm_type, ("encemail", &encemail), &key)?;
        Ok(ConfirmTicket {
            confirm_type,
            uid: String::new(),
            encemail: Some(encemail),
            key,
            url: None,
            header,
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
        let Some(query) = query_of(url) else {
            return Err(Error::invalid_input(
                "confirm URL",
                "it has no query with `type` and `uid`",
            ));
        };
        let mut ticket = Self::from_query(query, key)?;
        ticket.url = Some(url.to_owned());
        Ok(ticket)
    }

    /// Builds a ticket from the query part of a confirm URL (`type=…&uid=…`, with or without a
    /// leading `?`) and the key. A `key` inside the query is used when `key` is empty. A query
    /// with `encemail` and no `uid` (the `PhoneActivation` URL of an SMS login,
    /// `type=PhoneActivation&key=…&encemail=…`) makes a phone ticket
    /// ([`with_encemail`](Self::with_encemail)).
    ///
    /// # Errors
    ///
    /// As for [`from_url`](Self::from_url).
    pub fn from_query(query: &str, key: impl Into<Secret>) -> Result<Self> {
        let pairs = parse_query(query.trim_start_matches('?'));
        let find = |name: &str| query_param(&pairs, name);
        let confirm_type = find("type")
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                Error::invalid_input("confirm URL", "the query has no `type` parameter")
            })?;
        let mut key: Secret = key.into();
        if key.is_empty() {
            if let Some(k) = find("key") {
                key = Secret::new(k);
            }
        }
        let uid = find("uid").filter(|u| !u.trim().is_empty());
        let encemail = find("encemail").filter(|e| !e.trim().is_empty());
        match (uid, encemail) {
            (Some(uid), _) => Self::new(confirm_type, uid, key),
            (None, Some(encemail)) => Self::with_encemail(confirm_type, encemail, key),
            (None, None) => Err(Error::invalid_input(
                "confirm URL",
                "the query has no `uid` parameter",
            )),
        }
    }

    /// Builds a ticket from the answer of [`Tfa::confirm`](crate::Tfa::confirm): the URL and
    /// `cookieValue`, or, for the SMS method, the phone link alone, whose query carries the key
    /// (`type=PhoneActivation&key=…&encemail=…`, a ticket for
    /// [`Authentication::set_phone`](crate::Authentication::set_phone)).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the answer carries no
    /// key (an older server that sends the key only as a cookie; the client's
    /// [`Tfa::confirm`](crate::Tfa::confirm) already fills it in from `Set-Cookie`), or when
    /// the URL lacks `type` or `uid` (or `encemail`).
    pub fn from_confirm_data(data: &ConfirmData) -> Result<Self> {
        match data.cookie_value.clone().filter(|k| !k.expose().is_empty()) {
            Some(key) => Self::from_url(&data.url, key),
            None if query_of(&data.url)
                .is_some_and(|q| query_param(&parse_query(q), "key").is_some()) =>
            {
                Self::from_url(&data.url, "")
            }
            None => Err(Error::invalid_input(
                "confirm data",
                "it carries no confirm key",
            )),
        }
    }

    /// Builds a ticket from a confirm URL and the `Set-Cookie` values of the answer that
    /// carried it: the key is the `asc_confirm_key_<type>` cookie (or, failing that, any
    /// non-empty `asc_confirm_key_*` cookie).
    pub(crate) fn from_url_and_cookies<'a>(
        url: &str,
        set_cookies: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self> {
        let pairs = parse_query(query_of(url).unwrap_or_default());
        let confirm_type = query_param(&pairs, "type").unwrap_or_default();
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

    /// The user id the ticket is for; empty for a phone ticket, which names its user by
    /// [`encemail`](Self::encemail).
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The encrypted e-mail a phone ticket (`PhoneActivation`) names its user by.
    pub fn encemail(&self) -> Option<&str> {
        self.encemail.as_deref()
    }

    /// Whether this is a `PhoneActivation` ticket (for
    /// [`Authentication::set_phone`](crate::Authentication::set_phone)).
    pub fn is_phone_activation(&self) -> bool {
        self.confirm_type.eq_ignore_ascii_case("PhoneActivation")
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
    pub(crate) fn header_value(&self) -> &str {
        self.header.expose()
    }
}

impl fmt::Debug for ConfirmTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfirmTicket")
            .field("confirm_type", &self.confirm_type)
            .field("uid", &self.uid)
            .field("encemail", &self.encemail)
            .field("key", &self.key)
            .field("url", &self.url.as_deref().map(redact_url))
            .finish()
    }
}

/// The `Confirm` header of a ticket, `type=…&<name>=…&key=…` with each part percent-encoded,
/// after checking that no part is empty: `name` is `uid` (TFA tickets) or `encemail` (phone
/// tickets), the part that says whose ticket it is.
fn checked_header(confirm_type: &str, (name, value): (&str, &str), key: &Secret) -> Result<Secret> {
    for (part, text) in [("type", confirm_type), (name, value), ("key", key.expose())] {
        if text.trim().is_empty() {
            return Err(Error::invalid_input(
                "confirm ticket",
                format!("the {part} is empty"),
            ));
        }
    }
    Ok(Secret::new(format!(
        "type={}&{name}={}&key={}",
        utf8_percent_encode(confirm_type, QUERY_VALUE),
        utf8_percent_encode(value, QUERY_VALUE),
        utf8_percent_encode(key.expose(), QUERY_VALUE),
    )))
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
    fn both_constructors_refuse_an_empty_part_and_name_it() {
        type Make = fn(&str, &str, &str) -> Result<ConfirmTicket>;
        let by_uid: Make = |t, who, k| ConfirmTicket::new(t, who, k);
        let by_email: Make = |t, who, k| ConfirmTicket::with_encemail(t, who, k);
        for (make, name) in [(by_uid, "uid"), (by_email, "encemail")] {
            for (t, who, k, part) in [
                (" ", "a b", "k", "type"),
                ("T", " ", "k", name),
                ("T", "a b", "", "key"),
            ] {
                let e = make(t, who, k).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::InvalidInput, "{name} {part}");
                assert!(
                    e.to_string().contains(&format!("the {part} is empty")),
                    "{e}"
                );
            }
            let ticket = make("T", "a b", "k&1").unwrap();
            assert_eq!(
                ticket.header_value(),
                format!("type=T&{name}=a%20b&key=k%261"),
                "{name}"
            );
        }
    }

    #[test]
    fn phone_activation_url_makes_an_encemail_ticket() {
        let url = "https://p/confirm/PhoneActivation?type=PhoneActivation&key=638.ab%2Bc&encemail=x%2By%3D";
        let t = ConfirmTicket::from_url(url, "").unwrap();
        assert!(t.is_phone_activation());
        assert_eq!((t.uid(), t.encemail()), ("", Some("x+y=")));
        assert_eq!(t.key().expose(), "638.ab+c");
        assert_eq!(
            t.header_value(),
            "type=PhoneActivation&encemail=x%2By%3D&key=638.ab%2Bc"
        );
        assert!(!format!("{t:?}").contains("ab+c"));
        // A uid wins when both are there; neither is an error.
        let t = ConfirmTicket::from_query("type=PhoneActivation&uid=u&encemail=e", "k").unwrap();
        assert_eq!((t.uid(), t.encemail()), ("u", None));
        assert!(ConfirmTicket::from_query("type=PhoneActivation&key=k", "").is_err());
    }

    #[test]
    fn query_decodes_and_takes_key_from_query() {
        let t = ConfirmTicket::from_query("?type=TfaAuth&uid=a%2Db&key=x%2By", "").unwrap();
        assert_eq!(t.uid(), "a-b");
        assert_eq!(t.key().expose(), "x+y");
        assert!(t.is_tfa_auth());
    }
}
