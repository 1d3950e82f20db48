//! The provisioning library (`docspace_tfa::provision`) against the emulator: every outcome,
//! resuming a half-done link, passing failures, rotation.

use std::path::PathBuf;
use std::time::Duration;

use docspace_tfa::emulator::{Emulator, EmulatorBuilder, Fault, NewUser};
use docspace_tfa::provision::{parse_accounts, Outcome, Provisioner, Record, Status, Vault};
use docspace_tfa::totp::TotpKey;
use docspace_tfa::{LoginOutcome, Secret, TfaPolicy, TfaType};

fn vault_path(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "dtfa-provision-{name}-{}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&p);
    p
}

fn provisioner(portal: &Emulator, path: &PathBuf) -> Provisioner {
    Provisioner::new(portal.client().unwrap(), Vault::open(path).unwrap())
        .jobs(3)
        .retry_pause(Duration::from_millis(1))
}

fn history(path: &PathBuf, email: &str) -> Vec<Record> {
    let (all, skipped) = Vault::read_all(path).unwrap();
    assert_eq!(skipped, 0);
    all.into_iter().filter(|r| r.email == email).collect()
}

/// The vault's key logs the account in, and it is the key the portal holds.
fn assert_key_logs_in(portal: &Emulator, email: &str, password: &str, key: &Secret) {
    let id = portal.user_id(email).unwrap();
    let state = portal.user_state(&id).unwrap();
    assert!(state.linked, "{email}");
    assert_eq!(
        state.manual_entry_key.as_ref().map(Secret::expose),
        Some(key.expose())
    );
    let key = TotpKey::from_base32(key.expose()).unwrap();
    portal
        .client()
        .unwrap()
        .auth()
        .login_with_totp(email, password, &key)
        .unwrap_or_else(|e| panic!("{email}: the vault's key does not log in: {e}"));
}

#[test]
fn every_outcome_and_a_rerun_that_skips_what_is_done() {
    let portal = Emulator::start().unwrap();
    for i in 1..=4 {
        portal
            .add_user(NewUser::new(
                format!("bot{i}@example.com"),
                format!("pw{i}"),
            ))
            .unwrap();
    }
    portal
        .add_user(NewUser::new("linked@example.com", "pw-l").linked())
        .unwrap();
    let text = "email,password\nbot1@example.com,pw1\nbot2@example.com,pw2\nbot3@example.com,pw3\n\
                bot4@example.com,pw4\nlinked@example.com,pw-l\nbot1@example.com,dup\n\
                nobody@example.com,pw\nbot2@example.com\n";
    let parsed = parse_accounts(text);
    assert_eq!(
        parsed.bad_rows.iter().map(|b| b.line).collect::<Vec<_>>(),
        [7, 9]
    );
    let path = vault_path("outcomes");
    let events = std::sync::Mutex::new(Vec::new());
    let summary = provisioner(&portal, &path).run(&parsed.accounts, |e| {
        events
            .lock()
            .unwrap()
            .push((e.email.clone(), e.outcome, e.error.clone()))
    });
    let events = events.into_inner().unwrap();
    let outcome = |email: &str| events.iter().find(|e| e.0 == email).unwrap().clone();
    let table: &[(&str, Outcome, Status, &str)] = &[
        ("bot1@example.com", Outcome::Linked, Status::Linked, ""),
        ("bot4@example.com", Outcome::Linked, Status::Linked, ""),
        (
            "linked@example.com",
            Outcome::AlreadyLinked,
            Status::AlreadyLinked,
            "does not hold",
        ),
        ("nobody@example.com", Outcome::Failed, Status::Failed, "401"),
    ];
    for (email, want, status, why) in table {
        let (_, got, error) = outcome(email);
        assert_eq!(got, *want, "{email}");
        let latest = history(&path, email).pop().unwrap();
        assert_eq!(latest.status, *status, "{email}");
        assert!(error.unwrap_or_default().contains(why), "{email}");
    }
    assert_eq!(
        (summary.linked, summary.already_linked, summary.failed),
        (4, 1, 1)
    );
    assert!(!summary.all_linked());
    for i in 1..=4 {
        let email = format!("bot{i}@example.com");
        let h = history(&path, &email);
        let statuses: Vec<_> = h.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [Status::KeySaved, Status::Linked], "{email}");
        assert_eq!(h[1].backup_codes.as_ref().map(Vec::len), Some(5));
        assert_key_logs_in(
            &portal,
            &email,
            &format!("pw{i}"),
            h[1].totp_key.as_ref().unwrap(),
        );
    }

    // The rerun sends nothing for linked accounts and retries the rest.
    portal.clear_requests();
    let summary = provisioner(&portal, &path).run(&parsed.accounts, |_| {});
    assert_eq!(summary.already_provisioned, 4);
    assert_eq!(
        portal.request_count("POST", "authentication"),
        2,
        "only the two not linked"
    );
}

#[test]
fn not_applicable_without_a_second_factor_or_with_sms() {
    // (case, the portal)
    let cases: Vec<(&str, Emulator)> = vec![
        (
            "TFA off",
            EmulatorBuilder::default()
                .app_method_enabled(false)
                .start()
                .unwrap(),
        ),
        ("SMS enforced", {
            let portal = EmulatorBuilder::default()
                .sms_available(true)
                .start()
                .unwrap();
            portal.set_policy(&TfaPolicy::new(TfaType::Sms));
            portal
        }),
    ];
    for (case, portal) in cases {
        portal
            .add_user(NewUser::new("plain@example.com", "pw"))
            .unwrap();
        let path = vault_path(&format!("na-{}", case.replace(' ', "-")));
        let parsed = parse_accounts("{\"email\":\"plain@example.com\",\"password\":\"pw\"}\n");
        let summary = provisioner(&portal, &path).run(&parsed.accounts, |_| {});
        assert_eq!(summary.not_applicable, 1, "{case}");
        let h = history(&path, "plain@example.com");
        assert_eq!(h.len(), 1, "{case}");
        assert_eq!(h[0].status, Status::NotApplicable, "{case}");
        assert!(h[0].totp_key.is_none(), "{case}");
        assert_eq!(
            portal.request_count("GET", "settings/tfaapp/setup"),
            0,
            "{case}"
        );
    }
}

#[test]
fn a_code_login_whose_answer_is_lost_or_refused_ends_linked_with_the_saved_key() {
    // (fault on the login with the first code, which activates the app; what happens to the
    // portal, the requests that finish it)
    let cases: &[(&str, Fault, &str, &str)] = &[
        // The portal linked the app but the answer was lost: the next pass is asked for a
        // code and logs in with the saved key.
        (
            "dropped",
            Fault::dropped()
                .on("POST", "authentication/{code}")
                .times(1),
            "POST",
            "authentication/{code}",
        ),
        // The portal did not link it: the login hands out the same key, the code again.
        (
            "503",
            Fault::status(503)
                .on("POST", "authentication/{code}")
                .times(1),
            "POST",
            "authentication/{code}",
        ),
    ];
    for (name, fault, method, finisher) in cases {
        let portal = Emulator::start().unwrap();
        portal
            .add_user(NewUser::new("bot@example.com", "pw"))
            .unwrap();
        portal.add_fault(fault.clone());
        let path = vault_path(&format!("lost-{name}"));
        let parsed = parse_accounts("email,password\nbot@example.com,pw\n");
        let summary = provisioner(&portal, &path).run(&parsed.accounts, |_| {});
        assert_eq!(summary.linked, 1, "{name}");
        let h = history(&path, "bot@example.com");
        let statuses: Vec<_> = h.iter().map(|r| r.status).collect();
        // One key_saved line: a repeated login handed out the same key, not written twice.
        assert_eq!(statuses, [Status::KeySaved, Status::Linked], "{name}");
        assert_eq!(h[0].totp_key, h[1].totp_key);
        assert_eq!(portal.request_count(method, finisher), 2, "{name}");
        assert_eq!(portal.request_count("GET", "settings/tfaapp/setup"), 0);
        assert_eq!(portal.request_count("POST", "settings/tfaapp/validate"), 0);
        assert_key_logs_in(
            &portal,
            "bot@example.com",
            "pw",
            h[1].totp_key.as_ref().unwrap(),
        );
    }
}

#[test]
fn a_crash_after_key_saved_is_finished_by_the_next_run() {
    let portal = Emulator::start().unwrap();
    let id = portal
        .add_user(NewUser::new("bot@example.com", "pw"))
        .unwrap();
    // As the crashed run left it: the key saved and validate sent (the app linked), nothing
    // after.
    let LoginOutcome::TfaActivationRequired { ticket, .. } = portal
        .client()
        .unwrap()
        .auth()
        .login("bot@example.com", "pw")
        .unwrap()
    else {
        panic!("expected an activation challenge");
    };
    let client = portal.client().unwrap();
    let setup = client.tfa().setup_with(&ticket).unwrap();
    let path = vault_path("crash");
    let vault = Vault::open(&path).unwrap();
    let mut saved = Record::new("bot@example.com", Status::KeySaved);
    saved.totp_key = Some(setup.manual_entry_key.clone());
    vault.append(&saved).unwrap();
    let code = portal.current_code(&id).unwrap();
    client.tfa().validate_with(&ticket, code.expose()).unwrap();
    drop(vault);
    let parsed = parse_accounts("email,password\nbot@example.com,pw\n");
    let summary = provisioner(&portal, &path).run(&parsed.accounts, |_| {});
    assert_eq!(summary.linked, 1);
    let latest = history(&path, "bot@example.com").pop().unwrap();
    assert_eq!(latest.status, Status::Linked);
    assert_eq!(latest.totp_key.as_ref(), Some(&setup.manual_entry_key));
    assert_eq!(latest.backup_codes.as_ref().map(Vec::len), Some(5));
    assert_eq!(
        portal.request_count("POST", "settings/tfaapp/validate"),
        1,
        "not sent again"
    );
}

#[test]
fn rotation_unlinks_with_the_owners_token_and_keeps_the_history() {
    let portal = Emulator::start().unwrap();
    let owner = portal
        .add_user(NewUser::new("owner@example.com", "pw-o").owner())
        .unwrap();
    portal
        .add_user(NewUser::new("bot@example.com", "pw"))
        .unwrap();
    let owner_client = portal
        .client()
        .unwrap()
        .with_token(portal.issue_api_key(&owner).unwrap());
    let path = vault_path("rotate");
    let parsed = parse_accounts("email,password\nbot@example.com,pw\n");
    // Even through a client holding the owner's token, each account acts as itself.
    let first_run = Provisioner::new(owner_client.clone(), Vault::open(&path).unwrap())
        .run(&parsed.accounts, |_| {});
    assert_eq!(first_run.linked, 1);
    assert!(
        !portal.user_state(&owner).unwrap().linked,
        "not the token's user"
    );
    let first = history(&path, "bot@example.com").pop().unwrap();
    let summary = provisioner(&portal, &path)
        .rotate_with(owner_client)
        .run(&parsed.accounts, |_| {});
    assert_eq!(summary.linked, 1);
    let h = history(&path, "bot@example.com");
    let statuses: Vec<_> = h.iter().map(|r| r.status).collect();
    // The link, then the rotation: the old key marked unknown before the unlink, the new key
    // saved before validate, linked.
    let want = [
        Status::KeySaved,
        Status::Linked,
        Status::KeySaved,
        Status::KeySaved,
        Status::Linked,
    ];
    assert_eq!(statuses, want);
    assert_eq!(h[2].totp_key, first.totp_key);
    let new = h.last().unwrap();
    assert_ne!(new.totp_key, first.totp_key, "a new key");
    assert_ne!(new.backup_codes, first.backup_codes, "new codes");
    assert_key_logs_in(
        &portal,
        "bot@example.com",
        "pw",
        new.totp_key.as_ref().unwrap(),
    );
    assert_eq!(portal.request_count("PUT", "settings/tfaappnewapp"), 1);
}

#[test]
fn the_emulator_closes_a_kept_alive_connection_after_a_hundred_answers() {
    use std::io::{Read, Write};
    let portal = Emulator::start().unwrap();
    let addr = portal.base_url().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = "GET /api/2.0/settings/tfaapp HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut answers = Vec::new();
    for _ in 0..100 {
        stream.write_all(request.as_bytes()).unwrap();
        // Each answer is a 401 with a JSON body: read its head and body by Content-Length.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap();
        let mut body = vec![0; len];
        stream.read_exact(&mut body).unwrap();
        answers.push(head);
    }
    assert!(answers[..99]
        .iter()
        .all(|h| !h.contains("connection: close")));
    assert!(answers[99].starts_with("http/1.1 401"), "{}", answers[99]);
    assert!(answers[99].contains("connection: close"), "{}", answers[99]);
    // The server ends the connection once the client does; the client sees no more answers.
    let mut rest = Vec::new();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(stream.read_to_end(&mut rest).unwrap(), 0);
}
