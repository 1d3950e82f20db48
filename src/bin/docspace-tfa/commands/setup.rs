//! `code`, `setup` and `validate`: the authenticator's side of linking an app — a code from a
//! key, the setup code (with its QR code for a terminal or a PNG file), a code checked.

use std::path::Path;

use docspace_tfa::totp::{Totp, TotpKey};
use docspace_tfa::{Client, ConfirmTicket, Secret, SetupCode};
use serde_json::json;

use crate::output::{Failure, Out};

type Result<T> = std::result::Result<T, Failure>;

/// `code`: the TOTP code of a key now (or at `--at`), and how long it stays valid.
pub fn code(out: &Out, key: &str, at: Option<u64>) -> Result<()> {
    let key = TotpKey::from_base32(key)?;
    let totp = Totp::docspace();
    let now = at.unwrap_or_else(docspace_tfa::totp::unix_now);
    let code = totp.code_at(&key, now);
    let left = totp.seconds_left(now);
    if out.json {
        out.json(&json!({"code": code.expose(), "validForSeconds": left}));
    } else {
        out.line(code.expose());
    }
    Ok(())
}

/// `setup`: the setup code, with a confirm ticket or the token alone; `--qr-png` saves the
/// image.
pub fn setup(
    out: &Out,
    client: &Client,
    ticket: Option<&ConfirmTicket>,
    qr_png: Option<&Path>,
) -> Result<()> {
    let setup = match ticket {
        Some(t) => client.tfa().setup_with(t)?,
        None => client.tfa().setup()?,
    };
    // The QR image's own text, byte for byte; built from the base URL only when the image
    // cannot be read.
    let uri = setup
        .otpauth_uri_text(client.base_url())
        .map_err(Failure::from_setup_answer)?;
    if let Some(path) = qr_png {
        setup
            .save_qr_png(path)
            .map_err(Failure::from_setup_answer)?;
    }
    if out.json {
        out.json(&json!({
            "account": setup.account,
            "manualEntryKey": setup.manual_entry_key.expose(),
            "qrCodeSetupImageUrl": setup.qr_code_setup_image_url.expose(),
            "otpauthUri": uri.expose(),
        }));
        return Ok(());
    }
    print_setup(out, &setup, &uri, qr_png);
    Ok(())
}

/// The human-readable setup: account, key, URI, where the PNG went, and a terminal QR code.
pub fn print_setup(out: &Out, setup: &SetupCode, uri: &Secret, qr_png: Option<&Path>) {
    out.field("account", &setup.account);
    out.field("manual key", setup.manual_entry_key.expose());
    out.field("otpauth URI", uri.expose());
    if let Some(path) = qr_png {
        out.field("QR image", path.display().to_string());
    }
    if out.interactive() {
        if let Some(qr) = terminal_qr(uri.expose()) {
            out.line(qr);
        }
    }
}

/// The otpauth URI as a QR code in Unicode half blocks, for a terminal.
fn terminal_qr(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// `validate`: checks a code, with a confirm ticket or the token alone.
pub fn validate(
    out: &Out,
    client: &Client,
    ticket: Option<&ConfirmTicket>,
    code: &str,
) -> Result<()> {
    let v = match ticket {
        Some(t) => client.tfa().validate_with(t, code)?,
        None => client.tfa().validate(code)?,
    };
    if out.json {
        out.json(&json!({"valid": true, "firstActivation": v.first_activation}));
    } else if v.first_activation {
        out.line("valid: the authenticator app is now linked");
    } else {
        out.line("valid: the app was already linked (or the app method is off)");
    }
    Ok(())
}
