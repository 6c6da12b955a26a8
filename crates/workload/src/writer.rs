//! The SecureCart order writer. An order is a transaction with two writes:
//! its journal record first, then its product's stock row. Only when both
//! are done is the order acknowledged — and logged with the times it began
//! and was acknowledged, so a verifier can judge a snapshot against it.

use std::sync::Arc;

use crate::device::BlockDevice;
use crate::error::WorkloadError;
use crate::format::{Layout, OrderRecord, StockRow, StoreId};
use crate::replay::replay;
use crate::store::{format, StoreOptions};
use crate::verify::{verify, VerifyOptions};

/// Microseconds since the Unix epoch. Injected so tests can fix time.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    })
}

/// One order as the writer saw it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogEntry {
    pub seq: u64,
    pub product_id: u32,
    pub quantity: u32,
    /// Read before the order's first write was sent.
    pub begun_at_us: i64,
    /// Read after the order's second write returned; `None` if never acknowledged.
    pub acked_at_us: Option<i64>,
}

/// The writer's own account of what it acknowledged and when.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WriterLog {
    entries: Vec<LogEntry>,
}

impl WriterLog {
    pub fn entries(&self) -> &[LogEntry] {
        &self.entries
    }

    pub fn last_seq(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.seq)
    }

    pub fn acknowledged(&self) -> usize {
        self.entries.iter().filter(|e| e.acked_at_us.is_some()).count()
    }

    pub fn from_entries(entries: Vec<LogEntry>) -> Self {
        Self { entries }
    }

    pub fn push(&mut self, entry: LogEntry) {
        self.entries.push(entry);
    }

    /// Forgets orders past `seq` (lost with a crashed emulator's unsaved writes).
    pub fn truncate_after(&mut self, seq: u64) {
        self.entries.retain(|e| e.seq <= seq);
    }
}

/// An order whose journal record is written but whose stock row is not yet:
/// exactly the state a crash-consistent snapshot can capture.
#[derive(Debug)]
#[must_use = "an order in flight must be committed"]
pub struct PendingOrder {
    record: OrderRecord,
}

impl PendingOrder {
    pub fn seq(&self) -> u64 {
        self.record.seq
    }
}

/// What opening an existing store found and repaired.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recovery {
    /// Torn orders completed from the journal on open.
    pub replayed: Vec<u64>,
    pub last_seq: u64,
}

pub struct OrderWriter<D: BlockDevice> {
    device: D,
    layout: Layout,
    rows: Vec<StockRow>,
    next_seq: u64,
    prev_crc: u32,
    in_flight: Option<u64>,
    rng: fastrand::Rng,
    clock: Clock,
    log: WriterLog,
    record_buf: Vec<u8>,
}

impl<D: BlockDevice> std::fmt::Debug for OrderWriter<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderWriter")
            .field("layout", &self.layout)
            .field("next_seq", &self.next_seq)
            .finish_non_exhaustive()
    }
}

/// Unit price of a product, in cents: fixed per product.
pub fn unit_price_cents(product_id: u32) -> u32 {
    499 + (product_id * 7919) % 9500
}

impl<D: BlockDevice> OrderWriter<D> {
    /// Formats `device` as a new store and returns a writer for it.
    pub fn create(mut device: D, options: &StoreOptions, clock: Clock, seed: u64) -> Result<Self, WorkloadError> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut store_id: StoreId = [0u8; 16];
        store_id.iter_mut().for_each(|b| *b = rng.u8(..));
        let layout = options.layout_for(device.size(), store_id, clock())?;
        let rows = format(&mut device, &layout)?;
        Ok(Self::with_state(device, layout, rows, 1, 0, rng, clock))
    }

    /// Opens an existing store, as SecureCart does on start-up: orders torn
    /// by a crash are completed from the journal, then writing continues.
    pub fn open(mut device: D, clock: Clock, seed: u64) -> Result<(Self, Recovery), WorkloadError> {
        let replayed = replay(&mut device, &clock)?;
        let report = verify(&device, &VerifyOptions::default())?;
        let last = report.last_seq;
        let prev_crc = match report.record(last) {
            Some(r) => {
                let mut buf = vec![0u8; report.layout.record_size as usize];
                r.encode(&report.layout.store_id, &mut buf)
            }
            None => 0,
        };
        let rows = crate::store::read_rows(&device, &report.layout)?
            .into_iter()
            .enumerate()
            .map(|(p, r)| r.unwrap_or_else(|| StockRow::fresh(p as u32, report.layout.initial_stock, clock())))
            .collect();
        let rng = fastrand::Rng::with_seed(seed);
        let writer = Self::with_state(device, report.layout, rows, last + 1, prev_crc, rng, clock);
        Ok((
            writer,
            Recovery {
                replayed: replayed.replayed,
                last_seq: last,
            },
        ))
    }

    /// Opens the store on `device`, or formats one if there is none.
    pub fn open_or_create(
        device: D,
        options: &StoreOptions,
        clock: Clock,
        seed: u64,
    ) -> Result<(Self, Recovery), WorkloadError> {
        match crate::store::read_layout(&device) {
            Ok(_) => Self::open(device, clock, seed),
            Err(WorkloadError::NotFormatted(_)) => Ok((
                Self::create(device, options, clock, seed)?,
                Recovery {
                    replayed: Vec::new(),
                    last_seq: 0,
                },
            )),
            Err(e) => Err(e),
        }
    }

    fn with_state(
        device: D,
        layout: Layout,
        rows: Vec<StockRow>,
        next_seq: u64,
        prev_crc: u32,
        rng: fastrand::Rng,
        clock: Clock,
    ) -> Self {
        Self {
            record_buf: vec![0u8; layout.record_size as usize],
            device,
            layout,
            rows,
            next_seq,
            prev_crc,
            in_flight: None,
            rng,
            clock,
            log: WriterLog::default(),
        }
    }

    /// First half of an order: writes its journal record.
    pub fn begin_order(&mut self) -> Result<PendingOrder, WorkloadError> {
        if let Some(seq) = self.in_flight {
            return Err(WorkloadError::OrderInFlight(seq));
        }
        let seq = self.next_seq;
        if seq > self.layout.journal_capacity {
            return Err(WorkloadError::JournalFull {
                capacity: self.layout.journal_capacity,
            });
        }
        let product_id = self.rng.u32(..self.layout.product_count);
        let record = OrderRecord {
            seq,
            prev_crc: self.prev_crc,
            product_id,
            quantity: self.rng.u32(1..=5),
            unit_price_cents: unit_price_cents(product_id),
            begun_at_us: (self.clock)(),
        };
        self.log.entries.push(LogEntry {
            seq,
            product_id,
            quantity: record.quantity,
            begun_at_us: record.begun_at_us,
            acked_at_us: None,
        });
        let crc = record.encode(&self.layout.store_id, &mut self.record_buf);
        self.device.write_at(self.layout.record_offset(seq), &self.record_buf)?;
        self.prev_crc = crc;
        self.next_seq += 1;
        self.in_flight = Some(seq);
        Ok(PendingOrder { record })
    }

    /// Second half: writes the stock row, then acknowledges the order.
    pub fn commit(&mut self, order: PendingOrder) -> Result<LogEntry, WorkloadError> {
        let r = order.record;
        let row = self.rows[r.product_id as usize].apply(&r, (self.clock)());
        self.device
            .write_at(self.layout.row_offset(r.product_id), &row.encode(&self.layout.store_id))?;
        self.rows[r.product_id as usize] = row;
        self.in_flight = None;
        let acked = (self.clock)();
        let entry = self.log.entries.iter_mut().rev().find(|e| e.seq == r.seq).map(|e| {
            e.acked_at_us = Some(acked);
            *e
        });
        Ok(entry.unwrap_or(LogEntry {
            seq: r.seq,
            product_id: r.product_id,
            quantity: r.quantity,
            begun_at_us: r.begun_at_us,
            acked_at_us: Some(acked),
        }))
    }

    /// A whole order: both writes, then the acknowledgement.
    pub fn place_order(&mut self) -> Result<LogEntry, WorkloadError> {
        let pending = self.begin_order()?;
        self.commit(pending)
    }

    pub fn flush(&mut self) -> Result<(), WorkloadError> {
        Ok(self.device.flush()?)
    }

    pub fn log(&self) -> &WriterLog {
        &self.log
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn device(&self) -> &D {
        &self.device
    }

    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    pub fn into_parts(self) -> (D, WriterLog) {
        (self.device, self.log)
    }
}
