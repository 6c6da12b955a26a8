//! What the app holds while it runs: the record, the labs, the run going on.

use std::time::{Duration, Instant};

use snaplab_lab::Catalog;
use snaplab_store::Store;
use tokio::sync::{mpsc, oneshot, Mutex};

pub struct ActiveRun {
    pub run_id: String,
    pub replies: mpsc::UnboundedSender<crate::learner::Button>,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: tauri::async_runtime::JoinHandle<()>,
}

pub struct AppState {
    pub store: Store,
    pub catalog: Catalog,
    pub active: Mutex<Option<ActiveRun>>,
    pub launched: Instant,
}

impl AppState {
    /// Stops the run going on, if any, and waits (briefly) until it is
    /// recorded as interrupted.
    pub async fn stop_active(&self) {
        let run = self.active.lock().await.take();
        if let Some(mut run) = run {
            if let Some(stop) = run.stop.take() {
                let _ = stop.send(());
            }
            if tokio::time::timeout(Duration::from_secs(5), run.task).await.is_err() {
                tracing::warn!("run {} did not stop within 5 s", run.run_id);
            }
        }
    }
}
