//! SecureCart inside a run: the order writer on the data volume, sampled
//! for the live chart, with its log handed to the recorder as it grows.

use std::time::Instant;

use snaplab_workload::{
    system_clock, BlockDevice, OrderWriter, Quiesced, Recovery, StoreOptions, Workload, WorkloadConfig, WorkloadStats,
    WriterLog,
};

use snaplab_workload::LogEntry;

use crate::error::LabError;

type Disk = Box<dyn BlockDevice + Send>;

/// One sample of the shop: for the orders/s chart and the record.
#[derive(Debug, Clone)]
pub struct Sample {
    pub orders_per_s: f64,
    pub stats: WorkloadStats,
    pub fresh: Vec<LogEntry>,
}

pub struct Shop {
    workload: Option<Workload<Disk>>,
    log: WriterLog,
    last: (Instant, u64),
}

impl Shop {
    /// A closed shop that already acknowledged `log` (resumed runs).
    pub fn closed(log: WriterLog) -> Self {
        Self {
            workload: None,
            log,
            last: (Instant::now(), 0),
        }
    }

    /// Opens the store on `disk` (formatting it the first time; replaying its
    /// journal otherwise) and starts taking orders. Blocking: call from a
    /// blocking context. Orders in the log past what the volume holds (lost
    /// with a crashed emulator's unsaved writes) are forgotten.
    pub fn open(&mut self, disk: Disk, seed: u64, orders_per_sec: Option<f64>) -> Result<Recovery, LabError> {
        let (writer, recovery) = OrderWriter::open_or_create(disk, &StoreOptions::default(), system_clock(), seed)?;
        self.log.truncate_after(recovery.last_seq);
        self.workload = Some(Workload::start(writer, WorkloadConfig { orders_per_sec }));
        self.last = (Instant::now(), 0);
        Ok(recovery)
    }

    pub fn is_open(&self) -> bool {
        self.workload.is_some()
    }

    pub fn stats(&self) -> WorkloadStats {
        self.workload.as_ref().map(Workload::stats).unwrap_or_default()
    }

    /// Orders per second since the last sample, and the orders acknowledged since.
    pub fn sample(&mut self) -> Option<Sample> {
        let workload = self.workload.as_ref()?;
        let stats = workload.stats();
        let fresh = workload.drain_acknowledged();
        for e in &fresh {
            self.log.push(*e);
        }
        let elapsed = self.last.0.elapsed().as_secs_f64().max(1e-3);
        let orders_per_s = (stats.acknowledged.saturating_sub(self.last.1)) as f64 / elapsed;
        self.last = (Instant::now(), stats.acknowledged);
        Some(Sample {
            orders_per_s,
            stats,
            fresh,
        })
    }

    /// Finishes the order in flight, flushes, pauses. Blocking.
    pub fn quiesce(&self) -> Result<Option<Quiesced>, LabError> {
        match &self.workload {
            Some(w) => Ok(Some(w.quiesce()?)),
            None => Ok(None),
        }
    }

    pub fn resume(&self) {
        if let Some(w) = &self.workload {
            w.resume();
        }
    }

    /// Stops taking orders; the log stays. Returns the orders acknowledged
    /// since the last sample. Blocking.
    pub fn close(&mut self) -> Result<Vec<LogEntry>, LabError> {
        let mut fresh = self.sample().map(|s| s.fresh).unwrap_or_default();
        if let Some(w) = self.workload.take() {
            let writer = w.stop()?;
            // Orders acknowledged after the last drain are in the writer's log.
            for e in writer.log().entries() {
                if e.acked_at_us.is_some() && e.seq > self.log.last_seq() {
                    self.log.push(*e);
                    fresh.push(*e);
                }
            }
        }
        Ok(fresh)
    }

    pub fn log(&self) -> &WriterLog {
        &self.log
    }
}
