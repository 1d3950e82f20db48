//! Command-line arguments: the contract scripts rely on (see `docs/cli.md`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Two-factor authentication for ONLYOFFICE DocSpace, for scripts, CI jobs and build steps.
///
/// The portal comes from --url or DOCSPACE_URL; the bearer token from DOCSPACE_TOKEN or
/// --token-file. With --json, stdout carries exactly one JSON document.
#[derive(Parser)]
#[command(name = "docspace-tfa", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 success, 1 network/server/decode failure (doctor: a finding \
that is an error or a warning), 2 usage or bad input (nothing sent), 3 code rejected, 4 unauthorized or forbidden, 5 TFA app not available or \
already linked, 6 too many attempts, 7 TFA does not apply to the user (tfa_not_applicable), \
8 provision left an account unlinked, 130 provision interrupted by Ctrl-C."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts, before or after the subcommand. In a subcommand's help they
/// come after its own options, under their own heading; `code` (offline) hides the network ones
/// (see `main.rs`).
#[derive(Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Portal base URL, such as https://portal.example.com [env: DOCSPACE_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,

    /// Read the bearer token from this file (`-` = stdin) instead of DOCSPACE_TOKEN
    #[arg(long, global = true, value_name = "PATH")]
    pub token_file: Option<PathBuf>,

    /// Print exactly one JSON document on stdout: the result, or {"error": {…}}
    #[arg(long, global = true)]
    pub json: bool,

    /// Deadline of the whole command, retries included, in seconds (1 to 86400)
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub timeout: u64,

    /// Allow plain http:// to a host that is not loopback (the token travels in clear text)
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,

    /// Trust the CA certificate(s) in this PEM file instead of the built-in roots (for a
    /// portal behind an internal CA)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "DOCSPACE_CA_CERT",
        hide_env_values = true
    )]
    pub ca_cert: Option<PathBuf>,

    /// Retries of a read that failed on the network or with 429/502/503/504 (0 = none)
    #[arg(
        long,
        global = true,
        value_name = "N",
        default_value_t = 2,
        value_parser = clap::value_parser!(u32).range(0..=10)
    )]
    pub retries: u32,

    /// Connect directly, ignoring ALL_PROXY, HTTPS_PROXY and HTTP_PROXY (a loopback portal
    /// is always reached directly)
    #[arg(long, global = true)]
    pub no_proxy: bool,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Get the setup code: account, manual key, QR image (GET settings/tfaapp/setup)
    Setup {
        #[command(flatten)]
        ticket: TicketArgs,
        /// Write the decoded QR image (PNG) to this file
        #[arg(long, value_name = "FILE")]
        qr_png: Option<PathBuf>,
    },
    /// Check a code from the authenticator app (POST settings/tfaapp/validate)
    Validate {
        /// The code ("123456" or "123 456"), or an unused backup code
        code: String,
        #[command(flatten)]
        ticket: TicketArgs,
    },
    /// Compute the current TOTP code for a manual key, offline (no network)
    Code {
        /// The manual entry key (base32; spaces, hyphens and lower case are fine)
        #[arg(
            long,
            value_name = "KEY",
            env = "DOCSPACE_TOTP_KEY",
            hide_env_values = true
        )]
        key: String,
        /// Compute the code for this Unix time instead of now
        #[arg(long, value_name = "UNIX_SECONDS")]
        at: Option<u64>,
    },
    /// Log in with user name and password (POST authentication, or authentication/{code})
    ///
    /// The password comes from DOCSPACE_PASSWORD or, with --password-stdin, from the first
    /// line of stdin. A TFA or SMS challenge is a success (exit 0) with its status.
    Login {
        /// The user's e-mail
        #[arg(long, value_name = "EMAIL")]
        user: String,
        /// Finish a TFA login with this code in one call
        #[arg(long, value_name = "CODE", conflicts_with = "totp_key_file")]
        code: Option<String>,
        /// Compute the code from the account's TOTP key in this file (or env
        /// DOCSPACE_TOTP_KEY), at the moment of the call; waits for the next 30-second step
        /// when fewer than 3 seconds are left
        #[arg(long, value_name = "PATH")]
        totp_key_file: Option<PathBuf>,
        /// Read the password from the first line of stdin
        #[arg(long)]
        password_stdin: bool,
        /// With --code for an SMS login: the phone number the code went to, so that the
        /// server's failure for numbers of 10 or more digits is explained, not reported as a
        /// wrong code
        #[arg(long, value_name = "NUMBER", requires = "code")]
        phone: Option<String>,
    },
    /// The SMS factor: set the phone of an SMS login (`phone`), or resend the code (`send`)
    Sms {
        #[command(subcommand)]
        action: SmsAction,
    },
    /// Show the caller's confirm data: URL and key of a ticket (GET settings/tfaapp/confirm)
    Confirm,
    /// Show the portal's TFA methods (GET settings/tfaapp), or change them with `set`
    Settings {
        #[command(subcommand)]
        action: Option<SettingsAction>,
    },
    /// List the backup codes (GET settings/tfaappcodes), or replace them with --regenerate
    Codes {
        /// Discard the current codes and create new ones (PUT settings/tfaappnewcodes)
        #[arg(long)]
        regenerate: bool,
    },
    /// Unlink the authenticator app of the caller, or of another member (owner only)
    Unlink {
        /// The member's id (GUID); without it, the caller (by its own id from people/@self)
        #[arg(long, value_name = "ID")]
        user: Option<String>,
    },
    /// The whole linking flow: ticket, setup, code, validation, backup codes
    ///
    /// With a bearer token: confirm, setup with that ticket, validate, codes. With
    /// --confirm-json: setup and validate with that ticket, codes with the session validate
    /// opens. With --user (password as for login): login, setup with the login's ticket,
    /// authentication/{code}, codes with the new token. The code comes from --code, from --auto
    /// (computed from the manual key), or from a prompt on stdin.
    Link {
        /// Log in as this user (e-mail) instead of using a bearer token
        #[arg(long, value_name = "EMAIL", conflicts_with = "confirm_json")]
        user: Option<String>,
        /// Link with the ticket in the JSON output of `confirm` or `login` (`-` = stdin)
        #[arg(long, value_name = "FILE")]
        confirm_json: Option<PathBuf>,
        /// The code to finish with
        #[arg(long, value_name = "CODE", conflicts_with = "auto")]
        code: Option<String>,
        /// Compute the code from the manual key, as an authenticator app would
        #[arg(long)]
        auto: bool,
        /// Write the decoded QR image (PNG) to this file
        #[arg(long, value_name = "FILE")]
        qr_png: Option<PathBuf>,
        /// Read the password from the first line of stdin
        #[arg(long)]
        password_stdin: bool,
    },
    /// Link an authenticator app to many accounts, keeping every key in a vault (resumable)
    ///
    /// Logs each account in with its password; saves the key to the vault (flushed to disk)
    /// before validate is sent; then validate, the backup codes, and the outcome. Running it
    /// again skips linked accounts, finishes half-done ones and retries failed ones. Exit 0
    /// only if every account ended linked (now or before); 8 otherwise; 130 after Ctrl-C.
    Provision(crate::provision::ProvisionArgs),
    /// Whether the token is signed in (GET authentication): {"authenticated": bool}
    ///
    /// Exit 0 when signed in, 4 when not (no token, or a token that was logged out or has
    /// expired: the portal answers false, not an error).
    Status,
    /// End the token's session (POST authentication/logout, the token as the asc_auth_key
    /// cookie), then check that it ended: {"loggedOut": true}
    ///
    /// An API key (sk-…) is no session: refused before sending (exit 2).
    Logout,
    /// Check a confirm link without using it (POST authentication/confirm): {"result":
    /// "ok"|"invalid"|"expired"|…}
    ///
    /// Exit 0 when the link is valid, 4 otherwise. No token is needed.
    CheckLink {
        /// The confirm link (or its query), such as
        /// https://portal/confirm/TfaAuth?type=TfaAuth&uid=…
        #[arg(value_name = "URL")]
        link: String,
        /// The link's key, when the URL has none (a TFA link's key comes in the
        /// asc_confirm_key_<type> cookie)
        #[arg(
            long,
            value_name = "KEY",
            env = "DOCSPACE_CONFIRM_KEY",
            hide_env_values = true
        )]
        confirm_key: Option<String>,
    },
    /// Check the portal's TFA configuration for what it accepts silently and breaks later
    /// (reads only)
    ///
    /// Reads the policy, the server's version, the caller and the members and groups the
    /// policy names, and reports each finding with its severity (error, warning, info), a
    /// stable code, what it means and what to do; worst first. Exit 0 when nothing is an error
    /// or a warning, 1 otherwise (so a CI job can guard a portal's configuration). Use an
    /// admin's token.
    Doctor,
    /// Run the DocSpace emulator on 127.0.0.1 for tests in any language (offline)
    ///
    /// Prints one JSON line, {"url", "smsOutbox", "users": [{"email", "password", "apiKey",
    /// "id", "linked", "role", "totpKey"}]}, then serves until SIGINT or SIGTERM, or until stdin closes (so a
    /// test runner that dies takes the emulator with it; --ignore-stdin to serve on).
    #[cfg(feature = "emulator")]
    Emulator(crate::emulator::EmulatorArgs),
    /// Link an authenticator app on the built-in emulator: the whole job, shown step by step
    /// (offline)
    ///
    /// Starts the emulator in this process, adds a user for whom the app is mandatory, and runs
    /// confirm, setup, the app's code (computed from the manual key), validate and the backup
    /// codes, printing what each step got. Against a real portal, use `link`.
    #[cfg(feature = "emulator")]
    Demo,
}

/// `settings set`.
#[derive(Subcommand)]
pub enum SettingsAction {
    /// Set the TFA policy (PUT settings/tfaapp, or settings/tfaappwithlink with --with-link)
    Set {
        /// The method to switch on, or none
        #[arg(long = "type", value_enum, value_name = "TYPE")]
        tfa_type: TypeArg,
        /// A trusted IP: an address, an inclusive range a-b, or a CIDR block (repeatable;
        /// an entry the portal would break on or ignore is refused before sending)
        #[arg(long = "trusted-ip", value_name = "IP")]
        trusted_ips: Vec<String>,
        /// A member (GUID) for whom TFA is mandatory (repeatable; the caller's own id, read
        /// from people/@self, goes with it, as the portal requires to name its owner)
        #[arg(long = "mandatory-user", value_name = "ID")]
        mandatory_users: Vec<String>,
        /// A group (GUID) for whom TFA is mandatory (repeatable)
        #[arg(long = "mandatory-group", value_name = "ID")]
        mandatory_groups: Vec<String>,
        /// Answer the caller's confirm URL instead of whether a method was switched on
        #[arg(long)]
        with_link: bool,
    },
}

/// `sms phone` and `sms send`.
#[derive(Subcommand)]
pub enum SmsAction {
    /// Set the phone number with the ticket of an `sms_phone_required` login; the server
    /// sends the first code (POST authentication/setphone)
    Phone {
        /// The number, such as "+1 (234) 567-8901" (only its digits are sent)
        #[arg(long, value_name = "NUMBER")]
        phone: String,
        #[command(flatten)]
        ticket: TicketArgs,
    },
    /// Send a new code to the user's phone (POST authentication/sendsms); the password as for
    /// login
    Send {
        /// The user's e-mail
        #[arg(long, value_name = "EMAIL")]
        user: String,
        /// Read the password from the first line of stdin
        #[arg(long)]
        password_stdin: bool,
    },
}

/// `--type`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TypeArg {
    /// Switch TFA off
    None,
    /// Authenticator app
    App,
    /// Text messages
    Sms,
}

/// A confirm ticket given on the command line.
#[derive(Args)]
pub struct TicketArgs {
    /// Confirm URL holding type and uid (use with --confirm-key)
    #[arg(
        long,
        value_name = "URL",
        requires = "confirm_key",
        conflicts_with = "confirm_json"
    )]
    pub confirm: Option<String>,
    /// Read the ticket from the JSON output of `confirm` or `login` (`-` = stdin):
    /// confirmUrl and confirmKey (or url and cookieValue)
    #[arg(long, value_name = "FILE")]
    pub confirm_json: Option<PathBuf>,
    /// The confirm key for --confirm (from the environment: used only with --confirm)
    #[arg(
        long,
        value_name = "KEY",
        env = "DOCSPACE_CONFIRM_KEY",
        hide_env_values = true
    )]
    pub confirm_key: Option<String>,
}
