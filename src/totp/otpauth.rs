//! `otpauth://totp/…` URIs: what the QR code of a setup code encodes.

use std::borrow::Cow;
use std::fmt;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::code::{Totp, MAX_DIGITS, MIN_DIGITS};
use super::key::{decode_base32, TotpKey};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// What the portal leaves unescaped in the issuer and the account: RFC 3986's unreserved
/// characters, as .NET's `Uri.EscapeDataString` does (used by the GoogleAuthenticator library
/// that builds the portal's URI). Everything else is percent-encoded as UTF-8, `@` included.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A key URI in the format of Google Authenticator's "Key Uri Format", as the portal's QR code
/// encodes it:
///
/// ```text
/// otpauth://totp/<issuer>:<account>?secret=<manualEntryKey>&issuer=<issuer>
/// ```
///
/// The issuer and the account are percent-encoded (everything but `A`–`Z`, `a`–`z`, `0`–`9`
/// and `-._~`, so an e-mail's `@` becomes `%40`); the secret is the key in upper-case base32
/// without padding. `digits` and `period` are written only when set (the portal never sets
/// them: 6 digits, 30 seconds).
///
/// The URI holds the secret, so this type has no `Display`, its `Debug` redacts the key, and
/// [`to_uri`](OtpAuthUri::to_uri) returns a [`Secret`].
///
/// ```
/// use docspace_tfa::totp::{OtpAuthUri, TotpKey};
///
/// let key = TotpKey::from_base32("JBSWY3DPEHPK3PXP")?;
/// let uri = OtpAuthUri::new("portal.example.com", "john.doe@example.com", key);
/// assert_eq!(
///     uri.to_uri().expose(),
///     "otpauth://totp/portal.example.com:john.doe%40example.com\
///      ?secret=JBSWY3DPEHPK3PXP&issuer=portal.example.com"
/// );
/// assert_eq!(OtpAuthUri::parse(uri.to_uri().expose())?, uri);
/// assert!(!format!("{uri:?}").contains("JBSWY3DPEHPK3PXP"));
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OtpAuthUri {
    /// Who issued the key; the tenant's domain for a DocSpace setup code. Empty for a URI
    /// without an issuer.
    pub issuer: String,
    /// The account the key belongs to: the user's e-mail for DocSpace.
    pub account: String,
    /// The shared secret.
    pub secret: TotpKey,
    /// The `digits` parameter, when the URI has one (apps assume 6).
    pub digits: Option<u32>,
    /// The `period` parameter in seconds, when the URI has one (apps assume 30).
    pub period: Option<u64>,
}

impl OtpAuthUri {
    /// A URI for a key, with no `digits` or `period` parameter (6 digits, 30 seconds).
    pub fn new(
        issuer: impl Into<String>,
        account: impl Into<String>,
        secret: TotpKey,
    ) -> OtpAuthUri {
        OtpAuthUri {
            issuer: issuer.into(),
            account: account.into(),
            secret,
            digits: None,
            period: None,
        }
    }

    /// Parses an `otpauth://totp/…` URI, such as the text of a scanned QR code.
    ///
    /// Accepted: the scheme and type in any case; a label of `issuer:account` (the separator
    /// literal or as `%3A` when the `issuer` parameter repeats the prefix; spaces after it are
    /// dropped, as the Key Uri Format allows) or of the account alone (kept exactly, leading
    /// spaces included); percent-encoded label and values (`+` stays a plus);
    /// the secret as [`TotpKey::from_base32`] accepts it; `digits` from 6 to 10; `period` of at
    /// least 1; `algorithm=SHA1`. Unknown parameters (`image`, `counter`, …) are ignored. When
    /// both the label prefix and the `issuer` parameter name an issuer, the parameter wins.
    ///
    /// ```
    /// use docspace_tfa::totp::{OtpAuthUri, TotpKey};
    ///
    /// let uri = OtpAuthUri::parse(
    ///     "otpauth://totp/ACME%20Co:jane%40example.com?secret=jbsw+y3dp&issuer=ACME%20Co&digits=8",
    /// );
    /// // `+` is not a space in a URI: the secret above is invalid.
    /// assert!(uri.is_err());
    ///
    /// let uri = OtpAuthUri::parse(
    ///     "otpauth://totp/ACME%20Co:jane%40example.com?secret=jbswy3dp&issuer=ACME%20Co&digits=8",
    /// )?;
    /// assert_eq!(uri.issuer, "ACME Co");
    /// assert_eq!(uri.account, "jane@example.com");
    /// assert_eq!(uri.secret, TotpKey::from_base32("JBSWY3DP")?);
    /// assert_eq!(uri.totp().digit_count(), 8);
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the text is not an
    /// `otpauth://totp/` URI (an `hotp` URI included), has no secret or an invalid one, repeats
    /// a parameter this type reads, has a `digits`, `period` or `algorithm` it cannot honour, or
    /// percent-decodes to something that is not UTF-8. The message never contains the URI.
    pub fn parse(uri: &str) -> Result<OtpAuthUri> {
        let bad = |reason: String| Error::invalid_input("otpauth URI", reason);
        let text = uri.trim();
        let rest = strip_prefix_ignore_case(text, "otpauth://").ok_or_else(|| {
            bad("it does not start with otpauth:// (expected otpauth://totp/…)".to_owned())
        })?;
        let (kind, rest) = rest.split_once('/').unwrap_or((rest, ""));
        if kind.eq_ignore_ascii_case("hotp") {
            return Err(bad(
                "it is an hotp (counter-based) URI; only totp is supported".to_owned(),
            ));
        }
        if !kind.eq_ignore_ascii_case("totp") {
            return Err(bad(
                "its type is not totp (expected otpauth://totp/…)".to_owned()
            ));
        }
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (label, query) = rest.split_once('?').unwrap_or((rest, ""));

        let mut params = Params::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name.to_ascii_lowercase().as_str() {
                "secret" => &mut params.secret,
                "issuer" => &mut params.issuer,
                "digits" => &mut params.digits,
                "period" => &mut params.period,
                "algorithm" => &mut params.algorithm,
                _ => continue,
            };
            if slot.is_some() {
                return Err(bad(format!(
                    "the parameter `{}` appears more than once",
                    name.to_ascii_lowercase()
                )));
            }
            *slot = Some(value);
        }

        let secret = params
            .secret
            .ok_or_else(|| bad("it has no secret parameter".to_owned()))?;
        let secret = decode("secret", secret)?;
        let secret = decode_base32(&secret)
            .map_err(|reason| bad(format!("its secret is not valid base32: {reason}")))?;
        let secret = TotpKey::from_bytes(&secret)?;

        let issuer_param = params
            .issuer
            .map(|v| decode("issuer", v))
            .transpose()?
            .map(Cow::into_owned);
        let (label_issuer, account) = match label.split_once(':') {
            Some((issuer, account)) => (
                Some(decode("label", issuer)?.into_owned()),
                decode("label", account)?.trim_start().to_owned(),
            ),
            None => {
                let label = decode("label", label)?;
                let stripped = issuer_param.as_deref().and_then(|issuer| {
                    label
                        .strip_prefix(issuer)
                        .and_then(|r| r.strip_prefix(':'))
                        .filter(|_| !issuer.is_empty())
                });
                match stripped {
                    Some(account) => (None, account.trim_start().to_owned()),
                    // An account alone is kept as it is: the Key Uri Format allows spaces to
                    // be dropped only after an `issuer:` prefix.
                    None => (None, label.into_owned()),
                }
            }
        };
        // A blank issuer is no issuer (`to_uri` writes none), so that the URI round-trips.
        let issuer = issuer_param
            .or(label_issuer)
            .filter(|i| !i.trim().is_empty())
            .unwrap_or_default();

        let digits = match params.digits {
            None => None,
            Some(v) => match v.parse::<u32>() {
                Ok(d) if (MIN_DIGITS..=MAX_DIGITS).contains(&d) => Some(d),
                _ => {
                    return Err(bad(format!(
                        "digits must be a number from {MIN_DIGITS} to {MAX_DIGITS}"
                    )))
                }
            },
        };
        let period = match params.period {
            None => None,
            Some(v) => match v.parse::<u64>() {
                Ok(p) if p >= 1 => Some(p),
                _ => {
                    return Err(bad(
                        "period must be a whole number of seconds, at least 1".into()
                    ))
                }
            },
        };
        if let Some(algorithm) = params.algorithm {
            if !algorithm.eq_ignore_ascii_case("SHA1") {
                return Err(bad(
                    "only algorithm=SHA1 is supported (the one DocSpace uses)".to_owned(),
                ));
            }
        }

        Ok(OtpAuthUri {
            issuer,
            account,
            secret,
            digits,
            period,
        })
    }

    /// The URI as text, encoded exactly as the portal encodes it (see the type's docs); with
    /// `&digits=` and `&period=` appended when set. Without an issuer (an empty or blank one),
    /// the label is the account alone and there is no `issuer` parameter, as on the portal.
    pub fn to_uri(&self) -> Secret {
        let mut uri = String::from("otpauth://totp/");
        let has_issuer = !self.issuer.trim().is_empty();
        let issuer = utf8_percent_encode(&self.issuer, COMPONENT).to_string();
        if has_issuer {
            uri.push_str(&issuer);
            uri.push(':');
        }
        uri.extend(utf8_percent_encode(&self.account, COMPONENT));
        uri.push_str("?secret=");
        uri.push_str(self.secret.to_base32().expose());
        if has_issuer {
            uri.push_str("&issuer=");
            uri.push_str(&issuer);
        }
        if let Some(digits) = self.digits {
            uri.push_str(&format!("&digits={digits}"));
        }
        if let Some(period) = self.period {
            uri.push_str(&format!("&period={period}"));
        }
        Secret::new(uri)
    }

    /// The code parameters this URI describes: [`Totp::docspace`] with its `digits` and
    /// `period`, when set.
    pub fn totp(&self) -> Totp {
        let mut totp = Totp::docspace();
        if let Some(digits) = self.digits {
            totp = totp.digits(digits);
        }
        if let Some(period) = self.period {
            totp = totp.step(period);
        }
        totp
    }
}

impl fmt::Debug for OtpAuthUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtpAuthUri")
            .field("issuer", &self.issuer)
            .field("account", &self.account)
            .field("secret", &self.secret)
            .field("digits", &self.digits)
            .field("period", &self.period)
            .finish()
    }
}

/// The raw values of the parameters `parse` reads.
#[derive(Default)]
struct Params<'a> {
    secret: Option<&'a str>,
    issuer: Option<&'a str>,
    digits: Option<&'a str>,
    period: Option<&'a str>,
    algorithm: Option<&'a str>,
}

/// Percent-decodes one part of the URI; the error names the part, not its value.
fn decode<'a>(part: &'static str, value: &'a str) -> Result<Cow<'a, str>> {
    percent_decode_str(value).decode_utf8().map_err(|_| {
        Error::invalid_input(
            "otpauth URI",
            format!("its {part} does not percent-decode to UTF-8"),
        )
    })
}

/// `text` without `prefix`, compared ignoring ASCII case.
pub(crate) fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TotpKey {
        TotpKey::from_base32("JBSWY3DPEHPK3PXP").unwrap()
    }

    #[test]
    fn label_forms() {
        let u = OtpAuthUri::parse("otpauth://totp/alice?secret=JBSWY3DP").unwrap();
        assert_eq!((u.issuer.as_str(), u.account.as_str()), ("", "alice"));
        let u = OtpAuthUri::parse("otpauth://totp/Ex:%20alice?secret=JBSWY3DP").unwrap();
        assert_eq!((u.issuer.as_str(), u.account.as_str()), ("Ex", "alice"));
        let u = OtpAuthUri::parse("otpauth://totp/Ex%3Aalice?secret=JBSWY3DP&issuer=Ex").unwrap();
        assert_eq!((u.issuer.as_str(), u.account.as_str()), ("Ex", "alice"));
        let u = OtpAuthUri::parse("otpauth://totp/Old:alice?secret=JBSWY3DP&issuer=New").unwrap();
        assert_eq!((u.issuer.as_str(), u.account.as_str()), ("New", "alice"));
        let u = OtpAuthUri::parse("OTPAUTH://TOTP/a%3Ab?SECRET=JBSWY3DP#frag").unwrap();
        assert_eq!((u.issuer.as_str(), u.account.as_str()), ("", "a:b"));
    }

    #[test]
    fn an_account_alone_keeps_its_spaces() {
        // The case proptest found: no issuer, an account of one space.
        let u = OtpAuthUri::new("", " ", key());
        assert_eq!(
            u.to_uri().expose(),
            "otpauth://totp/%20?secret=JBSWY3DPEHPK3PXP"
        );
        assert_eq!(OtpAuthUri::parse(u.to_uri().expose()).unwrap(), u);
        let u = OtpAuthUri::parse("otpauth://totp/%20%20bob?secret=JBSWY3DP").unwrap();
        assert_eq!(u.account, "  bob");
        let u = OtpAuthUri::parse("otpauth://totp/Ex:%20%20bob?secret=JBSWY3DP").unwrap();
        assert_eq!(u.account, "bob");
    }

    #[test]
    fn round_trips_with_odd_characters() {
        for (issuer, account) in [
            ("portal.example.com", "john.doe@example.com"),
            ("Foo & Bar", "a+b@x.y"),
            ("个", "Ünïcode user"),
            ("a:b", "c:d?e=f&g#h%"),
            ("", "no issuer"),
            ("issuer only", ""),
        ] {
            let mut u = OtpAuthUri::new(issuer, account, key());
            u.digits = Some(8);
            u.period = Some(60);
            let text = u.to_uri();
            assert_eq!(
                OtpAuthUri::parse(text.expose()).unwrap(),
                u,
                "{issuer:?} {account:?}"
            );
        }
    }

    #[test]
    fn encoding_matches_escape_data_string() {
        let u = OtpAuthUri::new(
            "Foo & Bar",
            "a@b.com",
            TotpKey::from_bytes(b"secret").unwrap(),
        );
        assert_eq!(
            u.to_uri().expose(),
            "otpauth://totp/Foo%20%26%20Bar:a%40b.com?secret=ONSWG4TFOQ&issuer=Foo%20%26%20Bar"
        );
        let u = OtpAuthUri::new("个", "a@b.com", TotpKey::from_bytes(b"secret").unwrap());
        assert_eq!(
            u.to_uri().expose(),
            "otpauth://totp/%E4%B8%AA:a%40b.com?secret=ONSWG4TFOQ&issuer=%E4%B8%AA"
        );
    }

    #[test]
    fn prefix_helper() {
        assert_eq!(strip_prefix_ignore_case("DATA:x", "data:"), Some("x"));
        assert_eq!(strip_prefix_ignore_case("dat", "data:"), None);
        assert_eq!(strip_prefix_ignore_case("dαta:", "data:"), None);
    }
}
