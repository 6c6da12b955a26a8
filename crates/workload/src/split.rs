//! A store on two volumes: the journal (and superblock) on one, the stock
//! table on another — what the multi-volume lab snapshots. The order writer
//! and the verifier see one device; each byte range goes to the volume that
//! holds it, at the same offset, so either volume alone reads as it would
//! on its own disk.

use std::ops::Range;

use crate::device::{check_range, BlockDevice, DeviceError};
use crate::format::{DEFAULT_INVENTORY_OFFSET, DEFAULT_JOURNAL_OFFSET};

/// The journal's volume, with `part` (a byte range) on a second volume.
#[derive(Debug)]
pub struct SplitDevice<A, B> {
    main: A,
    second: B,
    part: Range<u64>,
}

impl<A: BlockDevice, B: BlockDevice> SplitDevice<A, B> {
    /// A store laid out as [`crate::StoreOptions`] does, its stock table on `inventory`.
    pub fn inventory_on(orders: A, inventory: B) -> Result<Self, DeviceError> {
        let part = DEFAULT_INVENTORY_OFFSET..DEFAULT_JOURNAL_OFFSET;
        check_range(part.start, (part.end - part.start) as usize, inventory.size())?;
        Ok(Self {
            main: orders,
            second: inventory,
            part,
        })
    }

    /// The two volumes: the journal's, the stock table's.
    pub fn volumes(&self) -> (&A, &B) {
        (&self.main, &self.second)
    }

    /// The pieces of `len` bytes at `offset`: (offset, start in the buffer, length, on the second volume).
    fn pieces(&self, offset: u64, len: usize) -> Vec<(u64, usize, usize, bool)> {
        let end = offset + len as u64;
        let mut cuts = vec![offset, end];
        cuts.extend(
            [self.part.start, self.part.end]
                .into_iter()
                .filter(|c| (offset..end).contains(c)),
        );
        cuts.sort_unstable();
        cuts.dedup();
        cuts.windows(2)
            .map(|w| {
                let second = self.part.contains(&w[0]);
                (w[0], (w[0] - offset) as usize, (w[1] - w[0]) as usize, second)
            })
            .collect()
    }
}

impl<A: BlockDevice, B: BlockDevice> BlockDevice for SplitDevice<A, B> {
    fn size(&self) -> u64 {
        self.main.size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        check_range(offset, buf.len(), self.size())?;
        for (at, from, n, second) in self.pieces(offset, buf.len()) {
            let piece = &mut buf[from..from + n];
            match second {
                true => self.second.read_at(at, piece)?,
                false => self.main.read_at(at, piece)?,
            }
        }
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        check_range(offset, data.len(), self.size())?;
        for (at, from, n, second) in self.pieces(offset, data.len()) {
            let piece = &data[from..from + n];
            match second {
                true => self.second.write_at(at, piece)?,
                false => self.main.write_at(at, piece)?,
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        self.main.flush()?;
        self.second.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::MemoryDevice;

    #[test]
    fn each_range_lands_on_its_volume_at_the_same_offset() {
        let mut d = SplitDevice::inventory_on(MemoryDevice::new(8 << 20), MemoryDevice::new(2 << 20)).unwrap();
        // A write across both boundaries: before, inside and after the stock table.
        let data: Vec<u8> = (0..(DEFAULT_JOURNAL_OFFSET as usize + 100))
            .map(|i| (i % 251) as u8 | 1)
            .collect();
        d.write_at(0, &data).unwrap();
        let mut back = vec![0u8; data.len()];
        d.read_at(0, &mut back).unwrap();
        assert_eq!(back, data);
        let (orders, inventory) = (&d.main, &d.second);
        let mut b = [0u8; 1];
        orders.read_at(DEFAULT_INVENTORY_OFFSET, &mut b).unwrap();
        assert_eq!(b, [0], "the stock table is not on the orders volume");
        inventory.read_at(DEFAULT_INVENTORY_OFFSET, &mut b).unwrap();
        assert_eq!(b[0], data[DEFAULT_INVENTORY_OFFSET as usize]);
        inventory.read_at(DEFAULT_JOURNAL_OFFSET, &mut b).unwrap();
        assert_eq!(b, [0], "the journal is not on the inventory volume");
        orders.read_at(DEFAULT_JOURNAL_OFFSET + 5, &mut b).unwrap();
        assert_eq!(b[0], data[DEFAULT_JOURNAL_OFFSET as usize + 5]);
    }

    #[test]
    fn an_inventory_volume_too_small_for_the_table_is_refused() {
        let err = SplitDevice::inventory_on(MemoryDevice::new(8 << 20), MemoryDevice::new(4096)).unwrap_err();
        assert!(matches!(err, DeviceError::OutOfRange { .. }), "{err}");
    }
}
