//! The portal's members as a test sees them: [`NewUser`] (whom to add), [`UserState`] (a
//! snapshot of one member's TFA state), [`TicketType`], and the handle's calls about members —
//! adding them, their API keys, sessions, confirm tickets and current codes.

use std::fmt;

use super::attempts::AttemptCounter;
use super::handle::Emulator;
use super::policy::PolicyLists;
use super::random::random_guid;
use super::server::lock;
use super::state::{State, User};
use super::tickets::{confirm_url, phone_confirm_url, PHONE_ACTIVATION, TFA_ACTIVATION, TFA_AUTH};
use crate::confirm::ConfirmTicket;
use crate::error::{Error, Result};
use crate::models::BackupCode;
use crate::secret::Secret;
use crate::totp::{Totp, TotpKey};

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

    /// An activated mobile phone, kept as digits only (the SMS login sends a code and answers
    /// a masked number; without one, it answers a `PhoneActivation` confirm URL).
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
    /// `PhoneActivation`: setting the phone of an SMS login (`POST authentication/setphone`);
    /// the key travels in the URL and the user is named by `encemail`.
    PhoneActivation,
}

impl TicketType {
    fn as_str(self) -> &'static str {
        match self {
            TicketType::TfaActivation => TFA_ACTIVATION,
            TicketType::TfaAuth => TFA_AUTH,
            TicketType::PhoneActivation => PHONE_ACTIVATION,
        }
    }
}

/// A snapshot of one member's TFA state, from [`Emulator::user_state`].
///
/// `Debug` shows no secret: the key and codes are [`Secret`]s, the phone is masked.
#[derive(Clone, PartialEq, Eq)]
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
    /// The mobile phone as stored (digits only), if any.
    pub phone: Option<String>,
    /// Whether the phone is activated (a code sent to it was checked).
    pub phone_activated: bool,
}

impl std::fmt::Debug for UserState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserState")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("is_owner", &self.is_owner)
            .field("is_admin", &self.is_admin)
            .field("linked", &self.linked)
            .field("manual_entry_key", &self.manual_entry_key)
            .field("backup_codes", &self.backup_codes)
            .field("sessions", &self.sessions)
            .field("attempts", &self.attempts)
            .field(
                "phone",
                &self.phone.as_deref().map(crate::phone::mask_phone),
            )
            .field("phone_activated", &self.phone_activated)
            .finish()
    }
}

impl Emulator {
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
        // Stored as `setphone` stores it: digits only (`SmsSender.cs:65-70` in the server).
        let phone = user
            .phone
            .map(|p| crate::phone::phone_digits(&p))
            .filter(|p| !p.is_empty());
        if user.tfa_mandatory {
            state
                .app
                .lists
                .get_or_insert_with(PolicyLists::default)
                .mandatory_users
                .push(id.clone());
        }
        let index = state.push_user(User {
            id: id.clone(),
            email: user.email.trim().to_owned(),
            first_name: user.first_name,
            last_name: user.last_name,
            password: user.password,
            is_owner: user.owner,
            is_admin: user.admin || user.owner,
            groups: user.groups,
            phone_activated: phone.is_some(),
            phone,
            disabled: user.disabled,
            linked: false,
            secret: user.secret,
            backup_codes: Vec::new(),
            attempts: AttemptCounter::default(),
        });
        if user.linked {
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
    /// Sessions end when a TFA method is switched on, or at a logout that names them in the
    /// `asc_auth_key` cookie.
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
        if ticket_type == TicketType::PhoneActivation {
            let email = &state.users[user].email;
            let url = phone_confirm_url(&self.shared.base_url, t, &key, email);
            return ConfirmTicket::from_url(&url, "");
        }
        ConfirmTicket::from_url(&confirm_url(&self.shared.base_url, t, &uid), key)
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
            phone: u.phone.clone(),
            phone_activated: u.phone.is_some() && u.phone_activated,
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
