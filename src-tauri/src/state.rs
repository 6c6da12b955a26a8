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
    /// On AWS a stop deletes what the run made, which takes a while.
    pub on_aws: bool,
    /// The learner's choice: the terminal's commands go into the record.
    pub record_commands: bool,
}

pub struct AppState {
    pub store: Store,
    pub catalog: Catalog,
    pub active: Mutex<Option<ActiveRun>>,
    pub launched: Instant,
    /// The last preflight that found everything allowed, until a run takes it.
    pub cleared: Mutex<Option<crate::aws::Cleared>>,
    /// The lab player's terminal (a std mutex: never held across an await,
    /// and closed from sync code).
    pub terminal: std::sync::Mutex<Option<crate::terminal::RunTerminal>>,
    /// The class board's record, opened on first look: the class database
    /// when the record feeds one, else the record itself.
    pub class: tokio::sync::OnceCell<Store>,
    /// What tells the board it changed (LISTEN on PostgreSQL), made on first wait.
    pub board_watch: Mutex<Option<snaplab_store::BoardWatch>>,
}

impl AppState {
    pub async fn class_record(&self) -> Result<&Store, snaplab_store::StoreError> {
        self.class.get_or_try_init(|| self.store.class_view()).await
    }

    /// Stops the run going on, if any, and waits until it is recorded as
    /// interrupted — on AWS, until what it made is deleted too (bounded: a
    /// run cut short there is cleaned up from History, found by its tags).
    pub async fn stop_active(&self) {
        let run = self.active.lock().await.take();
        crate::terminal::close(self, None);
        if let Some(mut run) = run {
            if let Some(stop) = run.stop.take() {
                let _ = stop.send(());
            }
            let limit = Duration::from_secs(if run.on_aws { 600 } else { 5 });
            if tokio::time::timeout(limit, run.task).await.is_err() {
                tracing::warn!("run {} did not stop within {} s", run.run_id, limit.as_secs());
            }
        }
    }
}
