//! Output: one JSON document with `--json`, readable text otherwise; errors and exit codes.

use std::io::{IsTerminal, Write};

use docspace_tfa::{Advice, Error, ErrorKind};
use serde_json::{json, Value};

use crate::terminal::clean;

/// The `kind` of [`Failure::reported`]: its result is on stdout already.
const REPORTED: &str = "reported";

/// A failure of a command, ready to print: the JSON `kind` (the library's
/// [`ErrorKind::as_str`], or `usage` for a command-line mistake), the HTTP status, a message
/// that holds no secret, and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub kind: &'static str,
    pub status: Option<u16>,
    pub message: String,
    /// What to do next (the end of `message`), in the tool's words: the JSON `advice`.
    pub advice: Option<String>,
    pub exit: u8,
}

impl Failure {
    /// A usage error or bad input caught before any request (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            kind: "usage",
            status: None,
            message: message.into(),
            advice: None,
            exit: 2,
        }
    }

    /// A result already printed (stdout) whose answer is "no" (exit `exit`): `status` when
    /// not signed in, `check-link` for a link that is not valid. Nothing more is printed.
    pub fn reported(exit: u8) -> Self {
        Failure {
            kind: REPORTED,
            status: None,
            message: String::new(),
            advice: None,
            exit,
        }
    }

    /// Two-factor authentication does not apply to the user (exit 7, as
    /// [`ErrorKind::TfaNotApplicable`]).
    pub fn tfa_not_applicable(message: impl Into<String>) -> Self {
        Failure {
            kind: ErrorKind::TfaNotApplicable.as_str(),
            status: None,
            message: message.into(),
            advice: None,
            exit: 7,
        }
    }

    /// The TFA app method is not available for this flow (exit 5).
    pub fn not_available(message: impl Into<String>) -> Self {
        Failure {
            kind: ErrorKind::NotAvailable.as_str(),
            status: None,
            message: message.into(),
            advice: None,
            exit: 5,
        }
    }

    /// A failure to make sense of the setup code the server sent (`GET settings/tfaapp/setup`),
    /// after the request went out: what the library calls bad input (a manual key that is not
    /// base32, a QR image that is not a PNG data URL) is the server's fault here, so `decode`
    /// (exit 1), not `usage`, and the message names the call. Other kinds (such as an I/O
    /// failure writing the user's `--qr-png` path) map as usual.
    pub fn from_setup_answer(e: Error) -> Self {
        if e.kind() == ErrorKind::InvalidInput {
            Failure {
                kind: ErrorKind::Decode.as_str(),
                status: None,
                message: format!(
                    "GET settings/tfaapp/setup answered a setup code that cannot be used: {e}"
                ),
                advice: None,
                exit: 1,
            }
        } else {
            Failure::from(e)
        }
    }
}

impl From<Error> for Failure {
    /// The library's kind, named as the library names it ([`ErrorKind::as_str`]); the exit
    /// code is the tool's.
    fn from(e: Error) -> Self {
        let exit = match e.kind() {
            // Bad input caught before sending, or a local file the user named.
            ErrorKind::InvalidInput | ErrorKind::Io => 2,
            ErrorKind::InvalidCode => 3,
            ErrorKind::Unauthorized | ErrorKind::Forbidden => 4,
            ErrorKind::NotAvailable => 5,
            ErrorKind::RateLimited => 6,
            ErrorKind::TfaNotApplicable => 7,
            // Network, timeout, redirect, decode, too large a body, 5xx and statuses without
            // a more specific kind.
            _ => 1,
        };
        let (message, advice) = message_and_advice(&e);
        Failure {
            kind: e.kind().as_str(),
            status: e.status(),
            message,
            advice,
            exit,
        }
    }
}

/// The library's `Display` and advice, with the advice that concerns a setting put in the
/// tool's words: its own options and variables instead of "the token" or "the base URL".
fn message_and_advice(e: &Error) -> (String, Option<String>) {
    let text = e.to_string();
    let Some(advice) = e.advice() else {
        return (text, None);
    };
    let ours = match advice {
        Advice::TokenRefused => "the portal refused the bearer token: check DOCSPACE_TOKEN, or \
             the file given to --token-file (wrong, revoked, expired, or of another portal?)"
            .to_owned(),
        Advice::NoApiAtUrl => "no DocSpace API at this URL: check --url or DOCSPACE_URL, which \
             should be the portal's root (such as https://portal.example.com, with no path)"
            .to_owned(),
        Advice::HostNotFound { host } => format!(
            "the host name {host} does not resolve: check the host in --url or DOCSPACE_URL (and \
             the network's DNS)"
        ),
        other => return (text, Some(other.to_string())),
    };
    // The library's advice ends its text, after "; ".
    match text.strip_suffix(&format!("; {advice}")) {
        Some(head) => (format!("{head}; {ours}"), Some(ours)),
        None => (text, Some(advice.to_string())),
    }
}

/// Where results go and how they look.
pub struct Out {
    pub json: bool,
    color: bool,
}

impl Out {
    pub fn new(json: bool) -> Self {
        let color = !json
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stdout().is_terminal();
        Out { json, color }
    }

    /// Whether stdout is an interactive terminal (and text mode is on).
    pub fn interactive(&self) -> bool {
        !self.json && std::io::stdout().is_terminal()
    }

    /// Prints the JSON result (in `--json` mode).
    pub fn json(&self, value: &Value) {
        let mut stdout = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut stdout, value);
        let _ = writeln!(stdout);
    }

    /// Prints a line of text.
    pub fn line(&self, text: impl AsRef<str>) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{}", text.as_ref());
    }

    /// Prints `label: value`, the label in bold on a colour terminal; control and bidi
    /// characters in the label and the value are escaped ([`clean`]).
    pub fn field(&self, label: &str, value: impl AsRef<str>) {
        let (label, value) = (clean(label), clean(value.as_ref()));
        if self.color {
            self.line(format!("\x1b[1m{label}:\x1b[0m {value}"));
        } else {
            self.line(format!("{label}: {value}"));
        }
    }

    /// Prints a failure: `{"error": …}` on stdout in JSON mode, a line on stderr otherwise.
    pub fn failure(&self, f: &Failure) {
        if f.kind == REPORTED {
            return;
        }
        if self.json {
            self.json(&json!({"error": {
                "kind": f.kind,
                "status": f.status,
                "message": f.message,
                "advice": f.advice,
            }}));
        } else if self.color {
            eprintln!("\x1b[31merror:\x1b[0m {}", clean(&f.message));
        } else {
            eprintln!("error: {}", clean(&f.message));
        }
    }
}
