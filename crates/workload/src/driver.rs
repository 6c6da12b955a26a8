//! Runs the writer on its own thread, as the shop does: orders at a set rate,
//! with quiesce (finish the order in flight, flush, pause) and resume for
//! application-consistent snapshots — and a hold in the middle of an order
//! (its journal record written, its stock row not) for a crash-consistent
//! snapshot that tears an order every time, not by chance.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::device::BlockDevice;
use crate::error::WorkloadError;
use crate::writer::{LogEntry, OrderWriter};

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkloadConfig {
    /// Orders per second; `None` writes as fast as the device allows.
    pub orders_per_sec: Option<f64>,
}

/// A live view of the writer thread.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct WorkloadStats {
    pub acknowledged: u64,
    pub last_seq: u64,
    pub paused: bool,
    /// The order held half-written (journal record only), while held.
    pub held_mid_order: Option<u64>,
    /// Why the writer stopped on its own (a device error), if it did.
    pub failed: Option<String>,
}

/// What `quiesce` returns once writes are paused and flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Quiesced {
    pub last_seq: u64,
    pub acknowledged: u64,
}

#[derive(Debug, Default)]
struct State {
    want_pause: bool,
    want_hold: bool,
    stop: bool,
    stats: WorkloadStats,
    /// Orders acknowledged since the last `drain_acknowledged`.
    fresh: Vec<LogEntry>,
}

#[derive(Debug, Default)]
struct Control {
    state: Mutex<State>,
    changed: Condvar,
}

impl Control {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct Workload<D: BlockDevice + Send + 'static> {
    control: Arc<Control>,
    thread: Option<JoinHandle<OrderWriter<D>>>,
}

impl<D: BlockDevice + Send + 'static> Workload<D> {
    pub fn start(writer: OrderWriter<D>, config: WorkloadConfig) -> Self {
        let control = Arc::new(Control::default());
        let c = control.clone();
        let thread = std::thread::Builder::new()
            .name("securecart-writer".into())
            .spawn(move || write_orders(writer, config, &c))
            .ok();
        if thread.is_none() {
            control.lock().stats.failed = Some("could not start the writer thread".into());
        }
        Self { control, thread }
    }

    pub fn stats(&self) -> WorkloadStats {
        self.control.lock().stats.clone()
    }

    /// The orders acknowledged since the last call, for keeping the log
    /// somewhere durable while the writer runs.
    pub fn drain_acknowledged(&self) -> Vec<LogEntry> {
        std::mem::take(&mut self.control.lock().fresh)
    }

    /// Finishes the order in flight, flushes, and pauses. Returns when paused.
    pub fn quiesce(&self) -> Result<Quiesced, WorkloadError> {
        let mut st = self.control.lock();
        st.want_pause = true;
        self.control.changed.notify_all();
        while !st.stats.paused && st.stats.failed.is_none() {
            st = self.control.changed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        match &st.stats.failed {
            Some(why) => Err(WorkloadError::Stopped(why.clone())),
            None => Ok(Quiesced {
                last_seq: st.stats.last_seq,
                acknowledged: st.stats.acknowledged,
            }),
        }
    }

    /// Writes the next order's journal record, flushes, and holds before
    /// its stock row. Returns the held order's seq once held.
    pub fn hold_mid_order(&self) -> Result<u64, WorkloadError> {
        let mut st = self.control.lock();
        st.want_hold = true;
        self.control.changed.notify_all();
        loop {
            if let Some(why) = &st.stats.failed {
                return Err(WorkloadError::Stopped(why.clone()));
            }
            if let Some(seq) = st.stats.held_mid_order {
                return Ok(seq);
            }
            st = self.control.changed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Ends a pause or a hold: writes go on (a held order is completed first).
    pub fn resume(&self) {
        let mut st = self.control.lock();
        st.want_pause = false;
        st.want_hold = false;
        self.control.changed.notify_all();
    }

    /// Stops after the order in flight and hands the writer (and its log) back.
    pub fn stop(mut self) -> Result<OrderWriter<D>, WorkloadError> {
        {
            let mut st = self.control.lock();
            st.stop = true;
            self.control.changed.notify_all();
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(writer)) => Ok(writer),
            Some(Err(_)) => Err(WorkloadError::Stopped("the writer thread panicked".into())),
            None => Err(WorkloadError::Stopped("the writer thread never started".into())),
        }
    }
}

impl<D: BlockDevice + Send + 'static> Drop for Workload<D> {
    fn drop(&mut self) {
        let mut st = self.control.lock();
        st.stop = true;
        self.control.changed.notify_all();
    }
}

fn write_orders<D: BlockDevice>(
    mut writer: OrderWriter<D>,
    config: WorkloadConfig,
    control: &Control,
) -> OrderWriter<D> {
    let interval = config
        .orders_per_sec
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(1.0 / r));
    let mut started = Instant::now();
    let mut placed: u32 = 0;
    loop {
        let mut st = control.lock();
        if st.want_pause && !st.stop {
            drop(st);
            let flushed = writer.flush();
            st = control.lock();
            if let Err(e) = flushed {
                st.stats.failed = Some(e.to_string());
            }
            st.stats.paused = true;
            control.changed.notify_all();
            while st.want_pause && !st.stop && st.stats.failed.is_none() {
                st = control.changed.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            st.stats.paused = false;
            // Pace afresh after a pause rather than bursting to catch up.
            started = Instant::now();
            placed = 0;
        }
        if st.stop || st.stats.failed.is_some() {
            return writer;
        }
        let hold = st.want_hold;
        drop(st);

        let result = if hold {
            match hold_mid_order(&mut writer, control) {
                Some(result) => result,
                None => return writer,
            }
        } else {
            writer.place_order()
        };
        let mut st = control.lock();
        match result {
            Ok(entry) => {
                st.stats.acknowledged += 1;
                st.stats.last_seq = entry.seq;
                st.fresh.push(entry);
            }
            Err(e) => {
                st.stats.failed = Some(e.to_string());
                control.changed.notify_all();
                return writer;
            }
        }
        placed = placed.saturating_add(1);
        if let Some(every) = interval {
            let due = started + every * placed;
            let wait = due.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                let (guard, _) = control
                    .changed
                    .wait_timeout_while(st, wait, |s| !s.stop && !s.want_pause)
                    .unwrap_or_else(|p| p.into_inner());
                drop(guard);
            }
        }
    }
}

/// Writes an order's journal record, flushes, and waits (held) until told to
/// go on; then writes its stock row. `None`: stopped while held (the order
/// stays torn on the device, as after a crash; opening the store replays it).
fn hold_mid_order<D: BlockDevice>(
    writer: &mut OrderWriter<D>,
    control: &Control,
) -> Option<Result<crate::writer::LogEntry, WorkloadError>> {
    let pending = match writer.begin_order().and_then(|p| writer.flush().map(|()| p)) {
        Ok(p) => p,
        Err(e) => return Some(Err(e)),
    };
    let mut st = control.lock();
    st.stats.held_mid_order = Some(pending.seq());
    control.changed.notify_all();
    while st.want_hold && !st.stop {
        st = control.changed.wait(st).unwrap_or_else(|p| p.into_inner());
    }
    st.stats.held_mid_order = None;
    let stopped = st.stop;
    drop(st);
    if stopped {
        return None;
    }
    Some(writer.commit(pending))
}

/// SecureCart taking orders somewhere: on a block device in this process
/// ([`Workload`]), or on an instance the lab drives from afar. The lab's
/// shop holds one and does not mind which.
pub trait OrderTaker: Send {
    fn stats(&self) -> WorkloadStats;
    /// The orders acknowledged since the last call.
    fn drain_acknowledged(&self) -> Vec<LogEntry>;
    /// Finishes the order in flight, flushes, and pauses. Blocking.
    fn quiesce(&self) -> Result<Quiesced, WorkloadError>;
    /// Holds the next order half-written (journal record, no stock row) and
    /// returns its seq. Blocking. A shop that cannot says so.
    fn hold_mid_order(&self) -> Result<u64, WorkloadError> {
        Err(WorkloadError::Stopped(
            "this shop cannot hold an order half-written".into(),
        ))
    }
    /// Ends a pause or a hold.
    fn resume(&self);
    /// Stops after the order in flight. Returns acknowledged orders — at
    /// least those not drained yet (earlier ones may come again). Blocking.
    fn stop(self: Box<Self>) -> Result<Vec<LogEntry>, WorkloadError>;
}

impl<D: BlockDevice + Send + 'static> OrderTaker for Workload<D> {
    fn stats(&self) -> WorkloadStats {
        Workload::stats(self)
    }

    fn drain_acknowledged(&self) -> Vec<LogEntry> {
        Workload::drain_acknowledged(self)
    }

    fn quiesce(&self) -> Result<Quiesced, WorkloadError> {
        Workload::quiesce(self)
    }

    fn hold_mid_order(&self) -> Result<u64, WorkloadError> {
        Workload::hold_mid_order(self)
    }

    fn resume(&self) {
        Workload::resume(self);
    }

    fn stop(self: Box<Self>) -> Result<Vec<LogEntry>, WorkloadError> {
        let writer = Workload::stop(*self)?;
        Ok(writer
            .log()
            .entries()
            .iter()
            .filter(|e| e.acked_at_us.is_some())
            .copied()
            .collect())
    }
}
