//! The recorder: a sink of the lab's events that writes each to the record as
//! it comes, and the shop's order log, which reaches it by its own path (in
//! batches, one transaction each). A write that fails is the sink's error:
//! the runner stops on it when it waits for that event. (A class database
//! that cannot be reached is not a failure: the write waits in the outbox.)

use snaplab_lab::{EventSink, LabEvent, OrderLog, SinkError};
use snaplab_workload::LogEntry;

use crate::{Store, Write};

/// How the record names itself in errors.
const SINK: &str = "the run record";

#[derive(Clone)]
pub struct Recorder {
    store: Store,
}

impl Recorder {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait::async_trait]
impl EventSink for Recorder {
    async fn handle(&mut self, event: &LabEvent) -> Result<(), SinkError> {
        self.store
            .write(&Write::Event(event.clone()))
            .await
            .map(drop)
            .map_err(|e| SinkError::event(SINK, event.kind.name(), e))
    }
}

#[async_trait::async_trait]
impl OrderLog for Recorder {
    async fn append(&self, run_id: &str, entries: &[LogEntry]) -> Result<(), SinkError> {
        let write = Write::Orders {
            run_id: run_id.to_string(),
            entries: entries.to_vec(),
        };
        self.store
            .write(&write)
            .await
            .map(drop)
            .map_err(|e| SinkError::orders(SINK, e))
    }
}
