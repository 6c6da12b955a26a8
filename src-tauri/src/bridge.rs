//! The runner's events, forwarded to the window in batches: one IPC message
//! every [`FLUSH_EVERY`] at most, so a burst of samples and API calls costs
//! the UI one update, not hundreds.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use snaplab_lab::{EventSink, LabEvent};
use tauri::{AppHandle, Emitter};

/// The UI's event name for a batch (`LabEvent[]`).
pub const EVENTS: &str = "lab-events";
const FLUSH_EVERY: Duration = Duration::from_millis(50);

type Buffer = Arc<Mutex<Vec<LabEvent>>>;

pub struct Bridge {
    app: AppHandle,
    buffer: Buffer,
    flusher: tauri::async_runtime::JoinHandle<()>,
}

impl Bridge {
    pub fn new(app: AppHandle) -> Self {
        let buffer: Buffer = Arc::default();
        let flusher = {
            let (app, buffer) = (app.clone(), buffer.clone());
            tauri::async_runtime::spawn(async move {
                loop {
                    tokio::time::sleep(FLUSH_EVERY).await;
                    flush(&app, &buffer);
                }
            })
        };
        Self { app, buffer, flusher }
    }
}

fn flush(app: &AppHandle, buffer: &Buffer) {
    let batch = std::mem::take(&mut *buffer.lock().unwrap_or_else(|p| p.into_inner()));
    if !batch.is_empty() {
        if let Err(e) = app.emit(EVENTS, &batch) {
            tracing::warn!("cannot send {} events to the window: {e}", batch.len());
        }
    }
}

#[async_trait::async_trait]
impl EventSink for Bridge {
    async fn handle(&mut self, event: &LabEvent) {
        // The shop's order log is for the record; the window reads counts
        // from the samples instead.
        if matches!(event, LabEvent::OrdersAcknowledged { .. }) {
            return;
        }
        self.buffer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event.clone());
        if matches!(event, LabEvent::RunFinished { .. }) {
            flush(&self.app, &self.buffer);
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.flusher.abort();
        flush(&self.app, &self.buffer);
    }
}
