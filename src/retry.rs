//! When and how often a request is tried again: every decision about retrying is here.
//!
//! - **Which requests** ([`Retry`]): only requests that change nothing on the server, the
//!   reads `GET settings/tfaapp`, `tfaapp/setup`, `tfaapp/confirm`, `tfaappcodes` and
//!   `people/@self`. Validate, both logins, the policy changes, code regeneration and
//!   unlinking are sent exactly once, because each of them spends an attempt, a code or a code
//!   set on the server.
//! - **Which failures** ([`Failed`]): no response at all (not a timeout), `502`, `503`, `504`,
//!   and a `429` whose `Retry-After` is short enough.
//! - **How long to wait** ([`RetryPolicy`]): exponential backoff with jitter, or the server's
//!   `Retry-After`; never past the policy's time budget or the call's deadline.
//!
//! A leaf: `src/client.rs` describes each failed attempt with plain values and asks
//! [`RetryPolicy::next_wait`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ureq::http::Method;

/// Whether a request may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// An idempotent read.
    Safe,
    /// Spends something on the server: sent once.
    Never,
}

impl Retry {
    /// Every `GET` of the API is a read; everything else spends or changes something.
    pub(crate) fn for_method(method: &Method) -> Retry {
        if method == Method::GET {
            Retry::Safe
        } else {
            Retry::Never
        }
    }
}

/// How an attempt failed, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failed {
    /// No response arrived (connect failed, reset before the status line); `timeout` when a
    /// connect timeout or the deadline ended it.
    BeforeResponse {
        /// Whether a timeout ended the attempt.
        timeout: bool,
    },
    /// An error status, with the `Retry-After` it asked for.
    Status {
        /// The status code.
        status: u16,
        /// The parsed `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// Anything else (bad input, a redirect, a body that does not decode, too large a body):
    /// never retried.
    Final,
}

/// The retry policy for idempotent reads.
///
/// A read is retried when the connection failed before any response arrived, on `502`, `503`
/// and `504`, and on `429` when its `Retry-After` is no longer than
/// [`max_retry_after`](RetryPolicy::max_retry_after). Waits grow exponentially from
/// [`initial_backoff`](RetryPolicy::initial_backoff) up to
/// [`max_backoff`](RetryPolicy::max_backoff), with random jitter (each wait is between half and
/// all of the nominal value). No retry starts once [`max_elapsed`](RetryPolicy::max_elapsed)
/// would be exceeded. Timeouts are not retried: the deadline is the caller's.
///
/// ```
/// use std::time::Duration;
/// use docspace_tfa::{Client, RetryPolicy};
///
/// let client = Client::builder()
///     .base_url("https://portal.example.com")
///     .retry(RetryPolicy::default().max_attempts(5).initial_backoff(Duration::from_millis(50)))
///     .build()?;
/// let no_retries = Client::builder()
///     .base_url("https://portal.example.com")
///     .retry(RetryPolicy::none())
///     .build()?;
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, 200 ms first backoff, at most 2 s between attempts, at most 10 s in all,
    /// `Retry-After` honoured up to 10 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
            max_elapsed: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// No retries at all: every request is sent once.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Total attempts, the first included (default 3; `1` or `0` disables retries).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry (default 200 ms); doubled for each further retry.
    pub fn initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = wait;
        self
    }

    /// The longest wait between two attempts (default 2 s).
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// The longest time from the first attempt after which no retry is started (default 10 s).
    pub fn max_elapsed(mut self, total: Duration) -> Self {
        self.max_elapsed = total;
        self
    }

    /// The longest `Retry-After` that is waited for (default 10 s). A `429` asking for longer
    /// is returned to the caller at once, with [`Error::retry_after`](crate::Error::retry_after).
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// The wait before attempt `attempt + 1` of a request, after attempt `attempt` failed
    /// as `failed`, `elapsed` into the call with `remaining` left before its deadline; `None`
    /// when it must not be retried: the request is not [`Retry::Safe`], the failure is not
    /// retryable, the attempts are spent, or the wait would pass the budget or the deadline.
    pub(crate) fn next_wait(
        &self,
        retry: Retry,
        failed: Failed,
        attempt: u32,
        elapsed: Duration,
        remaining: Option<Duration>,
    ) -> Option<Duration> {
        if retry != Retry::Safe || attempt >= self.max_attempts {
            return None;
        }
        let wait = match failed {
            // A timeout is not retried: the deadline is the caller's.
            Failed::BeforeResponse { timeout: true } | Failed::Final => None,
            Failed::BeforeResponse { timeout: false } => Some(self.backoff(attempt)),
            Failed::Status {
                status: 502..=504,
                retry_after,
            } => Some(
                retry_after
                    .filter(|w| *w <= self.max_retry_after)
                    .unwrap_or_else(|| self.backoff(attempt)),
            ),
            Failed::Status {
                status: 429,
                retry_after,
            } => match retry_after {
                Some(w) if w <= self.max_retry_after => Some(w),
                Some(_) => None,
                None => Some(self.backoff(attempt)),
            },
            Failed::Status { .. } => None,
        }?;
        self.allows(elapsed, wait, remaining).then_some(wait)
    }

    /// Whether a retry after `wait` may start, `elapsed` into the call, with `remaining`
    /// left before the call's deadline (if it has one): the wait must end within
    /// [`max_elapsed`](RetryPolicy::max_elapsed) and strictly before the deadline, so that
    /// the retry has time to run. A deadline is never overrun by sleeping.
    fn allows(&self, elapsed: Duration, wait: Duration, remaining: Option<Duration>) -> bool {
        let within_budget = elapsed
            .checked_add(wait)
            .is_some_and(|end| end <= self.max_elapsed);
        within_budget && remaining.is_none_or(|left| wait < left)
    }

    /// The jittered wait before retry number `retry` (1 for the first retry).
    fn backoff(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(20);
        let nominal = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let half = nominal / 2;
        let jitter_ns = (half.as_nanos() as u64).checked_mul(jitter_permille() as u64);
        half + Duration::from_nanos(jitter_ns.unwrap_or(0) / 1000)
    }
}

/// A number in `0..=1000` that differs from call to call (for jitter, not for secrets).
fn jitter_permille() -> u32 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    // splitmix64 over a counter mixed with the clock.
    let mut z = STATE
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(nanos);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z % 1001) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(400));
        for _ in 0..50 {
            let b1 = p.backoff(1);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b5 = p.backoff(5);
            assert!(b5 >= Duration::from_millis(200) && b5 <= Duration::from_millis(400));
            let huge = p.backoff(u32::MAX);
            assert!(huge <= Duration::from_millis(400));
        }
    }

    #[test]
    fn retries_stay_within_budget_and_deadline() {
        let p = RetryPolicy::default();
        let ms = Duration::from_millis;
        assert!(p.allows(ms(0), ms(200), None));
        assert!(!p.allows(ms(9_900), ms(200), None), "past max_elapsed");
        assert!(
            !p.allows(ms(0), ms(200), Some(ms(200))),
            "the wait uses up the deadline"
        );
        assert!(!p.allows(ms(0), ms(200), Some(ms(0))));
        assert!(p.allows(ms(0), ms(200), Some(ms(201))));
        assert!(!p.allows(Duration::MAX, ms(1), None), "no overflow");
    }

    #[test]
    fn none_means_one_attempt() {
        let reset = Failed::BeforeResponse { timeout: false };
        let wait = |p: &RetryPolicy, attempt| {
            p.next_wait(Retry::Safe, reset, attempt, Duration::ZERO, None)
        };
        assert!(wait(&RetryPolicy::default(), 1).is_some());
        assert!(
            wait(&RetryPolicy::default(), 3).is_none(),
            "three attempts by default"
        );
        assert!(wait(&RetryPolicy::none(), 1).is_none());
        assert!(wait(&RetryPolicy::default().max_attempts(0), 1).is_none());
    }

    #[test]
    fn only_reads_and_transient_failures_are_retried() {
        let p = RetryPolicy::default().max_retry_after(Duration::from_secs(5));
        let next = |retry, failed| p.next_wait(retry, failed, 1, Duration::ZERO, None);
        assert_eq!(Retry::for_method(&Method::GET), Retry::Safe);
        for method in [Method::POST, Method::PUT, Method::DELETE] {
            assert_eq!(Retry::for_method(&method), Retry::Never);
        }
        let status = |status, secs: Option<u64>| Failed::Status {
            status,
            retry_after: secs.map(Duration::from_secs),
        };
        assert!(
            next(Retry::Never, status(503, None)).is_none(),
            "spends something"
        );
        assert!(next(Retry::Safe, Failed::BeforeResponse { timeout: true }).is_none());
        assert!(next(Retry::Safe, Failed::Final).is_none());
        for code in [400, 401, 403, 404, 500, 501] {
            assert!(next(Retry::Safe, status(code, None)).is_none(), "{code}");
        }
        for code in [502, 503, 504, 429] {
            assert!(next(Retry::Safe, status(code, None)).is_some(), "{code}");
        }
        assert_eq!(
            next(Retry::Safe, status(429, Some(3))),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            next(Retry::Safe, status(429, Some(60))),
            None,
            "too long: returned"
        );
        assert_eq!(
            next(Retry::Safe, status(503, Some(2))),
            Some(Duration::from_secs(2))
        );
        let backoff = next(Retry::Safe, status(503, Some(60))).unwrap();
        assert!(
            backoff <= Duration::from_millis(200),
            "a long Retry-After falls back"
        );
        let near_deadline = p.next_wait(
            Retry::Safe,
            status(429, Some(3)),
            1,
            Duration::ZERO,
            Some(Duration::from_secs(2)),
        );
        assert_eq!(near_deadline, None, "never sleeps past the deadline");
    }
}
