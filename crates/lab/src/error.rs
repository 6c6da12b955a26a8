use snaplab_cloud::{CloudError, SnapshotState};
use snaplab_workload::{DeviceError, WorkloadError};

use crate::events::SinkError;

/// Something a step needs that an earlier step makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prerequisite {
    Scenario,
    Snapshot,
    PreviousSnapshot,
    Comparison,
    RestoredVolume,
    Verification,
    InventoryVolume,
    RestoreOfThisSnapshot,
    FirstRead,
    SecondRead,
    AlertTopic,
}

impl std::fmt::Display for Prerequisite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Scenario => "the SecureCart scenario is not known yet",
            Self::Snapshot => "no snapshot yet: the create-snapshot step comes first",
            Self::PreviousSnapshot => "no earlier snapshot yet: a second snapshot must follow a first one",
            Self::Comparison => "the two snapshots have not been compared yet: the changed-blocks step comes first",
            Self::RestoredVolume => "no restored volume yet: the restore step comes first",
            Self::Verification => "the restored volume has not been read yet: the verify step comes first",
            Self::RestoreOfThisSnapshot => {
                "the restored volume is from an earlier snapshot, not the run's latest: restore the latest one first"
            }
            Self::AlertTopic => "there is no alert topic yet: the create-topic step comes first",
            Self::FirstRead => "the restored volume has not been read yet: the first-read step comes first",
            Self::SecondRead => {
                "the restored volume has not been read a second time yet: the read-again step comes first"
            }
            Self::InventoryVolume => "SecureCart has no inventory volume yet: opening the shop makes it",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("lab definition: {0}")]
    Definition(String),
    #[error("lab {lab} does not run on {target}: it runs on {supported}. Choose one of those")]
    TargetUnsupported {
        lab: String,
        target: &'static str,
        supported: String,
    },
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error("SecureCart: {0}")]
    Workload(#[from] WorkloadError),
    #[error("the data volume's disk: {0}")]
    Device(#[from] DeviceError),
    /// A write the run depends on did not reach the record: the run stops
    /// rather than go on unrecorded.
    #[error("{0}; nothing more is done, so nothing goes unrecorded. Free some disk space or fix the record file, then resume the run")]
    Record(#[from] SinkError),
    #[error("{0}")]
    NotYet(Prerequisite),
    #[error("snapshot {id} is {state} at {percent}% after {waited_s} s; it should have completed by now")]
    SnapshotStuck {
        id: String,
        state: SnapshotState,
        percent: u8,
        waited_s: u64,
    },
    #[error("snapshot {id} went to state error: take a new snapshot")]
    SnapshotFailed { id: String },
    #[error("a background task of the run failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Another run drives this world's SecureCart (same emulator, same access key).
    #[error("SecureCart's instance {instance_id} is in use by run {run_id} ({learner}), leased until {until} unless it ends sooner: two runs driving one SecureCart would mix their orders and detach each other's volumes, so this run touches nothing. Wait for that run to end, or use an access key of your own: another learner name, or --access-key (in the app, the Access key field)")]
    InUse {
        instance_id: String,
        run_id: String,
        learner: String,
        until: String,
    },
    /// The learner asked to stop; the run is interrupted, not failed.
    #[error("stopped by the learner")]
    Quit,
}
