//! `docspace-tfa emulator`: the SDK's DocSpace emulator as a process, for tests written in any
//! language (built only with the `emulator` feature: `--features cli,emulator`).
//!
//! Stopping: the default action of SIGINT and SIGTERM ends the process, and nothing needs
//! cleaning up (the state is in memory, the kernel closes the socket), so no signal handler is
//! installed. The main thread reads stdin to its end and then exits: a parent that holds the
//! write end of a pipe to our stdin and dies closes it, and takes the emulator with it.

use std::io::Write;

use clap::{Args, ValueEnum};
use docspace_tfa::emulator::{Emulator, Fault, NewUser};
use docspace_tfa::totp::TotpKey;
use docspace_tfa::{TfaPolicy, TfaType};
use serde_json::{json, Value};

use crate::output::Failure;

type Result<T> = std::result::Result<T, Failure>;

/// The secret of the seeded user who starts with a linked app (10 bytes, as the portal's).
const LINKED_SECRET: &[u8] = b"emulator!!";

/// `emulator` options.
#[derive(Args)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1 (default: one the OS chooses; the URL is in the JSON line)
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub port: u16,
    /// The portal's TFA policy at start
    #[arg(long, value_enum, value_name = "TYPE", default_value = "app")]
    pub policy: PolicyArg,
    /// Offer the SMS method, as a portal with an SMS provider does (default: not available, as
    /// on a portal without one; --policy sms implies it)
    #[arg(long)]
    pub sms_available: bool,
    /// Serve SMS as a server with the phoneNoise defect fixed (default: the defect of every
    /// released server: numbers of 10 or more digits get a 400 after the SMS was sent, and a
    /// 401 for the right code)
    #[arg(long)]
    pub fixed_phone_noise: bool,
    /// Accept a bearer token alone on setup and validate, as the documentation page assumes
    #[arg(long)]
    pub lenient_bearer: bool,
    /// Answer refusals and "not available" as servers up to 3.2.1 do (500 / 415) instead of
    /// the 403 InvalidOperationException of 3.5 and later
    #[arg(long)]
    pub legacy_errors: bool,
    /// Answer tfaapp/confirm as older servers do: a bare URL string, the key in a cookie
    #[arg(long)]
    pub legacy_confirm_url: bool,
    /// Code checks (and failed logins) allowed per user and minute (default 5)
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub attempt_limit: u32,
    /// Accepted distance of a TOTP code from the clock, in 30-second steps each way
    #[arg(long, value_name = "STEPS", default_value_t = 10)]
    pub code_window: u64,
    /// Freeze the emulator's clock at this Unix time
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub time: Option<u64>,
    /// Answer matching requests with an error status: STATUS[xN][@[METHOD ]PATH], such as
    /// 503x2 or "500@POST settings/tfaapp/validate" (repeatable)
    #[arg(long = "fault", value_name = "SPEC", value_parser = parse_fault)]
    pub faults: Vec<Fault>,
    /// Save this trusted-IP entry in the starting policy, unchecked, as the portal saves any
    /// entry: a malformed range or CIDR block (such as not-an-ip) makes every password login
    /// answer 500, as on a real portal (repeatable; with --policy app or sms)
    #[arg(long = "trusted-ip", value_name = "ENTRY")]
    pub trusted_ips: Vec<String>,
    /// With --policy sms: the SMS provider is gone (the setting stays on; logins take the SMS
    /// branch and every send fails with 500), the state `doctor` reports as sms_without_provider
    #[arg(long)]
    pub no_sms_provider: bool,
    /// The version GET settings/version/build answers (default 3.7.2)
    #[arg(long, value_name = "VERSION")]
    pub server_version: Option<String>,
    /// Keep serving when stdin closes (stop with SIGINT or SIGTERM only)
    #[arg(long)]
    pub ignore_stdin: bool,
    /// The culture of the server's messages, such as en, de, fr, ja-JP (the server's 30)
    #[arg(long, value_name = "NAME", default_value = "en")]
    pub culture: String,
    /// The tenant's domain: the issuer in the otpauth URI (default portal.docspace.test)
    #[arg(long, value_name = "DOMAIN")]
    pub tenant_domain: Option<String>,
    /// Also seed N plain members fleet1@example.com … fleetN@example.com, each with the
    /// password fleet<n>-Pa55 (for `provision` tests and benchmarks; at most 100000)
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub users: u32,
}

/// The e-mail and password of the `n`th member seeded by `--users` (from 1).
pub fn fleet_member(n: u32) -> (String, String) {
    (format!("fleet{n}@example.com"), format!("fleet{n}-Pa55"))
}

/// `--policy`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PolicyArg {
    /// TFA off
    None,
    /// Authenticator app for everyone
    App,
    /// Text messages for everyone
    Sms,
}

fn parse_fault(text: &str) -> std::result::Result<Fault, String> {
    Fault::parse(text)
}

/// A seeded member.
struct Seed {
    email: &'static str,
    password: &'static str,
    role: &'static str,
    linked: bool,
}

const SEEDS: &[Seed] = &[
    Seed {
        email: "owner@example.com",
        password: "owner-Pa55",
        role: "owner",
        linked: false,
    },
    Seed {
        email: "admin@example.com",
        password: "admin-Pa55",
        role: "admin",
        linked: false,
    },
    Seed {
        email: "user@example.com",
        password: "user-Pa55",
        role: "user",
        linked: false,
    },
    Seed {
        email: "linked@example.com",
        password: "linked-Pa55",
        role: "user",
        linked: true,
    },
];

/// Starts the emulator, prints the JSON line, serves until stdin closes (or forever).
pub fn run(args: EmulatorArgs) -> Result<()> {
    if !args.trusted_ips.is_empty() && matches!(args.policy, PolicyArg::None) {
        return Err(Failure::usage(
            "--trusted-ip needs --policy app or --policy sms",
        ));
    }
    if args.no_sms_provider && !matches!(args.policy, PolicyArg::Sms) {
        return Err(Failure::usage("--no-sms-provider needs --policy sms"));
    }
    let mut builder = Emulator::builder()
        .port(args.port)
        .lenient_bearer(args.lenient_bearer)
        .legacy_errors(args.legacy_errors)
        .culture(args.culture.as_str())
        .legacy_confirm_url(args.legacy_confirm_url)
        .attempt_limit(args.attempt_limit)
        .code_window(args.code_window)
        .app_method_enabled(matches!(args.policy, PolicyArg::App))
        .sms_available(args.sms_available)
        .phone_noise_defect(!args.fixed_phone_noise);
    if let Some(domain) = args.tenant_domain {
        builder = builder.tenant_domain(domain);
    }
    if let Some(version) = args.server_version {
        builder = builder.server_version(version);
    }
    if let Some(t) = args.time {
        builder = builder.time(t);
    }
    for fault in args.faults {
        builder = builder.fault(fault);
    }
    let portal = builder.start().map_err(|e| match e.kind() {
        // A setting the emulator refuses (`--culture`, `--tenant-domain`): not the port's fault.
        docspace_tfa::ErrorKind::InvalidInput => Failure::usage(e.to_string()),
        _ => Failure::usage(format!(
            "cannot start the emulator on 127.0.0.1:{}: {e}",
            args.port
        )),
    })?;
    let tfa_type = match args.policy {
        PolicyArg::Sms => Some(TfaType::Sms),
        PolicyArg::App if !args.trusted_ips.is_empty() => Some(TfaType::App),
        _ => None,
    };
    if let Some(tfa_type) = tfa_type {
        let mut policy = TfaPolicy::new(tfa_type);
        policy.trusted_ips = args.trusted_ips.clone();
        portal.set_policy(&policy);
    }
    if args.no_sms_provider {
        portal.set_sms_provider(false);
    }
    let users = seed(&portal)?;
    for n in 1..=args.users {
        let (email, password) = fleet_member(n);
        portal.add_user(NewUser::new(email, password))?;
    }
    // One line, whatever `--json` says: the contract for the parent process.
    let mut line =
        json!({"url": portal.base_url(), "users": users, "smsOutbox": portal.sms_outbox_url()});
    if args.users > 0 {
        line["fleet"] = json!({
            "count": args.users,
            "email": "fleet<n>@example.com",
            "password": "fleet<n>-Pa55",
        });
    }
    println!("{line}");
    if args.ignore_stdin {
        loop {
            std::thread::park();
        }
    }
    // Until EOF (or a read error: the parent is gone either way).
    let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
    let served = !portal.requests().is_empty();
    portal.stop();
    if served {
        // The usual end: the parent closed our stdin (or went away) after using us.
        return Ok(());
    }
    // Before any request, this is almost always stdin at end-of-file from the start (`<
    // /dev/null`, a `subprocess.run` without `stdin=PIPE`), not a parent that is done: say
    // why on stderr (stdout's one line is the contract), never fatally (a parent that died
    // took the other end with it).
    let _ = writeln!(
        std::io::stderr(),
        "docspace-tfa emulator: stopped because stdin closed (end of file) before any request, \
         as it does when the process that started it ends; to keep it running, hold its stdin open (a pipe the \
         parent keeps, such as stdin=PIPE in Python's subprocess) or pass --ignore-stdin (then \
         stop it with SIGINT or SIGTERM)"
    );
    Ok(())
}

fn seed(portal: &Emulator) -> Result<Vec<Value>> {
    let linked_key = TotpKey::from_bytes(LINKED_SECRET)?.to_base32();
    let mut users = Vec::new();
    for s in SEEDS {
        let mut user = NewUser::new(s.email, s.password);
        user = match s.role {
            "owner" => user.owner(),
            "admin" => user.admin(),
            _ => user,
        };
        if s.linked {
            user = user.secret(LINKED_SECRET).linked();
        }
        let id = portal.add_user(user)?;
        let api_key = portal.issue_api_key(&id)?;
        users.push(json!({
            "email": s.email,
            "password": s.password,
            "apiKey": api_key.expose(),
            "id": id,
            "linked": s.linked,
            "role": s.role,
            "totpKey": s.linked.then(|| linked_key.expose().to_owned()),
        }));
    }
    Ok(users)
}
