//! Help for a mistyped command line, drawn from the tool's own names: "did you mean 'setup'?",
//! the feature a command needs, a code split in two. Nothing here repeats what was typed (it
//! may be a secret in the wrong place); only our own command and option names are shown.
//!
//! A few lines of our own rather than clap's `suggestions` feature: that feature adds `strsim`
//! to the tool's tree and writes its suggestion into clap's message, which `main.rs` does not
//! print (clap's message repeats the typed value).

use clap::CommandFactory;

use crate::args::Cli;

/// The name in `names` closest to `typed`, when it is close enough to be a slip: at most one
/// edit for names of up to four letters, two for longer ones (a doubled, dropped, swapped or
/// wrong letter or two), letter case aside.
pub fn closest<'a>(typed: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if typed.is_empty() || typed.chars().count() > 40 {
        return None;
    }
    let lower = typed.to_ascii_lowercase();
    names
        .into_iter()
        .filter(|&name| name != typed)
        .map(|name| (edits(&lower, name), name))
        .filter(|&(d, name)| d <= if name.len() <= 4 { 1 } else { 2 })
        .min_by_key(|&(d, _)| d)
        .map(|(_, name)| name)
}

/// The long option closest to `flag` (`--tokn-file` → `--token-file`) among those of the
/// subcommand named on the command line (`args`, as the process got them), globals included.
pub fn option(flag: &str, args: &[String]) -> Option<String> {
    let name = flag.strip_prefix("--")?;
    let mut cmd = Cli::command();
    cmd.build();
    let current = deepest(&cmd, args);
    let longs: Vec<&str> = current
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .chain(["help", "version"])
        .collect();
    closest(name, longs).map(|long| format!("--{long}"))
}

/// The deepest subcommand named on the command line (`args`, as the process got them):
/// `settings set`, `sms`, `link`, or the tool itself.
fn deepest<'c>(cmd: &'c clap::Command, args: &[String]) -> &'c clap::Command {
    let mut current = cmd;
    for arg in args.iter().skip(1) {
        if let Some(sub) = current.find_subcommand(arg) {
            current = sub;
        }
    }
    current
}

/// The visible subcommands of the command whose subcommand was mistyped (`sms phnoe` →
/// `phone`, `send`; `stauts` → the tool's commands), with the one closest to `typed`.
pub fn subcommands(typed: &str, args: &[String]) -> (Vec<String>, Option<String>) {
    let cmd = Cli::command();
    let names: Vec<String> = deepest(&cmd, args)
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_owned())
        .collect();
    let near = closest(typed, names.iter().map(String::as_str)).map(str::to_owned);
    (names, near)
}

/// Whether a stray argument looks like the second half of a code typed with its space
/// (`validate 123 456`): one to eight digits. Nothing about it is shown.
pub fn looks_like_half_a_code(arg: &str) -> bool {
    (1..=8).contains(&arg.len()) && arg.bytes().all(|b| b.is_ascii_digit())
}

/// The message for `emulator` or `demo` on a binary built without the `emulator` feature.
pub fn missing_feature(typed: &str, emulator_built: bool) -> Option<String> {
    if emulator_built || !matches!(typed, "emulator" | "demo") {
        return None;
    }
    Some(format!(
        "'{typed}' needs the `emulator` feature, which this docspace-tfa was built without: \
         install with `cargo install --path . --features cli,emulator` (from a clone), or build \
         with `--features cli,emulator`"
    ))
}

/// The edits between two short names: letters inserted, dropped, replaced or swapped with
/// their neighbour (the optimal string alignment distance).
fn edits(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMANDS: [&str; 6] = ["setup", "validate", "code", "login", "link", "settings"];

    #[test]
    fn a_slip_gets_the_closest_name_and_anything_else_none() {
        let cases = [
            ("stup", Some("setup")),
            ("setpu", Some("setup")),
            ("SETUP", Some("setup")),
            ("valdiate", Some("validate")),
            ("validte", Some("validate")),
            ("lgin", Some("login")),
            ("settigns", Some("settings")),
            ("cod", Some("code")),
            ("xyz", None),
            ("JBSWY3DPEHPK3PXP", None),
            ("", None),
        ];
        for (typed, expected) in cases {
            assert_eq!(closest(typed, COMMANDS), expected, "{typed}");
        }
    }

    #[test]
    fn options_are_suggested_from_the_named_subcommand() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases = [
            (
                "--tokn-file",
                args(&["docspace-tfa", "settings"]),
                Some("--token-file"),
            ),
            (
                "--qr-pgn",
                args(&["docspace-tfa", "setup"]),
                Some("--qr-png"),
            ),
            // `--regenerate` belongs to `codes`, not to `setup`.
            ("--regenrate", args(&["docspace-tfa", "setup"]), None),
            (
                "--regenrate",
                args(&["docspace-tfa", "codes"]),
                Some("--regenerate"),
            ),
            (
                "--trusted-pi",
                args(&["docspace-tfa", "settings", "set"]),
                Some("--trusted-ip"),
            ),
            ("--jsno", args(&["docspace-tfa"]), Some("--json")),
            ("-x", args(&["docspace-tfa", "setup"]), None),
        ];
        for (flag, argv, expected) in cases {
            assert_eq!(option(flag, &argv).as_deref(), expected, "{flag} {argv:?}");
        }
    }

    #[test]
    fn half_a_code_and_a_missing_feature_are_told() {
        for (arg, half) in [
            ("456", true),
            ("12345678", true),
            ("123456789", false),
            ("4x6", false),
        ] {
            assert_eq!(looks_like_half_a_code(arg), half, "{arg}");
        }
        let message = missing_feature("emulator", false).unwrap();
        assert!(message.contains("--features cli,emulator"), "{message}");
        assert!(missing_feature("demo", false)
            .unwrap()
            .starts_with("'demo' needs the `emulator` feature"));
        assert_eq!(missing_feature("emulator", true), None);
        assert_eq!(missing_feature("setup", false), None);
    }
}
