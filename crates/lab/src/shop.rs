//! SecureCart inside a run: the order writer on the data volume ([`Shop`]),
//! and the run's handle on it ([`RunShop`]) — opening it off the async
//! threads, sampling it for the orders/s chart, pausing it, and sending its
//! order log to the record as it grows.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use snaplab_workload::{
    BlockDevice, Clock, LogEntry, OrderWriter, Quiesced, Recovery, StoreOptions, Workload, WorkloadConfig,
    WorkloadStats, WriterLog,
};
use tokio::task::JoinHandle;

use crate::error::LabError;
use crate::events::{EventKind, SinkError};
use crate::order_log::OrderLog;
use crate::scope::RunEvents;

pub type Disk = Box<dyn BlockDevice + Send>;

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
    clock: Clock,
    /// (µs, orders acknowledged) at the last sample.
    last: (i64, u64),
}

impl Shop {
    /// A closed shop that already acknowledged `log` (resumed runs).
    pub fn closed(log: WriterLog, clock: Clock) -> Self {
        let now = clock();
        Self {
            workload: None,
            log,
            clock,
            last: (now, 0),
        }
    }

    /// Opens the store on `disk` (formatting it the first time; replaying its
    /// journal otherwise) and starts taking orders. Blocking. Orders in the
    /// log past what the volume holds (lost with a crashed emulator's unsaved
    /// writes) are forgotten.
    pub fn open(&mut self, disk: Disk, seed: u64, orders_per_sec: Option<f64>) -> Result<Recovery, LabError> {
        let (writer, recovery) = OrderWriter::open_or_create(disk, &StoreOptions::default(), self.clock.clone(), seed)?;
        self.log.truncate_after(recovery.last_seq);
        self.workload = Some(Workload::start(writer, WorkloadConfig { orders_per_sec }));
        self.last = ((self.clock)(), 0);
        Ok(recovery)
    }

    pub fn is_open(&self) -> bool {
        self.workload.is_some()
    }

    pub fn stats(&self) -> WorkloadStats {
        self.workload.as_ref().map(Workload::stats).unwrap_or_default()
    }

    /// Orders per second since the last sample, and the orders acknowledged
    /// since (added to the log, and returned for the record).
    pub fn sample(&mut self) -> Option<Sample> {
        let workload = self.workload.as_ref()?;
        let stats = workload.stats();
        let fresh = workload.drain_acknowledged();
        for e in &fresh {
            self.log.push(*e);
        }
        let now = (self.clock)();
        let elapsed = ((now - self.last.0) as f64 / 1e6).max(1e-3);
        let orders_per_s = (stats.acknowledged.saturating_sub(self.last.1)) as f64 / elapsed;
        self.last = (now, stats.acknowledged);
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

type Shared = Arc<Mutex<Shop>>;

/// The run's shop: shared with its sampler, its log sent to the record.
pub struct RunShop {
    shop: Shared,
    orders: Arc<dyn OrderLog>,
    events: RunEvents,
    sampler: Option<(JoinHandle<()>, Arc<AtomicBool>)>,
    /// The first order-log write that failed (the runner stops on it).
    record_failure: Arc<Mutex<Option<SinkError>>>,
}

impl RunShop {
    pub fn new(log: WriterLog, orders: Arc<dyn OrderLog>, events: RunEvents) -> Self {
        Self {
            shop: Arc::new(Mutex::new(Shop::closed(log, events.clock().clone()))),
            orders,
            events,
            sampler: None,
            record_failure: Arc::default(),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Shop> {
        lock(&self.shop)
    }

    /// Opens the shop on the disk `open_disk` gives (both blocking: done on
    /// a blocking thread) and starts sampling it every `sample_every`.
    pub async fn open(
        &mut self,
        open_disk: impl FnOnce() -> Result<Disk, LabError> + Send + 'static,
        seed: u64,
        orders_per_sec: f64,
        sample_every: Duration,
    ) -> Result<Recovery, LabError> {
        let shop = self.shop.clone();
        let recovery =
            tokio::task::spawn_blocking(move || lock(&shop).open(open_disk()?, seed, Some(orders_per_sec))).await??;
        self.start_sampler(sample_every);
        Ok(recovery)
    }

    fn start_sampler(&mut self, every: Duration) {
        let stop = Arc::new(AtomicBool::new(false));
        let (shop, orders, events, failure, flag) = (
            self.shop.clone(),
            self.orders.clone(),
            self.events.clone(),
            self.record_failure.clone(),
            stop.clone(),
        );
        let task = tokio::spawn(async move {
            while !flag.load(Ordering::Relaxed) {
                tokio::time::sleep(every).await;
                // Skip a tick rather than wait while a quiesce holds the shop.
                let sample = match shop.try_lock() {
                    Ok(mut s) => s.sample(),
                    Err(_) => None,
                };
                if let Some(s) = sample {
                    record_sample(&events, orders.as_ref(), &failure, &s).await;
                }
            }
        });
        self.sampler = Some((task, stop));
    }

    /// Takes a sample now (a check about to read the log wants it current):
    /// the orders go to the log and the record, the rate to the chart.
    pub async fn record_sample_now(&self) {
        let sample = lock(&self.shop).sample();
        if let Some(s) = sample {
            record_sample(&self.events, self.orders.as_ref(), &self.record_failure, &s).await;
        }
    }

    /// Finishes the order in flight, flushes, pauses (on a blocking thread).
    pub async fn quiesce(&self) -> Result<(), LabError> {
        let shop = self.shop.clone();
        tokio::task::spawn_blocking(move || lock(&shop).quiesce().map(drop)).await?
    }

    pub fn resume(&self) {
        self.lock().resume();
    }

    /// Stops sampling and the shop, recording the last orders it acknowledged.
    pub async fn close(&mut self) -> Result<(), LabError> {
        if let Some((task, stop)) = self.sampler.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = task.await;
        }
        if !self.lock().is_open() {
            return Ok(());
        }
        let shop = self.shop.clone();
        let fresh = tokio::task::spawn_blocking(move || lock(&shop).close()).await??;
        if !fresh.is_empty() {
            self.orders.append(self.events.run_id(), &fresh).await?;
        }
        self.ensure_recorded()
    }

    /// Errors when an order-log write failed: the run stops rather than go on unrecorded.
    pub fn ensure_recorded(&self) -> Result<(), LabError> {
        match lock(&self.record_failure).clone() {
            Some(e) => Err(LabError::Record(e)),
            None => Ok(()),
        }
    }
}

/// A runner dropped mid-step (the run was stopped from outside) stops its
/// sampler, so nothing keeps the event stream or the shop alive; the shop's
/// writer then stops after the order in flight.
impl Drop for RunShop {
    fn drop(&mut self) {
        if let Some((task, stop)) = self.sampler.take() {
            stop.store(true, Ordering::Relaxed);
            task.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sends a sample's orders to the record and its rate to the chart.
async fn record_sample(events: &RunEvents, orders: &dyn OrderLog, failure: &Mutex<Option<SinkError>>, s: &Sample) {
    if !s.fresh.is_empty() {
        if let Err(e) = orders.append(events.run_id(), &s.fresh).await {
            tracing::error!(error = %e, "the shop's orders did not reach the record");
            lock(failure).get_or_insert(e);
        }
    }
    events.emit(EventKind::WorkloadSample {
        orders_per_s: s.orders_per_s,
        acknowledged: s.stats.acknowledged,
        last_seq: s.stats.last_seq,
        paused: s.stats.paused,
    });
}
