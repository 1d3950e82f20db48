//! [`EmulatorBuilder`]: the switches an emulator starts with, and starting it (checking the
//! switches, binding the socket, spawning the server thread).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::faults::{Fault, Faults};
use super::handle::Emulator;
use super::server::{self, Shared};
use super::state::{Config, State};
use crate::error::{Error, Result};

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
    port: u16,
    faults: Vec<Fault>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            config: Config::default(),
            app_enabled: true,
            time: None,
            port: 0,
            faults: Vec::new(),
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

    /// Whether the portal offers the SMS method: it has an SMS provider (and the plan allows
    /// it). Default: `false`, as on a portal without an SMS provider, the common case (a
    /// self-hosted install's default): `GET settings/tfaapp` lists SMS with
    /// `available: false` and switching it on is refused (`SmsNotAvailable`).
    /// [`Emulator::set_policy`](crate::emulator::Emulator::set_policy) with SMS turns this on,
    /// since a portal whose policy is SMS has a provider.
    pub fn sms_available(mut self, available: bool) -> Self {
        self.config.sms_available = available;
        self
    }

    /// The version `GET settings/version/build` answers (`docSpace`). Default: `3.7.2`, the
    /// release the emulator's behaviours are read from.
    pub fn server_version(mut self, version: impl Into<String>) -> Self {
        self.config.server_version = version.into();
        self
    }

    /// Whether the server's `phoneNoise` defect is modelled: masking a number of 10 or more
    /// digits throws (`SmsSender.cs:95` in the server), so `setphone`, `sendsms` and the SMS
    /// login send the code and answer `400 System.ArgumentOutOfRangeException`, and a right
    /// code at `authentication/{code}` activates the phone and opens a session yet answers
    /// `401`. Default: `true`, as on every released server (3.7.2, the 3.8 branch,
    /// `develop`); `false` is a fixed server (`+1234***8901`).
    pub fn phone_noise_defect(mut self, defect: bool) -> Self {
        self.config.phone_noise_defect = defect;
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

    /// Listen on this port of `127.0.0.1` instead of one the OS chooses (`0`, the default).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How far from the emulator's clock a TOTP code may be, in 30-second steps each way.
    /// Default: 10 (±5 minutes), as the portal checks; `0` accepts only the current step,
    /// which makes a code sent at the end of its step fail (for testing clients' timing).
    pub fn code_window(mut self, steps: u64) -> Self {
        self.config.window_steps = steps.min(crate::totp::MAX_WINDOW_STEPS);
        self
    }

    /// Starts with this fault rule (see [`Emulator::add_fault`]).
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
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
                let known: Vec<&str> = crate::messages::ServerMessage::cultures().collect();
                Error::invalid_input(
                    "emulator culture",
                    format!(
                        "the server has no translation for it; its cultures are {}",
                        known.join(", ")
                    ),
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
        let listener = std::net::TcpListener::bind(("127.0.0.1", self.port))
            .map_err(|e| io_err("start the DocSpace emulator", e.to_string()))?;
        // Answers go out at once, as from a portal's web server: accepted connections inherit
        // TCP_NODELAY from the listener (Linux, the BSDs and macOS copy it). Without it, an
        // answer tiny_http writes in two parts waits for the client's delayed ACK.
        let _ = socket2::SockRef::from(&listener).set_tcp_nodelay(true);
        let server = tiny_http::Server::from_listener(listener, None)
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
            faults: Mutex::new(Faults::new(self.faults)),
            base_url,
            tenant_domain,
            per_connection: Mutex::new(std::collections::HashMap::new()),
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
}
