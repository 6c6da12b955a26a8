//! The recorder: a sink of the lab's events that writes each to SQLite as it
//! comes, and the shop's order log, which reaches it by its own path (in
//! batches, one transaction each). A write that fails is the sink's error:
//! the runner stops on it when it waits for that event.

use chrono::{DateTime, Utc};
use snaplab_lab::{EventKind, EventSink, LabEvent, OrderLog, RunContext, SinkError};
use snaplab_workload::LogEntry;
use sqlx::SqlitePool;

/// How the record names itself in errors.
const SINK: &str = "the run record";

#[derive(Clone)]
pub struct Recorder {
    pool: SqlitePool,
}

impl Recorder {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    async fn record(&self, event: &LabEvent) -> Result<(), sqlx::Error> {
        let (run_id, at) = (&event.run_id, &event.at);
        // The learner acted, or the run moved on: it waits for nobody now.
        let moved_on = matches!(
            event.kind,
            EventKind::CheckResult { .. }
                | EventKind::StepStarted { .. }
                | EventKind::StepFinished { .. }
                | EventKind::QuestionAnswered { .. }
                | EventKind::RunFinished { .. }
        );
        if moved_on {
            sqlx::query("UPDATE runs SET awaiting_since = NULL WHERE id = ? AND awaiting_since IS NOT NULL")
                .bind(run_id)
                .execute(&self.pool)
                .await?;
        }
        match &event.kind {
            EventKind::RunStarted {
                context, steps_total, ..
            } => self.run_started(context, *steps_total, *at).await,
            EventKind::ContextChanged { context } => {
                let json = to_json(context)?;
                sqlx::query("UPDATE runs SET context_json = ?, heartbeat_at = ? WHERE id = ?")
                    .bind(json)
                    .bind(at)
                    .bind(run_id)
                    .execute(&self.pool)
                    .await
                    .map(drop)
            }
            EventKind::Notice { level, message } => sqlx::query("INSERT INTO notices (run_id, level, message, at) VALUES (?, ?, ?, ?)")
                .bind(run_id)
                .bind(level.as_str())
                .bind(message)
                .bind(at)
                .execute(&self.pool)
                .await
                .map(drop),
            EventKind::StepStarted {
                step_id, index, title, ..
            } => sqlx::query(
                "INSERT INTO steps (run_id, step_id, idx, title, status, started_at) VALUES (?, ?, ?, ?, 'running', ?)
                 ON CONFLICT (run_id, step_id) DO UPDATE SET status = 'running', finished_at = NULL",
            )
            .bind(run_id)
            .bind(step_id)
            .bind(*index as i64)
            .bind(title)
            .bind(at)
            .execute(&self.pool)
            .await
            .map(drop),
            EventKind::AwaitingLearner { .. } => self.awaiting(run_id, *at).await,
            EventKind::ApiCall { call } => sqlx::query(
                "INSERT INTO api_calls (run_id, step_id, operation, request_id, duration_ms, error, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(run_id)
            .bind(&call.step_id)
            .bind(&call.operation)
            .bind(&call.request_id)
            .bind(i64::try_from(call.duration_ms).unwrap_or(i64::MAX))
            .bind(&call.error)
            .bind(at)
            .execute(&self.pool)
            .await
            .map(drop),
            EventKind::ResourceCreated {
                kind,
                resource_id,
                role,
            } => sqlx::query(
                "INSERT OR IGNORE INTO resources (run_id, resource_id, kind, role, created_at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(run_id)
            .bind(resource_id)
            .bind(kind.as_str())
            .bind(role.as_str())
            .bind(at)
            .execute(&self.pool)
            .await
            .map(drop),
            EventKind::ResourceDeleted { resource_id } => {
                sqlx::query("UPDATE resources SET deleted_at = ? WHERE run_id = ? AND resource_id = ?")
                    .bind(at)
                    .bind(run_id)
                    .bind(resource_id)
                    .execute(&self.pool)
                    .await
                    .map(drop)
            }
            // The diagram's view: derived from the cloud, not part of the record.
            EventKind::Volumes { .. } => Ok(()),
            EventKind::SnapshotProgress {
                snapshot_id,
                state,
                percent,
            } => sqlx::query(
                "INSERT INTO snapshot_progress (run_id, snapshot_id, state, percent, at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(run_id)
            .bind(snapshot_id)
            .bind(state.as_str())
            .bind(i64::from(*percent))
            .bind(at)
            .execute(&self.pool)
            .await
            .map(drop),
            EventKind::WorkloadSample {
                orders_per_s,
                acknowledged,
                last_seq,
                paused,
            } => sqlx::query(
                "INSERT INTO workload_samples (run_id, orders_per_s, acknowledged, last_seq, paused, at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(run_id)
            .bind(orders_per_s)
            .bind(i64::try_from(*acknowledged).unwrap_or(i64::MAX))
            .bind(i64::try_from(*last_seq).unwrap_or(i64::MAX))
            .bind(paused)
            .bind(at)
            .execute(&self.pool)
            .await
            .map(drop),
            EventKind::CheckResult {
                step_id,
                check_id,
                passed,
                message,
            } => sqlx::query(
                "INSERT INTO checks (run_id, step_id, check_id, passed, message, at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(run_id)
            .bind(step_id)
            .bind(check_id.as_str())
            .bind(passed)
            .bind(message)
            .bind(at)
            .execute(&self.pool)
            .await
            .map(drop),
            EventKind::StepFinished { step_id, outcome } => {
                sqlx::query("UPDATE steps SET status = ?, finished_at = ? WHERE run_id = ? AND step_id = ?")
                    .bind(outcome.as_str())
                    .bind(at)
                    .bind(run_id)
                    .bind(step_id)
                    .execute(&self.pool)
                    .await?;
                sqlx::query(
                    "UPDATE runs SET heartbeat_at = ?, steps_passed = (SELECT COUNT(*) FROM steps WHERE run_id = ? AND status = 'passed') WHERE id = ?",
                )
                .bind(at)
                .bind(run_id)
                .bind(run_id)
                .execute(&self.pool)
                .await
                .map(drop)
            }
            // The card is the app's to show; the answer is what is recorded.
            EventKind::QuestionAsked { .. } => self.awaiting(run_id, *at).await,
            EventKind::QuestionAnswered { answer, .. } => sqlx::query(
                "INSERT OR REPLACE INTO answers (run_id, question_id, prompt, answer, correct, asked, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(run_id)
            .bind(&answer.question_id)
            .bind(&answer.prompt)
            .bind(&answer.answer)
            .bind(answer.correct)
            .bind(answer.asked)
            .bind(answer.at)
            .execute(&self.pool)
            .await
            .map(drop),
            EventKind::Verification { verification } => sqlx::query("UPDATE runs SET verification_json = ? WHERE id = ?")
                .bind(to_json(verification)?)
                .bind(run_id)
                .execute(&self.pool)
                .await
                .map(drop),
            EventKind::RunFinished {
                outcome,
                steps_passed,
                steps_total,
            } => sqlx::query(
                "UPDATE runs SET status = ?, finished_at = ?, heartbeat_at = ?, steps_passed = ?, steps_total = ? WHERE id = ?",
            )
            .bind(outcome.as_str())
            .bind(at)
            .bind(at)
            .bind(*steps_passed as i64)
            .bind(*steps_total as i64)
            .bind(run_id)
            .execute(&self.pool)
            .await
            .map(drop),
        }
    }

    /// The run waits for its learner from `at` (kept from the first wait on, until they act).
    async fn awaiting(&self, run_id: &str, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE runs SET heartbeat_at = ?, awaiting_since = COALESCE(awaiting_since, ?) WHERE id = ?")
            .bind(at)
            .bind(at)
            .bind(run_id)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    async fn run_started(&self, ctx: &RunContext, steps_total: usize, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT OR IGNORE INTO learners (name, created_at) VALUES (?, ?)")
            .bind(&ctx.learner)
            .bind(at)
            .execute(&self.pool)
            .await?;
        let kind = ctx.target.kind.as_str();
        sqlx::query(
            "INSERT INTO runs (id, lab_id, lab_title, learner_id, mode, consistency, pace, target_kind, target_endpoint,
                               shadow_disk, status, started_at, heartbeat_at, pid, context_json, steps_total)
             VALUES (?, ?, ?, (SELECT id FROM learners WHERE name = ?), ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET status = 'running', finished_at = NULL, heartbeat_at = excluded.heartbeat_at,
                                            pid = excluded.pid, context_json = excluded.context_json,
                                            steps_total = excluded.steps_total",
        )
        .bind(&ctx.run_id)
        .bind(&ctx.lab_id)
        .bind(&ctx.lab_title)
        .bind(&ctx.learner)
        .bind(ctx.mode.as_str())
        .bind(ctx.consistency.as_str())
        .bind(ctx.pace.as_str())
        .bind(kind)
        .bind(&ctx.target.endpoint)
        .bind(ctx.target.shadow_disk)
        .bind(ctx.started_at)
        .bind(at)
        .bind(i64::from(std::process::id()))
        .bind(to_json(ctx)?)
        .bind(i64::try_from(steps_total).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await
        .map(drop)
    }

    /// Appends orders to the run's log, in one transaction.
    async fn record_orders(&self, run_id: &str, entries: &[LogEntry]) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for e in entries {
            sqlx::query(
                "INSERT OR REPLACE INTO orders (run_id, seq, product_id, quantity, begun_at_us, acked_at_us) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(run_id)
            .bind(i64::try_from(e.seq).unwrap_or(i64::MAX))
            .bind(i64::from(e.product_id))
            .bind(i64::from(e.quantity))
            .bind(e.begun_at_us)
            .bind(e.acked_at_us)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
}

/// JSON for a column; our own types always serialise, but say so if not.
fn to_json(value: &impl serde::Serialize) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

#[async_trait::async_trait]
impl EventSink for Recorder {
    async fn handle(&mut self, event: &LabEvent) -> Result<(), SinkError> {
        self.record(event)
            .await
            .map_err(|e| SinkError::event(SINK, event.kind.name(), e))
    }
}

#[async_trait::async_trait]
impl OrderLog for Recorder {
    async fn append(&self, run_id: &str, entries: &[LogEntry]) -> Result<(), SinkError> {
        self.record_orders(run_id, entries)
            .await
            .map_err(|e| SinkError::orders(SINK, e))
    }
}
