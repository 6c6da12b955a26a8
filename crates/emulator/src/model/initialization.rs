//! Lazy loading: a volume restored from a snapshot pulls each block from S3
//! the first time it is read, so its first reads are slow until every block
//! has been read once ("initialized"). A volume created from a snapshot with
//! Fast Snapshot Restore enabled in its zone is initialized at creation.
//! (EBS User Guide, "Initialize Amazon EBS volumes"; ../shared/EBS-FACTS.md.)
//!
//! What a block's first read costs is the data plane's business (the pace's
//! `first_read_per_block`); this module only knows which blocks are loaded.

use std::collections::BTreeSet;

use crate::blocks::BLOCK_SIZE;

/// How far a restored volume has loaded its snapshot's blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Initialization {
    /// Indexes of the snapshot's blocks not read (or overwritten) yet.
    unloaded: BTreeSet<u64>,
    /// How many blocks the snapshot held.
    total: u64,
}

impl Initialization {
    /// A volume that must still load each of `blocks` on first touch.
    pub fn lazy(blocks: BTreeSet<u64>) -> Self {
        Self {
            total: blocks.len() as u64,
            unloaded: blocks,
        }
    }

    /// A volume Fast Snapshot Restore created fully initialized.
    pub fn fast_restored(total: u64) -> Self {
        Self {
            unloaded: BTreeSet::new(),
            total,
        }
    }

    /// Percent of the snapshot's blocks loaded (0–100; 100 once complete,
    /// and for a snapshot that held no blocks).
    pub fn progress(&self) -> i64 {
        if self.total == 0 {
            return 100;
        }
        let loaded = self.total - self.unloaded.len() as u64;
        // Round down: 100 only when every block is in.
        i64::try_from(loaded * 100 / self.total).unwrap_or(100)
    }

    pub fn is_complete(&self) -> bool {
        self.unloaded.is_empty()
    }

    /// Marks the blocks under bytes `[offset, offset + len)` loaded; returns
    /// how many of them were not (what this access had to fetch).
    pub fn touch(&mut self, offset: u64, len: u64) -> u64 {
        if len == 0 || self.unloaded.is_empty() {
            return 0;
        }
        let first = offset / BLOCK_SIZE;
        let last = (offset + len - 1) / BLOCK_SIZE;
        let fetched: Vec<u64> = self.unloaded.range(first..=last).copied().collect();
        for b in &fetched {
            self.unloaded.remove(b);
        }
        fetched.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_block_costs_once_and_progress_follows() {
        let mut init = Initialization::lazy([0, 1, 5].into_iter().collect());
        assert_eq!(init.progress(), 0);
        // Bytes 100..BLOCK_SIZE+1 touch blocks 0 and 1.
        assert_eq!(init.touch(100, BLOCK_SIZE + 1 - 100), 2);
        assert_eq!(init.touch(0, 10), 0, "a second read of block 0 is free");
        assert_eq!(init.progress(), 66);
        // Block 3 was never in the snapshot: nothing to fetch.
        assert_eq!(init.touch(3 * BLOCK_SIZE, BLOCK_SIZE), 0);
        assert_eq!(init.touch(5 * BLOCK_SIZE + BLOCK_SIZE - 1, 1), 1);
        assert!(init.is_complete());
        assert_eq!(init.progress(), 100);
        assert_eq!(init.touch(0, 0), 0);
    }

    #[test]
    fn fast_restored_and_empty_snapshots_are_complete_at_once() {
        assert_eq!(Initialization::fast_restored(40).progress(), 100);
        assert!(Initialization::lazy(BTreeSet::new()).is_complete());
        assert_eq!(Initialization::lazy(BTreeSet::new()).progress(), 100);
    }
}
