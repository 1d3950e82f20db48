//! The harness of the CLI tests: the `docspace-tfa` binary run with a clean DocSpace
//! environment, its output, and an emulator portal with one owner.
//!
//! Included by each `tests/cli*.rs` with `#[path = "support/cli.rs"] mod cli_support;` (not
//! through `support/mod.rs`, which brings the mockito helpers). Each test binary uses a
//! different subset.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};

use docspace_tfa::emulator::{Emulator, EmulatorBuilder, NewUser, TicketType};
use serde_json::{json, Value};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_docspace-tfa");

/// The variables the binary reads; a test sets the ones it means.
pub const DOCSPACE_VARS: [&str; 6] = [
    "DOCSPACE_URL",
    "DOCSPACE_TOKEN",
    "DOCSPACE_PASSWORD",
    "DOCSPACE_CONFIRM_KEY",
    "DOCSPACE_TOTP_KEY",
    "DOCSPACE_CA_CERT",
];

/// The e-mail and password of the [`Portal`]'s owner.
pub const EMAIL: &str = "bot@example.com";
pub const PASSWORD: &str = "Pa55-w0rd-of-the-bot";

/// The output of one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Stdout as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}): {}\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit code and, in JSON mode, the error shape; returns the error object.
    pub fn error(&self, exit: i32, kind: &str, status: Option<u16>) -> Value {
        assert_eq!(
            self.code, exit,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        let v = self.json();
        let e = &v["error"];
        assert_eq!(e["kind"], kind, "{v}");
        assert_eq!(e["status"], json!(status), "{v}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        assert_eq!(v.as_object().map(|o| o.len()), Some(1), "only `error`: {v}");
        e.clone()
    }

    /// Asserts that none of `secrets` is on stderr.
    pub fn assert_absent(&self, secrets: &[&str]) {
        for s in secrets {
            assert!(
                !self.stderr.contains(s),
                "secret on stderr: {}",
                self.stderr
            );
        }
    }
}

/// The binary with none of the [`DOCSPACE_VARS`] of the test's environment.
pub fn command() -> Command {
    let mut cmd = Command::new(BIN);
    for var in DOCSPACE_VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs `cmd` with its output captured and `stdin` written to a pipe that is then closed.
pub fn output(cmd: &mut Command, stdin: Option<&str>) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn docspace-tfa");
    if let Some(mut pipe) = child.stdin.take() {
        if let Some(input) = stdin {
            // A command that refuses its arguments exits without reading stdin: on a busy
            // machine it can be gone before the write, which then meets a closed pipe. What
            // it printed and its exit code are what the test checks.
            match pipe.write_all(input.as_bytes()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other.expect("write stdin"),
            }
        }
    }
    Run::from(child.wait_with_output().expect("wait for docspace-tfa"))
}

/// Runs the binary with `args`, a clean environment of DocSpace variables plus `env`, and
/// `stdin`.
pub fn run(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    output(command().args(args).envs(env.iter().copied()), stdin)
}

/// Reads a child's first stdout line as JSON.
pub fn first_line(child: &mut Child) -> Value {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("the JSON line");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// Starts `docspace-tfa emulator` with `args` (stdin a pipe that keeps it running, stderr
/// discarded) and returns it with its JSON line.
pub fn spawn_emulator(args: &[&str]) -> (Child, Value) {
    let mut child = Command::new(BIN)
        .arg("emulator")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the emulator");
    let info = first_line(&mut child);
    (child, info)
}

/// An emulator with one owner ([`EMAIL`]) whose app is not linked yet, and that owner's API key.
pub struct Portal {
    pub emu: Emulator,
    pub id: String,
    pub token: String,
}

impl Portal {
    pub fn new() -> Portal {
        Portal::with(Emulator::builder())
    }

    pub fn with(builder: EmulatorBuilder) -> Portal {
        let emu = builder.start().expect("emulator");
        let id = emu
            .add_user(NewUser::new(EMAIL, PASSWORD).owner())
            .expect("owner");
        let token = emu.issue_api_key(&id).expect("key").expose().to_owned();
        Portal { emu, id, token }
    }

    /// The portal's URL and the owner's token.
    pub fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("DOCSPACE_URL", self.emu.base_url()),
            ("DOCSPACE_TOKEN", &self.token),
        ]
    }

    /// Runs the binary against the portal as the owner, with nothing on stdin.
    pub fn run(&self, args: &[&str]) -> Run {
        run(args, &self.env(), None)
    }

    /// Runs the binary against the portal as the owner, with `stdin`.
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run(args, &self.env(), Some(stdin))
    }

    /// The owner's current code (once a setup generated the secret).
    pub fn code(&self) -> String {
        self.emu
            .current_code(&self.id)
            .expect("a secret")
            .expose()
            .to_owned()
    }

    /// The owner's manual entry key (once a setup generated it).
    pub fn manual_key(&self) -> String {
        let state = self.emu.user_state(&self.id).expect("owner");
        state
            .manual_entry_key
            .expect("a secret")
            .expose()
            .to_owned()
    }

    /// Links the owner's app through the SDK, as a precondition.
    pub fn link(&self) {
        let client = self.emu.client().unwrap().with_token(self.token.as_str());
        let ticket = self
            .emu
            .ticket(&self.id, TicketType::TfaActivation)
            .unwrap();
        client.tfa().setup_with(&ticket).unwrap();
        assert!(
            client
                .tfa()
                .validate_with(&ticket, &self.code())
                .unwrap()
                .first_activation
        );
    }
}
