//! The emulator's clock (the system clock, shifted or frozen, so that tests can move time)
//! and the two date formats the portal writes: ISO date-times in bodies, HTTP dates in cookies.

use std::time::{SystemTime, UNIX_EPOCH};

/// The emulator's clock: the system clock shifted by an offset, or frozen at a fixed time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    fixed: Option<u64>,
    offset: i64,
}

impl Clock {
    pub(crate) fn now(&self) -> u64 {
        match self.fixed {
            Some(t) => t,
            None => {
                let system = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let shifted = i128::from(system) + i128::from(self.offset);
                u64::try_from(shifted.max(0)).unwrap_or(u64::MAX)
            }
        }
    }

    pub(crate) fn freeze_at(&mut self, unix: u64) {
        self.fixed = Some(unix);
    }

    pub(crate) fn advance(&mut self, seconds: u64) {
        match &mut self.fixed {
            Some(t) => *t = t.saturating_add(seconds),
            None => {
                self.offset = self
                    .offset
                    .saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX))
            }
        }
    }

    pub(crate) fn resume(&mut self) {
        self.fixed = None;
        self.offset = 0;
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix seconds → (days since the epoch, hours, minutes, seconds).
fn split_time(unix: u64) -> (i64, u64, u64, u64) {
    let days = i64::try_from(unix / 86_400).unwrap_or(i64::MAX / 2);
    let secs = unix % 86_400;
    (days, secs / 3600, secs / 60 % 60, secs % 60)
}

/// `2026-11-28T02:49:39.0000000+00:00`, the portal's date-time format.
pub(crate) fn iso_datetime(unix: u64) -> String {
    let (days, h, m, s) = split_time(unix);
    let (y, mo, d) = civil_from_days(days);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.0000000+00:00")
}

/// `Sat, 28 Nov 2026 02:49:39 GMT`, the cookie `expires` format.
pub(crate) fn http_date(unix: u64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (days, h, m, s) = split_time(unix);
    let (y, mo, d) = civil_from_days(days);
    let weekday = WEEKDAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(mo.saturating_sub(1)).unwrap_or(0) % 12];
    format!("{weekday}, {d:02} {month} {y:04} {h:02}:{m:02}:{s:02} GMT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso_datetime(0), "1970-01-01T00:00:00.0000000+00:00");
        assert_eq!(
            iso_datetime(1_700_000_000),
            "2023-11-14T22:13:20.0000000+00:00"
        );
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
    }
}
