//! The instructor's board: where every learner is, from the record — their
//! latest run's lab and step, whether it works, waits for them, is stuck on a
//! failed check or has ended, how long they have been on the step and their
//! knowledge-check score. The CLI (`snaplab class`) and the app's Class view
//! poll it.

use chrono::{DateTime, Utc};
use snaplab_lab::Mode;
use sqlx::Row;

use crate::columns::{time, time_opt};

use crate::{Store, StoreError};

/// A running run silent this long (its heartbeat comes every 15 s) has lost
/// contact: its process died, or its learner's computer went away.
const SILENT_AFTER_S: i64 = 60;

/// Where a learner's latest run stands.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LearnerState {
    /// The run is doing a step.
    Working,
    /// The run waits for the learner (commands to type, Run step, a question).
    Waiting,
    /// The step's last check failed and the run waits for another try: help may be needed.
    Stuck,
    Passed,
    Failed,
    Interrupted,
    /// Marked running, but no sign of life for a minute.
    Silent,
}

impl LearnerState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Working => "working",
            Self::Waiting => "waiting for the learner",
            Self::Stuck => "failed check",
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
            Self::Silent => "no contact",
        }
    }
}

/// One learner on the board: their latest run.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BoardRow {
    pub learner: String,
    pub run_id: String,
    pub lab: String,
    pub lab_title: String,
    pub mode: Mode,
    pub state: LearnerState,
    /// The step under way (or the last one reached).
    pub step_id: Option<String>,
    pub step_title: Option<String>,
    /// 1-based.
    pub step_number: Option<i64>,
    pub steps_total: i64,
    pub steps_passed: i64,
    pub step_started_at: Option<DateTime<Utc>>,
    pub waiting_since: Option<DateTime<Utc>>,
    /// Stuck or failed: the failed check's words (or why the run stopped).
    pub message: Option<String>,
    pub quiz_correct: i64,
    pub quiz_asked: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_seen: DateTime<Utc>,
}

impl BoardRow {
    /// Seconds on the current step at `now` (`None` once the run ended).
    pub fn seconds_on_step(&self, now: DateTime<Utc>) -> Option<i64> {
        let running = matches!(
            self.state,
            LearnerState::Working | LearnerState::Waiting | LearnerState::Stuck
        );
        let since = self.step_started_at.filter(|_| running)?;
        Some((now - since).num_seconds().max(0))
    }
}

impl Store {
    /// Every learner's latest run (of `lab`, when given), by name; states as
    /// of `now`. One query (polled every few seconds): each run with its
    /// current step and that step's last check; a failed run's reason is
    /// looked up for that run alone.
    pub async fn class_board(&self, lab: Option<&str>, now: DateTime<Utc>) -> Result<Vec<BoardRow>, StoreError> {
        let runs = sqlx::query(
            "SELECT r.id, l.name AS learner, r.lab_id, r.lab_title, r.mode, r.status, r.started_at, r.finished_at,
                    r.heartbeat_at, r.awaiting_since, r.steps_passed, r.steps_total,
                    (SELECT COUNT(*) FROM answers a WHERE a.run_id = r.id AND a.asked = 1 AND a.correct = 1) AS quiz_correct,
                    (SELECT COUNT(*) FROM answers a WHERE a.run_id = r.id AND a.asked = 1) AS quiz_asked,
                    s.step_id, s.idx, s.title, s.started_at AS step_started_at,
                    c.passed AS check_passed, c.message AS check_message
             FROM runs r
             JOIN learners l ON l.id = r.learner_id
             LEFT JOIN steps s ON s.run_id = r.id
                              AND s.step_id = (SELECT s2.step_id FROM steps s2 WHERE s2.run_id = r.id
                                               ORDER BY s2.started_at DESC, s2.idx DESC LIMIT 1)
             LEFT JOIN checks c ON c.id = (SELECT c2.id FROM checks c2 WHERE c2.run_id = r.id AND c2.step_id = s.step_id
                                           ORDER BY c2.id DESC LIMIT 1)
             WHERE ($1 IS NULL OR r.lab_id = $1)
               AND r.id = (SELECT r2.id FROM runs r2 WHERE r2.learner_id = r.learner_id AND ($1 IS NULL OR r2.lab_id = $1)
                           ORDER BY r2.started_at DESC, r2.id DESC LIMIT 1)
             ORDER BY l.name",
        )
        .bind(lab)
        .fetch_all(&self.pool)
        .await?;
        let mut board = Vec::with_capacity(runs.len());
        for r in runs {
            let run_id: String = r.try_get("id")?;
            let step_id: Option<String> = r.try_get("step_id")?;
            let step_number = r.try_get::<Option<i64>, _>("idx")?.map(|i| i + 1);
            // The current step's last check: failed means the learner is stuck on it.
            let failed_check = match r.try_get::<Option<i64>, _>("check_passed")? {
                Some(0) => r.try_get::<Option<String>, _>("check_message")?,
                _ => None,
            };
            let status: String = r.try_get("status")?;
            let heartbeat = time(&r, "heartbeat_at")?;
            let waiting_since = time_opt(&r, "awaiting_since")?;
            let state = match status.as_str() {
                "passed" => LearnerState::Passed,
                "failed" => LearnerState::Failed,
                "interrupted" => LearnerState::Interrupted,
                _ if (now - heartbeat).num_seconds() > SILENT_AFTER_S => LearnerState::Silent,
                _ if failed_check.is_some() => LearnerState::Stuck,
                _ if waiting_since.is_some() => LearnerState::Waiting,
                _ => LearnerState::Working,
            };
            let message = match state {
                LearnerState::Stuck => failed_check,
                LearnerState::Failed => self.why_failed(&run_id).await?,
                _ => None,
            };
            board.push(BoardRow {
                learner: r.try_get("learner")?,
                lab: r.try_get("lab_id")?,
                lab_title: r.try_get("lab_title")?,
                mode: crate::columns::enum_column(&r, "mode")?,
                state,
                step_id,
                step_title: r.try_get("title")?,
                step_number,
                steps_total: r.try_get("steps_total")?,
                steps_passed: r.try_get("steps_passed")?,
                step_started_at: time_opt(&r, "step_started_at")?,
                waiting_since: waiting_since.filter(|_| state == LearnerState::Waiting || state == LearnerState::Stuck),
                message,
                quiz_correct: r.try_get("quiz_correct")?,
                quiz_asked: r.try_get("quiz_asked")?,
                started_at: time(&r, "started_at")?,
                finished_at: time_opt(&r, "finished_at")?,
                last_seen: heartbeat,
                run_id,
            });
        }
        Ok(board)
    }

    /// A failed run's reason: its last failed check, else its last warning.
    async fn why_failed(&self, run_id: &str) -> Result<Option<String>, StoreError> {
        let check: Option<String> =
            sqlx::query_scalar("SELECT message FROM checks WHERE run_id = $1 AND passed = 0 ORDER BY id DESC LIMIT 1")
                .bind(run_id)
                .fetch_optional(&self.pool)
                .await?;
        if check.is_some() {
            return Ok(check);
        }
        Ok(sqlx::query_scalar(
            "SELECT message FROM notices WHERE run_id = $1 AND level = 'warning' ORDER BY id DESC LIMIT 1",
        )
        .bind(run_id)
        .fetch_optional(&self.pool)
        .await?)
    }
}
