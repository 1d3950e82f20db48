//! When and how often a request is tried again.
//!
//! Only requests that change nothing on the server are ever retried: the reads
//! `GET settings/tfaapp`, `tfaapp/setup`, `tfaapp/confirm`, `tfaappcodes` and `people/@self`.
//! Validate, both logins, the policy changes, code regeneration and unlinking are sent exactly
//! once, because each of them spends an attempt, a code or a code set on the server.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

    /// The number of attempts, the first included.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    pub(crate) fn retry_after_cap(&self) -> Duration {
        self.max_retry_after
    }

    /// Whether a retry after `wait` may start, `elapsed` into the call, with `remaining`
    /// left before the call's deadline (if it has one): the wait must end within
    /// [`max_elapsed`](RetryPolicy::max_elapsed) and strictly before the deadline, so that
    /// the retry has time to run. A deadline is never overrun by sleeping.
    pub(crate) fn allows(
        &self,
        elapsed: Duration,
        wait: Duration,
        remaining: Option<Duration>,
    ) -> bool {
        let within_budget = elapsed
            .checked_add(wait)
            .is_some_and(|end| end <= self.max_elapsed);
        within_budget && remaining.is_none_or(|left| wait < left)
    }

    /// The jittered wait before retry number `retry` (1 for the first retry).
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
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
        assert_eq!(RetryPolicy::none().attempts(), 1);
        assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
    }
}
