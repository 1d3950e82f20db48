//! A blocking, minimal-dependency client for the two-factor-authentication (TFA) API of
//! ONLYOFFICE DocSpace.
//!
//! Link an authenticator app (Google Authenticator, Authy, …) to a DocSpace account, check
//! codes, manage the portal's TFA policy and backup codes, and log in with a second factor,
//! from synchronous Rust with no async runtime. Built on [`ureq`](https://docs.rs/ureq) 3,
//! `serde` and `thiserror`.
//!
//! # Quick start
//!
//! The two steps of the documentation's example, with a bearer token:
//!
//! ```no_run
//! use docspace_tfa::Client;
//!
//! let client = Client::builder()
//!     .base_url("https://portal.example.com")
//!     .token("sk-your-api-key")
//!     .build()?;
//!
//! // Step 1: what the authenticator app needs.
//! let setup = client.tfa().setup()?;
//! println!("account: {}", setup.account);
//! println!("manual key: {}", setup.manual_entry_key.expose());
//!
//! // Step 2: the first code the app shows.
//! let validation = client.tfa().validate("123456")?;
//! if validation.first_activation {
//!     println!("authenticator linked");
//! }
//! # Ok::<(), docspace_tfa::Error>(())
//! ```
//!
//! # How a real portal differs from the documentation
//!
//! A real portal guards `tfaapp/setup` and `tfaapp/validate` with a **confirm ticket**, not
//! with the bearer token. [`Tfa::setup`] and [`Tfa::validate`] therefore fetch the caller's own
//! ticket first ([`Tfa::link`] does the whole flow in one call); with the ticket in hand:
//!
//! ```no_run
//! use docspace_tfa::{Client, ConfirmTicket};
//!
//! let client = Client::from_env()?; // DOCSPACE_URL, DOCSPACE_TOKEN
//! let data = client.tfa().confirm()?.expect("TFA applies to this user");
//! let ticket = ConfirmTicket::from_confirm_data(&data)?;
//! let setup = client.tfa().setup_with(&ticket)?;
//! // … the user adds `setup` to the app and reads a code …
//! let validation = client.tfa().validate_with(&ticket, "123456")?;
//! # Ok::<(), docspace_tfa::Error>(())
//! ```
//!
//! and `validate`'s `false` is **not** "invalid code": it means the app was already linked (or
//! the app method is off); a wrong code is an error of kind [`ErrorKind::InvalidCode`]. A
//! headless login ([`Authentication::login`]) hands out the ticket itself. `docs/flow.md` in the
//! repository walks through all three flows.
//!
//! # Errors
//!
//! Every call returns [`Result<T, Error>`](Error). `Error` is opaque: match on
//! [`Error::kind`], and read the rest through its accessors ([`Error::status`],
//! [`Error::server_message`], [`Error::retry_after`], [`Error::advice`], …). Its `Display`
//! says what failed and, where the answer tells, what to do next (an [`Advice`]: a refused
//! token, a base URL with a path, a host name that does not resolve, the portal's attempt
//! lock); its `Debug` is that line with the kind, operation and status, so `main() ->
//! Result<(), Error>` prints something a person can read:
//!
//! ```no_run
//! use docspace_tfa::{Client, ErrorKind};
//! # let client = Client::from_env()?;
//! match client.tfa().validate("123456") {
//!     Ok(v) => println!("accepted, first activation: {}", v.first_activation),
//!     Err(e) if e.kind() == ErrorKind::InvalidCode => println!("wrong code"),
//!     Err(e) if e.kind() == ErrorKind::RateLimited => println!("locked for a minute"),
//!     Err(e) => return Err(e),
//! }
//! # Ok::<(), docspace_tfa::Error>(())
//! ```
//!
//! # Secrets
//!
//! Tokens, passwords, confirm keys, manual entry keys and backup codes are [`Secret`]s: their
//! `Debug` output is `Secret("***")` and no error message contains them.
//!
//! # Cargo features
//!
//! The default build has no optional feature and depends only on `ureq`, `serde`,
//! `serde_json`, `thiserror` (and `percent-encoding`, already in `ureq`'s tree).
//!
//! - **`totp`**: be the authenticator app. The `totp` module computes TOTP codes (RFC 6238,
//!   as the portal checks them) from a setup code's key, builds and parses the `otpauth://`
//!   URI, and decodes or saves the QR image; it adds `SetupCode::totp_key`, `otpauth_uri`,
//!   `qr_png` and `save_qr_png`. Adds `hmac`, `sha1` and `data-encoding` (`base64` and
//!   `subtle` are already in `ureq`'s tree).
//! - **`emulator`** (implies `totp`): an embedded emulator of a DocSpace portal's TFA
//!   endpoints for your own tests and demos — a stateful HTTP/1.1 server on `127.0.0.1`
//!   (threads, no async runtime) with users, the policy, tokens, confirm tickets, TOTP checks,
//!   backup codes, the attempt limit and a request log. See the `emulator` module and
//!   `docs/emulator.md`. Adds `tiny_http`, `qrcode` and `png`.
//! - **`platform-verifier`**: `TlsRoots::Platform` trusts the operating system's certificate
//!   store (ureq's platform verifier) instead of the bundled Mozilla roots. Adds
//!   `rustls-platform-verifier` (3 crates on Linux). Without it, a portal behind an internal CA
//!   is reached with [`ClientBuilder::add_root_certificates_pem`].
//!
//! # How the crate is built
//!
//! A straight tower of small modules, each importing only from the floors below it: leaves
//! (`secret`, `text`, `escapes`, `messages`, `resolver`, `retry`, `kind`, `phone`,
//! `trusted_ip`) → `error` → `models`, `confirm`, `input` → `request`, `redact`, `answer`, `guard`,
//! `tls`, `proxy` → `config` → `client` → the handlers (`tfa`, `auth`, `session`, `people`,
//! `link`, `doctor`) → `totp` → `emulator` and the CLI. `docs/architecture.md` in the
//! repository maps each room and what it owns.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod answer;
mod auth;
mod client;
mod config;
mod confirm;
pub mod doctor;
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;
mod error;
mod escapes;
mod guard;
mod input;
mod kind;
mod link;
mod messages;
mod models;
mod people;
mod phone;
#[cfg(test)]
mod properties;
#[cfg(feature = "totp")]
#[cfg_attr(docsrs, doc(cfg(feature = "totp")))]
pub mod provision;
mod proxy;
mod redact;
mod request;
mod resolver;
mod retry;
mod secret;
mod session;
mod text;
mod tfa;
mod tls;
#[cfg(feature = "totp")]
#[cfg_attr(docsrs, doc(cfg(feature = "totp")))]
pub mod totp;
mod trusted_ip;
mod typed;

pub use auth::{Authentication, LoginOutcome};
pub use client::Client;
pub use config::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, USER_AGENT,
};
pub use proxy::Proxy;
pub use tls::TlsRoots;
/// The answer-handling path without the network, for `fuzz/` only (`--cfg fuzzing`).
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
pub use confirm::ConfirmTicket;
pub use error::{Advice, Error, ErrorKind, Result};
pub use input::{normalize_code, normalize_phone, MAX_CODE_LEN};
pub use messages::ServerMessage;
pub use models::{
    BackupCode, ConfirmData, Linked, Me, Session, SetupCode, SmsSent, TfaMethod, TfaMethodId,
    TfaPolicy, TfaType, Validation,
};
pub use people::People;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use session::{ConfirmCheck, ConfirmResult, LoggedOut};
pub use tfa::Tfa;
pub use trusted_ip::{check_trusted_ip, TrustedIpVerdict};

/// The README's code blocks, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The Rust block of `docs/provisioning.md`, compiled as a doc test.
#[cfg(all(doctest, feature = "totp"))]
#[doc = include_str!("../docs/provisioning.md")]
pub struct ProvisioningDoctests;
