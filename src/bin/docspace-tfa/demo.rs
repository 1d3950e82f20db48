//! `docspace-tfa demo`: the main job, start to finish, against the built-in emulator (features
//! `cli` and `emulator`; no network, no account, no dev-dependencies to build).
//!
//! It starts the emulator in this process, adds a user for whom the authenticator app is
//! mandatory, and links an authenticator for them with the two calls of the API documentation
//! page as a real portal needs them: the caller's ticket (`GET settings/tfaapp/confirm`), the
//! setup code with it (account, manual key, otpauth URI, the QR code in a terminal), the code an
//! authenticator app would show (computed here from the manual key at the emulator's time),
//! validate with the ticket, and the new backup codes. `examples/connect_authenticator.rs` is
//! the same job written for library users.

use docspace_tfa::emulator::{Emulator, NewUser};
use docspace_tfa::totp::Totp;
use docspace_tfa::ConfirmTicket;
use serde_json::json;

use crate::commands::setup::print_setup;
use crate::output::{Failure, Out};

type Result<T> = std::result::Result<T, Failure>;

/// The demo user.
const EMAIL: &str = "john.doe@example.com";

/// Runs the demo and prints what each step got; in `--json` mode one JSON document at the end.
pub fn run(out: &Out) -> Result<()> {
    let portal = Emulator::start()?;
    let id = portal.add_user(
        NewUser::new(EMAIL, "demo-password")
            .name("John", "Doe")
            .tfa_mandatory(),
    )?;
    let client = portal.client()?.with_token(portal.issue_api_key(&id)?);
    let step = |text: &str| {
        if !out.json {
            out.line(text);
        }
    };
    step(&format!(
        "The built-in DocSpace emulator at {}, user {EMAIL} (authenticator app mandatory), \
         signed in with an API key.",
        portal.base_url()
    ));

    step("[1/5] the caller's ticket: GET settings/tfaapp/confirm");
    let data = client.tfa().confirm()?.ok_or_else(|| {
        Failure::not_available("two-factor authentication does not apply to the demo user")
    })?;
    let ticket = ConfirmTicket::from_confirm_data(&data)?;
    if !out.json {
        out.field(
            "ticket",
            format!("{} for user {}", ticket.confirm_type(), ticket.uid()),
        );
    }

    step("[2/5] the setup code: GET settings/tfaapp/setup (Confirm header)");
    let setup = client.tfa().setup_with(&ticket)?;
    let uri = setup
        .otpauth_uri(client.base_url())
        .map_err(Failure::from_setup_answer)?
        .to_uri();
    if !out.json {
        print_setup(out, &setup, &uri, None);
    }

    step("[3/5] the code an authenticator app shows, computed from the manual key");
    let key = setup.totp_key().map_err(Failure::from_setup_answer)?;
    let now = portal.now();
    let code = Totp::docspace().code_at(&key, now);
    if !out.json {
        out.field(
            "code",
            format!(
                "{} (valid {} more seconds)",
                code.expose(),
                Totp::docspace().seconds_left(now)
            ),
        );
    }

    step("[4/5] validate: POST settings/tfaapp/validate (Confirm header)");
    let validation = client.tfa().validate_with(&ticket, code.expose())?;
    if !validation.first_activation {
        return Err(Failure::not_available(
            "the emulator accepted the code but linked nothing",
        ));
    }
    if !out.json {
        out.field(
            "valid",
            "first activation: the authenticator app is now linked",
        );
    }

    step("[5/5] the backup codes: GET settings/tfaappcodes");
    let codes = client.tfa().backup_codes()?;
    let backup: Vec<&str> = codes.iter().map(|c| c.code.expose()).collect();
    let requests = portal.requests().len();
    if out.json {
        out.json(&json!({
            "url": portal.base_url(),
            "account": setup.account,
            "manualEntryKey": setup.manual_entry_key.expose(),
            "otpauthUri": uri.expose(),
            "code": code.expose(),
            "firstActivation": validation.first_activation,
            "backupCodes": backup,
            "requests": requests,
        }));
    } else {
        out.field("backup codes", backup.join(" "));
        out.line(format!(
            "Done: {requests} requests reached the emulator. Against your portal: \
             `docspace-tfa link` with DOCSPACE_URL and DOCSPACE_TOKEN set."
        ));
    }
    Ok(())
}
