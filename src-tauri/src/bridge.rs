//! The runner's events, forwarded to the window in batches: one IPC message
//! every [`FLUSH_EVERY`] at most, so a burst of samples and API calls costs
//! the UI one update, not hundreds. The run's end is sent at once, and
//! whatever is buffered when the bridge goes away is sent then.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use snaplab_lab::{EventKind, EventSink, LabEvent, SinkError};
use tauri::{AppHandle, Emitter};
use tokio::task::JoinHandle;

/// The UI's event name for a batch (`LabEvent[]`).
pub const EVENTS: &str = "lab-events";
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);

type Buffer = Arc<Mutex<Vec<LabEvent>>>;
type Send = Arc<dyn Fn(Vec<LabEvent>) + std::marker::Send + Sync>;

/// Collects events and hands them to `send` in batches.
pub struct Batcher {
    buffer: Buffer,
    send: Send,
    flusher: JoinHandle<()>,
}

impl Batcher {
    /// Sends what has gathered every `every` (on the current tokio runtime).
    pub fn new(every: Duration, send: impl Fn(Vec<LabEvent>) + std::marker::Send + Sync + 'static) -> Self {
        let buffer: Buffer = Arc::default();
        let send: Send = Arc::new(send);
        let flusher = {
            let (buffer, send) = (buffer.clone(), send.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    flush(&buffer, send.as_ref());
                }
            })
        };
        Self { buffer, send, flusher }
    }
}

/// The bridge to the window.
pub fn to_window(app: AppHandle) -> Batcher {
    Batcher::new(FLUSH_EVERY, move |batch| {
        if let Err(e) = app.emit(EVENTS, &batch) {
            tracing::warn!("cannot send {} events to the window: {e}", batch.len());
        }
    })
}

fn flush(buffer: &Buffer, send: &(dyn Fn(Vec<LabEvent>) + std::marker::Send + Sync)) {
    let batch = std::mem::take(&mut *buffer.lock().unwrap_or_else(|p| p.into_inner()));
    if !batch.is_empty() {
        send(batch);
    }
}

#[async_trait::async_trait]
impl EventSink for Batcher {
    async fn handle(&mut self, event: &LabEvent) -> Result<(), SinkError> {
        self.buffer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event.clone());
        if matches!(event.kind, EventKind::RunFinished { .. }) {
            flush(&self.buffer, self.send.as_ref());
        }
        // A window that cannot be reached is logged by `send`: the record
        // still has everything, so the run goes on.
        Ok(())
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        self.flusher.abort();
        flush(&self.buffer, self.send.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use snaplab_lab::{Level, RunOutcome};

    use super::*;

    type Batches = Arc<Mutex<Vec<Vec<String>>>>;

    /// A batcher whose batches (as lists of event names) land in `Batches`.
    fn batcher(every: Duration) -> (Batcher, Batches) {
        let seen: Batches = Arc::default();
        let sink = seen.clone();
        let b = Batcher::new(every, move |batch| {
            let names = batch
                .iter()
                .map(|e| match &e.kind {
                    EventKind::Notice { message, .. } => message.clone(),
                    other => other.name().to_string(),
                })
                .collect();
            sink.lock().unwrap().push(names);
        });
        (b, seen)
    }

    fn event(kind: EventKind) -> LabEvent {
        LabEvent {
            run_id: "run-1".into(),
            at: Utc::now(),
            kind,
        }
    }

    fn notice(n: usize) -> LabEvent {
        event(EventKind::Notice {
            level: Level::Info,
            message: format!("n{n}"),
        })
    }

    fn finished() -> LabEvent {
        event(EventKind::RunFinished {
            outcome: RunOutcome::Passed,
            steps_passed: 9,
            steps_total: 9,
        })
    }

    async fn wait_for(seen: &Batches, events: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while seen.lock().unwrap().iter().map(Vec::len).sum::<usize>() < events {
            assert!(
                tokio::time::Instant::now() < deadline,
                "events never arrived: {:?}",
                seen.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn a_burst_goes_out_in_few_batches_in_order() {
        let (mut b, seen) = batcher(FLUSH_EVERY);
        for n in 0..200 {
            b.handle(&notice(n)).await.unwrap();
        }
        wait_for(&seen, 200).await;
        let batches = seen.lock().unwrap().clone();
        let all: Vec<String> = batches.iter().flatten().cloned().collect();
        assert_eq!(all, (0..200).map(|n| format!("n{n}")).collect::<Vec<_>>());
        // 200 events handled back to back, with a tick every 50 ms: a tick
        // can fall inside the burst, so two or three batches, never 200.
        assert!(batches.len() <= 3, "{} batches", batches.len());
    }

    #[tokio::test]
    async fn nothing_is_sent_before_a_tick_but_the_run_end_is_sent_at_once() {
        // A tick that never comes within the test: only the end's own flush can deliver.
        let (mut b, seen) = batcher(Duration::from_secs(3600));
        b.handle(&notice(1)).await.unwrap();
        b.handle(&notice(2)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(seen.lock().unwrap().is_empty(), "sent before a tick");
        b.handle(&finished()).await.unwrap();
        assert_eq!(
            seen.lock().unwrap().clone(),
            vec![vec!["n1".to_string(), "n2".into(), "run_finished".into()]]
        );
    }

    #[tokio::test]
    async fn dropping_the_bridge_sends_what_is_left() {
        let (mut b, seen) = batcher(Duration::from_secs(3600));
        b.handle(&notice(7)).await.unwrap();
        drop(b);
        assert_eq!(seen.lock().unwrap().clone(), vec![vec!["n7".to_string()]]);
    }
}
