//! An embedded emulator of a DocSpace portal's TFA behaviour, for tests and demos
//! (feature `emulator`).
//!
//! No DocSpace portal runs on a build machine, yet the flows of this crate — a bearer token or a
//! confirm ticket, a TFA-challenged login, codes, backup codes, locks — deserve tests that walk
//! them end to end against something stateful. [`Emulator`] is a real HTTP/1.1 server on
//! `127.0.0.1` (an OS-chosen port, keep-alive, no async runtime: `tiny_http` threads) that
//! answers the endpoints this crate calls the way the server's source does (by default; older
//! shapes behind switches): the envelope and its error bodies, empty-body `401`/`403` framework
//! refusals, the `Confirm` header and the `asc_confirm_key_<type>` cookie, `Set-Cookie` on
//! login, validate and unlink, TOTP codes within ±5 minutes, single-use backup codes, the
//! attempt limit, refusals and "not available" as `403 InvalidOperationException` with the
//! server's texts in any of its 30 cultures, the setup code's escaped `account` and a QR image
//! (level Q) whose issuer is the tenant's domain, and the request log a test asserts on.
//!
//! ```
//! use docspace_tfa::emulator::{Emulator, NewUser};
//! use docspace_tfa::totp::{Totp, TotpKey};
//! use docspace_tfa::ConfirmTicket;
//!
//! let portal = Emulator::start()?;
//! let id = portal.add_user(NewUser::new("bot@example.com", "s3cret").admin())?;
//! let client = portal.client()?.with_token(portal.issue_api_key(&id)?);
//!
//! // The confirm-ticket flow a real portal requires.
//! let data = client.tfa().confirm()?.expect("the app method is on");
//! let ticket = ConfirmTicket::from_confirm_data(&data)?;
//! let setup = client.tfa().setup_with(&ticket)?;
//! let key = TotpKey::from_base32(setup.manual_entry_key.expose())?;
//! let code = Totp::docspace().code_at(&key, portal.now());
//! assert!(client.tfa().validate_with(&ticket, code.expose())?.first_activation);
//!
//! assert_eq!(client.tfa().backup_codes()?.len(), 5);
//! assert_eq!(portal.request_count("POST", "settings/tfaapp/validate"), 1);
//! # Ok::<(), docspace_tfa::Error>(())
//! ```
//!
//! What it models and what it leaves out is in `docs/emulator.md` in the repository. In
//! short: no SMS codes, no e-mail, no quotas or payments, no other API; one portal per
//! emulator; state in memory only.

mod faults;
mod handlers;
mod log;
mod qr;
mod refusals;
mod server;
mod state;

use std::fmt;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::client::Client;
use crate::confirm::ConfirmTicket;
use crate::error::{Error, Result};
use crate::models::{BackupCode, TfaPolicy, TfaType};
use crate::secret::Secret;
use crate::totp::{Totp, TotpKey};

pub use self::faults::Fault;
pub use self::log::{LoggedConfirm, LoggedRequest};
use self::server::{lock, Shared};
use self::state::{random_guid, AttemptCounter, Config, PolicyLists, State, User};

/// A running emulator. Stops when dropped (or with [`stop`](Self::stop)).
///
/// Every method takes `&self`: share it between a test and helper threads freely.
pub struct Emulator {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("Emulator")
            .field("base_url", &self.shared.base_url)
            .field("users", &state.users.len())
            .field("policy", &state.tfa_type())
            .field("requests", &lock(&self.shared.log).len())
            .finish()
    }
}

/// Builds an [`Emulator`] with switches other than the defaults.
///
/// ```
/// use docspace_tfa::emulator::Emulator;
///
/// let portal = Emulator::builder()
///     .lenient_bearer(true) // accept the documentation example's bearer-only setup/validate
///     .attempt_limit(3)
///     .time(1_700_000_000) // a frozen clock
///     .start()?;
/// assert_eq!(portal.now(), 1_700_000_000);
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    config: Config,
    app_enabled: bool,
    time: Option<u64>,
    extras: faults::Extras,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            config: Config::default(),
            app_enabled: true,
            time: None,
            extras: faults::Extras::default(),
        }
    }
}

impl EmulatorBuilder {
    /// Accept a bearer token alone on `tfaapp/setup` and `tfaapp/validate`, acting on the
    /// token's user, as the documentation's example assumes. Default: `false`, like a real
    /// portal, which answers `403` (token only) or `401` (nothing) without a confirm ticket.
    pub fn lenient_bearer(mut self, lenient: bool) -> Self {
        self.config.lenient_bearer = lenient;
        self
    }

    /// Formerly switched between `405` and `403` for "not available". Servers from 3.5 answer
    /// `403` with an `InvalidOperationException`, which is now the default; no released server
    /// answers `405`. This setting does nothing.
    #[deprecated(
        since = "0.2.0",
        note = "`403 InvalidOperationException` is the default; see `legacy_errors` for servers up to 3.2.1"
    )]
    pub fn legacy_403(self, _legacy: bool) -> Self {
        self
    }

    /// Answer refusals and "not available" as servers up to 3.2.1 did: a plain `500`
    /// `System.Exception` with the same localized texts, and `415` `NotSupportedException`
    /// "Not available." for an outsider. Default: `false` (`403` `InvalidOperationException`,
    /// servers from 3.5 on).
    pub fn legacy_errors(mut self, legacy: bool) -> Self {
        self.config.legacy_errors = legacy;
        self
    }

    /// The culture of the server's messages (the caller's culture on a portal): `"en"`,
    /// `"de"`, `"pt-BR"`, … — any of the 30 the server is translated into, matched ignoring
    /// case. Refusals and "not available" answer in it. Default: `"en"`.
    /// [`start`](Self::start) refuses an unknown culture.
    pub fn culture(mut self, culture: impl Into<String>) -> Self {
        self.config.culture = culture.into();
        self
    }

    /// The tenant's domain, which the portal writes as the issuer of the `otpauth://` URI in
    /// the setup code's QR image. Default: `"portal.docspace.test"`, deliberately not the host
    /// of the emulator's URL (`127.0.0.1`): on a real portal the two differ whenever it is
    /// reached by IP or by another name.
    pub fn tenant_domain(mut self, domain: impl Into<String>) -> Self {
        self.config.tenant_domain = domain.into();
        self
    }

    /// Answer `GET settings/tfaapp/confirm` as older servers do: a bare URL string, with the
    /// key only in the `asc_confirm_key_<type>` cookie (`""` when TFA does not apply). Default:
    /// `false` (`{url, cookieName, cookieValue}`).
    pub fn legacy_confirm_url(mut self, legacy: bool) -> Self {
        self.config.legacy_confirm_url = legacy;
        self
    }

    /// Code checks allowed per user within a minute before the brute-force lock (`403`); also
    /// the failed logins allowed per user name. Default: 5, the portal's default.
    pub fn attempt_limit(mut self, limit: u32) -> Self {
        self.config.attempt_limit = limit;
        self
    }

    /// Whether the portal's policy starts with the authenticator-app method switched on (for
    /// everyone, no trusted IPs). Default: `true`. With `false` TFA starts off; switch it on
    /// with [`Emulator::set_policy`] or through the API.
    pub fn app_method_enabled(mut self, enabled: bool) -> Self {
        self.app_enabled = enabled;
        self
    }

    /// Whether the portal's plan offers the app method (`available` in `GET settings/tfaapp`;
    /// switching it on is refused as not available otherwise). Default: `true`.
    pub fn app_available(mut self, available: bool) -> Self {
        self.config.app_available = available;
        self
    }

    /// Whether the portal's plan offers the SMS method. Default: `true`.
    pub fn sms_available(mut self, available: bool) -> Self {
        self.config.sms_available = available;
        self
    }

    /// How long a confirm key stays valid. Default: one hour, the portal's auth-key interval.
    pub fn key_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.key_interval = lifetime.as_secs();
        self
    }

    /// How many backup codes a set has, and how long each is. Default: 5 codes of 6
    /// characters.
    pub fn backup_codes(mut self, count: usize, length: usize) -> Self {
        self.config.backup_code_count = count;
        self.config.backup_code_len = length.max(1);
        self
    }

    /// The issuer written into `otpauth://` URIs: the tenant's domain.
    #[deprecated(since = "0.2.0", note = "renamed `tenant_domain`, which it sets")]
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        self.tenant_domain(issuer)
    }

    /// Freezes the emulator's clock at a Unix time (seconds) so that codes and expiries are
    /// deterministic; move it with [`Emulator::advance`]. Default: the system clock.
    pub fn time(mut self, unix: u64) -> Self {
        self.time = Some(unix);
        self
    }

    /// Binds `127.0.0.1` on a port the OS chooses and starts serving.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a culture the server
    /// has no translation for or an empty tenant domain, and
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the socket cannot be bound or the thread
    /// cannot be started.
    pub fn start(mut self) -> Result<Emulator> {
        let culture = crate::messages::ServerMessage::cultures()
            .find(|c| c.eq_ignore_ascii_case(self.config.culture.trim()))
            .ok_or_else(|| {
                Error::invalid_input(
                    "emulator culture",
                    "the server has no translation for it (try en, de, fr, pt-BR, …)",
                )
            })?;
        self.config.culture = culture.to_owned();
        let tenant_domain = self.config.tenant_domain.trim().to_owned();
        if tenant_domain.is_empty() {
            return Err(Error::invalid_input(
                "emulator tenant domain",
                "it is empty",
            ));
        }
        self.config.tenant_domain = tenant_domain.clone();
        let io_err = |what: &str, e: String| Error::io(what.to_owned(), std::io::Error::other(e));
        let server = tiny_http::Server::http(("127.0.0.1", self.extras.port))
            .map_err(|e| io_err("start the DocSpace emulator", e.to_string()))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| io_err("start the DocSpace emulator", "no TCP address".into()))?;
        let base_url = format!("http://127.0.0.1:{port}");
        let mut state = State::new(self.config, self.app_enabled);
        if let Some(t) = self.time {
            state.clock.freeze_at(t);
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(faults::Faults::new(self.extras.faults)),
            base_url,
            tenant_domain,
        });
        let server = Arc::new(server);
        let thread = std::thread::Builder::new()
            .name("docspace-emulator".into())
            .spawn({
                let (server, shared) = (Arc::clone(&server), Arc::clone(&shared));
                move || server::serve(server, shared)
            })
            .map_err(|e| Error::io("start the DocSpace emulator thread", e))?;
        Ok(Emulator {
            shared,
            server,
            thread: Some(thread),
        })
    }
}

/// A member to add with [`Emulator::add_user`].
///
/// ```
/// use docspace_tfa::emulator::NewUser;
///
/// let owner = NewUser::new("owner@example.com", "pw").owner().name("Olga", "Owner");
/// let bot = NewUser::new("bot@example.com", "pw").tfa_mandatory();
/// ```
#[derive(Clone)]
pub struct NewUser {
    email: String,
    password: Secret,
    first_name: String,
    last_name: String,
    id: Option<String>,
    owner: bool,
    admin: bool,
    tfa_mandatory: bool,
    groups: Vec<String>,
    phone: Option<String>,
    secret: Option<Vec<u8>>,
    linked: bool,
    disabled: bool,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("password", &self.password)
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("admin", &self.admin)
            .field("tfa_mandatory", &self.tfa_mandatory)
            .field("groups", &self.groups)
            .field("phone", &self.phone.as_ref().map(|_| "***"))
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("linked", &self.linked)
            .field("disabled", &self.disabled)
            .finish()
    }
}

impl NewUser {
    /// A member who signs in with `email` and `password`; not an admin, no app linked.
    pub fn new(email: impl Into<String>, password: impl Into<Secret>) -> Self {
        let email = email.into();
        let first_name = email.split('@').next().unwrap_or_default().to_owned();
        NewUser {
            email,
            password: password.into(),
            first_name,
            last_name: String::new(),
            id: None,
            owner: false,
            admin: false,
            tfa_mandatory: false,
            groups: Vec::new(),
            phone: None,
            secret: None,
            linked: false,
            disabled: false,
        }
    }

    /// The portal owner (also an admin). One per portal.
    pub fn owner(mut self) -> Self {
        self.owner = true;
        self.admin = true;
        self
    }

    /// A portal administrator.
    pub fn admin(mut self) -> Self {
        self.admin = true;
        self
    }

    /// Names the member in the app method's `mandatoryUsers`: TFA applies to them even from a
    /// trusted IP. (With no trusted IPs, TFA applies to every member once a method is on.)
    pub fn tfa_mandatory(mut self) -> Self {
        self.tfa_mandatory = true;
        self
    }

    /// First and last name (`displayName` is both). Default: the e-mail's local part.
    pub fn name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = first.into();
        self.last_name = last.into();
        self
    }

    /// A fixed user id (a GUID). Default: a random one.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Puts the member in a group (for `mandatoryGroups`).
    pub fn group(mut self, group_id: impl Into<String>) -> Self {
        self.groups.push(group_id.into());
        self
    }

    /// An activated mobile phone (the SMS login answers `PhoneAuth` and a masked number;
    /// without one, `PhoneActivation`).
    pub fn phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }

    /// A fixed TOTP secret instead of 10 random bytes (deterministic codes in tests).
    pub fn secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// A disabled account: a login with the right password is refused with the server's
    /// `ErrorUserDisabled` text (`403` `InvalidOperationException`).
    pub fn disabled(mut self) -> Self {
        self.disabled = true;
        self
    }

    /// Starts with an authenticator app already linked (with [`secret`](Self::secret), or a
    /// random one) and a fresh set of backup codes.
    pub fn linked(mut self) -> Self {
        self.linked = true;
        self
    }
}

/// The kind of confirm ticket to mint with [`Emulator::ticket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TicketType {
    /// `TfaActivation`: setup and the first validation.
    TfaActivation,
    /// `TfaAuth`: a code check for a linked app.
    TfaAuth,
}

impl TicketType {
    fn as_str(self) -> &'static str {
        match self {
            TicketType::TfaActivation => state::TFA_ACTIVATION,
            TicketType::TfaAuth => state::TFA_AUTH,
        }
    }
}

/// A snapshot of one member's TFA state, from [`Emulator::user_state`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserState {
    /// The user id.
    pub id: String,
    /// The e-mail (the login name and the `account` of the setup code).
    pub email: String,
    /// Whether the member owns the portal.
    pub is_owner: bool,
    /// Whether the member is an admin.
    pub is_admin: bool,
    /// Whether an authenticator app is linked.
    pub linked: bool,
    /// The manual entry key of the member's secret, once one exists (it is created by the
    /// first setup or TFA-challenged login and kept until the app is unlinked).
    pub manual_entry_key: Option<Secret>,
    /// The backup codes, spent ones included.
    pub backup_codes: Vec<BackupCode>,
    /// Open sessions (logins and validations; API keys are not sessions).
    pub sessions: usize,
    /// Code checks counted in the current one-minute window.
    pub attempts: u32,
}

impl Emulator {
    /// Starts an emulator with the defaults: the app method on for everyone, strict confirm
    /// tickets, the server's `403`s in English, the tenant domain `portal.docspace.test`, 5
    /// attempts a minute, one-hour keys, the system clock. No users yet.
    ///
    /// # Errors
    ///
    /// As for [`EmulatorBuilder::start`].
    pub fn start() -> Result<Emulator> {
        EmulatorBuilder::default().start()
    }

    /// Starts an [`EmulatorBuilder`].
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The portal's base URL, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The tenant's domain: the issuer of the otpauth URI in setup codes.
    pub fn tenant_domain(&self) -> &str {
        &self.shared.tenant_domain
    }

    /// A [`Client`] for this portal, without a token (add one with
    /// [`Client::with_token`]).
    ///
    /// # Errors
    ///
    /// None in practice (the base URL is loopback); the signature follows
    /// [`ClientBuilder::build`](crate::ClientBuilder::build).
    pub fn client(&self) -> Result<Client> {
        Client::builder().base_url(self.base_url()).build()
    }

    /// Adds a member and returns their user id.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty or duplicate
    /// e-mail or id, an empty password, a second owner, or a fixed secret that is empty.
    pub fn add_user(&self, user: NewUser) -> Result<String> {
        let bad = |reason: &str| Error::invalid_input("emulator user", reason.to_owned());
        let mut state = lock(&self.shared.state);
        if user.email.trim().is_empty() {
            return Err(bad("the e-mail is empty"));
        }
        if user.password.is_empty() {
            return Err(bad("the password is empty"));
        }
        if state.user_index_by_email(&user.email).is_some() {
            return Err(bad("a member with this e-mail exists"));
        }
        if user.owner && state.users.iter().any(|u| u.is_owner) {
            return Err(bad("the portal already has an owner"));
        }
        if user.secret.as_ref().is_some_and(Vec::is_empty) {
            return Err(bad("the secret is empty"));
        }
        let id = match user.id {
            Some(id) if id.trim().is_empty() => return Err(bad("the id is empty")),
            Some(id) => id.trim().to_ascii_lowercase(),
            None => random_guid()?,
        };
        if state.user_index(&id).is_some() {
            return Err(bad("a member with this id exists"));
        }
        if user.tfa_mandatory {
            state
                .app
                .lists
                .get_or_insert_with(PolicyLists::default)
                .mandatory_users
                .push(id.clone());
        }
        state.users.push(User {
            id: id.clone(),
            email: user.email.trim().to_owned(),
            first_name: user.first_name,
            last_name: user.last_name,
            password: user.password,
            is_owner: user.owner,
            is_admin: user.admin || user.owner,
            groups: user.groups,
            phone: user.phone,
            disabled: user.disabled,
            linked: false,
            secret: user.secret,
            backup_codes: Vec::new(),
            attempts: AttemptCounter::default(),
        });
        if user.linked {
            let index = state.users.len() - 1;
            state.ensure_secret(index)?;
            state.users[index].linked = true;
            state.new_backup_codes(index)?;
        }
        Ok(id)
    }

    /// The id of the member with this e-mail.
    pub fn user_id(&self, email: &str) -> Option<String> {
        let state = lock(&self.shared.state);
        state
            .user_index_by_email(email)
            .map(|i| state.users[i].id.clone())
    }

    /// Issues a personal access token (`sk-…`) for a member. API keys are not sessions: a
    /// policy change does not revoke them, and they skip the second factor.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an unknown user id.
    pub fn issue_api_key(&self, user_id: &str) -> Result<Secret> {
        let mut state = lock(&self.shared.state);
        let user = find(&state, user_id)?;
        state.issue_api_key(user).map(Secret::new)
    }

    /// Opens a session for a member, as a completed login would, and returns its token.
    /// Sessions end when a TFA method is switched on.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an unknown user id.
    pub fn open_session(&self, user_id: &str) -> Result<Secret> {
        let mut state = lock(&self.shared.state);
        let user = find(&state, user_id)?;
        state.open_session(user).map(Secret::new)
    }

    /// Mints a confirm ticket for a member, as the portal's confirm links carry (valid for the
    /// key lifetime from the emulator's current time).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an unknown user id.
    pub fn ticket(&self, user_id: &str, ticket_type: TicketType) -> Result<ConfirmTicket> {
        let mut state = lock(&self.shared.state);
        let user = find(&state, user_id)?;
        let uid = state.users[user].id.clone();
        let t = ticket_type.as_str();
        let key = state.issue_key(t, &uid)?;
        ConfirmTicket::from_url(
            &format!("{}/confirm/{t}?type={t}&uid={uid}", self.shared.base_url),
            key,
        )
    }

    /// Replaces the portal's TFA policy directly, as an administrator would have set it before
    /// the test. Unlike `PUT settings/tfaapp`, this signs nobody out and checks nothing.
    pub fn set_policy(&self, policy: &TfaPolicy) {
        let mut state = lock(&self.shared.state);
        let lists = PolicyLists {
            trusted_ips: policy.trusted_ips.clone(),
            mandatory_users: policy.mandatory_users.clone(),
            mandatory_groups: policy.mandatory_groups.clone(),
        };
        match policy.tfa_type {
            TfaType::App => {
                state.app.save(lists);
                state.sms.switch_off();
            }
            TfaType::Sms => {
                state.sms.save(lists);
                state.app.switch_off();
            }
            _ => {
                state.app.switch_off();
                state.sms.switch_off();
            }
        }
    }

    /// The portal's current TFA policy (the switched-on method's lists).
    pub fn policy(&self) -> TfaPolicy {
        let state = lock(&self.shared.state);
        let tfa_type = state.tfa_type();
        let settings = match tfa_type {
            TfaType::Sms => &state.sms,
            _ => &state.app,
        };
        let mut policy = TfaPolicy::new(tfa_type);
        if let Some(lists) = &settings.lists {
            policy.trusted_ips = lists.trusted_ips.clone();
            policy.mandatory_users = lists.mandatory_users.clone();
            policy.mandatory_groups = lists.mandatory_groups.clone();
        }
        policy
    }

    /// A snapshot of a member's TFA state, or `None` for an unknown id.
    pub fn user_state(&self, user_id: &str) -> Option<UserState> {
        let state = lock(&self.shared.state);
        let i = state.user_index(user_id)?;
        let u = &state.users[i];
        let manual_entry_key = u
            .secret
            .as_deref()
            .and_then(|s| TotpKey::from_bytes(s).ok())
            .map(|k| k.to_base32());
        Some(UserState {
            id: u.id.clone(),
            email: u.email.clone(),
            is_owner: u.is_owner,
            is_admin: u.is_admin,
            linked: u.linked,
            manual_entry_key,
            backup_codes: u
                .backup_codes
                .iter()
                .map(|(code, used)| BackupCode {
                    is_used: *used,
                    code: Secret::new(code.clone()),
                })
                .collect(),
            sessions: state.session_count(i),
            attempts: u.attempts.current(state.now()),
        })
    }

    /// The code a member's authenticator app shows at the emulator's current time, or `None`
    /// while the member has no secret.
    pub fn current_code(&self, user_id: &str) -> Option<Secret> {
        let state = lock(&self.shared.state);
        let u = &state.users[state.user_index(user_id)?];
        let key = TotpKey::from_bytes(u.secret.as_deref()?).ok()?;
        Some(Totp::docspace().code_at(&key, state.now()))
    }

    /// The emulator's current time (Unix seconds).
    pub fn now(&self) -> u64 {
        lock(&self.shared.state).now()
    }

    /// Freezes the emulator's clock at a Unix time (seconds).
    pub fn set_time(&self, unix: u64) {
        lock(&self.shared.state).clock.freeze_at(unix);
    }

    /// Moves the emulator's clock forward (frozen or not): expire keys, end a lock, step codes.
    pub fn advance(&self, by: Duration) {
        lock(&self.shared.state).clock.advance(by.as_secs());
    }

    /// Returns to the system clock, unshifted.
    pub fn use_system_clock(&self) {
        lock(&self.shared.state).clock.resume();
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    /// How many requests matched `method path`; the path may be as sent
    /// (`settings/tfaapp/validate`) or a template (`authentication/{code}`), with or without
    /// `/api/2.0/`.
    pub fn request_count(&self, method: &str, path: &str) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.is(method, path))
            .count()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Stops the server and waits for its thread. Dropping the emulator does the same.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.server.unblock();
            let _ = thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The index of a member, or an error naming the problem.
fn find(state: &State, user_id: &str) -> Result<usize> {
    state
        .user_index(user_id)
        .ok_or_else(|| Error::invalid_input("emulator user", "no member has this id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_sync() {
        assert_send_sync::<Emulator>();
        assert_send_sync::<LoggedRequest>();
        assert_send_sync::<UserState>();
        assert_send_sync::<NewUser>();
    }

    #[test]
    fn debug_output_hides_secrets() {
        let user = NewUser::new("a@b.c", "hunter2")
            .secret(b"0123456789".to_vec())
            .phone("+1 555 0100");
        let dbg = format!("{user:?}");
        assert!(!dbg.contains("hunter2") && !dbg.contains("0123456789") && !dbg.contains("555"));
        let portal = Emulator::builder().time(1_700_000_000).start().unwrap();
        let id = portal.add_user(user.linked()).unwrap();
        let state = format!("{:?}", portal.user_state(&id).unwrap());
        for code in portal.user_state(&id).unwrap().backup_codes {
            assert!(!state.contains(code.code.expose()));
        }
        assert!(
            !state.contains("GAYTEMZUGU3DOOBZ"),
            "the base32 secret: {state}"
        );
        assert!(format!("{portal:?}").contains("127.0.0.1"));
    }

    #[test]
    fn add_user_validates() {
        let portal = Emulator::start().unwrap();
        portal.add_user(NewUser::new("o@x.y", "p").owner()).unwrap();
        for bad in [
            NewUser::new("", "p"),
            NewUser::new("n@x.y", ""),
            NewUser::new("O@X.Y", "p"),
            NewUser::new("o2@x.y", "p").owner(),
            NewUser::new("s@x.y", "p").secret(Vec::new()),
            NewUser::new("i@x.y", "p").id(" "),
        ] {
            let err = portal.add_user(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        }
        assert!(portal.issue_api_key("nobody").is_err());
        assert!(portal.user_state("nobody").is_none());
        assert_eq!(portal.user_id("O@x.y").as_deref().map(str::len), Some(36));
    }
}
