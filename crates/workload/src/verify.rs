//! The verifier: reads a raw image and tells committed, torn, corrupt and
//! missing orders apart; and, given the writer's log and the snapshot's start
//! time, judges whether the image is the point in time it should be.

use crate::device::BlockDevice;
use crate::error::WorkloadError;
use crate::format::{read_slot, Corruption, Layout, OrderRecord, Slot, StockRow};
use crate::store::{read_layout, read_rows};
use crate::writer::WriterLog;

/// What one journal position holds, as judged against the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Journal record and stock row both written.
    Committed,
    /// Journal record written, stock row not: the image was taken between
    /// the order's two writes. Journal replay completes it.
    Torn,
    Corrupt,
    /// No record, though a later position holds one.
    Missing,
    /// Past the end of the journal.
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TornOrder {
    pub seq: u64,
    pub product_id: u32,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CorruptSlot {
    pub seq: u64,
    pub problem: Corruption,
    pub explanation: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InventoryMismatch {
    pub product_id: u32,
    pub units_sold: u64,
    pub journal_units: u64,
}

/// Everything the image says by itself.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageReport {
    pub layout: Layout,
    /// Highest sequence number of a valid record.
    pub last_seq: u64,
    pub committed: u64,
    pub torn: Vec<TornOrder>,
    pub corrupt: Vec<CorruptSlot>,
    pub missing: Vec<u64>,
    /// Products whose stock row cannot be read.
    pub unreadable_rows: Vec<u32>,
    /// Rows whose sales do not add up to their committed journal records.
    pub inventory_mismatches: Vec<InventoryMismatch>,
    pub bytes_scanned: u64,
    #[serde(skip)]
    states: Vec<OrderState>,
    #[serde(skip)]
    records: Vec<Option<OrderRecord>>,
    #[serde(skip)]
    rows: Vec<Option<StockRow>>,
}

impl ImageReport {
    pub fn state_of(&self, seq: u64) -> OrderState {
        seq.checked_sub(1)
            .and_then(|i| self.states.get(i as usize))
            .copied()
            .unwrap_or(OrderState::Absent)
    }

    /// Journal positions judged: 1 through the last non-empty slot.
    pub fn positions_judged(&self) -> u64 {
        self.states.len() as u64
    }

    /// A valid record at `seq`, committed or torn.
    pub fn record(&self, seq: u64) -> Option<&OrderRecord> {
        seq.checked_sub(1)
            .and_then(|i| self.records.get(i as usize))
            .and_then(Option::as_ref)
    }

    /// Orders of `log` whose stock change is in the stock table but whose
    /// journal record is not in the image: a stock table newer than its
    /// journal (the two on volumes snapshotted at different instants).
    /// Replay cannot complete them — nothing in the journal says they exist.
    pub fn stock_without_order(&self, log: &WriterLog) -> Vec<u64> {
        let row_mark = |p: u32| {
            self.rows
                .get(p as usize)
                .copied()
                .flatten()
                .map_or(0, |r| r.last_order_seq)
        };
        log.entries()
            .iter()
            .filter(|e| self.record(e.seq).is_none() && row_mark(e.product_id) >= e.seq)
            .map(|e| e.seq)
            .collect()
    }

    /// Nothing damaged: no corrupt or missing record, no unreadable row, no
    /// mismatched inventory. Torn orders are allowed (crash-consistent).
    pub fn is_intact(&self) -> bool {
        self.corrupt.is_empty()
            && self.missing.is_empty()
            && self.unreadable_rows.is_empty()
            && self.inventory_mismatches.is_empty()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    /// Bytes per read: large, so a remote device is not read block by block.
    pub batch_bytes: usize,
    /// Keep scanning at least through this sequence number (the writer's last).
    pub scan_through_seq: u64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            batch_bytes: 8 * 1024 * 1024,
            scan_through_seq: 0,
        }
    }
}

/// Reads and judges a whole store image.
pub fn verify<D: BlockDevice + ?Sized>(device: &D, options: &VerifyOptions) -> Result<ImageReport, WorkloadError> {
    let layout = read_layout(device)?;
    let rows = read_rows(device, &layout)?;
    let rs = layout.record_size as usize;
    let per_batch = (options.batch_bytes / rs).max(1) as u64;
    let mut buf = vec![0u8; per_batch as usize * rs];
    let mut slots: Vec<Slot> = Vec::new();
    let mut bytes_scanned = 0u64;
    let mut seq = 1u64;
    // Scan batch by batch; stop at the first entirely empty batch past the
    // last record expected. A gap wider than a batch would end the scan early.
    while seq <= layout.journal_capacity {
        let n = per_batch.min(layout.journal_capacity - seq + 1);
        let bytes = &mut buf[..n as usize * rs];
        device.read_at(layout.record_offset(seq), bytes)?;
        bytes_scanned += bytes.len() as u64;
        let mut any = false;
        for (k, chunk) in bytes.chunks_exact(rs).enumerate() {
            let slot = read_slot(chunk, seq + k as u64, &layout.store_id);
            any |= slot != Slot::Empty;
            slots.push(slot);
        }
        seq += n;
        if !any && seq > options.scan_through_seq + 1 {
            break;
        }
    }
    let last_nonempty = slots.iter().rposition(|s| *s != Slot::Empty).map_or(0, |i| i + 1);
    slots.truncate(last_nonempty);
    Ok(judge_slots(layout, &rows, &slots, bytes_scanned))
}

fn judge_slots(layout: Layout, rows: &[Option<StockRow>], slots: &[Slot], bytes_scanned: u64) -> ImageReport {
    let mut states = Vec::with_capacity(slots.len());
    let mut records = Vec::with_capacity(slots.len());
    let mut torn = Vec::new();
    let mut corrupt = Vec::new();
    let mut missing = Vec::new();
    let mut committed = 0u64;
    let mut last_seq = 0u64;
    let mut journal_units = vec![0u64; rows.len()];
    let mut prev_valid: Option<u32> = None;
    let row_mark = |p: u32| rows.get(p as usize).copied().flatten().map_or(0, |r| r.last_order_seq);

    for (i, slot) in slots.iter().enumerate() {
        let seq = i as u64 + 1;
        let judged = match *slot {
            Slot::Valid { record, .. } if prev_valid.is_some_and(|p| p != record.prev_crc) => {
                prev_valid = None;
                Err(Corruption::BrokenLink)
            }
            Slot::Valid { record, .. } if record.product_id >= layout.product_count => {
                prev_valid = None;
                Err(Corruption::UnknownProduct)
            }
            Slot::Valid { record, crc } => {
                prev_valid = Some(crc);
                Ok(record)
            }
            Slot::Corrupt(c) => {
                prev_valid = None;
                Err(c)
            }
            Slot::Empty => {
                prev_valid = None;
                missing.push(seq);
                states.push(OrderState::Missing);
                records.push(None);
                continue;
            }
        };
        match judged {
            Ok(record) => {
                last_seq = seq;
                if row_mark(record.product_id) >= seq {
                    committed += 1;
                    journal_units[record.product_id as usize] += u64::from(record.quantity);
                    states.push(OrderState::Committed);
                } else {
                    torn.push(TornOrder {
                        seq,
                        product_id: record.product_id,
                        quantity: record.quantity,
                    });
                    states.push(OrderState::Torn);
                }
                records.push(Some(record));
            }
            Err(problem) => {
                corrupt.push(CorruptSlot {
                    seq,
                    problem,
                    explanation: problem.explain(),
                });
                states.push(OrderState::Corrupt);
                records.push(None);
            }
        }
    }

    let unreadable_rows = (0..layout.product_count)
        .filter(|p| rows.get(*p as usize).copied().flatten().is_none())
        .collect();
    let inventory_mismatches = rows
        .iter()
        .flatten()
        .filter(|r| r.units_sold != journal_units[r.product_id as usize])
        .map(|r| InventoryMismatch {
            product_id: r.product_id,
            units_sold: r.units_sold,
            journal_units: journal_units[r.product_id as usize],
        })
        .collect();
    ImageReport {
        layout,
        last_seq,
        committed,
        torn,
        corrupt,
        missing,
        unreadable_rows,
        inventory_mismatches,
        bytes_scanned,
        states,
        records,
        rows: rows.to_vec(),
    }
}

/// The image judged against the writer's log and the snapshot's start time.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PointInTime {
    pub snapshot_started_at_us: i64,
    /// Orders within this margin of the start time count as in flight: the
    /// snapshot's start time is known to the millisecond only.
    pub tolerance_us: i64,
    /// Orders acknowledged before the snapshot began: all must be present.
    pub acknowledged_before_snapshot: u64,
    pub present_in_restore: u64,
    pub missing: u64,
    pub missing_seqs: Vec<u64>,
    /// Orders begun after the snapshot began: none may be present.
    pub begun_after_snapshot: u64,
    pub after_snapshot_present: u64,
    pub after_snapshot_seqs: Vec<u64>,
    /// Orders under way when the snapshot began: either outcome is correct.
    pub in_flight: u64,
    pub in_flight_present: u64,
    pub torn: u64,
    pub torn_seqs: Vec<u64>,
}

impl PointInTime {
    /// Every acknowledged order present, nothing from after the snapshot.
    pub fn holds(&self) -> bool {
        self.missing == 0 && self.after_snapshot_present == 0
    }
}

pub fn judge(report: &ImageReport, log: &WriterLog, snapshot_started_at_us: i64, tolerance_us: i64) -> PointInTime {
    let before = snapshot_started_at_us - tolerance_us;
    let after = snapshot_started_at_us + tolerance_us;
    let mut v = PointInTime {
        snapshot_started_at_us,
        tolerance_us,
        acknowledged_before_snapshot: 0,
        present_in_restore: 0,
        missing: 0,
        missing_seqs: Vec::new(),
        begun_after_snapshot: 0,
        after_snapshot_present: 0,
        after_snapshot_seqs: Vec::new(),
        in_flight: 0,
        in_flight_present: 0,
        torn: report.torn.len() as u64,
        torn_seqs: report.torn.iter().map(|t| t.seq).collect(),
    };
    for entry in log.entries() {
        let state = report.state_of(entry.seq);
        let present = matches!(state, OrderState::Committed | OrderState::Torn);
        match entry.acked_at_us {
            Some(acked) if acked < before => {
                v.acknowledged_before_snapshot += 1;
                if state == OrderState::Committed {
                    v.present_in_restore += 1;
                } else {
                    v.missing += 1;
                    v.missing_seqs.push(entry.seq);
                }
            }
            _ if entry.begun_at_us > after => {
                v.begun_after_snapshot += 1;
                if present {
                    v.after_snapshot_present += 1;
                    v.after_snapshot_seqs.push(entry.seq);
                }
            }
            _ => {
                v.in_flight += 1;
                v.in_flight_present += u64::from(present);
            }
        }
    }
    v
}
