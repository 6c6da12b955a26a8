//! What the session's test files share: a folder per test, and a sink that
//! keeps every event and says when a step has finished.
#![allow(dead_code)] // not every test file uses everything

use std::sync::{Arc, Mutex};

use snaplab_lab::{EventKind, EventSink, LabEvent, SinkError};
use tokio::sync::oneshot;

/// A folder for one test, removed on drop.
pub struct Dir(pub std::path::PathBuf);

impl Dir {
    pub fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("snaplab-session-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        Self(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Keeps every event, and fires `when` the first time a step finishes with id `step`.
pub struct Watch {
    pub seen: Arc<Mutex<Vec<LabEvent>>>,
    pub step: &'static str,
    pub when: Option<oneshot::Sender<()>>,
}

#[async_trait::async_trait]
impl EventSink for Watch {
    async fn handle(&mut self, event: &LabEvent) -> Result<(), SinkError> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).push(event.clone());
        if matches!(&event.kind, EventKind::StepFinished { step_id, .. } if step_id == self.step) {
            if let Some(tx) = self.when.take() {
                let _ = tx.send(());
            }
        }
        Ok(())
    }
}

/// A [`Watch`] for `step`, what it sees, and the signal of that step's end.
pub fn watch(step: &'static str) -> (Box<Watch>, Arc<Mutex<Vec<LabEvent>>>, oneshot::Receiver<()>) {
    let seen = Arc::default();
    let (tx, rx) = oneshot::channel();
    let w = Watch {
        seen: Arc::clone(&seen),
        step,
        when: Some(tx),
    };
    (Box::new(w), seen, rx)
}
