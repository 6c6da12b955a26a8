//! What reading a restored volume's not-yet-loaded block costs on the data
//! plane: the pace's figure (none at `instant`), unless a lab asked for
//! another through `PUT /_snaplab/lazy-loading` — the restore-initialization
//! lab turns it on at pace `instant` so its lesson still shows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Longest cost per block a request may set (a second: 0.5 MiB/s).
pub const MAX_PER_BLOCK: Duration = Duration::from_secs(1);
const UNSET: u64 = u64::MAX;

#[derive(Debug)]
pub struct FirstReadCost {
    pace: Duration,
    /// Microseconds set by a request, or `UNSET`.
    set_us: AtomicU64,
}

impl FirstReadCost {
    pub fn new(pace: Duration) -> Self {
        Self {
            pace,
            set_us: AtomicU64::new(UNSET),
        }
    }

    pub fn per_block(&self) -> Duration {
        match self.set_us.load(Ordering::Relaxed) {
            UNSET => self.pace,
            us => Duration::from_micros(us),
        }
    }

    /// Whether a request set the cost (else it is the pace's).
    pub fn is_set(&self) -> bool {
        self.set_us.load(Ordering::Relaxed) != UNSET
    }

    /// Sets the cost, or (`None`) goes back to the pace's; refuses more than [`MAX_PER_BLOCK`].
    pub fn set(&self, per_block: Option<Duration>) -> Result<(), String> {
        let us = match per_block {
            Some(d) if d > MAX_PER_BLOCK => {
                return Err(format!(
                    "first_read_per_block_us must be at most {} (one second)",
                    MAX_PER_BLOCK.as_micros()
                ))
            }
            Some(d) => u64::try_from(d.as_micros()).unwrap_or(UNSET - 1),
            None => UNSET,
        };
        self.set_us.store(us, Ordering::Relaxed);
        Ok(())
    }

    /// What `blocks` first reads cost together.
    pub fn of(&self, blocks: u64) -> Duration {
        self.per_block()
            .saturating_mul(u32::try_from(blocks).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_holds_until_a_request_sets_another_and_back() {
        let cost = FirstReadCost::new(Duration::ZERO);
        assert_eq!(cost.of(100), Duration::ZERO);
        cost.set(Some(Duration::from_millis(4))).unwrap();
        assert!(cost.is_set());
        assert_eq!(cost.of(3), Duration::from_millis(12));
        assert!(cost.set(Some(Duration::from_secs(2))).is_err());
        assert_eq!(
            cost.per_block(),
            Duration::from_millis(4),
            "a refused value changes nothing"
        );
        cost.set(None).unwrap();
        assert!(!cost.is_set());
        assert_eq!(cost.per_block(), Duration::ZERO);
    }
}
