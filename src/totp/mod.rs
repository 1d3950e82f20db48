//! Be the authenticator app: TOTP codes, `otpauth://` URIs and the QR image (feature `totp`).
//!
//! A program that links an authenticator for a service account, or a test that walks the real
//! flow, needs to do what the phone app does: read the secret the portal hands out and compute
//! the codes from it. This module does that, with HMAC-SHA1 from RustCrypto and nothing
//! hand-written:
//!
//! - [`TotpKey`]: the shared secret, parsed from the portal's `manualEntryKey` (RFC 4648 base32)
//!   as leniently as apps parse it.
//! - [`Totp`]: RFC 6238 codes (HMAC-SHA1, 6 digits, 30-second steps, T0 = 0, as the portal uses
//!   them; other digit counts and steps for completeness), the seconds left in a step, and a
//!   constant-time check within a ±N-step window. [`hotp`] is the RFC 4226 code underneath.
//! - [`OtpAuthUri`]: the `otpauth://totp/<issuer>:<account>?secret=…&issuer=…` URI that the
//!   portal's QR code encodes, built and parsed byte for byte as the portal writes it.
//! - [`SetupCode::qr_uri`](crate::SetupCode::qr_uri): the exact URI, read from the QR image as
//!   an app reads it (a pure-Rust QR reader); [`SetupCode::otpauth_uri`](crate::SetupCode::otpauth_uri)
//!   falls back to building it when the image cannot be read.
//! - [`decode_png_data_url`] and [`SetupCode::qr_png`](crate::SetupCode::qr_png) /
//!   [`SetupCode::save_qr_png`](crate::SetupCode::save_qr_png): the QR image as PNG bytes or a file.
//!
//! # The flow: get the setup code → save the QR → compute the code → validate
//!
//! ```no_run
//! use docspace_tfa::totp::Totp;
//! use docspace_tfa::Client;
//!
//! let client = Client::from_env()?; // DOCSPACE_URL, DOCSPACE_TOKEN
//!
//! // 1. The setup code: account label, manual entry key, QR image.
//! let setup = client.tfa().setup()?;
//! println!("account: {}", setup.account);
//!
//! // 2. The QR image, for a person who wants the account in their phone app too.
//! setup.save_qr_png("qr.png")?;
//! let uri = setup.otpauth_uri(client.base_url())?; // what the QR code encodes, read from it
//! println!("issuer: {}", uri.issuer);
//!
//! // 3. The code the app would show now.
//! let code = Totp::docspace().code_now(&setup.totp_key()?);
//!
//! // 4. Validate it: the first valid code links the authenticator.
//! let validation = client.tfa().validate(code.expose())?;
//! println!("linked: {}", validation.first_activation);
//! # Ok::<(), docspace_tfa::Error>(())
//! ```
//!
//! On a real portal `setup` and `validate` need a confirm ticket
//! ([`Tfa::setup_with`](crate::Tfa::setup_with), [`Tfa::validate_with`](crate::Tfa::validate_with));
//! the authenticator part is the same. Keep the key if the program must log in again later:
//! [`Authentication::login_with_code`](crate::Authentication::login_with_code) takes a code computed the same way.
//!
//! # Security notes
//!
//! - **Key size.** DocSpace secrets are 80 bits (10 bytes, 16 base32 characters), below the
//!   128 bits RFC 4226 requires and the 160 it recommends; several TOTP crates refuse them as
//!   "too small". This module accepts them, because the portal decides. Protect the key (and
//!   the QR image, which encodes it) accordingly.
//! - **Secrets stay hidden.** Keys, URIs and codes are redacted in `Debug`
//!   ([`TotpKey`] prints `TotpKey("***", 10 bytes)`, codes and URIs are [`Secret`](crate::Secret)s),
//!   none of these types implements `Display`, and no error message contains a key, a URI or
//!   the image data.
//! - **Time.** Codes depend on the clock. The portal accepts codes within five minutes of its
//!   own time (±10 steps); a machine whose clock is further off computes codes the portal
//!   refuses.
//!
//! # Errors
//!
//! Every failure is a [`crate::Error`]: of kind [`InvalidInput`](crate::ErrorKind::InvalidInput)
//! for a bad key, URI or image URL (decoding problems of the image URL included: the value is
//! checked before use, nothing was sent), and of kind [`Io`](crate::ErrorKind::Io) when the
//! image cannot be written.

mod clock;
mod code;
mod finders;
mod key;
mod link;
mod login;
mod otpauth;
mod private_file;
mod qr;
pub(crate) mod scan;
mod setup;

use std::time::{SystemTime, UNIX_EPOCH};

pub use clock::{Clock, SystemClock, SEND_MARGIN_SECONDS};
pub use code::{hotp, Totp, MAX_DIGITS, MAX_WINDOW_STEPS, MIN_DIGITS};
pub use key::TotpKey;
pub use otpauth::OtpAuthUri;
pub use qr::{decode_png_data_url, PNG_SIGNATURE};

/// The current time in whole seconds since the Unix epoch, from the system clock; `0` if the
/// clock is set before 1970.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
