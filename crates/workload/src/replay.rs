//! Journal replay: completes torn orders by redoing their stock-row write,
//! as a database does with its write-ahead log after a crash.

use crate::device::BlockDevice;
use crate::error::WorkloadError;
use crate::store::read_rows;
use crate::verify::{verify, VerifyOptions};
use crate::writer::Clock;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplayReport {
    /// Sequence numbers of the orders completed, ascending.
    pub replayed: Vec<u64>,
}

pub fn replay<D: BlockDevice + ?Sized>(device: &mut D, clock: &Clock) -> Result<ReplayReport, WorkloadError> {
    let report = verify(device, &VerifyOptions::default())?;
    if report.torn.is_empty() {
        return Ok(ReplayReport { replayed: Vec::new() });
    }
    let layout = report.layout;
    let mut rows = read_rows(device, &layout)?;
    let mut replayed = Vec::new();
    for torn in &report.torn {
        let (Some(record), Some(Some(row))) = (report.record(torn.seq), rows.get(torn.product_id as usize)) else {
            continue;
        };
        let updated = row.apply(record, clock());
        device.write_at(layout.row_offset(torn.product_id), &updated.encode(&layout.store_id))?;
        rows[torn.product_id as usize] = Some(updated);
        replayed.push(torn.seq);
    }
    device.flush()?;
    Ok(ReplayReport { replayed })
}
