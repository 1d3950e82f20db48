//! The emulator as a test server for users' own tests, beside a `mockito` server: start-up
//! time and calls per second in the same run, through the SDK.

use std::time::Instant;

use docspace_tfa::emulator::{Emulator, NewUser};
use docspace_tfa::Client;

use crate::calls::{sdk_call, Op, TOKEN};
use crate::measure::{median, median_sample, process_cpu_precise_ns, run_thread, Sample};
use crate::server::SETTINGS_BODY;
use crate::{fmt_opt, Opts};

/// A running test server (kept alive by being held: dropping it stops it).
enum TestServer {
    /// The emulator with one admin member; the client holds their API key.
    Emulator(Emulator),
    /// A fresh mockito server (not one from its pool) with one mock for the settings read.
    Mockito(#[allow(dead_code)] Box<mockito::Server>, Box<mockito::Mock>),
}

impl TestServer {
    fn start(kind: &str) -> Result<(TestServer, Client), String> {
        let err = |e: docspace_tfa::Error| e.to_string();
        if kind == "emulator" {
            let portal = Emulator::start().map_err(err)?;
            let id = portal
                .add_user(NewUser::new("bench@example.com", "bench-password").admin())
                .map_err(err)?;
            let client = portal
                .client()
                .map_err(err)?
                .with_token(portal.issue_api_key(&id).map_err(err)?);
            Ok((TestServer::Emulator(portal), client))
        } else {
            let mut server = mockito::Server::new_with_opts(mockito::ServerOpts::default());
            let mock = server
                .mock("GET", "/api/2.0/settings/tfaapp")
                .with_header("content-type", "application/json; charset=utf-8")
                .with_body(SETTINGS_BODY)
                .expect_at_least(1)
                .create();
            let client = Client::builder()
                .base_url(server.url())
                .token(TOKEN)
                .build()
                .map_err(err)?;
            Ok((
                TestServer::Mockito(Box::new(server), Box::new(mock)),
                client,
            ))
        }
    }

    /// Requests the server saw, to check that the calls reached it.
    fn requests(&self) -> usize {
        match self {
            TestServer::Emulator(portal) => portal.request_count("GET", "settings/tfaapp"),
            // mockito tells only whether the mock's expectation (at least one hit) was met.
            TestServer::Mockito(_, mock) => usize::from(mock.matched()),
        }
    }
}

/// Section 3b: start-up (constructor to the first answered call) and throughput.
pub fn section(opts: &Opts) -> Result<(), String> {
    println!("## 3b. Test servers: the emulator vs mockito (settings read through the SDK)");
    println!();
    let kinds = ["emulator", "mockito"];
    let starts = opts.cold_runs.clamp(2, 20);
    let mut startup: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for i in 0..starts {
        for k in 0..2 {
            // Alternate which one starts first.
            let k = (k + i) % 2;
            let t0 = Instant::now();
            let (server, client) = TestServer::start(kinds[k])?;
            sdk_call(&client, Op::Settings)?;
            startup[k].push(t0.elapsed().as_secs_f64() * 1e3);
            drop(client);
            drop(server);
        }
    }
    let running: Vec<(TestServer, Client)> = kinds
        .iter()
        .map(|k| TestServer::start(k))
        .collect::<Result<_, _>>()?;
    for (_, client) in &running {
        run_thread(opts.calls.min(200), || sdk_call(client, Op::Settings))?;
    }
    let mut samples: [Vec<Sample>; 2] = [Vec::new(), Vec::new()];
    let mut process_us = [0.0f64; 2];
    for round in 0..opts.rounds.min(3) {
        for k in 0..2 {
            let k = (k + round) % 2;
            let client = &running[k].1;
            let cpu0 = process_cpu_precise_ns();
            let s = run_thread(opts.calls, || sdk_call(client, Op::Settings))?;
            if let Some((a, b)) = cpu0.zip(process_cpu_precise_ns()) {
                process_us[k] += b.saturating_sub(a) as f64 / 1e3;
            }
            samples[k].push(s);
        }
    }
    for (server, _) in &running {
        if server.requests() == 0 {
            return Err("a test server saw none of the calls".into());
        }
    }
    println!("| test server | start-up, median ms | start-up, min ms | calls/s | wall µs/call | client CPU µs/call | process CPU µs/call (client + server) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for k in 0..2 {
        let s = median_sample(&samples[k]);
        let calls: usize = samples[k].iter().map(|s| s.calls).sum();
        let label = if k == 0 {
            "`docspace_tfa::emulator::Emulator` (tiny_http threads, stateful)"
        } else {
            "`mockito::Server` (hyper on a tokio runtime, one mock)"
        };
        println!(
            "| {label} | {:.2} | {:.2} | {:.0} | {:.1} | {} | {:.1} |",
            median(&startup[k]),
            startup[k].iter().copied().fold(f64::INFINITY, f64::min),
            s.per_sec(),
            s.wall_us(),
            fmt_opt(s.cpu_us(), 1),
            process_us[k] / calls as f64,
        );
    }
    println!();
    println!(
        "Start-up: from the constructor (`Emulator::start()` and an admin with an API key; \
         `mockito::Server::new_with_opts` and one mock) to the first answered call, over a new \
         connection; {starts} starts each, alternating. Throughput: `client.tfa().methods()` \
         on one kept-alive connection, {} calls, median of {} runs, alternating; process CPU \
         (clock_gettime) over all runs, the server's threads included.",
        opts.calls,
        opts.rounds.min(3)
    );
    println!();
    Ok(())
}
