//! The password for `--password-stdin`: from the terminal without echo, or from a pipe. Apart
//! from `terminal.rs`, so that `terminal.rs` and `output.rs` do not import each other
//! (`docs/architecture.md`).

use std::io::{BufRead, IsTerminal};

use docspace_tfa::Secret;

use crate::output::Failure;

/// The password for `--password-stdin`: typed without echo when stdin is a terminal (with
/// a prompt on the terminal), otherwise the first line of stdin.
pub fn password_from_stdin() -> Result<Secret, Failure> {
    let line = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password (not shown): ").map_err(|e| {
            Failure::usage(format!("cannot read the password from the terminal: {e}"))
        })?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::usage(format!("cannot read the password from stdin: {e}")))?;
        line
    };
    let pw = line.trim_end_matches(['\r', '\n']).to_owned();
    if pw.is_empty() {
        return Err(Failure::usage("the password on stdin is empty"));
    }
    Ok(Secret::new(pw))
}
