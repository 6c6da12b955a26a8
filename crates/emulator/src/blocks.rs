//! The block store: volume contents in 512 KiB blocks (the EBS direct API block
//! size), sparse, shared copy-on-write between a volume, its snapshots and the
//! volumes restored from them.
//!
//! A volume's data is the blocks written since its last snapshot (`own`) over
//! a chain of frozen [`Layer`]s. CreateSnapshot freezes `own` into a new layer
//! in O(1): the snapshot and the volume then share it, and later writes go to a
//! fresh `own`. The frozen layer holds exactly the blocks changed since the
//! previous snapshot — what EBS copies to S3 — so its size is the snapshot's
//! bytes to copy. Deleting a snapshot drops one reference; a layer lives as
//! long as any snapshot or volume above it needs it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub const BLOCK_SIZE: u64 = 512 * 1024;
const BLOCK: usize = BLOCK_SIZE as usize;

/// One block's bytes, always `BLOCK_SIZE` long.
pub type Block = Arc<Vec<u8>>;

/// Blocks frozen at a snapshot, over the layer they were written on.
#[derive(Debug, Default)]
pub struct Layer {
    blocks: BTreeMap<u64, Block>,
    parent: Option<Arc<Layer>>,
}

impl Layer {
    /// The block at `index` as of this layer, looking down the chain.
    pub fn block(self: &Arc<Self>, index: u64) -> Option<&Block> {
        let mut layer = self;
        loop {
            if let Some(b) = layer.blocks.get(&index) {
                return Some(b);
            }
            layer = layer.parent.as_ref()?;
        }
    }

    /// Indexes of every block written in this layer or below, ascending.
    pub fn written(self: &Arc<Self>) -> BTreeSet<u64> {
        let mut all = BTreeSet::new();
        let mut layer = Some(self);
        while let Some(l) = layer {
            all.extend(l.blocks.keys().copied());
            layer = l.parent.as_ref();
        }
        all
    }

    /// Blocks written after `older` on the way up to `self`, when `older` is an
    /// ancestor of (or the same as) `self`; `None` when they are unrelated.
    pub fn changed_since(self: &Arc<Self>, older: &Arc<Layer>) -> Option<BTreeSet<u64>> {
        let mut changed = BTreeSet::new();
        let mut layer = self;
        loop {
            if Arc::ptr_eq(layer, older) {
                return Some(changed);
            }
            changed.extend(layer.blocks.keys().copied());
            layer = layer.parent.as_ref()?;
        }
    }

    /// Bytes written in this layer alone (what its snapshot had to copy).
    pub fn own_bytes(&self) -> u64 {
        self.blocks.len() as u64 * BLOCK_SIZE
    }
}

/// A volume's contents: what it wrote since its last snapshot, over a base layer.
#[derive(Debug, Clone, Default)]
pub struct VolumeData {
    own: BTreeMap<u64, Block>,
    base: Option<Arc<Layer>>,
}

impl VolumeData {
    /// A volume restored from a snapshot: it starts with the snapshot's blocks.
    pub fn restored_from(layer: Arc<Layer>) -> Self {
        Self {
            own: BTreeMap::new(),
            base: Some(layer),
        }
    }

    fn block(&self, index: u64) -> Option<&Block> {
        self.own
            .get(&index)
            .or_else(|| self.base.as_ref().and_then(|b| b.block(index)))
    }

    /// Reads `len` bytes at `offset`; unwritten bytes read as zeros.
    pub fn read(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        let mut done = 0usize;
        while done < len {
            let pos = offset + done as u64;
            let (index, within) = (pos / BLOCK_SIZE, (pos % BLOCK_SIZE) as usize);
            let n = (BLOCK - within).min(len - done);
            if let Some(b) = self.block(index) {
                out[done..done + n].copy_from_slice(&b[within..within + n]);
            }
            done += n;
        }
        out
    }

    /// The bytes of block `index`, when it was ever written (`None`: zeros).
    pub fn block_bytes(&self, index: u64) -> Option<&[u8]> {
        self.block(index).map(|b| b.as_slice())
    }

    /// Writes `data` at `offset`, copying a shared block before changing it.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        let mut done = 0usize;
        while done < data.len() {
            let pos = offset + done as u64;
            let (index, within) = (pos / BLOCK_SIZE, (pos % BLOCK_SIZE) as usize);
            let n = (BLOCK - within).min(data.len() - done);
            if !self.own.contains_key(&index) {
                let start = match self.base.as_ref().and_then(|b| b.block(index)) {
                    Some(shared) => shared.clone(),
                    None => Arc::new(vec![0u8; BLOCK]),
                };
                self.own.insert(index, start);
            }
            if let Some(block) = self.own.get_mut(&index) {
                Arc::make_mut(block)[within..within + n].copy_from_slice(&data[done..done + n]);
            }
            done += n;
        }
    }

    /// Blocks this volume holds in memory of its own (not shared with snapshots).
    pub fn own_blocks(&self) -> usize {
        self.own.len()
    }

    /// Bytes written since the last snapshot: what the next snapshot copies.
    pub fn changed_bytes(&self) -> u64 {
        self.own.len() as u64 * BLOCK_SIZE
    }

    /// Freezes the blocks written since the last snapshot into a layer that
    /// the new snapshot shares. O(1): the map moves, no block is copied.
    pub fn freeze(&mut self) -> Arc<Layer> {
        if self.own.is_empty() {
            if let Some(base) = &self.base {
                return base.clone();
            }
        }
        let layer = Arc::new(Layer {
            blocks: std::mem::take(&mut self.own),
            parent: self.base.take(),
        });
        self.base = Some(layer.clone());
        layer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwritten_bytes_read_as_zeros_and_writes_span_blocks() {
        let mut v = VolumeData::default();
        assert_eq!(v.read(123, 4), vec![0; 4]);
        let data: Vec<u8> = (0..1000).map(|i| i as u8).collect();
        let at = BLOCK_SIZE - 500;
        v.write(at, &data);
        assert_eq!(v.read(at, 1000), data);
        assert_eq!(v.changed_bytes(), 2 * BLOCK_SIZE);
    }

    #[test]
    fn a_snapshot_keeps_the_point_in_time_while_the_volume_moves_on() {
        let mut v = VolumeData::default();
        v.write(0, b"before");
        let snap = v.freeze();
        v.write(0, b"after!");
        assert_eq!(v.read(0, 6), b"after!");
        assert_eq!(&snap.block(0).unwrap()[..6], b"before");
        assert_eq!(v.changed_bytes(), BLOCK_SIZE, "only the rewritten block is new");
    }

    #[test]
    fn freeze_moves_only_changed_blocks_into_the_new_layer() {
        let mut v = VolumeData::default();
        v.write(0, b"a");
        v.write(3 * BLOCK_SIZE, b"b");
        let first = v.freeze();
        assert_eq!(first.own_bytes(), 2 * BLOCK_SIZE);
        v.write(5 * BLOCK_SIZE, b"c");
        let second = v.freeze();
        assert_eq!(second.own_bytes(), BLOCK_SIZE);
        assert_eq!(second.written(), BTreeSet::from([0, 3, 5]));
        assert_eq!(second.changed_since(&first), Some(BTreeSet::from([5])));
        let unchanged = v.freeze();
        assert!(Arc::ptr_eq(&unchanged, &second), "no writes, no new layer");
    }

    #[test]
    fn restored_volumes_share_blocks_until_they_write() {
        let mut v = VolumeData::default();
        v.write(10, b"shop");
        let snap = v.freeze();
        let mut restored = VolumeData::restored_from(snap.clone());
        assert_eq!(restored.read(10, 4), b"shop");
        assert_eq!(restored.changed_bytes(), 0);
        restored.write(10, b"SHOP");
        assert_eq!(&snap.block(0).unwrap()[10..14], b"shop");
        let other = VolumeData::default().freeze();
        assert_eq!(restored.freeze().changed_since(&other), None, "unrelated lineages");
    }
}
