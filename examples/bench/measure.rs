//! Timing helpers: wall clock, the client's CPU time (the process but the canned servers, or
//! the calling thread), medians.

use std::time::{Duration, Instant};

/// CPU time (user + system) the calling thread has used, in nanoseconds.
///
/// `/proc/thread-self/schedstat` (nanoseconds) where the kernel has it, else the thread's
/// `utime + stime` from `/proc/thread-self/stat` (clock ticks of 10 ms: `USER_HZ` is 100 on
/// Linux). `None` off Linux. Per thread, so that the in-process server's threads are not
/// counted as the client's.
pub fn thread_cpu_ns() -> Option<u64> {
    if let Ok(s) = std::fs::read_to_string("/proc/thread-self/schedstat") {
        if let Some(ns) = s.split_whitespace().next().and_then(|v| v.parse().ok()) {
            return Some(ns);
        }
    }
    stat_cpu_ns("/proc/thread-self/stat")
}

/// CPU time (user + system) of the whole process so far, every thread included (exited ones
/// too), in nanoseconds: `utime + stime` of `/proc/self/stat`, in 10 ms clock ticks.
pub fn process_cpu_ns() -> Option<u64> {
    stat_cpu_ns("/proc/self/stat")
}

fn stat_cpu_ns(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may hold spaces; fields after its `)` are plain.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 10_000_000)
}

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

extern "C" {
    /// `clock_gettime(2)` from the C library `std` links anyway.
    fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
}

/// `CLOCK_PROCESS_CPUTIME_ID` on Linux.
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;

/// CPU time of the whole process so far in nanoseconds, every thread included, exited ones
/// too (a client's short-lived lookup threads): `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`,
/// the clock `getrusage` reads. `None` off Linux (64-bit) or on failure.
pub fn process_cpu_precise_ns() -> Option<u64> {
    if !cfg!(all(target_os = "linux", target_pointer_width = "64")) {
        return None;
    }
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `struct timespec` (two 64-bit fields on 64-bit Linux)
    // and the clock id is a constant the kernel knows.
    let rc = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// CPU time the benchmark's canned servers have used so far, in nanoseconds: their ended
/// connection threads' (which report it as they end) and their live threads' (named
/// `bench-…`; from each one's `/proc/self/task/TID/schedstat`).
pub fn server_cpu_ns() -> Option<u64> {
    let mut total = crate::server::EXITED_CPU_NS.load(std::sync::atomic::Ordering::Relaxed);
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let path = task.path();
        let Ok(name) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if !name.starts_with("bench-") {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(path.join("schedstat")) else {
            continue;
        };
        total += stat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())?;
    }
    Some(total)
}

/// CPU time of the client side of the process: all threads but the canned servers'.
fn client_cpu_ns() -> Option<u64> {
    process_cpu_precise_ns()
        .zip(server_cpu_ns())
        .map(|(p, s)| p.saturating_sub(s))
}

/// One timed run of `calls` calls.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub calls: usize,
    pub wall: Duration,
    /// Client CPU time of the run, when it could be read.
    pub cpu_ns: Option<u64>,
}

impl Sample {
    pub fn per_sec(&self) -> f64 {
        self.calls as f64 / self.wall.as_secs_f64()
    }

    pub fn wall_us(&self) -> f64 {
        self.wall.as_secs_f64() * 1e6 / self.calls as f64
    }

    pub fn cpu_us(&self) -> Option<f64> {
        self.cpu_ns.map(|ns| ns as f64 / 1e3 / self.calls as f64)
    }
}

/// Runs `call` `calls` times on this thread and times it: wall time, and the client's CPU
/// time (the whole process but the canned servers' threads, so a thread a call starts
/// counts; use it while no other client thread runs).
pub fn run<E: std::fmt::Display>(
    calls: usize,
    call: impl FnMut() -> Result<(), E>,
) -> Result<Sample, String> {
    run_with(calls, call, client_cpu_ns)
}

/// [`run`] counting only this thread's CPU time (several client threads at once, or other
/// servers in the process).
pub fn run_thread<E: std::fmt::Display>(
    calls: usize,
    call: impl FnMut() -> Result<(), E>,
) -> Result<Sample, String> {
    run_with(calls, call, thread_cpu_ns)
}

fn run_with<E: std::fmt::Display>(
    calls: usize,
    mut call: impl FnMut() -> Result<(), E>,
    cpu_ns: fn() -> Option<u64>,
) -> Result<Sample, String> {
    let cpu0 = cpu_ns();
    let t0 = Instant::now();
    for i in 0..calls {
        call().map_err(|e| format!("call {i} failed: {e}"))?;
    }
    let wall = t0.elapsed();
    let cpu_ns = match (cpu0, cpu_ns()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    Ok(Sample {
        calls,
        wall,
        cpu_ns,
    })
}

/// The median of some samples by calls per second (the lower middle for an even count).
pub fn median_sample(samples: &[Sample]) -> Sample {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.per_sec().total_cmp(&b.per_sec()));
    sorted[(sorted.len() - 1) / 2]
}

/// The median of some values (the mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The `p`-th percentile (0–100) by nearest rank.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}
