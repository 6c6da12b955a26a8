//! The one stream of events a run emits. The SQLite recorder, the CLI
//! renderer and the desktop app all consume it; a report reads what was
//! recorded.
//!
//! Wire format (`snaplab run --json`, one object per line): every event has
//! `"event"` (its kind, snake_case), `"run_id"` and `"at"` (RFC 3339, UTC),
//! then the fields of its kind — [`LabEvent`] flattens [`EventKind`] into
//! one object, so scripts read `{"event":"check_result","run_id":…,"at":…,
//! "step_id":…,"check_id":…,"passed":…,"message":…}`. The shop's order log
//! is not an event: it reaches the record through [`crate::OrderLog`].

use chrono::{DateTime, Utc};
use snaplab_cloud::{ApiCall, SnapshotState, VolumeInfo};

use crate::context::RunContext;
use crate::def::CheckId;
use crate::verification::Verification;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Passed,
    Failed,
    Skipped,
}

impl StepOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

/// How a run ended.
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
        RunStatus::from(self).as_str()
    }
}

/// Where a recorded run stands: still running, or how it ended.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Passed,
    Failed,
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }

    /// Reads the record's spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(Self::Running),
            "passed" => Some(Self::Passed),
            "failed" => Some(Self::Failed),
            "interrupted" => Some(Self::Interrupted),
            _ => None,
        }
    }
}

impl From<RunOutcome> for RunStatus {
    fn from(o: RunOutcome) -> Self {
        match o {
            RunOutcome::Passed => Self::Passed,
            RunOutcome::Failed => Self::Failed,
            RunOutcome::Interrupted => Self::Interrupted,
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Info,
    Warning,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
        }
    }
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

/// One event: which run, when, and what happened.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LabEvent {
    pub run_id: String,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened, tagged by `"event"` on the wire.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A run began (or resumed); its whole context, target included.
    RunStarted {
        resumed: bool,
        /// Steps in the lab (recorded at once, so a run that never finishes still has its total).
        #[serde(default)]
        steps_total: usize,
        context: Box<RunContext>,
        /// The shell lines that point a terminal's aws CLI at this run's cloud.
        #[serde(default)]
        terminal: String,
    },
    /// Something the learner should read (e.g. that a shadow disk is in use).
    Notice {
        level: Level,
        message: String,
    },
    /// A step began; its page and commands with the run's ids filled in.
    StepStarted {
        step_id: String,
        index: usize,
        title: String,
        #[serde(default)]
        page: String,
        #[serde(default)]
        commands: Vec<String>,
    },
    /// The runner waits for the learner: hands-on, to do the step (the
    /// commands to run) and ask for a check; guided step by step, to say "run".
    AwaitingLearner {
        step_id: String,
        #[serde(default)]
        awaiting: Awaiting,
        commands: Vec<String>,
        page: String,
    },
    /// One API call (its `step_id` says which step it was made for).
    ApiCall {
        #[serde(flatten)]
        call: ApiCall,
    },
    /// A resource this run created (cleaned up by the run, or `snaplab cleanup`).
    ResourceCreated {
        kind: crate::context::ResourceKind,
        resource_id: String,
        role: crate::context::ResourceRole,
    },
    ResourceDeleted {
        resource_id: String,
    },
    /// What the run knows so far (ids, times); recorded so a run can resume.
    ContextChanged {
        context: Box<RunContext>,
    },
    /// The run's volumes as the cloud describes them after a step (the
    /// app draws its diagram of the instance and attachments from this).
    Volumes {
        volumes: Vec<VolumeInfo>,
    },
    SnapshotProgress {
        snapshot_id: String,
        state: SnapshotState,
        percent: u8,
    },
    WorkloadSample {
        orders_per_s: f64,
        acknowledged: u64,
        last_seq: u64,
        paused: bool,
    },
    CheckResult {
        step_id: String,
        check_id: CheckId,
        passed: bool,
        message: String,
    },
    StepFinished {
        step_id: String,
        outcome: StepOutcome,
    },
    Verification {
        verification: Box<Verification>,
    },
    /// A knowledge check for the learner to answer (`index` of `total` in the lab).
    QuestionAsked {
        question: Box<crate::quiz::Question>,
        index: usize,
        total: usize,
    },
    /// The learner's answer (or that nobody was asked), with the explanation to show.
    QuestionAnswered {
        question: Box<crate::quiz::Question>,
        answer: Box<crate::quiz::Answer>,
    },
    RunFinished {
        outcome: RunOutcome,
        steps_passed: usize,
        steps_total: usize,
    },
}

impl EventKind {
    /// The `"event"` tag this kind has on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RunStarted { .. } => "run_started",
            Self::Notice { .. } => "notice",
            Self::StepStarted { .. } => "step_started",
            Self::AwaitingLearner { .. } => "awaiting_learner",
            Self::ApiCall { .. } => "api_call",
            Self::ResourceCreated { .. } => "resource_created",
            Self::ResourceDeleted { .. } => "resource_deleted",
            Self::ContextChanged { .. } => "context_changed",
            Self::Volumes { .. } => "volumes",
            Self::SnapshotProgress { .. } => "snapshot_progress",
            Self::WorkloadSample { .. } => "workload_sample",
            Self::CheckResult { .. } => "check_result",
            Self::StepFinished { .. } => "step_finished",
            Self::Verification { .. } => "verification",
            Self::QuestionAsked { .. } => "question_asked",
            Self::QuestionAnswered { .. } => "question_answered",
            Self::RunFinished { .. } => "run_finished",
        }
    }
}

/// Why a sink could not take an event (or the order log its orders).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{sink} could not take {what}: {message}")]
pub struct SinkError {
    /// Which sink (e.g. "the run record").
    pub sink: &'static str,
    /// What it could not take, e.g. "a check_result event".
    pub what: String,
    pub message: String,
}

impl SinkError {
    /// `sink` could not take an event of kind `event` (see [`EventKind::name`]).
    pub fn event(sink: &'static str, event: &str, message: impl std::fmt::Display) -> Self {
        Self {
            sink,
            what: format!("a {event} event"),
            message: message.to_string(),
        }
    }

    /// `sink` could not take the shop's orders.
    pub fn orders(sink: &'static str, message: impl std::fmt::Display) -> Self {
        Self {
            sink,
            what: "the shop's orders".to_string(),
            message: message.to_string(),
        }
    }
}

/// A consumer of the event stream. An error on an event the runner waits
/// for (a durable one) stops the run; on any other, it is logged.
#[async_trait::async_trait]
pub trait EventSink: Send {
    async fn handle(&mut self, event: &LabEvent) -> Result<(), SinkError>;
}
