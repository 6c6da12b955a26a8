//! The one stream of events a run emits. The SQLite recorder, the CLI
//! renderer and the desktop app all consume it; a report reads what was
//! recorded. Serialized as JSON objects tagged by `"event"` (snake_case),
//! each carrying the `run_id`: this is the `snaplab run --json` wire format.

use chrono::{DateTime, Utc};
use snaplab_cloud::{ApiCall, VolumeInfo};
use snaplab_workload::LogEntry;

use crate::context::RunContext;
use crate::verification::Verification;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Passed,
    Failed,
    Skipped,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    Passed,
    Failed,
    Interrupted,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Info,
    Warning,
}

/// What the runner waits for the learner to say.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Awaiting {
    /// Hands-on: do the step, then ask for a check.
    #[default]
    Check,
    /// Guided step by step: say when to run it.
    Run,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LabEvent {
    /// A run began (or resumed); its whole context, target included.
    RunStarted {
        run_id: String,
        resumed: bool,
        context: Box<RunContext>,
        /// The shell lines that point a terminal's aws CLI at this run's cloud.
        #[serde(default)]
        terminal: String,
        at: DateTime<Utc>,
    },
    /// Something the learner should read (e.g. that a shadow disk is in use).
    Notice {
        run_id: String,
        level: Level,
        message: String,
        at: DateTime<Utc>,
    },
    /// A step began; its page and commands with the run's ids filled in.
    StepStarted {
        run_id: String,
        step_id: String,
        index: usize,
        title: String,
        #[serde(default)]
        page: String,
        #[serde(default)]
        commands: Vec<String>,
        at: DateTime<Utc>,
    },
    /// The runner waits for the learner: hands-on, to do the step (the
    /// commands to run) and ask for a check; guided step by step, to say "run".
    AwaitingLearner {
        run_id: String,
        step_id: String,
        #[serde(default)]
        awaiting: Awaiting,
        commands: Vec<String>,
        page: String,
        at: DateTime<Utc>,
    },
    ApiCall {
        run_id: String,
        step_id: Option<String>,
        #[serde(flatten)]
        call: ApiCall,
        at: DateTime<Utc>,
    },
    /// A resource this run created (cleaned up by the run, or `snaplab cleanup`).
    ResourceCreated {
        run_id: String,
        kind: String,
        resource_id: String,
        role: String,
        at: DateTime<Utc>,
    },
    ResourceDeleted {
        run_id: String,
        resource_id: String,
        at: DateTime<Utc>,
    },
    /// What the run knows so far (ids, times); recorded so a run can resume.
    ContextChanged {
        run_id: String,
        context: Box<RunContext>,
        at: DateTime<Utc>,
    },
    /// The run's volumes as the cloud describes them after a step (the
    /// app draws its diagram of the instance and attachments from this).
    Volumes {
        run_id: String,
        volumes: Vec<VolumeInfo>,
        at: DateTime<Utc>,
    },
    SnapshotProgress {
        run_id: String,
        snapshot_id: String,
        state: String,
        percent: u8,
        at: DateTime<Utc>,
    },
    WorkloadSample {
        run_id: String,
        orders_per_s: f64,
        acknowledged: u64,
        last_seq: u64,
        paused: bool,
        at: DateTime<Utc>,
    },
    /// Orders the shop acknowledged: its log, recorded as it grows.
    OrdersAcknowledged { run_id: String, entries: Vec<LogEntry> },
    CheckResult {
        run_id: String,
        step_id: String,
        check_id: String,
        passed: bool,
        message: String,
        at: DateTime<Utc>,
    },
    StepFinished {
        run_id: String,
        step_id: String,
        outcome: StepOutcome,
        at: DateTime<Utc>,
    },
    Verification {
        run_id: String,
        verification: Box<Verification>,
        at: DateTime<Utc>,
    },
    RunFinished {
        run_id: String,
        outcome: RunOutcome,
        steps_passed: usize,
        steps_total: usize,
        at: DateTime<Utc>,
    },
}

impl LabEvent {
    pub fn run_id(&self) -> &str {
        match self {
            Self::RunStarted { run_id, .. }
            | Self::Notice { run_id, .. }
            | Self::StepStarted { run_id, .. }
            | Self::AwaitingLearner { run_id, .. }
            | Self::ApiCall { run_id, .. }
            | Self::ResourceCreated { run_id, .. }
            | Self::ResourceDeleted { run_id, .. }
            | Self::ContextChanged { run_id, .. }
            | Self::Volumes { run_id, .. }
            | Self::SnapshotProgress { run_id, .. }
            | Self::WorkloadSample { run_id, .. }
            | Self::OrdersAcknowledged { run_id, .. }
            | Self::CheckResult { run_id, .. }
            | Self::StepFinished { run_id, .. }
            | Self::Verification { run_id, .. }
            | Self::RunFinished { run_id, .. } => run_id,
        }
    }
}

/// A consumer of the event stream.
#[async_trait::async_trait]
pub trait EventSink: Send {
    async fn handle(&mut self, event: &LabEvent);
}
