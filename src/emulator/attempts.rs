//! The brute-force counter: attempts counted per user (code checks) or per user name (failed
//! logins) within a one-minute window, as the portal's cache entry `tfa/<user id>` counts them
//! (`docs/emulator.md`, "What it models": Login, Validate).

/// The brute-force window of the code check and of the login, in seconds.
pub(crate) const ATTEMPT_WINDOW: u64 = 60;

/// A counter of attempts that expires [`ATTEMPT_WINDOW`] seconds after the last counted one,
/// like the portal's cache entry `tfa/<user id>`.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttemptCounter {
    count: u32,
    expires: u64,
}

impl AttemptCounter {
    /// Counts an attempt. `false`: the limit is exceeded, the attempt is refused and not stored
    /// (so the lock ends one window after the last counted attempt).
    pub(crate) fn try_count(&mut self, limit: u32, now: u64) -> bool {
        let current = if now < self.expires { self.count } else { 0 };
        let next = current.saturating_add(1);
        if next > limit {
            return false;
        }
        self.count = next;
        self.expires = now + ATTEMPT_WINDOW;
        true
    }

    /// Takes back the attempt just counted: a successful check does not count.
    pub(crate) fn forgive(&mut self, now: u64) {
        self.count = self.count.saturating_sub(1);
        self.expires = now + ATTEMPT_WINDOW;
    }

    /// Attempts counted in the current window.
    pub(crate) fn current(&self, now: u64) -> u32 {
        if now < self.expires {
            self.count
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_counter_window() {
        let mut c = AttemptCounter::default();
        for _ in 0..5 {
            assert!(c.try_count(5, 100));
        }
        assert!(
            !c.try_count(5, 120),
            "the sixth attempt in the window is refused"
        );
        assert!(
            !c.try_count(5, 159),
            "still locked: refused attempts do not extend it"
        );
        assert!(
            c.try_count(5, 160),
            "a window after the last counted attempt"
        );
        c.forgive(160);
        assert_eq!(c.current(160), 0);
    }
}
