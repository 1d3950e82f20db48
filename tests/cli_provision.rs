//! `docspace-tfa provision` as a command: usage errors, output channels, no key outside the
//! vault, the exit codes, and Ctrl-C (first: finish in flight and summarize; second: exit now).
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use docspace_tfa::emulator::{Emulator, NewUser};
use docspace_tfa::provision::{Status, Vault};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_docspace-tfa");

struct Fixture {
    portal: Emulator,
    dir: PathBuf,
}

fn fixture(name: &str, members: usize) -> Fixture {
    let dir = std::env::temp_dir().join(format!("dtfa-cli-prov-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let portal = Emulator::start().unwrap();
    let mut csv = String::from("email,password\n");
    for i in 1..=members {
        let (email, pw) = (format!("bot{i}@example.com"), format!("pw-{i}"));
        portal
            .add_user(NewUser::new(email.as_str(), pw.as_str()))
            .unwrap();
        csv.push_str(&format!("{email},{pw}\n"));
    }
    std::fs::write(dir.join("accounts.csv"), csv).unwrap();
    Fixture { portal, dir }
}

fn command(f: &Fixture, extra: &[&str]) -> Command {
    command_for(f, &f.dir.join("accounts.csv"), extra)
}

fn command_for(f: &Fixture, accounts: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("provision")
        .arg(accounts)
        .arg("--vault")
        .arg(f.dir.join("vault.jsonl"))
        .args(["--url", f.portal.base_url(), "--allow-insecure-http"])
        .args(extra)
        .env_remove("DOCSPACE_TOKEN")
        .env_remove("DOCSPACE_URL")
        .stdin(Stdio::null());
    cmd
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn keys(vault: &Path) -> Vec<String> {
    let (records, _) = Vault::read_all(vault).unwrap();
    records
        .iter()
        .flat_map(|r| {
            let mut s: Vec<String> = r.totp_key.iter().map(|k| k.expose().to_owned()).collect();
            for c in r.backup_codes.iter().flatten() {
                s.push(c.expose().to_owned());
            }
            s
        })
        .collect()
}

#[test]
fn usage_errors_send_nothing() {
    let f = fixture("usage", 2);
    std::fs::write(
        f.dir.join("bad.csv"),
        "email,password\nbot1@example.com,pw-1\nbot2@example.com\n",
    )
    .unwrap();
    let bad = f.dir.join("bad.csv");
    // (extra arguments, accounts file, what stderr says)
    let cases: &[(&[&str], &Path, &str)] = &[
        (&["--strict"], &bad, "line 3: no password"),
        (&["--rotate"], &f.dir.join("accounts.csv"), "owner's token"),
        (&["--jobs", "0"], &f.dir.join("accounts.csv"), "--jobs"),
        (&[], &f.dir.join("missing.csv"), "cannot read the accounts"),
    ];
    for (extra, accounts, want) in cases {
        let out = command_for(&f, accounts, extra).output().unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(want), "{extra:?}: {stderr}");
    }
    assert!(f.portal.requests().is_empty(), "nothing was sent");
    assert!(!f.dir.join("vault.jsonl").exists(), "no vault was made");
    std::fs::remove_dir_all(&f.dir).unwrap();
}

#[test]
fn events_summary_exit_codes_and_no_key_outside_the_vault() {
    let f = fixture("events", 3);
    let linked = f
        .portal
        .add_user(NewUser::new("linked@example.com", "pw-l").linked())
        .unwrap();
    assert!(!linked.is_empty());
    let mut csv = std::fs::read_to_string(f.dir.join("accounts.csv")).unwrap();
    csv.push_str("linked@example.com,pw-l\nnot-an-address,pw\n");
    std::fs::write(f.dir.join("accounts.csv"), csv).unwrap();

    let out = command(&f, &["--events", "--json", "--jobs", "2"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(8), "{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "four accounts and the summary: {stdout}");
    let outcome = |email: &str| {
        lines
            .iter()
            .find(|l| l["email"] == email)
            .map(|l| l["outcome"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(outcome("bot1@example.com").as_deref(), Some("linked"));
    assert_eq!(
        outcome("linked@example.com").as_deref(),
        Some("already_linked")
    );
    let summary = &lines[4]["summary"];
    assert_eq!(lines[4]["event"], "summary");
    assert_eq!(summary["linked"], 3);
    assert_eq!(summary["already_linked"], 1);
    assert_eq!(summary["bad_rows"], 1);
    assert_eq!(summary["complete"], false);
    assert!(stderr.contains("line 6"), "{stderr}");
    assert!(stderr.contains("3 linked"), "{stderr}");
    assert!(!stderr.contains('\r'), "no progress line off a terminal");
    let vault = f.dir.join("vault.jsonl");
    let secrets = keys(&vault);
    assert_eq!(
        secrets.len(),
        3 * 2 + 3 * 5,
        "3 key_saved, 3 linked with 5 codes"
    );
    for s in &secrets {
        assert!(
            !stdout.contains(s.as_str()) && !stderr.contains(s.as_str()),
            "a secret was printed"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&vault).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // Without the linked member and the bad row, the rerun is complete: exit 0, one document.
    std::fs::write(
        f.dir.join("accounts.csv"),
        "email,password\nbot1@example.com,pw-1\nbot2@example.com,pw-2\nbot3@example.com,pw-3\n",
    )
    .unwrap();
    let out = command(&f, &["--json"]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["already_provisioned"], 3);
    assert_eq!(doc["complete"], true);
    std::fs::remove_dir_all(&f.dir).unwrap();
}

fn lines_of(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

fn sigint(pid: u32) {
    // SAFETY: kill(2) on our own child.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGINT);
    }
}

/// Runs `provision` on a fresh fixture of `n` accounts, presses Ctrl-C after a few vault lines
/// (count-based), and with `again` keeps pressing every 5 ms until the process is gone; checks
/// that a rerun then finishes every account. Returns the interrupted run's stdout and stderr.
fn interrupted_run(name: &str, n: usize, again: bool) -> (String, String) {
    let f = fixture(name, n);
    let vault = f.dir.join("vault.jsonl");
    let mut child = command(&f, &["--json", "--jobs", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while lines_of(&vault) < 6 && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before Ctrl-C"
    );
    sigint(child.id());
    // Until `try_wait` reaps it the child's id cannot be reused, so a press after it exited
    // reaches nobody. Pressing again rather than once after a fixed pause: a press sent before
    // the first is delivered merges with it, and one sent after the accounts in flight
    // finished comes too late; some press in between lands on a busy or a quiet machine.
    while again && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(5));
        sigint(child.id());
    }
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    // Either way the vault is consistent, and a rerun finishes every account.
    let rerun = command(&f, &["--json"]).output().unwrap();
    assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun).1);
    let (records, _) = Vault::read_all(&vault).unwrap();
    for i in 1..=n {
        let email = format!("bot{i}@example.com");
        let last = records.iter().rev().find(|r| r.email == email).unwrap();
        assert_eq!(last.status, Status::Linked, "{email}");
    }
    std::fs::remove_dir_all(&f.dir).unwrap();
    (stdout, stderr)
}

#[test]
fn ctrl_c_finishes_the_accounts_in_flight() {
    // Enough accounts that the run outlasts the 50 ms in which the interrupt is noticed (a
    // batch of 16 accounts takes a few milliseconds).
    let (stdout, stderr) = interrupted_run("sigint1", 600, false);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["interrupted"], true);
    assert!(doc["not_started"].as_u64().unwrap() > 0, "{doc}");
    assert_eq!(doc["failed"], 0, "{doc}");
    assert!(
        stderr.contains("finishing the accounts in flight"),
        "{stderr}"
    );
}

#[test]
fn a_second_ctrl_c_exits_at_once() {
    // A second press lands while the accounts in flight are finishing, unless they all
    // finished within one 5 ms pause; then that run ended as after one press (exit 130, the
    // vault whole), and the next attempt tries again. Five attempts, at least one must land.
    let landed = (0..5).any(|attempt| {
        let (_, stderr) = interrupted_run(&format!("sigint2-{attempt}"), 600, true);
        stderr.contains("exiting now")
    });
    assert!(landed, "no second Ctrl-C landed in 5 runs");
}
