//! `doctor`: the portal's TFA configuration checked by the library's
//! [`diagnose`](docspace_tfa::doctor::diagnose); findings worst first, as text or a JSON list.
//! Exit 0 when nothing is an error or a warning, 1 otherwise (`docs/cli.md`, "doctor").

use std::io::Write;

use docspace_tfa::doctor::{diagnose, Report, Severity};
use docspace_tfa::Client;

use crate::output::{Failure, Out};
use crate::terminal::clean;

/// Runs the checks, prints the findings, and ends the process with exit 1 when one of them is
/// an error or a warning (the findings are the output, not a failure to report).
pub fn doctor(out: &Out, client: &Client) -> Result<(), Failure> {
    let report = diagnose(client)?;
    if out.json {
        out.json(&serde_json::to_value(&report.findings).unwrap_or_default());
    } else {
        print_text(out, &report);
    }
    if !report.is_healthy() {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        std::process::exit(1);
    }
    Ok(())
}

fn print_text(out: &Out, report: &Report) {
    let count = |s: Severity| report.of(s).count();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let version = report
        .server_version
        .as_deref()
        .map(|v| format!(" (server {})", clean(v)))
        .unwrap_or_default();
    out.line(format!(
        "{}, {}, {}{version}",
        plural(count(Severity::Error), "error", "errors"),
        plural(count(Severity::Warning), "warning", "warnings"),
        plural(count(Severity::Info), "note", "notes"),
    ));
    for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        for f in report.of(severity) {
            out.line("");
            let subject = f
                .subject
                .as_deref()
                .map(|s| format!(" [{}]", clean(s)))
                .unwrap_or_default();
            out.line(format!("{severity}: {}{subject}", f.code));
            out.line(format!("  {}", clean(&f.message)));
            out.line(format!("  what to do: {}", clean(&f.advice)));
        }
    }
    if report.is_healthy() {
        out.line("");
        out.line("nothing to fix");
    }
}
