//! Reading the record back: history, resume state, run status.

use chrono::{DateTime, Duration, Utc};
use snaplab_cloud::TargetKind;
use snaplab_lab::{Consistency, Mode, RunContext, RunStatus};
use snaplab_workload::{LogEntry, WriterLog};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::columns::{enum_column, time, time_opt};
use crate::{process_alive, Engine, Store, StoreError, Write};

/// The columns a `RunSummary` is made of; callers add WHERE and ORDER BY.
const SUMMARY_SELECT: &str =
    "SELECT r.id, r.lab_id, r.target_kind, r.target_endpoint, l.name AS learner, r.mode, r.consistency,
            r.started_at, r.finished_at, r.status, r.steps_passed, r.steps_total,
            (SELECT COUNT(*) FROM resources x WHERE x.run_id = r.id AND x.deleted_at IS NULL) AS resources_left,
            (SELECT COUNT(*) FROM answers a WHERE a.run_id = r.id AND a.asked = 1 AND a.correct = 1) AS quiz_correct,
            (SELECT COUNT(*) FROM answers a WHERE a.run_id = r.id AND a.asked = 1) AS quiz_asked
     FROM runs r JOIN learners l ON l.id = r.learner_id";

/// A run hasn't shown a sign of life for this long: it is not running.
const STALE_AFTER: i64 = 60;

/// One line of `snaplab history`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunSummary {
    pub id: String,
    pub lab: String,
    pub target_kind: TargetKind,
    /// The endpoint the run used (`None` for the built-in emulator, whose port changes every run).
    pub target_endpoint: Option<String>,
    /// The target in words, e.g. "built-in emulator" or "LocalStack at http://localhost:4566".
    pub target_label: String,
    pub learner: String,
    pub mode: Mode,
    pub consistency: Consistency,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// How it ended — or `running` while it runs.
    pub outcome: RunStatus,
    pub steps_passed: i64,
    pub steps_total: i64,
    /// Snapshots and volumes it made that are not deleted (clean-up finds them).
    pub resources_left: i64,
    /// Knowledge checks answered right, of those asked.
    pub quiz_correct: i64,
    pub quiz_asked: i64,
}

/// A knowledge check learners got wrong or skipped, across runs.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MissedQuestion {
    pub lab: String,
    pub question_id: String,
    pub prompt: String,
    /// Answers that were wrong or skipped.
    pub missed: i64,
    /// Times it was asked.
    pub asked: i64,
}

#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub learner: Option<String>,
    pub lab: Option<String>,
}

impl Store {
    /// Runs left `running` by a process that is gone become `interrupted`.
    /// (Not in a class database: its runs' processes are on other machines;
    /// the board shows a run gone quiet as silent instead.)
    pub async fn mark_dead_runs_interrupted(&self) -> Result<(), StoreError> {
        if self.engine() == Engine::Postgres {
            return Ok(());
        }
        let rows = sqlx::query("SELECT id, pid, heartbeat_at FROM runs WHERE status = 'running'")
            .fetch_all(&self.pool)
            .await?;
        let now = Utc::now();
        for row in rows {
            let id: String = row.try_get("id")?;
            let pid: Option<i64> = row.try_get("pid")?;
            let heartbeat = time(&row, "heartbeat_at")?;
            let dead = match process_alive(pid) {
                Some(alive) => !alive,
                None => now - heartbeat > Duration::seconds(STALE_AFTER),
            };
            if dead {
                self.mark_interrupted(&id).await?;
            }
        }
        Ok(())
    }

    /// A run still `running` becomes `interrupted` (resumable).
    pub async fn mark_interrupted(&self, run_id: &str) -> Result<(), StoreError> {
        let run_id = run_id.to_string();
        self.write(&Write::Interrupted { run_id }).await.map(drop)
    }

    /// Records every resource of a run as deleted (its cloud is gone with them).
    pub async fn mark_resources_deleted(&self, run_id: &str) -> Result<(), StoreError> {
        self.context(run_id).await?;
        let (run_id, at) = (run_id.to_string(), Utc::now());
        self.write(&Write::ResourcesDeleted { run_id, at }).await.map(drop)
    }

    /// Says the run is alive (for platforms without /proc).
    pub async fn heartbeat(&self, run_id: &str) -> Result<(), StoreError> {
        let (run_id, at) = (run_id.to_string(), Utc::now());
        self.write(&Write::Heartbeat { run_id, at }).await.map(drop)
    }

    pub async fn history(&self, filter: &HistoryFilter) -> Result<Vec<RunSummary>, StoreError> {
        self.mark_dead_runs_interrupted().await?;
        let rows = sqlx::query(&format!(
            "{SUMMARY_SELECT} WHERE ($1 IS NULL OR l.name = $1) AND ($2 IS NULL OR r.lab_id = $2) ORDER BY r.started_at"
        ))
        .bind(&filter.learner)
        .bind(&filter.lab)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_of).collect()
    }

    /// The knowledge checks runs got wrong (or skipped), most missed first:
    /// what a class needs explained again.
    pub async fn missed_questions(&self, filter: &HistoryFilter) -> Result<Vec<MissedQuestion>, StoreError> {
        let rows = sqlx::query(
            "SELECT lab_id, question_id, prompt, missed, times_asked FROM (
                 SELECT r.lab_id, a.question_id, MAX(a.prompt) AS prompt,
                        SUM(CASE WHEN a.correct = 1 THEN 0 ELSE 1 END) AS missed, COUNT(*) AS times_asked
                 FROM answers a JOIN runs r ON r.id = a.run_id JOIN learners l ON l.id = r.learner_id
                 WHERE a.asked = 1 AND ($1 IS NULL OR l.name = $1) AND ($2 IS NULL OR r.lab_id = $2)
                 GROUP BY r.lab_id, a.question_id) q
             WHERE missed > 0
             ORDER BY missed DESC, CAST(missed AS DOUBLE PRECISION) / times_asked DESC, lab_id, question_id",
        )
        .bind(&filter.learner)
        .bind(&filter.lab)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MissedQuestion {
                    lab: r.try_get("lab_id")?,
                    question_id: r.try_get("question_id")?,
                    prompt: r.try_get("prompt")?,
                    missed: r.try_get("missed")?,
                    asked: r.try_get("times_asked")?,
                })
            })
            .collect()
    }

    pub async fn summary(&self, run_id: &str) -> Result<RunSummary, StoreError> {
        self.mark_dead_runs_interrupted().await?;
        let row = sqlx::query(&format!("{SUMMARY_SELECT} WHERE r.id = $1"))
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NoSuchRun(run_id.to_string()))?;
        summary_of(&row)
    }

    /// What a killed run needs to go on: its context and the shop's log.
    pub async fn resume_state(&self, run_id: &str) -> Result<(RunContext, WriterLog), StoreError> {
        Ok((self.context(run_id).await?, self.orders(run_id).await?))
    }

    /// A run's status, `NoSuchRun` if the record has none.
    pub async fn status(&self, run_id: &str) -> Result<RunStatus, StoreError> {
        Ok(self.summary(run_id).await?.outcome)
    }

    /// The run's last recorded context.
    pub async fn context(&self, run_id: &str) -> Result<RunContext, StoreError> {
        let row = sqlx::query("SELECT context_json FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NoSuchRun(run_id.to_string()))?;
        let json: String = row.try_get("context_json")?;
        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    pub async fn orders(&self, run_id: &str) -> Result<WriterLog, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, product_id, quantity, begun_at_us, acked_at_us FROM orders WHERE run_id = $1 ORDER BY seq",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        let entries = rows
            .iter()
            .map(|r| -> Result<LogEntry, sqlx::Error> {
                Ok(LogEntry {
                    seq: u64::try_from(r.try_get::<i64, _>("seq")?).unwrap_or(0),
                    product_id: u32::try_from(r.try_get::<i64, _>("product_id")?).unwrap_or(0),
                    quantity: u32::try_from(r.try_get::<i64, _>("quantity")?).unwrap_or(0),
                    begun_at_us: r.try_get("begun_at_us")?,
                    acked_at_us: r.try_get("acked_at_us")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WriterLog::from_entries(entries))
    }
}

fn summary_of(r: &AnyRow) -> Result<RunSummary, StoreError> {
    let kind: TargetKind = enum_column(r, "target_kind")?;
    let endpoint: String = r.try_get("target_endpoint")?;
    let (target_label, target_endpoint) = if kind == TargetKind::Embedded {
        (kind.label().to_string(), None)
    } else {
        (format!("{} at {endpoint}", kind.label()), Some(endpoint))
    };
    Ok(RunSummary {
        target_label,
        target_kind: kind,
        target_endpoint,
        id: r.try_get("id")?,
        lab: r.try_get("lab_id")?,
        learner: r.try_get("learner")?,
        mode: enum_column(r, "mode")?,
        consistency: enum_column(r, "consistency")?,
        started_at: time(r, "started_at")?,
        finished_at: time_opt(r, "finished_at")?,
        outcome: enum_column(r, "status")?,
        steps_passed: r.try_get("steps_passed")?,
        steps_total: r.try_get("steps_total")?,
        resources_left: r.try_get("resources_left")?,
        quiz_correct: r.try_get("quiz_correct")?,
        quiz_asked: r.try_get("quiz_asked")?,
    })
}
