//! Typed requests and answers of the TFA endpoints, camelCase on the wire.
//!
//! Models hold data only; sending them is the job of [`Tfa`](crate::Tfa),
//! [`Authentication`](crate::Authentication) and [`People`](crate::People). Every field that carries a secret is a
//! [`Secret`], so `Debug` output of any model is safe to log.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::kind::ErrorKind;
use crate::secret::Secret;

/// What `GET settings/tfaapp/setup` answers: what an authenticator app needs to be linked.
///
/// The same secret comes back on every call until the app is linked.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SetupCode {
    /// The label the authenticator app shows: the user's e-mail, plain.
    ///
    /// The portal sends it percent-encoded (`john.doe%40example.com`, as .NET's
    /// `Uri.EscapeDataString` writes it into the otpauth URI); it is decoded here, once. A value
    /// that does not percent-decode to UTF-8 is kept as sent.
    #[serde(default, deserialize_with = "percent_decoded")]
    pub account: String,
    /// The TOTP secret in RFC 4648 base32, upper case, without padding (16 characters for
    /// the portal's 10-byte secrets). Type it into the app if the QR code cannot be scanned.
    pub manual_entry_key: Secret,
    /// A `data:image/png;base64,…` URL of a QR code that encodes the `otpauth://` URI, and
    /// therefore the secret. Kept as a [`Secret`] for that reason.
    #[serde(default)]
    pub qr_code_setup_image_url: Secret,
}

impl SetupCode {
    /// Builds a setup code by hand (for tests and emulators).
    pub fn new(
        account: impl Into<String>,
        manual_entry_key: impl Into<Secret>,
        qr_code_setup_image_url: impl Into<Secret>,
    ) -> Self {
        SetupCode {
            account: account.into(),
            manual_entry_key: manual_entry_key.into(),
            qr_code_setup_image_url: qr_code_setup_image_url.into(),
        }
    }
}

impl fmt::Debug for SetupCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetupCode")
            .field("account", &self.account)
            .field("manual_entry_key", &self.manual_entry_key)
            .field(
                "qr_code_setup_image_url",
                &format_args!("<{} bytes>", self.qr_code_setup_image_url.expose().len()),
            )
            .finish()
    }
}

/// The identifier of a TFA method in `GET settings/tfaapp`.
///
/// Unknown identifiers decode as [`TfaMethodId::Other`] so that a newer server does not break
/// an older client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TfaMethodId {
    /// Codes by text message (`"sms"`).
    Sms,
    /// Codes from an authenticator app (`"app"`).
    App,
    /// A method this version of the crate does not know.
    Other(String),
}

impl TfaMethodId {
    /// The identifier as the server spells it.
    pub fn as_str(&self) -> &str {
        match self {
            TfaMethodId::Sms => "sms",
            TfaMethodId::App => "app",
            TfaMethodId::Other(s) => s,
        }
    }
}

impl Serialize for TfaMethodId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TfaMethodId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.to_ascii_lowercase().as_str() {
            "sms" => TfaMethodId::Sms,
            "app" => TfaMethodId::App,
            _ => TfaMethodId::Other(s),
        })
    }
}

/// One TFA method of the portal, as `GET settings/tfaapp` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TfaMethod {
    /// Which method this is.
    pub id: TfaMethodId,
    /// The method's display name (localized).
    #[serde(default)]
    pub title: String,
    /// Whether the method is switched on.
    #[serde(default)]
    pub enabled: bool,
    /// Whether the portal's plan allows the method.
    #[serde(default)]
    pub available: bool,
    /// IP addresses or ranges that skip the second factor. `None` when the server sent no
    /// list (it omits the three lists until a policy is first saved and again after the method
    /// is switched off); absent is not the same as empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_ips: Option<Vec<String>>,
    /// Users (GUIDs) for whom the method is mandatory; `None` when the server sent no list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory_users: Option<Vec<String>>,
    /// Groups (GUIDs) for whom the method is mandatory; `None` when the server sent no list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory_groups: Option<Vec<String>>,
}

/// The TFA method a policy switches on; serialized by name (`"None"`, `"Sms"`, `"App"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TfaType {
    /// Switch two-factor authentication off.
    None,
    /// Codes by text message.
    Sms,
    /// Codes from an authenticator app.
    App,
}

/// The body of `PUT settings/tfaapp` and `PUT settings/tfaappwithlink`: the portal's TFA policy.
///
/// Build it with [`TfaPolicy::new`] and the chained setters.
///
/// ```
/// use docspace_tfa::{TfaPolicy, TfaType};
///
/// let policy = TfaPolicy::new(TfaType::App)
///     .trusted_ip("10.0.0.0/8")
///     .mandatory_group("c5cc67d1-c3e8-43c0-a3ad-3928ae3e5b5e");
/// assert_eq!(
///     serde_json::to_value(&policy).unwrap(),
///     serde_json::json!({
///         "type": "App", "trustedIps": ["10.0.0.0/8"], "mandatoryUsers": [],
///         "mandatoryGroups": ["c5cc67d1-c3e8-43c0-a3ad-3928ae3e5b5e"]
///     })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TfaPolicy {
    /// The method to switch on, or [`TfaType::None`] to switch TFA off.
    #[serde(rename = "type")]
    pub tfa_type: TfaType,
    /// The caller's own user id. Needed when `mandatory_users` names the portal owner: the
    /// server refuses that unless `id` is the caller's own id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// IP addresses or ranges that skip the second factor.
    pub trusted_ips: Vec<String>,
    /// Users (GUIDs) for whom the method is mandatory.
    pub mandatory_users: Vec<String>,
    /// Groups (GUIDs) for whom the method is mandatory.
    pub mandatory_groups: Vec<String>,
}

impl TfaPolicy {
    /// A policy that switches `tfa_type` on, with no trusted IPs and nothing mandatory.
    pub fn new(tfa_type: TfaType) -> Self {
        TfaPolicy {
            tfa_type,
            id: None,
            trusted_ips: Vec::new(),
            mandatory_users: Vec::new(),
            mandatory_groups: Vec::new(),
        }
    }

    /// Sets the caller's own user id (see [`TfaPolicy::id`]).
    pub fn caller_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Adds a trusted IP address or range.
    pub fn trusted_ip(mut self, ip: impl Into<String>) -> Self {
        self.trusted_ips.push(ip.into());
        self
    }

    /// Adds a user (GUID) for whom the method is mandatory.
    pub fn mandatory_user(mut self, id: impl Into<String>) -> Self {
        self.mandatory_users.push(id.into());
        self
    }

    /// Adds a group (GUID) for whom the method is mandatory.
    pub fn mandatory_group(mut self, id: impl Into<String>) -> Self {
        self.mandatory_groups.push(id.into());
        self
    }
}

/// What `GET settings/tfaapp/confirm` answers: where and with what key the caller can confirm.
///
/// Turn it into a ticket for setup and validate with
/// [`ConfirmTicket::from_confirm_data`](crate::ConfirmTicket::from_confirm_data).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConfirmData {
    /// The confirm URL, such as `https://portal/confirm/TfaActivation?type=TfaActivation&uid=…`.
    pub url: String,
    /// The cookie that carries the key, such as `asc_confirm_key_TfaActivation`. Absent for
    /// the SMS method and from older servers, which answer a bare URL string.
    #[serde(default)]
    pub cookie_name: Option<String>,
    /// The confirm key.
    #[serde(default)]
    pub cookie_value: Option<Secret>,
}

impl fmt::Debug for ConfirmData {
    /// The URL with a `key` in its query hidden, as the key itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfirmData")
            .field("url", &crate::text::redact_url(&self.url))
            .field("cookie_name", &self.cookie_name)
            .field("cookie_value", &self.cookie_value)
            .finish()
    }
}

/// One backup code from `GET settings/tfaappcodes` or `PUT settings/tfaappnewcodes`.
///
/// A backup code can be used once instead of an app code. The code is a [`Secret`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BackupCode {
    /// Whether the code has been spent.
    #[serde(default)]
    pub is_used: bool,
    /// The code.
    pub code: Secret,
}

/// The signed-in user, from `GET people/@self` (only the fields the TFA flows need).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Me {
    /// The user's id (a GUID). This is the id `PUT settings/tfaappnewapp` needs for oneself.
    pub id: String,
    /// The user's display name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub display_name: String,
    /// The user's e-mail address.
    #[serde(default, deserialize_with = "null_as_default")]
    pub email: String,
    /// Whether the user owns the portal.
    #[serde(default)]
    pub is_owner: bool,
    /// Whether the user is a portal administrator.
    #[serde(default)]
    pub is_admin: bool,
}

/// What `POST settings/tfaapp/validate` answered for a code the server accepted.
///
/// A wrong code is never a `Validation`: it is an error of kind
/// [`ErrorKind::InvalidCode`](crate::ErrorKind::InvalidCode).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Validation {
    /// `true`: this code completed the **first activation**: the app is now linked and backup
    /// codes were generated. `false`: the app was **already linked** and the code re-checked
    /// it — or the portal's app method is switched off, in which case the server answers
    /// `false` without checking the code at all.
    pub first_activation: bool,
    /// The session the server opened (`asc_auth_key` cookie of the answer), usable as a bearer
    /// token, when it set one.
    pub session_token: Option<Secret>,
}

/// A signed-in session: the token of a login and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Session {
    /// The token; continue with [`Client::with_token`](crate::Client::with_token).
    pub token: Secret,
    /// The expiry as the server wrote it (an ISO 8601 date-time with offset), if given.
    pub expires: Option<String>,
}

/// A text message with a login code was sent: what `setphone`, `sendsms` and an SMS login
/// answer (`phoneNoise`, `expires`).
///
/// The server's codes have 6 digits and live 10 minutes; a phone's set of codes holds the
/// first code and at most 5 resends, and 5 wrong checks lock it for 10 minutes (the server
/// enforces this; the crate does not count). Every unexpired code of the set is accepted.
///
/// **The server's `phoneNoise` defect.** For a number of 10 or more digits, every released
/// server (3.7.2, the 3.8 branch, `develop`) sends the SMS and then fails building the masked
/// number: `400 System.ArgumentOutOfRangeException`. The crate reports that as sent, with
/// [`server_mask_failed`](Self::server_mask_failed) set. The same defect makes the login with
/// the code answer `401` even for the right code (the code is spent, the phone activated, and
/// the session lost with the failed answer):
/// [`hits_server_defect`](Self::hits_server_defect) says when that is to be expected, and
/// [`Authentication::login_with_sms_code`](crate::Authentication::login_with_sms_code) then
/// names the defect and the ways out (the authenticator app, or a number of at most 9 digits).
///
/// ```
/// use docspace_tfa::SmsSent;
///
/// let sent = SmsSent::for_phone("+1 (234) 567-8901");
/// assert_eq!(sent.phone_noise.as_deref(), Some("+1234***8901"));
/// assert_eq!(sent.phone_digits, Some(11));
/// assert!(sent.hits_server_defect());
/// assert!(!SmsSent::for_phone("+123456789").hits_server_defect());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmsSent {
    /// The masked number the code went to, such as `+1234*6789`: the server's `phoneNoise`,
    /// or the crate's own mask (`+`, the first 4 digits, `*` per middle digit, the last 4)
    /// when the server's failed and the number is known; `None` when neither is known. Never
    /// the whole number: the server's mask of a number of fewer than 9 digits shows (nearly)
    /// all of it, so the crate masks such an answer again (`+*****23`).
    pub phone_noise: Option<String>,
    /// When the code expires, as the server wrote it (10 minutes after sending); `None` when
    /// the answer was the defect's `400`.
    pub expires: Option<String>,
    /// The server's own masking of the number failed after the SMS was sent (its
    /// `phoneNoise` defect, `400 System.ArgumentOutOfRangeException`): the number has 10 or
    /// more digits.
    pub server_mask_failed: bool,
    /// How many digits the number has, when the client knows the number (never the number
    /// itself).
    pub phone_digits: Option<usize>,
    /// The server answered with its own mask: its `phoneNoise` works for this number (a fixed
    /// server, or fewer than 10 digits), whatever the number's length.
    pub(crate) server_masked: bool,
}

impl SmsSent {
    /// What a caller knows who set `phone` earlier (in another process, say): the masked
    /// number and its length, for
    /// [`Authentication::login_with_sms_code`](crate::Authentication::login_with_sms_code).
    /// The number is normalized as the server does it
    /// ([`normalize_phone`](crate::normalize_phone)).
    pub fn for_phone(phone: &str) -> Self {
        let digits = crate::phone::phone_digits(phone);
        SmsSent {
            phone_noise: (!digits.is_empty()).then(|| crate::phone::mask_phone(&digits)),
            expires: None,
            server_mask_failed: false,
            phone_digits: Some(digits.len()),
            server_masked: false,
        }
    }

    /// Whether a login with the code is expected to fail with the server's `phoneNoise`
    /// defect: the server's mask failed, or the number is known to have 10 or more digits and
    /// the server has not shown that it masks it (an answer with its own `phoneNoise` means a
    /// fixed server).
    pub fn hits_server_defect(&self) -> bool {
        !self.server_masked
            && (self.server_mask_failed
                || self
                    .phone_digits
                    .is_some_and(|n| n >= crate::phone::DEFECT_MIN_DIGITS))
    }
}

/// Decodes a percent-encoded string (`%40` → `@`; `+` stays a plus, as `Uri.EscapeDataString`
/// writes a plus as `%2B`); `null` is `""`; a value that does not decode to UTF-8 is kept.
fn percent_decoded<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let raw = Option::<String>::deserialize(d)?.unwrap_or_default();
    Ok(
        match percent_encoding::percent_decode_str(&raw).decode_utf8() {
            Ok(decoded) => decoded.into_owned(),
            Err(_) => raw,
        },
    )
}

/// What [`Tfa::link`](crate::Tfa::link) did: the setup code the app was given, the validation
/// that linked it, and the new backup codes.
///
/// Once the portal has linked the app, `link` returns this even when the backup codes could
/// not be read afterwards: the account is linked, and the setup code here holds the only copy
/// of its key. Then [`backup_codes`](Linked::backup_codes) is `None` and
/// [`backup_codes_error`](Linked::backup_codes_error) says why; fetch them with
/// [`Tfa::backup_codes`](crate::Tfa::backup_codes).
///
/// `Debug` shows no secret (the manual key, QR image, session token and codes are
/// [`Secret`]s).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Linked {
    /// The setup code: account, manual entry key, QR image. Keep the key only if the program
    /// must compute codes later (a service account's login).
    pub setup: SetupCode,
    /// The validation of the first code; [`first_activation`](Validation::first_activation)
    /// is always `true` here.
    pub validation: Validation,
    /// The backup codes the activation created (`GET settings/tfaappcodes`). Store them.
    /// `None` when they could not be read after the app was linked: fetch them with
    /// [`Tfa::backup_codes`](crate::Tfa::backup_codes) (with the validation's session token
    /// when the client has no token of its own).
    pub backup_codes: Option<Vec<BackupCode>>,
    /// Why the backup codes could not be read, when [`backup_codes`](Linked::backup_codes) is
    /// `None`: the error's kind and its message (no secret is in either).
    pub backup_codes_error: Option<(ErrorKind, String)>,
}

/// Decodes `null` as the type's default (the server sends `null` for empty lists sometimes).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_code_debug_hides_secrets() {
        let s = SetupCode::new("a@b.c", "JBSWY3DPEHPK3PXP", "data:image/png;base64,AAAA");
        let dbg = format!("{s:?}");
        assert!(dbg.contains("a@b.c"));
        assert!(!dbg.contains("JBSWY3DPEHPK3PXP"));
        assert!(!dbg.contains("AAAA"));
    }

    #[test]
    fn setup_code_account_is_decoded_once() {
        for (sent, plain) in [
            ("john.doe%40example.com", "john.doe@example.com"),
            ("user%2Btag%40example.com", "user+tag@example.com"),
            ("Jane%20Doe%40Example.COM", "Jane Doe@Example.COM"),
            ("plain@example.com", "plain@example.com"),
            ("100%25%40x.y", "100%@x.y"),
            ("bad%FF", "bad%FF"),
        ] {
            let s: SetupCode = serde_json::from_value(serde_json::json!({
                "account": sent, "manualEntryKey": "JBSWY3DPEHPK3PXP", "qrCodeSetupImageUrl": ""
            }))
            .unwrap();
            assert_eq!(s.account, plain, "{sent}");
        }
    }

    #[test]
    fn unknown_method_id_decodes() {
        let m: TfaMethod = serde_json::from_str(
            r#"{"id":"fido","title":"Keys","enabled":false,"available":true,"trustedIps":null}"#,
        )
        .unwrap();
        assert_eq!(m.id, TfaMethodId::Other("fido".into()));
        assert_eq!(m.trusted_ips, None);
        assert_eq!(m.mandatory_users, None);
        let shown = serde_json::to_value(&m).unwrap();
        assert!(shown.get("trustedIps").is_none() && shown.get("mandatoryUsers").is_none());
        let m: TfaMethod =
            serde_json::from_str(r#"{"id":"app","trustedIps":[],"mandatoryUsers":["u"]}"#).unwrap();
        assert_eq!(m.trusted_ips, Some(vec![]));
        assert_eq!(m.mandatory_users, Some(vec!["u".to_owned()]));
        assert_eq!(m.mandatory_groups, None);
    }
}
