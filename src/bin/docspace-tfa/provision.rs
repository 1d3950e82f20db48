//! `provision`: the SDK's [`Provisioner`] over an accounts file, with a vault, progress on a
//! terminal, JSON-lines events, a summary, and Ctrl-C handling (see `docs/provisioning.md`).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Args;
use docspace_tfa::provision::{
    parse_accounts, Accounts, AccountsFile, Event, Outcome, Provisioner, Summary, Vault,
};
use docspace_tfa::Client;
use serde_json::json;

use crate::output::{Failure, Out};

type Result<T> = std::result::Result<T, Failure>;

/// The largest accounts input read.
const MAX_INPUT: u64 = 256 * 1024 * 1024;

/// The exit code when the run ended with an account neither linked nor provisioned before.
pub const EXIT_INCOMPLETE: i32 = 8;
/// The exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: i32 = 130;

/// `provision` options.
#[derive(Args)]
pub struct ProvisionArgs {
    /// The accounts: a CSV file with a header row (email, and one of password, passwordEnv,
    /// passwordFile) or JSON lines with the same fields; `-` = stdin
    #[arg(value_name = "ACCOUNTS")]
    pub accounts: PathBuf,
    /// The vault: a JSON-lines file created owner-only (0600) if missing, appended to if not;
    /// the only place keys go
    #[arg(long, value_name = "VAULT")]
    pub vault: PathBuf,
    /// Accounts provisioned at once
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Unlink (with the owner's token: --token-file or DOCSPACE_TOKEN) and link again the
    /// accounts the vault holds as linked: new keys and codes, old lines kept as history
    #[arg(long)]
    pub rotate: bool,
    /// A bad row in the accounts ends the run before anything is sent (default: skipped)
    #[arg(long)]
    pub strict: bool,
    /// One JSON line on stdout per account as it ends
    #[arg(long)]
    pub events: bool,
}

/// The accounts: standard input parsed into memory, or a file read as they are needed.
enum Input {
    Memory(Accounts),
    File(AccountsFile),
}

/// Set by the SIGINT handler: how many Ctrl-C so far.
static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

/// Runs `provision`. `base` is the client from the global options (with the owner's token
/// when one was given); `owner` is that client when `--rotate` needs it.
pub fn run(out: &Out, args: ProvisionArgs, base: Client) -> Result<()> {
    bound_the_allocator();
    // A file is read twice (checked, then read as the accounts are provisioned): memory does
    // not grow with it. Standard input cannot be read again: it is parsed into memory.
    let input = if args.accounts.as_os_str() == "-" {
        Input::Memory(parse_accounts(&read_accounts(&args.accounts)?))
    } else {
        Input::File(
            AccountsFile::open(&args.accounts).map_err(|e| match e.kind() {
                // "read the accounts PATH: why"
                docspace_tfa::ErrorKind::Io => Failure::usage(format!("cannot {e}")),
                _ => Failure::usage(e.to_string()),
            })?,
        )
    };
    let (bad_rows, total) = match &input {
        Input::Memory(parsed) => (parsed.bad_rows.as_slice(), parsed.accounts.len()),
        Input::File(file) => (file.bad_rows(), file.len()),
    };
    for bad in bad_rows {
        eprintln!(
            "{}: {}",
            if args.strict {
                "error"
            } else {
                "warning: skipped"
            },
            crate::terminal::clean(&bad.to_string())
        );
    }
    if args.strict && !bad_rows.is_empty() {
        return Err(Failure::usage(format!(
            "{} bad row(s) in the accounts (--strict): nothing was sent",
            bad_rows.len()
        )));
    }
    if args.rotate && !base.has_token() {
        return Err(Failure::usage(
            "--rotate unlinks with the portal owner's token: give it with --token-file or \
             DOCSPACE_TOKEN",
        ));
    }
    let vault = Vault::open(&args.vault)?;
    // One index allocation for the run, not a doubling one.
    vault.reserve(total);
    if vault.skipped_lines() > 0 {
        eprintln!(
            "warning: {} line(s) of the vault could not be read (a write cut short by a crash) \
             and were skipped",
            vault.skipped_lines()
        );
    }
    // The accounts log in themselves: no token on their requests (a token would make the
    // portal act on its user). A run may last hours: no command-wide deadline.
    let far = Instant::now() + Duration::from_secs(365 * 86_400);
    let accounts_client = base.with_token("").with_deadline(far);
    let mut provisioner = Provisioner::new(accounts_client, vault).jobs(usize::from(args.jobs));
    if args.rotate {
        provisioner = provisioner.rotate_with(base.with_deadline(far));
    }
    let stop = provisioner.stop_flag();
    install_interrupt_handler();
    let progress = Progress::new(total, std::io::stderr().is_terminal() && !args.events);
    let done = AtomicBool::new(false);
    let late_bad_rows = AtomicUsize::new(0);
    let summary = std::thread::scope(|scope| {
        // Carries a Ctrl-C from the signal handler to the provisioner's flag.
        scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                if INTERRUPTS.load(Ordering::SeqCst) > 0 && !stop.swap(true, Ordering::SeqCst) {
                    progress.clear();
                    eprintln!(
                        "interrupted: finishing the accounts in flight (Ctrl-C again to exit now; \
                         the vault stays consistent)"
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let on_event = |event: &Event| {
            if args.events {
                let line = json!({
                    "event": "account",
                    "email": event.email,
                    "line": event.line,
                    "outcome": event.outcome.as_str(),
                    "error": event.error,
                });
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "{line}");
                let _ = stdout.flush();
            }
            progress.account(event);
        };
        let summary = match &input {
            Input::Memory(parsed) => Ok(provisioner.run(&parsed.accounts, on_event)),
            Input::File(file) => file.accounts().map(|accounts| {
                let rows = accounts.filter_map(|row| match row {
                    Ok(account) => Some(account),
                    Err(bad) => {
                        // Good when checked, unusable now (a password file removed meanwhile).
                        progress.clear();
                        eprintln!(
                            "warning: skipped: {}",
                            crate::terminal::clean(&bad.to_string())
                        );
                        late_bad_rows.fetch_add(1, Ordering::SeqCst);
                        None
                    }
                });
                provisioner.run_iter(rows, on_event)
            }),
        };
        done.store(true, Ordering::SeqCst);
        summary
    })?;
    let bad_rows = bad_rows.len() + late_bad_rows.load(Ordering::SeqCst);
    progress.clear();
    let interrupted = INTERRUPTS.load(Ordering::SeqCst) > 0;
    report(out, &summary, bad_rows, interrupted, &args);
    let _ = std::io::stdout().flush();
    if interrupted {
        std::process::exit(EXIT_INTERRUPTED);
    }
    if !summary.all_linked() || bad_rows > 0 {
        std::process::exit(EXIT_INCOMPLETE);
    }
    Ok(())
}

/// The summary: counts on stderr, and one JSON document on stdout with `--json`.
fn report(out: &Out, s: &Summary, bad_rows: usize, interrupted: bool, args: &ProvisionArgs) {
    let counts = [
        ("linked", s.linked),
        ("already_provisioned", s.already_provisioned),
        ("already_linked", s.already_linked),
        ("not_applicable", s.not_applicable),
        ("failed", s.failed),
        ("not_started", s.not_started),
        ("bad_rows", bad_rows),
    ];
    let text: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    eprintln!(
        "provision: {} account(s): {}{}; vault {}",
        s.total(),
        if text.is_empty() {
            "nothing to do".to_owned()
        } else {
            text.join(", ")
        },
        if interrupted { " (interrupted)" } else { "" },
        args.vault.display()
    );
    if out.json {
        let mut doc = serde_json::Map::new();
        doc.insert("total".into(), json!(s.total()));
        for (k, n) in counts {
            doc.insert(k.into(), json!(n));
        }
        doc.insert("interrupted".into(), json!(interrupted));
        doc.insert(
            "complete".into(),
            json!(s.all_linked() && bad_rows == 0 && !interrupted),
        );
        doc.insert("vault".into(), json!(args.vault.display().to_string()));
        let line = serde_json::Value::Object(doc);
        if args.events {
            // stdout holds JSON lines already: the summary is one more line.
            println!("{}", json!({"event": "summary", "summary": line}));
        } else {
            out.json(&line);
        }
    }
}

fn read_accounts(path: &std::path::Path) -> Result<String> {
    let mut bytes = Vec::new();
    let shown = path.display();
    let read = if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_INPUT + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| Failure::usage(format!("cannot read the accounts {shown}: {e}")))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(Failure::usage(format!(
            "the accounts {shown} are larger than 256 MiB"
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| Failure::usage(format!("the accounts {shown} are not UTF-8 text")))
}

/// The live progress line on a terminal.
struct Progress {
    total: usize,
    shown: bool,
    start: Instant,
    counts: Mutex<(usize, usize)>,
}

impl Progress {
    fn new(total: usize, shown: bool) -> Progress {
        Progress {
            total,
            shown,
            start: Instant::now(),
            counts: Mutex::new((0, 0)),
        }
    }

    fn account(&self, event: &Event) {
        if !self.shown {
            return;
        }
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.0 += 1;
        if !event.outcome.is_success() && event.outcome != Outcome::NotStarted {
            c.1 += 1;
        }
        let secs = self.start.elapsed().as_secs_f64().max(0.001);
        let rate = c.0 as f64 / secs;
        let eta = (self.total.saturating_sub(c.0)) as f64 / rate.max(0.001);
        eprint!(
            "\r\x1b[K{}/{} accounts, {:.1}/s, ETA {:.0}s, {} not linked",
            c.0, self.total, rate, eta, c.1
        );
        let _ = std::io::stderr().flush();
    }

    fn clear(&self) {
        if self.shown {
            eprint!("\r\x1b[K");
            let _ = std::io::stderr().flush();
        }
    }
}

/// glibc's allocator, tuned for a run that opens connections for hours: a fixed mmap threshold
/// (128 KiB, its default, which also turns off its dynamic raise) returns each connection's
/// freed 2 × 128 KiB buffers to the system instead of leaving them in the heap, and at most 4
/// arenas keep 16 workers from each growing their own. Without it, peak memory grew with the
/// number of accounts (docs/performance.md, "Provisioning a fleet").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn bound_the_allocator() {
    // SAFETY: mallopt only changes the allocator's tuning; called before any worker starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

/// Other allocators: as they are.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn bound_the_allocator() {}

/// SIGINT: the first sets [`INTERRUPTS`] (the run stops starting accounts); the second ends
/// the process at once. Every vault line is written with one `write` and flushed, so either way
/// the vault holds whole records (a line cut by the kernel is skipped on the next open).
#[cfg(unix)]
#[allow(unsafe_code)]
fn install_interrupt_handler() {
    extern "C" fn on_sigint(_: libc::c_int) {
        if INTERRUPTS.fetch_add(1, Ordering::SeqCst) > 0 {
            // Async-signal-safe: only write(2) and _exit(2).
            let msg = b"\ninterrupted again: exiting now\n";
            unsafe {
                libc::write(2, msg.as_ptr().cast(), msg.len());
                libc::_exit(EXIT_INTERRUPTED);
            }
        }
    }
    // SAFETY: installing a handler that only touches an atomic, write(2) and _exit(2).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}

/// Without Unix signals, Ctrl-C ends the process (the vault stays consistent all the same).
#[cfg(not(unix))]
fn install_interrupt_handler() {}
