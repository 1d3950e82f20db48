//! When to compute a code that is about to be sent: the clock, and the margin before a step
//! ends.
//!
//! A code computed in the last second of its 30-second step may reach the portal in the next
//! step. The portal accepts codes within ±10 steps, so that usually still passes, but a portal
//! whose clock is a little ahead, or a slow network, turns it into a rejected code — and each
//! rejection spends one of the few attempts a minute allows. [`Totp::code_to_send`] therefore
//! waits for the next step when fewer than [`SEND_MARGIN_SECONDS`] are left.

use std::time::Duration;

use super::code::Totp;
use super::key::TotpKey;
use super::unix_now;
use crate::secret::Secret;

/// The seconds a code must still be valid for when it is computed to be sent (3): with fewer
/// left, [`Totp::code_to_send`] waits for the next step (at most this long) and sends its code.
pub const SEND_MARGIN_SECONDS: u64 = 3;

/// Where the time comes from, and how to wait: the system clock for real use
/// ([`SystemClock`]), a fake for tests (freeze it near the end of a step and check that the
/// code is from the next step).
///
/// ```
/// use std::cell::Cell;
/// use std::time::Duration;
/// use docspace_tfa::totp::{Clock, Totp, TotpKey};
///
/// struct Fake(Cell<u64>);
/// impl Clock for Fake {
///     fn now(&self) -> u64 { self.0.get() }
///     fn sleep(&self, d: Duration) { self.0.set(self.0.get() + d.as_secs()) }
/// }
///
/// let key = TotpKey::from_base32("JBSWY3DPEHPK3PXP")?;
/// let totp = Totp::docspace();
/// let clock = Fake(Cell::new(1_700_000_038)); // 2 s left in the step
/// let code = totp.code_to_send(&key, &clock);
/// assert_eq!(code.expose(), totp.code_at(&key, 1_700_000_040).expose()); // the next step's
/// assert_eq!(clock.now(), 1_700_000_040);
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
pub trait Clock {
    /// The current time in whole seconds since the Unix epoch.
    fn now(&self) -> u64;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration);
}

/// The system clock and [`std::thread::sleep`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        unix_now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> u64 {
        (**self).now()
    }

    fn sleep(&self, duration: Duration) {
        (**self).sleep(duration);
    }
}

impl Totp {
    /// The code to send now: the current step's code, or — when fewer than
    /// [`SEND_MARGIN_SECONDS`] of the step are left — the next step's, after waiting for it
    /// (at most [`SEND_MARGIN_SECONDS`] seconds, plus the rest of the current second).
    ///
    /// See [`Clock`] for an example with a fake clock.
    pub fn code_to_send(&self, key: &TotpKey, clock: &impl Clock) -> Secret {
        let now = clock.now();
        let left = self.seconds_left(now);
        if left < SEND_MARGIN_SECONDS.min(self.step_seconds()) {
            clock.sleep(Duration::from_secs(left));
            let later = clock.now();
            // A clock that did not move (or moved back) still gets the next step's code.
            return self.code_at(key, later.max(now.saturating_add(left)));
        }
        self.code_at(key, now)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    struct Fake {
        now: Cell<u64>,
        slept: Cell<u64>,
        moves: bool,
    }

    impl Clock for Fake {
        fn now(&self) -> u64 {
            self.now.get()
        }
        fn sleep(&self, d: Duration) {
            self.slept.set(self.slept.get() + d.as_secs());
            if self.moves {
                self.now.set(self.now.get() + d.as_secs());
            }
        }
    }

    fn fake(now: u64, moves: bool) -> Fake {
        Fake {
            now: Cell::new(now),
            slept: Cell::new(0),
            moves,
        }
    }

    #[test]
    fn waits_only_near_the_end_of_a_step() {
        let key = TotpKey::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let totp = Totp::docspace();
        // 1_700_000_010 begins a step; 1_700_000_037 leaves 3 s: no wait.
        let c = fake(1_700_000_037, true);
        let code = totp.code_to_send(&key, &c);
        assert_eq!(code, totp.code_at(&key, 1_700_000_037));
        assert_eq!(c.slept.get(), 0);
        for (at, wait) in [(1_700_000_038, 2), (1_700_000_039, 1)] {
            let c = fake(at, true);
            let code = totp.code_to_send(&key, &c);
            assert_eq!(code, totp.code_at(&key, 1_700_000_040), "at {at}");
            assert_ne!(code, totp.code_at(&key, at));
            assert_eq!(c.slept.get(), wait);
        }
    }

    #[test]
    fn a_clock_that_does_not_move_still_gets_the_next_step() {
        let key = TotpKey::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let totp = Totp::docspace();
        let c = fake(1_700_000_039, false);
        assert_eq!(
            totp.code_to_send(&key, &c),
            totp.code_at(&key, 1_700_000_040)
        );
    }
}
