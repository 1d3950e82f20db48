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
//! The SMS factor is served with an SMS provider stand-in whose outbox a test reads
//! ([`Emulator::sms_outbox`], or `GET /_emulator/sms` from any language), and the server's
//! `phoneNoise` defect on by default ([`EmulatorBuilder::phone_noise_defect`]).
//!
//! What it models and what it leaves out is in `docs/emulator.md` in the repository. In
//! short: no e-mail, no quotas or payments, no other API; one portal per
//! emulator; state in memory only.

// The rooms, from the bottom up: each imports only rooms listed before it, so there is no
// circle and no arrow running back up (the map, with what each room owns, is in
// `docs/emulator.md`, "How the emulator is built"). This file only declares them and
// re-exports the public types.
// 1. leaves: `clock`, `random`, `qr`, `attempts` (the brute-force counter), `policy` (method
//    settings, whom TFA applies to), `tickets` (confirm keys), `smscodes` (SMS codes, their
//    checks, the outbox), `http` (request, answer, envelope, body fields);
// 2. `state`: members, sessions, API keys, the switches; it holds the pieces of floor 1;
// 3. `rules` (the TFA rules: secret, code check, backup codes, unlink), `refusals` (error
//    bodies in the server's words), `creds` (credentials in, cookies out, whom a request acts
//    for);
// 4. the endpoints: `sms` (the SMS branch of the login and of the code login, setphone,
//    sendsms, the outbox route), `login`, `settings` (the policy), `authenticator` (setup,
//    validate, codes, unlink), `session` (signed in?, logout, confirm-link checks);
// 5. `routes` (the routing table and dispatch);
// 6. `log` (the request log), `faults` (injected failures), then `server` (the HTTP loop);
// 7. the public handle: `handle` (`Emulator`), then `builder` (`EmulatorBuilder`, starting)
//    and `members` (`NewUser`, `UserState`, `TicketType`, the calls about members).
mod attempts;
mod authenticator;
mod builder;
mod clock;
mod creds;
mod faults;
mod handle;
mod http;
mod log;
mod login;
mod members;
mod policy;
mod qr;
mod random;
mod refusals;
mod routes;
mod rules;
mod server;
mod session;
mod settings;
mod sms;
mod smscodes;
mod state;
mod tickets;

pub use self::builder::EmulatorBuilder;
pub use self::faults::Fault;
pub use self::handle::Emulator;
pub use self::log::{LoggedConfirm, LoggedRequest};
pub use self::members::{NewUser, TicketType, UserState};
pub use self::smscodes::SentSms;
