//! The shop's order log — what SecureCart acknowledged and when, the
//! verifier's reference — goes to the record by its own path, not through
//! every event sink: it is record data, not something to show.

use snaplab_workload::LogEntry;

use crate::events::SinkError;

#[async_trait::async_trait]
pub trait OrderLog: Send + Sync {
    /// Records `entries` (orders acknowledged since the last call) for `run_id`.
    async fn append(&self, run_id: &str, entries: &[LogEntry]) -> Result<(), SinkError>;
}

/// For runs that are not recorded (benchmarks): the log stays in memory only.
pub struct UnrecordedOrders;

#[async_trait::async_trait]
impl OrderLog for UnrecordedOrders {
    async fn append(&self, _run_id: &str, _entries: &[LogEntry]) -> Result<(), SinkError> {
        Ok(())
    }
}
