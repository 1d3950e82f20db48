//! [`Emulator`], the handle of a running emulator: its address, a client for it, the portal's
//! policy, the clock, the request log, faults, and stopping. Starting it is in
//! [`builder`](super::builder); the calls about members are in [`members`](super::members).

use std::fmt;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::faults::Fault;
use super::log::LoggedRequest;
use super::policy::PolicyLists;
use super::server::{lock, Shared};
use super::smscodes::SentSms;
use crate::client::Client;
use crate::error::Result;
use crate::models::{TfaPolicy, TfaType};
use crate::secret::Secret;

/// A running emulator. Stops when dropped (or with [`stop`](Self::stop)).
///
/// Every method takes `&self`: share it between a test and helper threads freely.
pub struct Emulator {
    pub(super) shared: Arc<Shared>,
    pub(super) server: Arc<tiny_http::Server>,
    pub(super) thread: Option<JoinHandle<()>>,
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

impl Emulator {
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

    /// Replaces the portal's TFA policy directly, as an administrator would have set it before
    /// the test. Unlike `PUT settings/tfaapp`, this signs nobody out and checks nothing — so it
    /// can save a malformed trusted IP, which the library refuses to send, to put the portal in
    /// the state where every login answers `500` (`docs/emulator.md`, "Trusted IPs"). An SMS
    /// policy also makes the SMS method available
    /// ([`sms_available`](crate::emulator::EmulatorBuilder::sms_available)): such a portal has
    /// an SMS provider.
    pub fn set_policy(&self, policy: &TfaPolicy) {
        let mut state = lock(&self.shared.state);
        let lists = PolicyLists {
            trusted_ips: policy.trusted_ips.iter().cloned().map(Some).collect(),
            mandatory_users: policy.mandatory_users.clone(),
            mandatory_groups: policy.mandatory_groups.clone(),
        };
        match policy.tfa_type {
            TfaType::App => {
                state.app.save(lists);
                state.switch_sms_off_if_provided();
            }
            TfaType::Sms => {
                state.config.sms_available = true;
                state.config.sms_provider = true;
                state.sms.save(lists);
                state.app.switch_off();
            }
            _ => {
                state.app.switch_off();
                state.switch_sms_off_if_provided();
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
            policy.trusted_ips = lists.trusted_ips.iter().flatten().cloned().collect();
            policy.mandatory_users = lists.mandatory_users.clone();
            policy.mandatory_groups = lists.mandatory_groups.clone();
        }
        policy
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

    /// Every text message the SMS provider stand-in sent, oldest first: the number (digits),
    /// the code, the text `Code: NNNNNN` and the time on the emulator's clock. The same list is
    /// served as JSON at `GET /_emulator/sms` ([`sms_outbox_url`](Self::sms_outbox_url)).
    pub fn sms_outbox(&self) -> Vec<SentSms> {
        lock(&self.shared.state).sms_codes.outbox().to_vec()
    }

    /// The newest code sent to `phone` (any formatting; compared by digits), if any.
    pub fn last_sms_code(&self, phone: &str) -> Option<Secret> {
        let digits = crate::phone::phone_digits(phone);
        lock(&self.shared.state)
            .sms_codes
            .outbox()
            .iter()
            .rev()
            .find(|m| m.phone == digits)
            .map(|m| m.code.clone())
    }

    /// Empties the SMS outbox (the codes stay valid).
    pub fn clear_sms_outbox(&self) {
        lock(&self.shared.state).sms_codes.clear_outbox();
    }

    /// The URL of the SMS outbox, `{base_url}/_emulator/sms`: a route a real portal does not
    /// have, answering `{"messages": [{"phone", "code", "text", "sentAt"}]}`.
    pub fn sms_outbox_url(&self) -> String {
        format!("{}{}", self.shared.base_url, super::sms::OUTBOX_PATH)
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

    /// Adds a fault rule: matching requests are answered with its status (empty body) and
    /// not handled; they still appear in the request log.
    pub fn add_fault(&self, fault: Fault) {
        lock(&self.shared.faults).add(fault);
    }

    /// Answers the next `n` requests, whatever they are, with `status` (empty body).
    pub fn fail_next(&self, n: u32, status: u16) {
        self.add_fault(Fault::status(status).times(n));
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::{NewUser, UserState};

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_sync() {
        assert_send_sync::<Emulator>();
        assert_send_sync::<LoggedRequest>();
        assert_send_sync::<UserState>();
        assert_send_sync::<NewUser>();
    }
}
