//! The portal's state: users, the TFA policy, API keys, sessions, confirm keys, attempt
//! counters and the clock. No HTTP here: [`handlers`](super::handlers) reads and changes it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::models::TfaType;
use crate::secret::Secret;
use crate::totp::{OtpAuthUri, Totp, TotpKey};

/// The confirm types the emulator issues keys for.
pub(crate) const TFA_ACTIVATION: &str = "TfaActivation";
pub(crate) const TFA_AUTH: &str = "TfaAuth";
pub(crate) const PHONE_ACTIVATION: &str = "PhoneActivation";
pub(crate) const PHONE_AUTH: &str = "PhoneAuth";

/// The alphabet of backup codes: `[a-zA-Z0-9_-]`, 64 characters, so one random byte masked to
/// six bits picks a character without bias.
const BACKUP_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// The brute-force window of the code check and of the login, in seconds.
pub(crate) const ATTEMPT_WINDOW: u64 = 60;

/// The emulator's tenant domain unless set: deliberately not the host of its URL
/// (`127.0.0.1`), as on a portal reached by IP or by another name.
pub(crate) const DEFAULT_TENANT_DOMAIN: &str = "portal.docspace.test";

/// Switches fixed when the emulator starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Accept a bearer token alone on `tfaapp/setup` and `tfaapp/validate` (the documentation's example).
    pub(crate) lenient_bearer: bool,
    /// Answer refusals and "not available" as servers up to 3.2.1 did (`500` plain exception,
    /// `415` "Not available.") instead of `403 InvalidOperationException`.
    pub(crate) legacy_errors: bool,
    /// The culture of the server's messages (`en`, `de`, `pt-BR`, …).
    pub(crate) culture: String,
    /// Code checks (and failed logins) allowed per user within [`ATTEMPT_WINDOW`].
    pub(crate) attempt_limit: u32,
    /// How long a confirm key stays valid, in seconds.
    pub(crate) key_interval: u64,
    /// Backup codes generated per set, and their length.
    pub(crate) backup_code_count: usize,
    pub(crate) backup_code_len: usize,
    /// Whether the plan offers the methods (`available` in `GET settings/tfaapp`).
    pub(crate) app_available: bool,
    pub(crate) sms_available: bool,
    /// How far a code may be from the clock, in 30-second steps each way (10 = ±5 minutes).
    pub(crate) window_steps: u64,
    /// Lifetime of a login session, in seconds (the `expires` of a login).
    pub(crate) session_lifetime: u64,
    /// The tenant's domain: the issuer in the `otpauth://` URI.
    pub(crate) tenant_domain: String,
    /// Answer `GET settings/tfaapp/confirm` with a bare URL string (older servers).
    pub(crate) legacy_confirm_url: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            lenient_bearer: false,
            legacy_errors: false,
            culture: "en".to_owned(),
            attempt_limit: 5,
            key_interval: 3600,
            backup_code_count: 5,
            backup_code_len: 6,
            app_available: true,
            sms_available: true,
            window_steps: 10,
            session_lifetime: 20 * 24 * 3600,
            tenant_domain: DEFAULT_TENANT_DOMAIN.to_owned(),
            legacy_confirm_url: false,
        }
    }
}

/// The emulator's clock: the system clock shifted by an offset, or frozen at a fixed time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    fixed: Option<u64>,
    offset: i64,
}

impl Clock {
    pub(crate) fn now(&self) -> u64 {
        match self.fixed {
            Some(t) => t,
            None => {
                let system = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let shifted = i128::from(system) + i128::from(self.offset);
                u64::try_from(shifted.max(0)).unwrap_or(u64::MAX)
            }
        }
    }

    pub(crate) fn freeze_at(&mut self, unix: u64) {
        self.fixed = Some(unix);
    }

    pub(crate) fn advance(&mut self, seconds: u64) {
        match &mut self.fixed {
            Some(t) => *t = t.saturating_add(seconds),
            None => {
                self.offset = self
                    .offset
                    .saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX))
            }
        }
    }

    pub(crate) fn resume(&mut self) {
        self.fixed = None;
        self.offset = 0;
    }
}

/// A counter of attempts that expires [`ATTEMPT_WINDOW`] seconds after the last counted one,
/// like the portal's cache entry `tfa/<user id>`.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttemptCounter {
    count: u32,
    expires: u64,
}

impl AttemptCounter {
    /// Counts an attempt. `false`: the limit is exceeded, the attempt is refused and not stored
    /// (so the lock ends one window after the last counted attempt).
    pub(crate) fn try_count(&mut self, limit: u32, now: u64) -> bool {
        let current = if now < self.expires { self.count } else { 0 };
        let next = current.saturating_add(1);
        if next > limit {
            return false;
        }
        self.count = next;
        self.expires = now + ATTEMPT_WINDOW;
        true
    }

    /// Takes back the attempt just counted: a successful check does not count.
    pub(crate) fn forgive(&mut self, now: u64) {
        self.count = self.count.saturating_sub(1);
        self.expires = now + ATTEMPT_WINDOW;
    }

    /// Attempts counted in the current window.
    pub(crate) fn current(&self, now: u64) -> u32 {
        if now < self.expires {
            self.count
        } else {
            0
        }
    }
}

/// One member of the portal.
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) password: Secret,
    pub(crate) is_owner: bool,
    pub(crate) is_admin: bool,
    pub(crate) groups: Vec<String>,
    pub(crate) phone: Option<String>,
    /// Whether the account is disabled (its login is refused).
    pub(crate) disabled: bool,
    /// Whether an authenticator app is linked.
    pub(crate) linked: bool,
    /// The TOTP secret: generated on first need, kept until the app is unlinked.
    pub(crate) secret: Option<Vec<u8>>,
    /// Backup codes and whether each is spent.
    pub(crate) backup_codes: Vec<(String, bool)>,
    /// The code-check counter (`tfa/<id>`).
    pub(crate) attempts: AttemptCounter,
}

impl User {
    pub(crate) fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }
}

/// The settings of one TFA method, as the server stores them (`TfaSettingsBase`).
#[derive(Debug, Clone, Default)]
pub(crate) struct MethodSettings {
    pub(crate) enabled: bool,
    /// `null` until a policy is first saved, and again once the method is switched off (the
    /// server then stores fresh settings): `GET settings/tfaapp` omits them.
    pub(crate) lists: Option<PolicyLists>,
}

/// The three lists of a saved policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PolicyLists {
    pub(crate) trusted_ips: Vec<String>,
    pub(crate) mandatory_users: Vec<String>,
    pub(crate) mandatory_groups: Vec<String>,
}

impl MethodSettings {
    /// Switches the method on with these lists (`SetSettingsProperty` and save).
    pub(crate) fn save(&mut self, lists: PolicyLists) {
        self.enabled = true;
        self.lists = Some(lists);
    }

    /// Switches the method off: fresh settings, lists `null` (`SetEnable(false)`).
    pub(crate) fn switch_off(&mut self) {
        *self = MethodSettings::default();
    }
}

/// What a confirm key was issued for.
struct IssuedKey {
    confirm_type: String,
    uid: String,
    issued: u64,
}

/// The whole portal.
pub(crate) struct State {
    pub(crate) config: Config,
    pub(crate) clock: Clock,
    pub(crate) users: Vec<User>,
    pub(crate) app: MethodSettings,
    pub(crate) sms: MethodSettings,
    /// Personal access tokens → user id. Not sessions: a policy change does not revoke them.
    pub(crate) api_keys: HashMap<String, String>,
    /// Session tokens (logins, validations) → user id.
    pub(crate) sessions: HashMap<String, String>,
    /// Confirm keys → what they were issued for.
    keys: HashMap<String, IssuedKey>,
    /// Failed-login counters by lower-case user name.
    pub(crate) login_attempts: HashMap<String, AttemptCounter>,
}

/// Outcome of checking a confirm key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum KeyCheck {
    Ok,
    Invalid,
    Expired,
}

/// Outcome of a failed code check.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CodeFailure {
    /// Empty or blank code (the server throws a plain exception: 500).
    Blank,
    /// Too many attempts in the window (403 with an error body).
    Locked,
    /// Not the app's code and not an unused backup code (400).
    Wrong,
}

impl State {
    pub(crate) fn new(config: Config, app_enabled: bool) -> Self {
        State {
            config,
            clock: Clock::default(),
            users: Vec::new(),
            // A portal whose app method is on had a policy saved: empty lists, not `null`.
            app: MethodSettings {
                enabled: app_enabled,
                lists: app_enabled.then(PolicyLists::default),
            },
            sms: MethodSettings::default(),
            api_keys: HashMap::new(),
            sessions: HashMap::new(),
            keys: HashMap::new(),
            login_attempts: HashMap::new(),
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.now()
    }

    /// The policy as a [`TfaType`].
    pub(crate) fn tfa_type(&self) -> TfaType {
        if self.app.enabled {
            TfaType::App
        } else if self.sms.enabled {
            TfaType::Sms
        } else {
            TfaType::None
        }
    }

    /// Whether the app method is switched on (and offered by the plan).
    pub(crate) fn app_on(&self) -> bool {
        self.app.enabled && self.config.app_available
    }

    pub(crate) fn user_index(&self, id: &str) -> Option<usize> {
        let id = id.trim();
        self.users
            .iter()
            .position(|u| u.id.eq_ignore_ascii_case(id))
    }

    pub(crate) fn user_index_by_email(&self, email: &str) -> Option<usize> {
        let email = email.trim();
        self.users
            .iter()
            .position(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// The user a bearer token or auth cookie belongs to.
    pub(crate) fn user_for_token(&self, token: &str) -> Option<usize> {
        let id = self
            .api_keys
            .get(token)
            .or_else(|| self.sessions.get(token))?;
        self.user_index(id)
    }

    /// Whether `settings` applies to `user` for a request from `ip`: everyone, except that a
    /// trusted IP exempts members who are not named mandatory (directly or by group).
    fn method_applies(settings: &MethodSettings, user: &User, ip: Option<IpAddr>) -> bool {
        if !settings.enabled {
            return false;
        }
        let Some(lists) = &settings.lists else {
            return true;
        };
        let trusted = ip
            .map(|ip| lists.trusted_ips.iter().any(|t| ip_matches(t, ip)))
            .unwrap_or(false);
        if !trusted {
            return true;
        }
        lists
            .mandatory_users
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&user.id))
            || lists
                .mandatory_groups
                .iter()
                .any(|g| user.groups.iter().any(|ug| ug.eq_ignore_ascii_case(g)))
    }

    /// Whether the app method applies to the user (request from `ip`).
    pub(crate) fn app_applies(&self, user: usize, ip: Option<IpAddr>) -> bool {
        self.config.app_available && Self::method_applies(&self.app, &self.users[user], ip)
    }

    /// Whether the SMS method applies to the user (request from `ip`).
    pub(crate) fn sms_applies(&self, user: usize, ip: Option<IpAddr>) -> bool {
        self.config.sms_available && Self::method_applies(&self.sms, &self.users[user], ip)
    }

    /// Issues a confirm key for `(confirm_type, uid)`, valid for the key interval.
    pub(crate) fn issue_key(&mut self, confirm_type: &str, uid: &str) -> Result<String> {
        let now = self.now();
        let interval = self.config.key_interval;
        self.keys
            .retain(|_, k| now <= k.issued.saturating_add(interval));
        let key = format!("{now}.{}", random_hex(16)?);
        self.keys.insert(
            key.clone(),
            IssuedKey {
                confirm_type: confirm_type.to_owned(),
                uid: uid.to_ascii_lowercase(),
                issued: now,
            },
        );
        Ok(key)
    }

    /// Checks a confirm key for `(confirm_type, uid)`.
    pub(crate) fn check_key(&self, confirm_type: &str, uid: &str, key: &str) -> KeyCheck {
        let Some(issued) = self.keys.get(key) else {
            return KeyCheck::Invalid;
        };
        if !issued.confirm_type.eq_ignore_ascii_case(confirm_type)
            || !issued.uid.eq_ignore_ascii_case(uid.trim())
        {
            return KeyCheck::Invalid;
        }
        if self.now() > issued.issued.saturating_add(self.config.key_interval) {
            return KeyCheck::Expired;
        }
        KeyCheck::Ok
    }

    /// Opens a session for the user and returns its token.
    pub(crate) fn open_session(&mut self, user: usize) -> Result<String> {
        let token = random_token()?;
        self.sessions
            .insert(token.clone(), self.users[user].id.clone());
        Ok(token)
    }

    /// Issues a personal access token for the user.
    pub(crate) fn issue_api_key(&mut self, user: usize) -> Result<String> {
        let key = format!("sk-{}", random_hex(24)?);
        self.api_keys
            .insert(key.clone(), self.users[user].id.clone());
        Ok(key)
    }

    /// The user's TOTP secret, generated (10 random bytes, like the portal's) on first need.
    pub(crate) fn ensure_secret(&mut self, user: usize) -> Result<Vec<u8>> {
        if let Some(s) = &self.users[user].secret {
            return Ok(s.clone());
        }
        let mut bytes = vec![0u8; 10];
        fill_random(&mut bytes)?;
        self.users[user].secret = Some(bytes.clone());
        Ok(bytes)
    }

    /// The user's manual entry key (base32 of the secret), generating the secret if needed.
    pub(crate) fn manual_key(&mut self, user: usize) -> Result<Secret> {
        let secret = self.ensure_secret(user)?;
        Ok(TotpKey::from_bytes(&secret)?.to_base32())
    }

    /// The `otpauth://` URI of the user's secret, as `GenerateSetupCode` writes it: issuer and
    /// account escaped with `Uri.EscapeDataString` (which [`OtpAuthUri::to_uri`] does).
    pub(crate) fn otpauth_uri(&mut self, user: usize, issuer: &str) -> Result<Secret> {
        let secret = self.ensure_secret(user)?;
        let key = TotpKey::from_bytes(&secret)?;
        Ok(OtpAuthUri::new(issuer, self.users[user].email.clone(), key).to_uri())
    }

    /// Generates a new set of backup codes for the user, replacing the old set.
    pub(crate) fn new_backup_codes(&mut self, user: usize) -> Result<()> {
        let count = self.config.backup_code_count;
        let len = self.config.backup_code_len;
        let mut codes = Vec::with_capacity(count);
        for _ in 0..count {
            codes.push((random_backup_code(len)?, false));
        }
        self.users[user].backup_codes = codes;
        Ok(())
    }

    /// Checks a code for the user as `TfaManager.ValidateAuthCode` does: blank → error, count
    /// the attempt (refuse when over the limit), then the app's code within the window, then an
    /// unused backup code (spent by the check). A successful check does not count.
    pub(crate) fn check_code(
        &mut self,
        user: usize,
        code: &str,
    ) -> std::result::Result<(), CodeFailure> {
        let code = code.trim();
        if code.is_empty() {
            return Err(CodeFailure::Blank);
        }
        let now = self.now();
        let limit = self.config.attempt_limit;
        if !self.users[user].attempts.try_count(limit, now) {
            return Err(CodeFailure::Locked);
        }
        let totp_ok = match &self.users[user].secret {
            Some(secret) => TotpKey::from_bytes(secret)
                .map(|key| Totp::docspace().verify(&key, code, now, self.config.window_steps))
                .unwrap_or(false),
            None => false,
        };
        let accepted = totp_ok || {
            let u = &mut self.users[user];
            match u
                .backup_codes
                .iter_mut()
                .find(|(c, used)| !*used && c.as_str() == code)
            {
                Some(entry) => {
                    entry.1 = true;
                    true
                }
                None => false,
            }
        };
        if !accepted {
            return Err(CodeFailure::Wrong);
        }
        self.users[user].attempts.forgive(now);
        Ok(())
    }

    /// Unlinks the user's app: the secret and backup codes are discarded.
    pub(crate) fn unlink(&mut self, user: usize) {
        let u = &mut self.users[user];
        u.linked = false;
        u.secret = None;
        u.backup_codes.clear();
    }

    /// Signs out every session of the portal (API keys stay valid).
    pub(crate) fn reset_all_sessions(&mut self) {
        self.sessions.clear();
    }

    /// Signs out every session of one user.
    pub(crate) fn reset_sessions_of(&mut self, user: usize) {
        let id = self.users[user].id.clone();
        self.sessions.retain(|_, uid| *uid != id);
    }

    /// Number of open sessions of the user.
    pub(crate) fn session_count(&self, user: usize) -> usize {
        let id = &self.users[user].id;
        self.sessions.values().filter(|u| *u == id).count()
    }
}

/// Whether `ip` matches a trusted-IP entry: an address, an IPv4/IPv6 CIDR block
/// (`10.0.0.0/8`), or a range `a-b` of the same family.
pub(crate) fn ip_matches(entry: &str, ip: IpAddr) -> bool {
    let entry = entry.trim();
    if let Some((net, bits)) = entry.split_once('/') {
        let (Ok(net), Ok(bits)) = (net.trim().parse::<IpAddr>(), bits.trim().parse::<u32>()) else {
            return false;
        };
        return match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                u32::from(n) & mask == u32::from(i) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                u128::from(n) & mask == u128::from(i) & mask
            }
            _ => false,
        };
    }
    if let Some((lo, hi)) = entry.split_once('-') {
        return match (lo.trim().parse::<IpAddr>(), hi.trim().parse::<IpAddr>(), ip) {
            (Ok(IpAddr::V4(lo)), Ok(IpAddr::V4(hi)), IpAddr::V4(i)) => (lo..=hi).contains(&i),
            (Ok(IpAddr::V6(lo)), Ok(IpAddr::V6(hi)), IpAddr::V6(i)) => (lo..=hi).contains(&i),
            _ => false,
        };
    }
    entry.parse::<IpAddr>().map(|e| e == ip).unwrap_or(false)
}

/// Fills `buf` from the operating system's random source.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::getrandom(buf).map_err(|e| {
        Error::io(
            "read random bytes for the emulator",
            std::io::Error::other(e.to_string()),
        )
    })
}

/// `n` random bytes as lower-case hex.
pub(crate) fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    fill_random(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A random version-4 GUID in the portal's lower-case form.
pub(crate) fn random_guid() -> Result<String> {
    let mut b = [0u8; 16];
    fill_random(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        h[0..4].concat(),
        h[4..6].concat(),
        h[6..8].concat(),
        h[8..10].concat(),
        h[10..16].concat()
    ))
}

/// A session token: opaque, URL- and cookie-safe.
fn random_token() -> Result<String> {
    let mut bytes = [0u8; 30];
    fill_random(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(BACKUP_ALPHABET[usize::from(b & 63)]))
        .collect())
}

/// A backup code of `len` characters from `[a-zA-Z0-9_-]`.
fn random_backup_code(len: usize) -> Result<String> {
    let mut bytes = vec![0u8; len];
    fill_random(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(BACKUP_ALPHABET[usize::from(b & 63)]))
        .collect())
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix seconds → (days since the epoch, hours, minutes, seconds).
fn split_time(unix: u64) -> (i64, u64, u64, u64) {
    let days = i64::try_from(unix / 86_400).unwrap_or(i64::MAX / 2);
    let secs = unix % 86_400;
    (days, secs / 3600, secs / 60 % 60, secs % 60)
}

/// `2026-11-28T02:49:39.0000000+00:00`, the portal's date-time format.
pub(crate) fn iso_datetime(unix: u64) -> String {
    let (days, h, m, s) = split_time(unix);
    let (y, mo, d) = civil_from_days(days);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.0000000+00:00")
}

/// `Sat, 28 Nov 2026 02:49:39 GMT`, the cookie `expires` format.
pub(crate) fn http_date(unix: u64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (days, h, m, s) = split_time(unix);
    let (y, mo, d) = civil_from_days(days);
    let weekday = WEEKDAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(mo.saturating_sub(1)).unwrap_or(0) % 12];
    format!("{weekday}, {d:02} {month} {y:04} {h:02}:{m:02}:{s:02} GMT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso_datetime(0), "1970-01-01T00:00:00.0000000+00:00");
        assert_eq!(
            iso_datetime(1_700_000_000),
            "2023-11-14T22:13:20.0000000+00:00"
        );
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
    }

    #[test]
    fn trusted_ips() {
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(ip_matches("10.1.2.3", ip));
        assert!(ip_matches("10.0.0.0/8", ip));
        assert!(ip_matches("10.1.2.0-10.1.2.10", ip));
        assert!(ip_matches("0.0.0.0/0", ip));
        assert!(!ip_matches("10.1.3.0/24", ip));
        assert!(!ip_matches("::1", ip));
        assert!(!ip_matches("garbage", ip));
        assert!(!ip_matches("10.0.0.0/40", ip));
        let v6: IpAddr = "::1".parse().unwrap();
        assert!(ip_matches("::1/128", v6));
    }

    #[test]
    fn attempt_counter_window() {
        let mut c = AttemptCounter::default();
        for _ in 0..5 {
            assert!(c.try_count(5, 100));
        }
        assert!(
            !c.try_count(5, 120),
            "the sixth attempt in the window is refused"
        );
        assert!(
            !c.try_count(5, 159),
            "still locked: refused attempts do not extend it"
        );
        assert!(
            c.try_count(5, 160),
            "a window after the last counted attempt"
        );
        c.forgive(160);
        assert_eq!(c.current(160), 0);
    }

    #[test]
    fn random_values_have_the_portal_shapes() {
        let g = random_guid().unwrap();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
        let code = random_backup_code(6).unwrap();
        assert_eq!(code.len(), 6);
        assert!(code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        assert_ne!(random_hex(16).unwrap(), random_hex(16).unwrap());
    }
}
