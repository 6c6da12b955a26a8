//! SecureCart inside a run: the order writer on the data volume ([`Shop`]),
//! and the run's handle on it ([`RunShop`]) — opening it off the async
//! threads, sampling it for the orders/s chart, pausing it, and sending its
//! order log to the record as it grows.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use snaplab_workload::{Clock, LogEntry, OrderTaker, Quiesced, Recovery, WorkloadStats, WriterLog};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::LabError;
use crate::events::{EventKind, SinkError};
use crate::order_log::OrderLog;
use crate::scope::RunEvents;

/// One sample of the shop: for the orders/s chart and the record.
#[derive(Debug, Clone)]
pub struct Sample {
    pub orders_per_s: f64,
    pub stats: WorkloadStats,
    pub fresh: Vec<LogEntry>,
}

pub struct Shop {
    workload: Option<Box<dyn OrderTaker>>,
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

    /// Takes orders through `taker`, opened on the data volume with
    /// `recovery`. Orders in the log past what the volume holds (lost with a
    /// crashed emulator's unsaved writes) are forgotten.
    pub fn start(&mut self, taker: Box<dyn OrderTaker>, recovery: &Recovery) {
        self.log.truncate_after(recovery.last_seq);
        self.workload = Some(taker);
        self.last = ((self.clock)(), 0);
    }

    pub fn is_open(&self) -> bool {
        self.workload.is_some()
    }

    pub fn stats(&self) -> WorkloadStats {
        self.workload.as_ref().map(|w| w.stats()).unwrap_or_default()
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

    /// Holds the next order half-written; its seq. Blocking.
    pub fn hold_mid_order(&self) -> Result<Option<u64>, LabError> {
        match &self.workload {
            Some(w) => Ok(Some(w.hold_mid_order()?)),
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
            // Orders acknowledged after the last drain come back from stopping.
            for e in w.stop()? {
                if e.acked_at_us.is_some() && e.seq > self.log.last_seq() {
                    self.log.push(e);
                    fresh.push(e);
                }
            }
        }
        Ok(fresh)
    }

    pub fn log(&self) -> &WriterLog {
        &self.log
    }
}

/// The shop, its sampler and where its orders go, shared by the run's handle
/// ([`RunShop`]), the sampler task, and a [`ShopCloser`].
struct Shared {
    shop: Mutex<Shop>,
    orders: Arc<dyn OrderLog>,
    events: RunEvents,
    sampler: Mutex<Option<(JoinHandle<()>, watch::Sender<bool>)>>,
    /// The first order-log write that failed (the runner stops on it).
    record_failure: Mutex<Option<SinkError>>,
}

/// The run's shop: shared with its sampler, its log sent to the record.
pub struct RunShop {
    inner: Arc<Shared>,
}

/// Closes a run's shop from outside the runner (a run stopped mid-step):
/// the sampler ends after the write it is doing, and the orders acknowledged
/// since its last sample are recorded.
#[derive(Clone)]
pub struct ShopCloser {
    inner: Arc<Shared>,
}

impl ShopCloser {
    pub async fn close(&self) -> Result<(), LabError> {
        close(&self.inner).await
    }
}

impl RunShop {
    pub fn new(log: WriterLog, orders: Arc<dyn OrderLog>, events: RunEvents) -> Self {
        Self {
            inner: Arc::new(Shared {
                shop: Mutex::new(Shop::closed(log, events.clock().clone())),
                orders,
                events,
                sampler: Mutex::default(),
                record_failure: Mutex::default(),
            }),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Shop> {
        lock(&self.inner.shop)
    }

    pub fn closer(&self) -> ShopCloser {
        ShopCloser {
            inner: self.inner.clone(),
        }
    }

    /// Takes orders through an order taker `open` gives (with what opening
    /// the store found), and starts sampling them every `sample_every`.
    pub async fn open<F>(&mut self, open: F, sample_every: Duration) -> Result<Recovery, LabError>
    where
        F: std::future::Future<Output = Result<(Box<dyn OrderTaker>, Recovery), LabError>>,
    {
        let (taker, recovery) = open.await?;
        lock(&self.inner.shop).start(taker, &recovery);
        self.start_sampler(sample_every);
        Ok(recovery)
    }

    fn start_sampler(&mut self, every: Duration) {
        let (stop, mut stopped) = watch::channel(false);
        let inner = self.inner.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    _ = stopped.changed() => break,
                }
                // Skip a tick rather than wait while a quiesce holds the shop.
                let sample = match inner.shop.try_lock() {
                    Ok(mut s) => s.sample(),
                    Err(_) => None,
                };
                if let Some(s) = sample {
                    record_sample(&inner, &s).await;
                }
            }
        });
        *lock(&self.inner.sampler) = Some((task, stop));
    }

    /// Takes a sample now (a check about to read the log wants it current):
    /// the orders go to the log and the record, the rate to the chart.
    pub async fn record_sample_now(&mut self) {
        let sample = self.lock().sample();
        if let Some(s) = sample {
            record_sample(&self.inner, &s).await;
        }
    }

    /// Finishes the order in flight, flushes, pauses (on a blocking thread).
    pub async fn quiesce(&self) -> Result<(), LabError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || lock(&inner.shop).quiesce().map(drop)).await?
    }

    /// Holds the next order half-written (on a blocking thread).
    pub async fn hold_mid_order(&self) -> Result<(), LabError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || lock(&inner.shop).hold_mid_order().map(drop)).await?
    }

    /// Lets writes go on (on a blocking thread: a remote shop waits for the instance).
    pub async fn resume(&self) {
        let inner = self.inner.clone();
        let _ = tokio::task::spawn_blocking(move || lock(&inner.shop).resume()).await;
    }

    /// Stops sampling and the shop, recording the last orders it acknowledged.
    pub async fn close(&mut self) -> Result<(), LabError> {
        close(&self.inner).await
    }

    /// Errors when an order-log write failed: the run stops rather than go on unrecorded.
    pub fn ensure_recorded(&self) -> Result<(), LabError> {
        match lock(&self.inner.record_failure).clone() {
            Some(e) => Err(LabError::Record(e)),
            None => Ok(()),
        }
    }
}

/// Stops the sampler (after the write it is doing), then the shop, and
/// records the orders acknowledged since the last sample.
async fn close(inner: &Arc<Shared>) -> Result<(), LabError> {
    let sampler = lock(&inner.sampler).take();
    if let Some((task, stop)) = sampler {
        let _ = stop.send(true);
        let _ = task.await;
    }
    if !lock(&inner.shop).is_open() {
        return Ok(());
    }
    let shared = inner.clone();
    let fresh = tokio::task::spawn_blocking(move || lock(&shared.shop).close()).await??;
    if !fresh.is_empty() {
        inner.orders.append(inner.events.run_id(), &fresh).await?;
    }
    match lock(&inner.record_failure).clone() {
        Some(e) => Err(LabError::Record(e)),
        None => Ok(()),
    }
}

/// A runner dropped mid-step (the run was stopped from outside) tells its
/// sampler to stop — never in the middle of writing orders to the record —
/// so nothing keeps the event stream alive; a [`ShopCloser`] then closes
/// the shop and records its last orders.
impl Drop for RunShop {
    fn drop(&mut self) {
        if let Some((_, stop)) = lock(&self.inner.sampler).as_ref() {
            let _ = stop.send(true);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sends a sample's orders to the record and its rate to the chart.
async fn record_sample(inner: &Shared, s: &Sample) {
    if !s.fresh.is_empty() {
        if let Err(e) = inner.orders.append(inner.events.run_id(), &s.fresh).await {
            tracing::error!(error = %e, "the shop's orders did not reach the record");
            lock(&inner.record_failure).get_or_insert(e);
        }
    }
    inner.events.emit(EventKind::WorkloadSample {
        orders_per_s: s.orders_per_s,
        acknowledged: s.stats.acknowledged,
        last_seq: s.stats.last_seq,
        paused: s.stats.paused,
    });
}
