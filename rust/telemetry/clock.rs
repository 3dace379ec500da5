//! Capture timestamps: Unix microseconds and the process's monotonic nanoseconds.
//!
//! Python's `time.monotonic_ns()` reads the same clock as [`std::time::Instant`] on the
//! platforms CPython supports (CLOCK_MONOTONIC, mach absolute time, QueryPerformanceCounter)
//! but `Instant` hides its epoch, so a [`MonotonicClock`] is anchored once to a reading of
//! Python's clock and counts from there: its values advance exactly with the system clock and
//! differ from `time.monotonic_ns()` by the anchoring skew only (the few tens of nanoseconds
//! between the two reads, halved).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Unix time in microseconds (negative before 1970).
pub fn wall_us() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

/// A monotonic clock in nanoseconds on the scale of another reading of the same clock.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    anchor: Instant,
    base_ns: i64,
}

impl MonotonicClock {
    /// Anchor to `read()`, a reading of the reference clock in ns, taken between two
    /// `Instant`s (the midpoint is used).
    pub fn anchored(read: impl FnOnce() -> i64) -> Self {
        let before = Instant::now();
        let base = read();
        let after = Instant::now();
        let half = after.duration_since(before) / 2;
        MonotonicClock {
            anchor: before + half,
            base_ns: base,
        }
    }

    /// Nanoseconds now, on the reference clock's scale.
    pub fn now_ns(&self) -> i64 {
        let elapsed = Instant::now().saturating_duration_since(self.anchor);
        self.base_ns
            .saturating_add(i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_counts_from_the_anchor() {
        let clock = MonotonicClock::anchored(|| 1_000);
        let a = clock.now_ns();
        let b = clock.now_ns();
        assert!(a >= 1_000 && b >= a);
    }

    #[test]
    fn wall_time_is_after_2020() {
        assert!(wall_us() > 1_577_836_800_000_000);
    }
}
