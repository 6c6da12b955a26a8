//! The run's clock and id source, injected (never `Utc::now()` or a global
//! random generator in the lab's logic), so runner tests are deterministic.
//! The clock is the workload's: microseconds since the Unix epoch, shared by
//! the runner, the shop and shadow disks.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
pub use snaplab_workload::{system_clock, Clock};

/// `clock`'s now as a UTC time.
pub fn now(clock: &Clock) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(clock()).unwrap_or_default()
}

/// A clock that stays at `at` (tests); see also `snaplab_workload::system_clock`.
pub fn fixed_clock(at: DateTime<Utc>) -> Clock {
    let us = at.timestamp_micros();
    Arc::new(move || us)
}

/// Where run ids and the shop's seeds come from.
#[derive(Clone)]
pub struct Ids {
    rng: Arc<Mutex<fastrand::Rng>>,
}

impl std::fmt::Debug for Ids {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ids").finish_non_exhaustive()
    }
}

impl Ids {
    /// Fresh randomness (real runs).
    pub fn random() -> Self {
        Self::from_rng(fastrand::Rng::new())
    }

    /// The same ids every time for the same seed (tests).
    pub fn seeded(seed: u64) -> Self {
        Self::from_rng(fastrand::Rng::with_seed(seed))
    }

    fn from_rng(rng: fastrand::Rng) -> Self {
        Self {
            rng: Arc::new(Mutex::new(rng)),
        }
    }

    fn with_rng<T>(&self, f: impl FnOnce(&mut fastrand::Rng) -> T) -> T {
        f(&mut self.rng.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A run id made at `at`: sortable by time, unique enough for one learner's machine.
    pub fn run_id(&self, at: DateTime<Utc>) -> String {
        let tail = self.with_rng(|r| r.u16(..));
        format!("run-{}-{tail:04x}", at.format("%Y%m%d-%H%M%S"))
    }

    /// A seed for the shop's order generator.
    pub fn seed(&self) -> u64 {
        self.with_rng(|r| r.u64(..))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn seeded_ids_repeat_and_run_ids_sort_by_time() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 29, 13, 55, 4)
            .single()
            .unwrap_or_default();
        let (a, b) = (Ids::seeded(7), Ids::seeded(7));
        assert_eq!(a.run_id(at), b.run_id(at));
        assert_eq!(a.seed(), b.seed());
        assert!(a.run_id(at).starts_with("run-20261129-135504-"));
        assert_eq!(now(&fixed_clock(at)), at);
    }
}
