//! Link an authenticator app to a DocSpace account: the whole job, start to finish.
//!
//! ```sh
//! cargo run --example connect_authenticator
//! ```
//!
//! - With `DOCSPACE_URL` and `DOCSPACE_TOKEN` set, it links an authenticator on that portal:
//!   it gets a confirm ticket for the token's user, the setup code (account, manual key, QR
//!   image saved as a PNG), asks you for the code your app shows, validates it with the
//!   ticket, and lists the backup codes.
//! - With neither set, it starts the crate's built-in DocSpace emulator on `127.0.0.1`, adds a
//!   user for whom the authenticator app is mandatory, and runs the same flow against it, with
//!   the crate computing the code as the app would.
//!
//! The QR image is written to `DOCSPACE_QR_PNG` if set, else to `docspace-tfa-setup-qr.png` in
//! the temporary directory; against the built-in emulator that default file (it holds the
//! emulator's secret, of no use once the run ends) is removed at the end. Errors are printed on
//! stderr with a non-zero exit status.
//!
//! The emulator needs the crate's `emulator` feature; the crate's dev-dependency on itself
//! turns it on for examples, so no `--features` flag is needed.

use std::error::Error;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use docspace_tfa::{Client, ConfirmTicket, ErrorKind, SetupCode};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The crate's errors already name their cause in `Display`.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    match (var("DOCSPACE_URL"), var("DOCSPACE_TOKEN")) {
        (Some(_), Some(_)) => real_portal(),
        (None, None) => emulated_portal(),
        _ => Err(
            "set both DOCSPACE_URL and DOCSPACE_TOKEN to use your portal, or neither to \
                  run against the built-in emulator"
                .into(),
        ),
    }
}

/// Where the QR image goes: `DOCSPACE_QR_PNG`, or a file in the temporary directory.
fn qr_path() -> PathBuf {
    std::env::var_os("DOCSPACE_QR_PNG")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("docspace-tfa-setup-qr.png"))
}

/// `ABCDEFGHIJKLMNOP` → `ABCD EFGH IJKL MNOP`, as authenticator apps show keys.
fn grouped(key: &str) -> String {
    key.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The whole flow on a client that holds a bearer token: confirm → setup (with the ticket) →
/// code → validate (with the ticket) → backup codes. `read_code` plays the authenticator app.
fn link(client: &Client, read_code: impl FnOnce(&SetupCode) -> Result<String>) -> Result<()> {
    println!("[1/5] confirm ticket (GET settings/tfaapp/confirm)");
    let Some(data) = client.tfa().confirm()? else {
        return Err(
            "two-factor authentication does not apply to this account: switch the \
                    authenticator-app method on in the portal's security settings"
                .into(),
        );
    };
    let ticket = ConfirmTicket::from_confirm_data(&data)?;
    if ticket.is_tfa_auth() {
        return Err(
            "an authenticator app is already linked to this account; unlink it first \
                    (PUT settings/tfaappnewapp, or `docspace-tfa unlink`)"
                .into(),
        );
    }
    println!(
        "      {} ticket for user {}",
        ticket.confirm_type(),
        ticket.uid()
    );

    println!("[2/5] setup code (GET settings/tfaapp/setup, Confirm header)");
    let setup = client.tfa().setup_with(&ticket)?;
    println!("      account:    {}", setup.account);
    println!(
        "      manual key: {}",
        grouped(setup.manual_entry_key.expose())
    );
    save_qr(&setup)?;

    println!("[3/5] code from the authenticator app");
    let code = read_code(&setup)?;

    println!("[4/5] validate (POST settings/tfaapp/validate, Confirm header)");
    let validation = match client.tfa().validate_with(&ticket, &code) {
        Ok(v) => v,
        Err(e) if e.kind() == ErrorKind::InvalidCode => {
            return Err(
                format!("the portal rejected the code ({e}); check the phone's clock").into(),
            )
        }
        Err(e) if e.kind() == ErrorKind::RateLimited => {
            return Err(format!("too many attempts ({e}); wait a minute and run again").into())
        }
        Err(e) => return Err(e.into()),
    };
    if validation.first_activation {
        println!("      accepted: first activation, the authenticator app is now linked");
    } else {
        println!(
            "      accepted, but not a first activation: the app was already linked (or the \
             portal's app method is off)"
        );
    }

    println!("[5/5] backup codes (GET settings/tfaappcodes)");
    let codes = client.tfa().backup_codes()?;
    for c in &codes {
        let used = if c.is_used { " (used)" } else { "" };
        println!("      {}{used}", c.code.expose());
    }
    println!("      store them somewhere safe: each one replaces a code once");
    Ok(())
}

/// Saves the QR image (feature `totp`, which the emulator implies).
#[cfg(feature = "totp")]
fn save_qr(setup: &SetupCode) -> Result<()> {
    let path = qr_path();
    setup.save_qr_png(&path)?;
    println!(
        "      QR code:    saved to {} (scan it with the app; delete it afterwards)",
        path.display()
    );
    Ok(())
}

#[cfg(not(feature = "totp"))]
fn save_qr(_: &SetupCode) -> Result<()> {
    println!("      QR code:    not saved (this build has no `totp` feature)");
    Ok(())
}

/// Against `DOCSPACE_URL` with `DOCSPACE_TOKEN`: the code comes from the person's app.
fn real_portal() -> Result<()> {
    let client = Client::from_env()?;
    println!("Linking an authenticator app on {}", client.base_url());
    link(&client, |_| {
        print!("      enter the 6-digit code your app shows: ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line)?;
        if read == 0 || line.trim().is_empty() {
            return Err("no code was entered".into());
        }
        Ok(line.trim().to_owned())
    })
}

/// Against the built-in emulator: the crate computes the code from the manual key.
#[cfg(feature = "emulator")]
fn emulated_portal() -> Result<()> {
    use docspace_tfa::emulator::{Emulator, NewUser};
    use docspace_tfa::totp::Totp;

    println!("No DOCSPACE_URL/DOCSPACE_TOKEN set: running against the built-in DocSpace emulator.");
    let portal = Emulator::start()?;
    // The default QR file holds this emulator's secret: removed at the end, whatever happens
    // (a path named in DOCSPACE_QR_PNG is the caller's, and stays).
    let _cleanup = (std::env::var_os("DOCSPACE_QR_PNG").is_none()).then(|| RemoveOnDrop(qr_path()));
    let email = "john.doe@example.com";
    let id = portal.add_user(
        NewUser::new(email, "emulated-password")
            .name("John", "Doe")
            .tfa_mandatory(),
    )?;
    let client = portal.client()?.with_token(portal.issue_api_key(&id)?);
    println!(
        "      portal {} with user {email} (authenticator app mandatory), API key issued",
        portal.base_url()
    );
    link(&client, |setup| {
        let key = setup.totp_key()?;
        let totp = Totp::docspace();
        let now = portal.now();
        let code = totp.code_at(&key, now);
        println!(
            "      computed like the app would: {} (valid {} more seconds)",
            code.expose(),
            totp.seconds_left(now)
        );
        Ok(code.expose().to_owned())
    })?;
    println!(
        "Done: {} requests reached the emulator, {} of them validations.",
        portal.requests().len(),
        portal.request_count("POST", "settings/tfaapp/validate")
    );
    Ok(())
}

/// Removes a file when dropped (if it exists), and says so.
#[cfg(feature = "emulator")]
struct RemoveOnDrop(PathBuf);

#[cfg(feature = "emulator")]
impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if std::fs::remove_file(&self.0).is_ok() {
            println!(
                "      removed {} (the emulator's QR image)",
                self.0.display()
            );
        }
    }
}

#[cfg(not(feature = "emulator"))]
fn emulated_portal() -> Result<()> {
    Err(
        "no portal configured (DOCSPACE_URL, DOCSPACE_TOKEN) and this build has no emulator: \
         run `cargo run --example connect_authenticator --features emulator`"
            .into(),
    )
}
