//! The portal's state: its members, their sessions and API keys, the switches it started with,
//! and the parts that have rooms of their own below it — the clock ([`clock`](super::clock)),
//! the TFA policy ([`policy`](super::policy)), confirm keys ([`tickets`](super::tickets)),
//! attempt counters ([`attempts`](super::attempts)). The TFA rules that change a member's
//! secret and codes are above it, in [`rules`](super::rules). No HTTP here: the endpoints read
//! and change it.

use std::collections::HashMap;
use std::net::IpAddr;

use super::attempts::AttemptCounter;
use super::clock::Clock;
use super::policy::{MethodSettings, PolicyLists};
use super::random::{random_hex, random_token};
use super::smscodes::SmsCodes;
use super::tickets::{confirm_url, KeyCheck, Tickets};
use crate::error::Result;
use crate::models::TfaType;
use crate::secret::Secret;
use crate::trusted_ip::ServerIpFault;

/// The emulator's tenant domain unless set: deliberately not the host of its URL
/// (`127.0.0.1`), as on a portal reached by IP or by another name.
pub(crate) const DEFAULT_TENANT_DOMAIN: &str = "portal.docspace.test";

/// The server version the emulator answers unless set: the release its behaviours are read
/// from (`v3.7.2-server`).
pub(crate) const DEFAULT_SERVER_VERSION: &str = "3.7.2";

/// A group of the portal's directory (`GET group/{id}`).
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) id: String,
    pub(crate) name: String,
}

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
    /// Code checks (and failed logins) allowed per user within [`ATTEMPT_WINDOW`](super::attempts::ATTEMPT_WINDOW).
    pub(crate) attempt_limit: u32,
    /// How long a confirm key stays valid, in seconds.
    pub(crate) key_interval: u64,
    /// Backup codes generated per set, and their length.
    pub(crate) backup_code_count: usize,
    pub(crate) backup_code_len: usize,
    /// Whether the plan offers the methods (`available` in `GET settings/tfaapp`).
    pub(crate) app_available: bool,
    pub(crate) sms_available: bool,
    /// Whether the SMS provider is still configured; `false` only after
    /// [`Emulator::set_sms_provider`](super::Emulator::set_sms_provider)`(false)`: the SMS
    /// setting stays as saved and logins still take the SMS branch (the server's
    /// `TfaEnabledForUserAsync` and `IsVisibleAndAvailableSettingsAsync` ignore the provider),
    /// but `GET settings/tfaapp` says SMS is neither enabled nor available, switching SMS on is
    /// refused, and sending a code fails (`docs/server.md`, "What `doctor` reads").
    pub(crate) sms_provider: bool,
    /// How far a code may be from the clock, in 30-second steps each way (10 = ±5 minutes).
    pub(crate) window_steps: u64,
    /// Lifetime of a login session, in seconds (the `expires` of a login).
    pub(crate) session_lifetime: u64,
    /// The tenant's domain: the issuer in the `otpauth://` URI.
    pub(crate) tenant_domain: String,
    /// Answer `GET settings/tfaapp/confirm` with a bare URL string (older servers).
    pub(crate) legacy_confirm_url: bool,
    /// The server's version, as `GET settings/version/build` answers it (`docSpace`).
    pub(crate) server_version: String,
    /// The server's `phoneNoise` defect: masking a number of 10 or more digits throws
    /// (`SmsSender.cs:95`), as on every released server.
    pub(crate) phone_noise_defect: bool,
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
            // A portal without an SMS provider, the common case (a self-hosted install's
            // default): `GET tfaapp` says `available: false` for SMS.
            sms_available: false,
            sms_provider: true,
            window_steps: 10,
            session_lifetime: 20 * 24 * 3600,
            tenant_domain: DEFAULT_TENANT_DOMAIN.to_owned(),
            legacy_confirm_url: false,
            server_version: DEFAULT_SERVER_VERSION.to_owned(),
            phone_noise_defect: true,
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
    /// Whether the phone is activated (`MobilePhoneActivationStatus`): a code was checked.
    pub(crate) phone_activated: bool,
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

/// The whole portal.
pub(crate) struct State {
    pub(crate) config: Config,
    pub(crate) clock: Clock,
    pub(crate) users: Vec<User>,
    /// Lower-case e-mail → index in `users`: a portal of 10,000 members answers each request
    /// without a scan (kept by `push_user` and `remove_user`).
    by_email: HashMap<String, usize>,
    /// Lower-case user id → index in `users`.
    by_id: HashMap<String, usize>,
    pub(crate) app: MethodSettings,
    pub(crate) sms: MethodSettings,
    /// Personal access tokens → user id. Not sessions: a policy change does not revoke them.
    pub(crate) api_keys: HashMap<String, String>,
    /// Session tokens (logins, validations) → user id.
    pub(crate) sessions: HashMap<String, String>,
    /// Confirm keys → what they were issued for.
    keys: Tickets,
    /// Failed-login counters by lower-case user name.
    pub(crate) login_attempts: HashMap<String, AttemptCounter>,
    /// Groups added by name ([`Emulator::add_group`](super::Emulator::add_group)); a group a
    /// member is in exists too.
    pub(crate) groups: Vec<Group>,
    /// SMS codes, their check counters, and the outbox.
    pub(crate) sms_codes: SmsCodes,
}

impl State {
    pub(crate) fn new(config: Config, app_enabled: bool) -> Self {
        State {
            config,
            clock: Clock::default(),
            users: Vec::new(),
            by_email: HashMap::new(),
            by_id: HashMap::new(),
            // A portal whose app method is on had a policy saved: empty lists, not `null`.
            app: MethodSettings {
                enabled: app_enabled,
                lists: app_enabled.then(PolicyLists::default),
            },
            sms: MethodSettings::default(),
            api_keys: HashMap::new(),
            sessions: HashMap::new(),
            keys: Tickets::default(),
            login_attempts: HashMap::new(),
            groups: Vec::new(),
            sms_codes: SmsCodes::default(),
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.now()
    }

    pub(crate) fn user_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(&id.trim().to_ascii_lowercase()).copied()
    }

    pub(crate) fn user_index_by_email(&self, email: &str) -> Option<usize> {
        self.by_email
            .get(&email.trim().to_ascii_lowercase())
            .copied()
    }

    /// Adds a member to the list and the indexes; returns their index.
    pub(crate) fn push_user(&mut self, user: User) -> usize {
        let index = self.users.len();
        self.by_email.insert(user.email.to_ascii_lowercase(), index);
        self.by_id.insert(user.id.to_ascii_lowercase(), index);
        self.users.push(user);
        index
    }

    /// Removes the member at `index` from the list and the indexes (the members after it move
    /// down one place, so both indexes are rebuilt: a rare call, made by tests); returns it.
    pub(crate) fn remove_user(&mut self, index: usize) -> User {
        let user = self.users.remove(index);
        self.by_email.clear();
        self.by_id.clear();
        for (i, u) in self.users.iter().enumerate() {
            self.by_email.insert(u.email.to_ascii_lowercase(), i);
            self.by_id.insert(u.id.to_ascii_lowercase(), i);
        }
        user
    }

    /// The user a bearer token or auth cookie belongs to.
    pub(crate) fn user_for_token(&self, token: &str) -> Option<usize> {
        let id = self
            .api_keys
            .get(token)
            .or_else(|| self.sessions.get(token))?;
        self.user_index(id)
    }

    /// The group with this id — added by name, or named by a member — and its name.
    pub(crate) fn group(&self, id: &str) -> Option<Group> {
        let id = id.trim();
        if let Some(g) = self.groups.iter().find(|g| g.id.eq_ignore_ascii_case(id)) {
            return Some(g.clone());
        }
        self.users
            .iter()
            .flat_map(|u| u.groups.iter())
            .find(|g| g.eq_ignore_ascii_case(id))
            .map(|g| Group {
                id: g.to_ascii_lowercase(),
                name: "Group".to_owned(),
            })
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

    /// Whether the app method applies to the user (request from `ip`). A trusted-IP entry the
    /// server would throw on counts as "applies" here: the endpoints ask
    /// [`trusted_ip_fault`](Self::trusted_ip_fault) first.
    pub(crate) fn app_applies(&self, user: usize, ip: Option<IpAddr>) -> bool {
        let u = &self.users[user];
        self.config.app_available && self.app.applies(&u.id, &u.groups, ip).unwrap_or(true)
    }

    /// Whether the SMS method applies to the user (request from `ip`); as for
    /// [`app_applies`](Self::app_applies).
    pub(crate) fn sms_applies(&self, user: usize, ip: Option<IpAddr>) -> bool {
        let u = &self.users[user];
        self.config.sms_available && self.sms.applies(&u.id, &u.groups, ip).unwrap_or(true)
    }

    /// The exception the server throws while deciding whether TFA applies to the user (a saved
    /// malformed trusted-IP range or CIDR block reached for this client), or `None`. The
    /// server asks the SMS settings first, then the app's (`AuthenticationController.cs`
    /// `AuthenticateMe`; `TfaappController.cs` `GetTfaConfirmData`).
    pub(crate) fn trusted_ip_fault(
        &self,
        user: usize,
        ip: Option<IpAddr>,
    ) -> Option<ServerIpFault> {
        let u = &self.users[user];
        [
            (self.config.sms_available, &self.sms),
            (self.config.app_available, &self.app),
        ]
        .into_iter()
        .filter(|(available, _)| *available)
        // The first method that applies ends the check: the app's entries are not read when
        // SMS applies (both can be on: SMS stays on when its provider is gone).
        .find_map(
            |(_, settings)| match settings.applies(&u.id, &u.groups, ip) {
                Ok(true) => Some(None),
                Ok(false) => None,
                Err(fault) => Some(Some(fault)),
            },
        )
        .flatten()
    }

    /// Issues a confirm key for `(confirm_type, uid)`, valid for the key interval.
    pub(crate) fn issue_key(&mut self, confirm_type: &str, uid: &str) -> Result<String> {
        let now = self.now();
        self.keys
            .issue(confirm_type, uid, now, self.config.key_interval)
    }

    /// Checks a confirm key for `(confirm_type, uid)`.
    pub(crate) fn check_key(&self, confirm_type: &str, uid: &str, key: &str) -> KeyCheck {
        self.keys
            .check(confirm_type, uid, key, self.now(), self.config.key_interval)
    }

    /// Issues a key for `(type, user)` and returns the confirm link's URL and the key.
    pub(crate) fn ticket_for(
        &mut self,
        base_url: &str,
        confirm_type: &str,
        user: usize,
    ) -> Result<(String, String)> {
        let uid = self.users[user].id.clone();
        let key = self.issue_key(confirm_type, &uid)?;
        Ok((confirm_url(base_url, confirm_type, &uid), key))
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
