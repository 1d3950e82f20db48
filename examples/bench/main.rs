//! The benchmark of issue 8: per-call overhead, connection reuse (over HTTP and HTTPS),
//! threads, test servers (the emulator vs mockito) and CLI cold start, side by side with bare
//! `ureq` (the floor), `ureq` configured as the SDK and the API documentation page's Python example.
//!
//! ```text
//! scripts/bench.sh                                   # everything, footprint included (THE command)
//! cargo run --release --example bench                # the runtime figures only
//! cargo run --example bench -- --smoke               # CI: a few calls of each kind, no judging
//! cargo run --release --example bench -- --serve     # just the canned server, for poking at it
//! ```
//!
//! Options: `--smoke`, `--calls N` (calls per keep-alive run, default 5000), `--rounds R`
//! (default 5), `--cold-runs M` (process starts per command, default 50), `--cli PATH` (the
//! `docspace-tfa` binary; default: next to this example's directory, so build it with the same
//! profile: `cargo build --release --features cli`), `--python PATH` (default `python3`;
//! `none` skips Python), `--serve [--port P] [--close]`.
//!
//! Every call's answer is checked, so a smoke run also proves that the SDK, plain `ureq`, the
//! Python script and the CLI talk to the server correctly. Timings are printed, never asserted.
//! See docs/performance.md for the figures and what they mean.

mod calls;
mod measure;
mod server;
mod test_servers;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use calls::{
    bare_agent, plain_agent, plain_agent_tls, sdk_call, sdk_client, sdk_validate_token_only, Op,
    Plain,
};
use measure::{median, median_sample, percentile, process_cpu_ns, run, run_thread, Sample};
use server::{Mode, Server};

/// The manual key the cold-start runs compute codes for.
const TOTP_KEY: &str = "JBSWY3DPEHPK3PXP";
const OPS: [Op; 2] = [Op::Validate, Op::Settings];

struct Opts {
    smoke: bool,
    calls: usize,
    rounds: usize,
    cold_runs: usize,
    cli: Option<PathBuf>,
    python: Option<String>,
    serve: bool,
    port: u16,
    close: bool,
    /// `--profile WORKLOAD`: only that workload, for perf or callgrind.
    profile: Option<String>,
    url: Option<String>,
}

impl Opts {
    /// A handful of flags; the CLI's parser (clap) is behind the `cli` feature, and the
    /// benchmark must run without it.
    fn parse() -> Result<Opts, String> {
        let mut o = Opts {
            smoke: false,
            calls: 5000,
            rounds: 5,
            cold_runs: 50,
            cli: None,
            python: Some("python3".into()),
            serve: false,
            port: 0,
            close: false,
            profile: None,
            url: None,
        };
        let mut explicit = (false, false, false);
        let mut args = std::env::args().skip(1);
        let number = |v: Option<String>, what: &str| -> Result<usize, String> {
            v.and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{what} needs a positive number"))
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--smoke" => o.smoke = true,
                "--calls" => (o.calls, explicit.0) = (number(args.next(), "--calls")?, true),
                "--rounds" => (o.rounds, explicit.1) = (number(args.next(), "--rounds")?, true),
                "--cold-runs" => {
                    (o.cold_runs, explicit.2) = (number(args.next(), "--cold-runs")?, true)
                }
                "--cli" => o.cli = Some(args.next().ok_or("--cli needs a path")?.into()),
                "--python" => {
                    let p = args.next().ok_or("--python needs a path or `none`")?;
                    o.python = (p != "none").then_some(p);
                }
                "--serve" => o.serve = true,
                "--port" => {
                    o.port = u16::try_from(number(args.next(), "--port")?)
                        .map_err(|_| "--port is out of range")?
                }
                "--close" => o.close = true,
                "--profile" => o.profile = Some(args.next().ok_or("--profile needs a workload")?),
                "--url" => o.url = Some(args.next().ok_or("--url needs a base URL")?),
                "-h" | "--help" => {
                    return Err(
                        "usage: bench [--smoke] [--calls N] [--rounds R] [--cold-runs M] \
                         [--cli PATH] [--python PATH|none] | bench --serve [--port P] [--close] \
                         | bench --profile [sdk|ureq|bare][-new]-[validate|settings] \
                         | bench --profile sdk-token-only-validate \
                         [--url URL] [--calls N]"
                            .into(),
                    )
                }
                other => return Err(format!("unknown argument {other:?} (see --help)")),
            }
        }
        if o.smoke {
            if !explicit.0 {
                o.calls = 20;
            }
            if !explicit.1 {
                o.rounds = 1;
            }
            if !explicit.2 {
                o.cold_runs = 3;
            }
        }
        Ok(o)
    }

    /// Calls per run where each call opens a connection.
    fn fresh_calls(&self) -> usize {
        (self.calls / 5).max(5)
    }
}

fn main() -> ExitCode {
    let opts = match Opts::parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let result = if opts.serve {
        serve_forever(&opts)
    } else if let Some(workload) = &opts.profile {
        profile(&opts, workload)
    } else {
        bench(&opts)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve_forever(opts: &Opts) -> Result<(), String> {
    let mode = if opts.close {
        Mode::Close
    } else {
        Mode::KeepAlive
    };
    let server = Server::start(mode, opts.port).map_err(|e| format!("cannot listen: {e}"))?;
    println!("canned DocSpace ({mode:?}) on {}", server.url());
    println!(
        "  POST /api/2.0/settings/tfaapp/validate   GET /api/2.0/settings/tfaapp   \
         GET /api/2.0/settings/tfaapp/confirm"
    );
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// One workload alone, for `perf record` or `valgrind --tool=callgrind`: against `--url` (a
/// `--serve` process, so that the server's work is not in the profile) or an in-process
/// server. Prints the calls and the wall time.
fn profile(opts: &Opts, workload: &str) -> Result<(), String> {
    let server;
    let url = match &opts.url {
        Some(u) => u.clone(),
        None => {
            server = Server::start(Mode::KeepAlive, 0).map_err(|e| e.to_string())?;
            server.url()
        }
    };
    let op = match workload.rsplit('-').next() {
        Some("validate") => Op::Validate,
        Some("settings") => Op::Settings,
        _ => return Err(format!("unknown workload {workload:?}")),
    };
    let s = if workload.starts_with("sdk-new-") {
        run(opts.calls, || sdk_call(&sdk_client(&url)?, op))?
    } else if workload.starts_with("ureq-new-") {
        run(opts.calls, || Plain::new(&url, plain_agent()).call(op))?
    } else if workload.starts_with("bare-") {
        let plain = Plain::new(&url, bare_agent());
        run(opts.calls.min(100), || plain.call(op))?;
        run(opts.calls, || plain.call(op))?
    } else if workload == "sdk-token-only-validate" {
        let client = sdk_client(&url)?;
        run(opts.calls.min(100), || sdk_validate_token_only(&client))?;
        run(opts.calls, || sdk_validate_token_only(&client))?
    } else if workload.starts_with("sdk-") {
        let client = sdk_client(&url)?;
        run(opts.calls.min(100), || sdk_call(&client, op))?;
        run(opts.calls, || sdk_call(&client, op))?
    } else if workload.starts_with("ureq-") {
        let plain = Plain::new(&url, plain_agent());
        run(opts.calls.min(100), || plain.call(op))?;
        run(opts.calls, || plain.call(op))?
    } else {
        return Err(format!("unknown workload {workload:?}"));
    };
    println!(
        "{workload}: {} calls, {:.1} µs/call wall, {} µs/call CPU",
        s.calls,
        s.wall_us(),
        fmt_opt(s.cpu_us(), 1)
    );
    Ok(())
}

/// One of the clients under test.
enum Caller {
    Sdk(docspace_tfa::Client),
    /// The SDK's `validate(code)` with only a token (confirm, then validate); validate only.
    SdkTokenOnly(docspace_tfa::Client),
    Plain(Plain),
}

impl Caller {
    fn call(&self, op: Op) -> Result<(), String> {
        match self {
            Caller::Sdk(client) => sdk_call(client, op),
            Caller::SdkTokenOnly(client) => sdk_validate_token_only(client),
            Caller::Plain(plain) => plain.call(op),
        }
    }

    /// Whether this client has a row for `op`.
    fn makes(&self, op: Op) -> bool {
        !matches!(self, Caller::SdkTokenOnly(_)) || op == Op::Validate
    }
}

/// The figures the target summary needs.
#[derive(Default)]
struct Results {
    /// (client, op) → median sample.
    keepalive: BTreeMap<(&'static str, &'static str), Sample>,
    /// (variant, op) → median sample.
    fresh: BTreeMap<(&'static str, &'static str), Sample>,
    /// command → median wall ms.
    cold_ms: BTreeMap<&'static str, f64>,
}

fn bench(opts: &Opts) -> Result<(), String> {
    let started = Instant::now();
    println!(
        "# docspace-tfa benchmark{}",
        if opts.smoke { " (smoke)" } else { "" }
    );
    println!();
    println!("- load average at start: {}", loadavg());
    println!(
        "- calls per keep-alive run: {}, per fresh-connection run: {}, rounds: {}, \
         process starts per command: {}",
        opts.calls,
        opts.fresh_calls(),
        opts.rounds,
        opts.cold_runs
    );
    println!(
        "- build: {}",
        if cfg!(debug_assertions) {
            "debug (figures are not representative)"
        } else {
            "release"
        }
    );
    let python = match &opts.python {
        Some(p) => Python::find(p)?,
        None => None,
    };
    match &python {
        Some(py) => println!(
            "- python: {} ({}; requests {})",
            py.exe.display(),
            py.version,
            py.requests
                .as_deref()
                .unwrap_or("not installed: http.client stands in")
        ),
        None => println!("- python: not found or skipped; Python rows are left out"),
    }
    println!();

    let mut results = Results::default();
    keepalive(opts, python.as_ref(), &mut results)?;
    fresh(opts, &mut results)?;
    threads(opts)?;
    test_servers::section(opts)?;
    cold_start(opts, python.as_ref(), &mut results)?;
    targets(opts, python.as_ref(), &results);
    println!();
    println!(
        "- load average at end: {}; benchmark took {:.1} s",
        loadavg(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "n/a".into())
}

fn row(client: &str, op: Op, s: &Sample, conns: f64, reference: Option<&Sample>) {
    let ratio = reference
        .map(|r| format!("{:.2}", r.per_sec() / s.per_sec()))
        .unwrap_or_else(|| "–".into());
    println!(
        "| {client} | {} | {:.0} | {:.1} | {} | {} | {ratio} |",
        op.name(),
        s.per_sec(),
        s.wall_us(),
        fmt_opt(s.cpu_us(), 1),
        fmt_conns(conns),
    );
}

fn fmt_conns(per_call: f64) -> String {
    if per_call == 0.0 {
        "0 (pooled)".into()
    } else {
        format!("{per_call:.2}")
    }
}

fn table_head(what: &str) {
    println!("| {what} | call | calls/s | wall µs/call | client CPU µs/call | new connections/call | SDK keep-alive ÷ this |");
    println!("|---|---|---:|---:|---:|---:|---:|");
}

/// Section 1: N calls on one keep-alive connection.
fn keepalive(opts: &Opts, python: Option<&Python>, results: &mut Results) -> Result<(), String> {
    println!("## 1. Per-call overhead on keep-alive (canned in-process server)");
    println!();
    let server = Server::start(Mode::KeepAlive, 0).map_err(|e| e.to_string())?;
    let url = server.url();
    let host_url = server.url_with_host("localhost");
    // Every client, by the IP literal and by a host name: the floor (bare ureq, no timeouts),
    // the SDK, and ureq configured as the SDK is (timeouts: the previous baseline).
    let clients: Vec<(&'static str, &'static str, Caller)> = vec![
        (
            "floor",
            "bare ureq, no timeouts (the floor)",
            Caller::Plain(Plain::new(&url, bare_agent())),
        ),
        ("sdk", "docspace-tfa SDK", Caller::Sdk(sdk_client(&url)?)),
        (
            "sdk-token-only",
            "docspace-tfa SDK, token-only `validate()`: 2 requests (confirm, then validate)",
            Caller::SdkTokenOnly(sdk_client(&url)?),
        ),
        (
            "ureq",
            "ureq with the SDK's agent config (timeouts)",
            Caller::Plain(Plain::new(&url, plain_agent())),
        ),
        (
            "floor-localhost",
            "bare ureq, no timeouts, `localhost`",
            Caller::Plain(Plain::new(&host_url, bare_agent())),
        ),
        (
            "sdk-localhost",
            "docspace-tfa SDK, `localhost`",
            Caller::Sdk(sdk_client(&host_url)?),
        ),
        (
            "ureq-localhost",
            "ureq with the SDK's agent config, `localhost`",
            Caller::Plain(Plain::new(&host_url, plain_agent())),
        ),
    ];
    let warm = opts.calls.min(200);
    for op in OPS {
        for (_, _, caller) in clients.iter().filter(|c| c.2.makes(op)) {
            run(warm, || caller.call(op))?;
        }
    }
    let conns = server.connections();
    let mut samples: BTreeMap<(&str, &str), Vec<Sample>> = BTreeMap::new();
    for round in 0..opts.rounds {
        for op in OPS {
            // Rotate the order so that no client always runs first or last.
            for i in 0..clients.len() {
                let (key, _, caller) = &clients[(i + round) % clients.len()];
                if !caller.makes(op) {
                    continue;
                }
                let s = run(opts.calls, || caller.call(op))?;
                samples.entry((key, op.name())).or_default().push(s);
            }
        }
    }
    let new_conns = server.connections() - conns;
    table_head("client");
    for op in OPS {
        for (key, _, _) in clients.iter().filter(|c| c.2.makes(op)) {
            let s = median_sample(&samples[&(*key, op.name())]);
            results.keepalive.insert((*key, op.name()), s);
        }
        let sdk = results.keepalive[&("sdk", op.name())];
        for (key, label, _) in clients.iter().filter(|c| c.2.makes(op)) {
            let s = results.keepalive[&(*key, op.name())];
            row(label, op, &s, new_conns as f64, Some(&sdk));
        }
    }
    if let Some(py) = python {
        let mut modes = vec![
            (
                "httpclient",
                "Python http.client, one kept-open connection",
                false,
            ),
            (
                "httpclient-fresh",
                "Python http.client, a connection per call",
                true,
            ),
        ];
        if py.requests.is_some() {
            modes.insert(0, ("requests-session", "Python requests.Session", false));
            modes.insert(
                0,
                (
                    "requests",
                    "Python requests, no session (the documentation page's example exactly)",
                    true,
                ),
            );
        }
        for (mode, label, per_call_conn) in modes {
            for op in OPS {
                let n = if per_call_conn {
                    opts.fresh_calls()
                } else {
                    opts.calls
                };
                let before = server.connections();
                let mut samples = Vec::new();
                for _ in 0..opts.rounds.min(3) {
                    samples.push(py.run_loop(mode, op, &url, n)?);
                }
                let opened = server.connections() - before;
                let calls: usize = samples.iter().map(|s| s.calls).sum();
                let s = median_sample(&samples);
                results.keepalive.insert((mode, op.name()), s);
                // The script's warm-up calls open connections too; count per timed call.
                let warmups = n.min(50) * samples.len();
                let per_call = opened as f64 / (calls + warmups) as f64;
                let sdk_s = results.keepalive[&("sdk", op.name())];
                row(
                    label,
                    op,
                    &s,
                    if per_call < 0.01 { 0.0 } else { per_call },
                    Some(&sdk_s),
                );
            }
        }
    }
    println!();
    println!(
        "Client CPU: Rust, the process's CPU time (clock_gettime(CLOCK_PROCESS_CPUTIME_ID), \
         what getrusage reads) minus the canned server's threads (their schedstat), so a \
         thread a call starts (ureq's lookup thread) counts; Python: time.process_time() of \
         its own process. Median of {} runs; the Rust clients run interleaved, in a rotating order. \
         `localhost` rows reach the same server by name (the floor and plain ureq look it up \
         on every call; the SDK caches it).",
        opts.rounds
    );
    println!();
    Ok(())
}

/// Section 2: the same calls with a new connection every time.
fn fresh(opts: &Opts, results: &mut Results) -> Result<(), String> {
    println!("## 2. Connection reuse: a new connection per call vs the shared pool");
    println!();
    let n = opts.fresh_calls();
    let rounds = opts.rounds.min(3);
    let keep = Server::start(Mode::KeepAlive, 0).map_err(|e| e.to_string())?;
    let close = Server::start(Mode::Close, 0).map_err(|e| e.to_string())?;
    let close_client = sdk_client(&close.url())?;
    let close_plain = Plain::new(&close.url(), plain_agent());
    table_head("variant");
    for op in OPS {
        let variants: [(&'static str, &'static str, &Server); 4] = [
            ("sdk-new-client", "SDK, a new Client per call", &keep),
            (
                "sdk-conn-close",
                "SDK, shared Client, server closes (`Connection: close`)",
                &close,
            ),
            ("ureq-new-agent", "plain ureq, a new Agent per call", &keep),
            (
                "ureq-conn-close",
                "plain ureq, shared Agent, server closes",
                &close,
            ),
        ];
        for (key, label, server) in variants {
            let url = server.url();
            let before = server.connections();
            let mut samples = Vec::new();
            for _ in 0..rounds {
                let s = match key {
                    "sdk-new-client" => run(n, || sdk_call(&sdk_client(&url)?, op))?,
                    "sdk-conn-close" => run(n, || sdk_call(&close_client, op))?,
                    "ureq-new-agent" => run(n, || Plain::new(&url, plain_agent()).call(op))?,
                    _ => run(n, || close_plain.call(op))?,
                };
                samples.push(s);
            }
            let opened = server.connections() - before;
            let s = median_sample(&samples);
            results.fresh.insert((key, op.name()), s);
            let pooled = results.keepalive[&("sdk", op.name())];
            row(
                label,
                op,
                &s,
                opened as f64 / (n * rounds) as f64,
                Some(&pooled),
            );
        }
    }
    println!();
    println!(
        "The last column is the pool's gain: SDK calls/s on a kept-alive connection (section 1) \
         ÷ this row's. Median of {rounds} runs of {n} calls."
    );
    println!();
    fresh_tls(opts, results)
}

/// Section 2b: the same over HTTPS, where a new connection costs a TLS handshake.
fn fresh_tls(opts: &Opts, results: &mut Results) -> Result<(), String> {
    println!("### 2b. The same over HTTPS (plain ureq; validate)");
    println!();
    let n = opts.fresh_calls();
    let rounds = opts.rounds.min(3);
    let keep = Server::start_tls(Mode::KeepAlive, 0)?;
    let close = Server::start_tls(Mode::Close, 0)?;
    let pooled = Plain::new(&keep.url(), plain_agent_tls()?);
    let close_plain = Plain::new(&close.url(), plain_agent_tls()?);
    let op = Op::Validate;
    run(opts.calls.min(200), || pooled.call(op))?;
    run(n.min(20), || close_plain.call(op))?;
    println!("| variant | call | calls/s | wall µs/call | client CPU µs/call | new connections/call | HTTPS keep-alive ÷ this |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut pooled_samples = Vec::new();
    let mut close_samples = Vec::new();
    let mut new_agent_samples = Vec::new();
    let before = (keep.connections(), close.connections());
    for _ in 0..rounds {
        pooled_samples.push(run(opts.calls, || pooled.call(op))?);
        close_samples.push(run(n, || close_plain.call(op))?);
        new_agent_samples.push(run(n, || {
            Plain::new(&keep.url(), plain_agent_tls()?).call(op)
        })?);
    }
    let keep_opened = keep.connections() - before.0;
    let close_opened = close.connections() - before.1;
    let p = median_sample(&pooled_samples);
    let c = median_sample(&close_samples);
    let a = median_sample(&new_agent_samples);
    // Fresh agents opened one connection per call on the keep-alive server too.
    let pooled_conns = keep_opened.saturating_sub(n * rounds);
    row(
        "plain ureq over HTTPS, shared Agent, keep-alive",
        op,
        &p,
        pooled_conns as f64 / (opts.calls * rounds) as f64,
        Some(&p),
    );
    row(
        "plain ureq over HTTPS, shared Agent, server closes (TLS resumption possible)",
        op,
        &c,
        close_opened as f64 / (n * rounds) as f64,
        Some(&p),
    );
    row(
        "plain ureq over HTTPS, a new Agent per call (full handshake)",
        op,
        &a,
        1.0,
        Some(&p),
    );
    results.fresh.insert(("tls-pooled", op.name()), p);
    results.fresh.insert(("tls-conn-close", op.name()), c);
    results.fresh.insert(("tls-new-agent", op.name()), a);
    println!();
    println!(
        "A portal is reached over HTTPS only (the SDK refuses plain http:// except to loopback), \
         so these rows are the realistic cost of not reusing connections; a real network adds \
         1–2 round trips per new connection on top."
    );
    println!();
    Ok(())
}

/// Section 3: 1, 2, 4, 8 threads sharing one client.
fn threads(opts: &Opts) -> Result<(), String> {
    println!("## 3. Threads sharing one Client (validate, keep-alive server)");
    println!();
    let server = Server::start(Mode::KeepAlive, 0).map_err(|e| e.to_string())?;
    let client = sdk_client(&server.url())?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("| threads | calls/s | vs 1 thread | wall µs/call | client CPU µs/call | process CPU µs/call (client + server) | new connections |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut one = None;
    for t in [1usize, 2, 4, 8] {
        let per_thread = (opts.calls / t).max(1);
        let mut samples = Vec::new();
        let mut opened = 0;
        // Warm the pool with this many threads first.
        threaded(&client, t, per_thread.min(50))?;
        let cpu0 = process_cpu_ns();
        for _ in 0..opts.rounds.min(3) {
            let before = server.connections();
            samples.push(threaded(&client, t, per_thread)?);
            opened += server.connections() - before;
        }
        let calls: usize = samples.iter().map(|s| s.calls).sum();
        let process_us = cpu0
            .zip(process_cpu_ns())
            .map(|(a, b)| b.saturating_sub(a) as f64 / 1e3 / calls as f64);
        let s = median_sample(&samples);
        let base = *one.get_or_insert(s.per_sec());
        println!(
            "| {t} | {:.0} | {:.2}× | {:.1} | {} | {} | {opened} |",
            s.per_sec(),
            s.per_sec() / base,
            s.wall_us(),
            fmt_opt(s.cpu_us(), 1),
            fmt_opt(process_us, 1),
        );
    }
    println!();
    println!(
        "{cores} cores for the client threads and the server's connection threads together. \
         \"new connections\": opened during the timed runs (the SDK's pool keeps up to 16 idle \
         connections; ureq's default is 3 per host). Client CPU: the sum over the client threads; \
         process CPU: the whole process (client and server threads, 10 ms ticks) over all runs."
    );
    println!();
    Ok(())
}

/// `threads` threads, `per_thread` validate calls each, on clones of one client.
fn threaded(
    client: &docspace_tfa::Client,
    threads: usize,
    per_thread: usize,
) -> Result<Sample, String> {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let client = client.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                run_thread(per_thread, || sdk_call(&client, Op::Validate))
            })
        })
        .collect();
    barrier.wait();
    let t0 = Instant::now();
    let mut cpu = Some(0u64);
    for h in handles {
        let s = h.join().map_err(|_| "a client thread panicked")??;
        cpu = cpu.zip(s.cpu_ns).map(|(a, b)| a + b);
    }
    Ok(Sample {
        calls: threads * per_thread,
        wall: t0.elapsed(),
        cpu_ns: cpu,
    })
}

/// Section 4: whole-process wall time and peak memory of the CLI and of Python.
fn cold_start(opts: &Opts, python: Option<&Python>, results: &mut Results) -> Result<(), String> {
    println!("## 4. Cold start: one process, one step");
    println!();
    let server = Server::start(Mode::KeepAlive, 0).map_err(|e| e.to_string())?;
    let url = server.url();
    let cli = match &opts.cli {
        Some(p) => Some(p.clone()),
        None => default_cli(),
    };
    let cli = cli.filter(|p| p.is_file());
    let time_bin = Path::new("/usr/bin/time");
    let time_bin = time_bin.is_file().then_some(time_bin);
    let mut jobs: Vec<Job> = vec![Job::new("spawn floor: /bin/true", "true", "true", &[])];
    match &cli {
        Some(cli) => {
            let key = ["code", "--key", TOTP_KEY];
            jobs.push(Job::new("docspace-tfa code --key …", "cli-code", cli, &key));
            let mut validate = Job::new(
                "docspace-tfa validate 123456",
                "cli-validate",
                cli,
                &["validate", "123456"],
            );
            validate.env = vec![
                ("DOCSPACE_URL".into(), url.clone().into()),
                ("DOCSPACE_TOKEN".into(), "sk-bench".into()),
            ];
            jobs.push(validate);
        }
        None => println!(
            "(the CLI was not found next to this example; build it with the same profile: \
             `cargo build --release --features cli`, or pass --cli PATH)\n"
        ),
    }
    if let Some(py) = python {
        let script = py.script.to_string_lossy().into_owned();
        jobs.push(Job::new(
            "python3 -c pass (interpreter floor)",
            "py-floor",
            &py.exe,
            &["-c", "pass"],
        ));
        jobs.push(Job::new(
            "python3: TOTP code, stdlib (hmac, base64)",
            "py-code",
            &py.exe,
            &[&script, "code", TOTP_KEY],
        ));
        let label = if py.requests.is_some() {
            "python3: the documentation page's validate step (requests)"
        } else {
            "python3: the documentation page's validate step (http.client; requests not installed)"
        };
        jobs.push(Job::new(
            label,
            "py-validate",
            &py.exe,
            &[&script, "validate", &url, "123456"],
        ));
    }
    println!("| process | median ms | p90 ms | min ms | peak RSS MiB |");
    println!("|---|---:|---:|---:|---:|");
    for job in &jobs {
        let before = server.requests();
        job.check()?;
        if job.key.ends_with("validate") && server.requests() == before {
            return Err(format!("{} did not reach the server", job.label));
        }
        let mut ms = Vec::with_capacity(opts.cold_runs);
        for _ in 0..opts.cold_runs {
            ms.push(job.time_once()?);
        }
        let rss = match time_bin {
            Some(t) => {
                let mut kb = Vec::new();
                for _ in 0..opts.cold_runs.clamp(1, 5) {
                    kb.push(job.peak_rss_kb(t)?);
                }
                format!("{:.1}", median(&kb) / 1024.0)
            }
            None => "n/a (no /usr/bin/time)".into(),
        };
        let med = median(&ms);
        results.cold_ms.insert(job.key, med);
        println!(
            "| `{}` | {med:.2} | {:.2} | {:.2} | {rss} |",
            job.label,
            percentile(&ms, 90.0),
            ms.iter().copied().fold(f64::INFINITY, f64::min),
        );
    }
    println!();
    println!(
        "Wall time from spawn to exit as seen by the parent (std::process::Command), \
         {} starts each; peak RSS from `/usr/bin/time -f %M` (median of up to 5). `validate` runs \
         against the canned server in this process.",
        opts.cold_runs
    );
    println!();
    Ok(())
}

/// The CLI built with this example's profile: `target/<profile>/docspace-tfa`.
fn default_cli() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    Some(profile_dir.join(format!("docspace-tfa{}", std::env::consts::EXE_SUFFIX)))
}

struct Job {
    label: &'static str,
    key: &'static str,
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
}

impl Job {
    fn new(
        label: &'static str,
        key: &'static str,
        program: impl AsRef<std::ffi::OsStr>,
        args: &[&str],
    ) -> Job {
        Job {
            label,
            key,
            program: program.as_ref().to_owned(),
            args: args.iter().map(OsString::from).collect(),
            env: Vec::new(),
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args);
        for var in [
            "DOCSPACE_URL",
            "DOCSPACE_TOKEN",
            "DOCSPACE_TOTP_KEY",
            "DOCSPACE_CONFIRM_KEY",
        ] {
            c.env_remove(var);
        }
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c.stdin(Stdio::null());
        c
    }

    /// One run with its output captured: it must succeed.
    fn check(&self) -> Result<(), String> {
        let out = self
            .command()
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.label))?;
        if !out.status.success() {
            return Err(format!(
                "{} failed ({}): {}",
                self.label,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        if self.key.ends_with("code") {
            let code = String::from_utf8_lossy(&out.stdout);
            let code = code.trim();
            if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("{} printed {code:?}, not a code", self.label));
            }
        }
        Ok(())
    }

    /// Spawn to exit, in milliseconds.
    fn time_once(&self) -> Result<f64, String> {
        let mut c = self.command();
        c.stdout(Stdio::null()).stderr(Stdio::null());
        let t0 = Instant::now();
        let status = c
            .status()
            .map_err(|e| format!("cannot run {}: {e}", self.label))?;
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        if !status.success() {
            return Err(format!("{} failed: {status}", self.label));
        }
        Ok(ms)
    }

    /// Peak resident set size in KiB, from `/usr/bin/time -f %M`.
    fn peak_rss_kb(&self, time_bin: &Path) -> Result<f64, String> {
        let inner = self.command();
        let mut c = Command::new(time_bin);
        c.arg("-f")
            .arg("%M")
            .arg(inner.get_program())
            .args(inner.get_args());
        for var in [
            "DOCSPACE_URL",
            "DOCSPACE_TOKEN",
            "DOCSPACE_TOTP_KEY",
            "DOCSPACE_CONFIRM_KEY",
        ] {
            c.env_remove(var);
        }
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c.stdin(Stdio::null()).stdout(Stdio::null());
        let out = c
            .output()
            .map_err(|e| format!("cannot run /usr/bin/time: {e}"))?;
        let text = String::from_utf8_lossy(&out.stderr);
        text.lines()
            .last()
            .and_then(|l| l.trim().parse::<f64>().ok())
            .ok_or_else(|| format!("/usr/bin/time gave no peak RSS for {}: {text}", self.label))
    }
}

/// The Python interpreter and the script with the documentation page's Python example.
struct Python {
    /// The real interpreter (`sys.executable`), not a pyenv shim: a shim is a shell script
    /// that would add tens of milliseconds to every start.
    exe: PathBuf,
    version: String,
    requests: Option<String>,
    script: PathBuf,
}

impl Python {
    fn find(name: &str) -> Result<Option<Python>, String> {
        let probe = Command::new(name)
            .args([
                "-c",
                "import sys, platform\nprint(sys.executable)\nprint(platform.python_version())\n\
                 try:\n import requests; print(requests.__version__)\nexcept ImportError:\n print('')",
            ])
            .stderr(Stdio::null())
            .output();
        let Ok(out) = probe else { return Ok(None) };
        if !out.status.success() {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines = text.lines();
        let exe = PathBuf::from(lines.next().unwrap_or_default());
        let version = lines.next().unwrap_or_default().to_owned();
        let requests = lines.next().filter(|l| !l.is_empty()).map(str::to_owned);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench_python.py");
        if !script.is_file() {
            return Err(format!("{} is missing", script.display()));
        }
        Ok(Some(Python {
            exe,
            version,
            requests,
            script,
        }))
    }

    /// `n` calls in the script's own loop; its own clock (interpreter start not included).
    fn run_loop(&self, mode: &str, op: Op, url: &str, n: usize) -> Result<Sample, String> {
        let out = Command::new(&self.exe)
            .arg(&self.script)
            .args(["loop", mode, op.name(), url, &n.to_string()])
            .output()
            .map_err(|e| format!("cannot run python: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "python {mode} {} failed: {}",
                op.name(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("python printed no JSON line: {e}"))?;
        let wall = v["wall_s"].as_f64().ok_or("no wall_s")?;
        let cpu = v["cpu_s"].as_f64().ok_or("no cpu_s")?;
        Ok(Sample {
            calls: n,
            wall: Duration::from_secs_f64(wall),
            cpu_ns: Some((cpu * 1e9) as u64),
        })
    }
}

/// The targets of issue 8 that the runtime figures decide.
fn targets(opts: &Opts, python: Option<&Python>, r: &Results) {
    println!("## Targets (runtime)");
    println!();
    println!("| target | figure | verdict |");
    println!("|---|---|---|");
    let verdict = |ok: bool| {
        if opts.smoke || cfg!(debug_assertions) {
            "not judged (smoke or debug build)"
        } else if ok {
            "met"
        } else {
            "MISSED"
        }
    };
    for op in OPS {
        let floor = r.keepalive[&("floor", op.name())];
        for (key, host) in [("sdk", "IP literal"), ("sdk-localhost", "`localhost`")] {
            let sdk = r.keepalive[&(key, op.name())];
            // Against the floor by IP literal, the cheapest: a name costs the floor a lookup
            // per call, which would flatter the SDK.
            if let Some((s, f)) = sdk.cpu_us().zip(floor.cpu_us()) {
                let ratio = s / f;
                println!(
                    "| SDK client CPU/call ≤ 1.10 × floor ({}, {host}) | {ratio:.3} × ({s:.1} vs {f:.1} µs) | {} |",
                    op.name(),
                    verdict(ratio <= 1.10)
                );
            }
            let ratio = sdk.per_sec() / floor.per_sec();
            println!(
                "| SDK throughput ≥ 0.95 × floor ({}, {host}) | {ratio:.3} × | {} |",
                op.name(),
                verdict(ratio >= 0.95)
            );
        }
        if let Some(two) = r.keepalive.get(&("sdk-token-only", op.name())) {
            let cpu = two
                .cpu_us()
                .zip(floor.cpu_us())
                .map(|(t, f)| format!("{:.2} × CPU ({t:.1} vs {f:.1} µs), ", t / f))
                .unwrap_or_default();
            println!(
                "| (for reference, not a target: token-only `validate()`, 2 requests, vs the floor's 1) | {cpu}{:.2} × throughput | – |",
                two.per_sec() / floor.per_sec()
            );
        }
        let sdk = r.keepalive[&("sdk", op.name())];
        let plain = r.keepalive[&("ureq", op.name())];
        let ratio = sdk.per_sec() / plain.per_sec();
        println!(
            "| SDK ≥ 0.95 × ureq with the same config ({}) | {ratio:.3} × | {} |",
            op.name(),
            verdict(ratio >= 0.95)
        );
    }
    if let Some(py) = python {
        let baseline = if py.requests.is_some() {
            "requests"
        } else {
            "httpclient-fresh"
        };
        for op in OPS {
            let sdk = r.keepalive[&("sdk", op.name())];
            let base = r.keepalive[&(baseline, op.name())];
            let ratio = sdk.per_sec() / base.per_sec();
            println!(
                "| SDK ≥ 3 × the documentation page's Python ({}, {baseline}) | {ratio:.1} × | {} |",
                op.name(),
                verdict(ratio >= 3.0)
            );
            let best = r.keepalive[&("httpclient", op.name())];
            println!(
                "| (for reference: SDK vs Python http.client keep-alive, {}) | {:.1} × | – |",
                op.name(),
                sdk.per_sec() / best.per_sec()
            );
        }
    }
    for op in OPS {
        let pooled = r.keepalive[&("sdk", op.name())];
        for (key, what) in [
            ("sdk-new-client", "a new Client per call"),
            ("sdk-conn-close", "Connection: close"),
        ] {
            let fresh = r.fresh[&(key, op.name())];
            let ratio = pooled.per_sec() / fresh.per_sec();
            println!(
                "| pooled ≥ 3 × fresh ({}, {what}) | {ratio:.1} × | {} |",
                op.name(),
                verdict(ratio >= 3.0)
            );
        }
    }
    if let Some(p) = r.fresh.get(&("tls-pooled", "validate")) {
        for (key, what) in [
            ("tls-conn-close", "HTTPS, Connection: close"),
            ("tls-new-agent", "HTTPS, a new Agent per call"),
        ] {
            let ratio = p.per_sec() / r.fresh[&(key, "validate")].per_sec();
            println!(
                "| pooled ≥ 3 × fresh (validate, {what}) | {ratio:.1} × | {} |",
                verdict(ratio >= 3.0)
            );
        }
    }
    if let Some(ms) = r.cold_ms.get("cli-code") {
        println!(
            "| CLI `code` cold start < 5 ms median | {ms:.2} ms | {} |",
            verdict(*ms < 5.0)
        );
    }
}
