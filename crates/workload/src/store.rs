//! Formatting a volume as a SecureCart store and reading its fixed parts.

use crate::device::BlockDevice;
use crate::error::WorkloadError;
use crate::format::{
    Layout, StockRow, StoreId, DEFAULT_INVENTORY_OFFSET, DEFAULT_JOURNAL_OFFSET, MAX_RECORD_SIZE, MIN_RECORD_SIZE,
    SECTOR, SUPERBLOCK_OFFSET,
};

/// How to lay out a new store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoreOptions {
    /// Bytes per order record: the "order size" (512 to 65536, a multiple of 512).
    pub record_size: u32,
    pub product_count: u32,
    pub initial_stock: i64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            record_size: 512,
            product_count: 64,
            initial_stock: 1_000_000,
        }
    }
}

impl StoreOptions {
    pub fn layout_for(&self, device_size: u64, store_id: StoreId, now_us: i64) -> Result<Layout, WorkloadError> {
        let rs = self.record_size;
        if !(MIN_RECORD_SIZE..=MAX_RECORD_SIZE).contains(&rs) || !rs.is_multiple_of(SECTOR as u32) {
            return Err(WorkloadError::InvalidOptions(format!(
                "record size {rs} must be a multiple of 512 between {MIN_RECORD_SIZE} and {MAX_RECORD_SIZE}"
            )));
        }
        let max_products = (DEFAULT_JOURNAL_OFFSET - DEFAULT_INVENTORY_OFFSET) / SECTOR as u64;
        if self.product_count == 0 || u64::from(self.product_count) > max_products {
            return Err(WorkloadError::InvalidOptions(format!(
                "product count {} must be between 1 and {max_products}",
                self.product_count
            )));
        }
        let capacity = device_size.saturating_sub(DEFAULT_JOURNAL_OFFSET) / u64::from(rs);
        if capacity == 0 {
            return Err(WorkloadError::InvalidOptions(format!(
                "a {device_size}-byte device has no room for a journal after its first MiB"
            )));
        }
        Ok(Layout {
            record_size: rs,
            inventory_offset: DEFAULT_INVENTORY_OFFSET,
            product_count: self.product_count,
            journal_offset: DEFAULT_JOURNAL_OFFSET,
            journal_capacity: capacity,
            initial_stock: self.initial_stock,
            store_id,
            formatted_at_us: now_us,
        })
    }
}

/// Writes a superblock and a fresh inventory. The journal is not zeroed:
/// records of an earlier store carry its id and read as empty.
pub fn format<D: BlockDevice + ?Sized>(device: &mut D, layout: &Layout) -> Result<Vec<StockRow>, WorkloadError> {
    let rows: Vec<StockRow> = (0..layout.product_count)
        .map(|p| StockRow::fresh(p, layout.initial_stock, layout.formatted_at_us))
        .collect();
    let mut table = Vec::with_capacity(rows.len() * SECTOR);
    for row in &rows {
        table.extend_from_slice(&row.encode(&layout.store_id));
    }
    device.write_at(layout.inventory_offset, &table)?;
    device.write_at(SUPERBLOCK_OFFSET, &layout.encode())?;
    device.flush()?;
    Ok(rows)
}

pub fn read_layout<D: BlockDevice + ?Sized>(device: &D) -> Result<Layout, WorkloadError> {
    let mut sb = [0u8; SECTOR];
    device.read_at(SUPERBLOCK_OFFSET, &mut sb)?;
    Layout::decode(&sb).map_err(|why| WorkloadError::NotFormatted(why.to_string()))
}

/// Every stock row, `None` where a row cannot be read back.
pub fn read_rows<D: BlockDevice + ?Sized>(device: &D, layout: &Layout) -> Result<Vec<Option<StockRow>>, WorkloadError> {
    let mut table = vec![0u8; layout.product_count as usize * SECTOR];
    device.read_at(layout.inventory_offset, &mut table)?;
    Ok(table
        .chunks_exact(SECTOR)
        .enumerate()
        .map(|(p, b)| StockRow::decode(b, &layout.store_id).filter(|r| r.product_id as usize == p))
        .collect())
}
