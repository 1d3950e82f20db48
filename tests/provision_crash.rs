//! `docspace-tfa provision` killed with SIGKILL at random points of a 300-account run against
//! the emulator, many times, then run to the end: every account ends linked with the vault's
//! key, and no key the portal holds is missing from the vault. And a run through 503s and
//! dropped connections ends with every account linked after at most one rerun.
//!
//! After each kill, every account the portal holds as linked must already have that key as
//! its latest key in the vault. The kill points are counted, not timed: every other kill comes
//! after a random number (1 to 12) of new vault lines, the others after a random number (1 to
//! 12) of new code logins the portal received (`POST authentication/{code}`, which links the
//! app) — so a run that sent a code before its key was written is caught even though it
//! writes vault lines in groups. The seed is printed; `PROVISION_CRASH_SEED=N` replays one.
#![cfg(unix)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use docspace_tfa::emulator::{Emulator, EmulatorBuilder, Fault, NewUser};
use docspace_tfa::provision::{Record, Status, Vault};
use docspace_tfa::totp::TotpKey;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_docspace-tfa");

fn account(n: usize) -> (String, String) {
    (format!("fleet{n}@example.com"), format!("fleet{n}-Pa55"))
}

/// A portal with `n` members for whom the app is mandatory, and the accounts file for them
/// (every third password through `passwordEnv`, so the file holds no secret for those).
fn fleet(portal: &Emulator, n: usize, dir: &Path) -> PathBuf {
    let mut csv = String::from("email,password,passwordEnv\n");
    for i in 1..=n {
        let (email, password) = account(i);
        portal
            .add_user(NewUser::new(email.as_str(), password.as_str()))
            .unwrap();
        if i % 3 == 0 {
            csv.push_str(&format!("{email},,FLEET_PW_{i}\n"));
        } else {
            csv.push_str(&format!("{email},{password},\n"));
        }
    }
    let path = dir.join("accounts.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn provision(portal: &Emulator, accounts: &Path, vault: &Path, n: usize) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "provision",
        "--jobs",
        "4",
        "--json",
        "--allow-insecure-http",
        "--url",
    ])
    .arg(portal.base_url())
    .arg(accounts)
    .arg("--vault")
    .arg(vault)
    .env_remove("DOCSPACE_TOKEN")
    .env_remove("DOCSPACE_URL")
    .stdin(Stdio::null())
    .stderr(Stdio::null());
    for i in (3..=n).step_by(3) {
        cmd.env(format!("FLEET_PW_{i}"), account(i).1);
    }
    cmd
}

fn vault_lines(vault: &Path) -> usize {
    std::fs::read(vault)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

/// xorshift64*: a reproducible sequence from the printed seed.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Every account linked with the vault's latest key, which the portal holds and which logs
/// in; no record after an account's `linked` line; times in order per account.
fn assert_fleet_linked(portal: &Emulator, vault: &Path, n: usize) {
    let (records, _torn) = Vault::read_all(vault).unwrap();
    let mut by_email: HashMap<String, Vec<Record>> = HashMap::new();
    for r in records {
        by_email.entry(r.email.clone()).or_default().push(r);
    }
    let client = portal.client().unwrap();
    for i in 1..=n {
        let (email, password) = account(i);
        let history = by_email
            .get(&email)
            .unwrap_or_else(|| panic!("{email}: no record"));
        let latest = history.last().unwrap();
        assert_eq!(latest.status, Status::Linked, "{email}: {history:?}");
        assert!(
            history
                .windows(2)
                .all(|w| w[0].updated_at <= w[1].updated_at),
            "{email}: records out of order"
        );
        let key = latest
            .totp_key
            .as_ref()
            .expect("a linked record has its key");
        let state = portal.user_state(&portal.user_id(&email).unwrap()).unwrap();
        assert!(state.linked, "{email}");
        assert_eq!(
            state.manual_entry_key.as_ref().map(|k| k.expose()),
            Some(key.expose()),
            "{email}: the portal holds a key the vault lacks"
        );
        assert_eq!(
            latest.backup_codes.as_ref().map(Vec::len),
            Some(5),
            "{email}"
        );
        let key = TotpKey::from_base32(key.expose()).unwrap();
        client
            .auth()
            .login_with_totp(&email, password.as_str(), &key)
            .unwrap_or_else(|e| panic!("{email}: the vault's key does not log in: {e}"));
    }
}

/// At a crash point: every account the portal holds as linked has that key as its latest
/// key in the vault (the invariant the key-before-validate order keeps).
fn assert_no_key_missing(portal: &Emulator, vault: &Path, n: usize) {
    let (records, _torn) = Vault::read_all(vault).unwrap();
    let mut latest_key: HashMap<&str, &str> = HashMap::new();
    for r in &records {
        if let Some(k) = &r.totp_key {
            latest_key.insert(r.email.as_str(), k.expose());
        }
    }
    for i in 1..=n {
        let (email, _) = account(i);
        let state = portal.user_state(&portal.user_id(&email).unwrap()).unwrap();
        if state.linked {
            let portal_key = state.manual_entry_key.as_ref().map(|k| k.expose());
            assert_eq!(
                latest_key.get(email.as_str()).copied(),
                portal_key,
                "{email} is linked with a key the vault lacks"
            );
        }
    }
}

#[test]
fn sigkill_at_random_points_then_a_rerun_links_every_account_with_the_vaults_key() {
    const ACCOUNTS: usize = 300;
    const KILLS: usize = 20;
    let seed = std::env::var("PROVISION_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    eprintln!("PROVISION_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = std::env::temp_dir().join(format!("dtfa-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let portal = Emulator::start().unwrap();
    let accounts = fleet(&portal, ACCOUNTS, &dir);
    let vault = dir.join("vault.jsonl");

    let mut kills = 0;
    let code_logins = || portal.request_count("POST", "authentication/{code}");
    for round in 0..KILLS {
        let by_lines = round % 2 == 1;
        let target = if by_lines {
            vault_lines(&vault)
        } else {
            code_logins()
        } + 1
            + rng.below(12) as usize;
        let mut child = provision(&portal, &accounts, &vault, ACCOUNTS)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // Polls until the vault reached the target (then SIGKILL) or the run ended.
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            let reached = if by_lines {
                vault_lines(&vault)
            } else {
                code_logins()
            };
            if reached >= target {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
                assert_no_key_missing(&portal, &vault, ACCOUNTS);
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert!(kills >= KILLS / 2, "only {kills} runs were killed");
    let before_last = code_logins();
    let out = provision(&portal, &accounts, &vault, ACCOUNTS)
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{summary}");
    assert_eq!(summary["complete"], true, "{summary}");
    assert_eq!(summary["failed"], 0);
    assert_fleet_linked(&portal, &vault, ACCOUNTS);
    eprintln!("{kills} kills; code logins before the last run: {before_last}");
    // A third run has nothing to do and sends nothing.
    portal.clear_requests();
    let out = provision(&portal, &accounts, &vault, ACCOUNTS)
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["already_provisioned"], ACCOUNTS, "{summary}");
    assert!(portal.requests().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_through_503s_and_dropped_connections_ends_linked_after_at_most_one_rerun() {
    const ACCOUNTS: usize = 100;
    let dir = std::env::temp_dir().join(format!("dtfa-faulty-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // One request in 7 answered 503, one in 11 handled and then its connection dropped.
    let portal = EmulatorBuilder::default()
        .fault(Fault::status(503).one_in(7))
        .fault(Fault::dropped().one_in(11))
        .start()
        .unwrap();
    let accounts = fleet(&portal, ACCOUNTS, &dir);
    let vault = dir.join("vault.jsonl");
    let mut runs = 0;
    loop {
        runs += 1;
        let out = provision(&portal, &accounts, &vault, ACCOUNTS)
            .output()
            .unwrap();
        if out.status.code() == Some(0) {
            break;
        }
        assert!(
            runs < 2,
            "not every account linked after a rerun: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let faults = portal
        .requests()
        .iter()
        .filter(|r| r.status() == 503)
        .count();
    assert!(faults >= ACCOUNTS / 2, "the faults fired: {faults}");
    portal.clear_faults();
    assert_fleet_linked(&portal, &vault, ACCOUNTS);
    std::fs::remove_dir_all(&dir).unwrap();
}
