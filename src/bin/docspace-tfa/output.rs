//! Output: one JSON document with `--json`, readable text otherwise; how a [`Failure`] is
//! printed.

use std::io::{IsTerminal, Write};

use serde_json::{json, Value};

pub use crate::failure::Failure;
use crate::terminal::clean;

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
