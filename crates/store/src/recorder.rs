//! The recorder: a sink of the lab's events that writes each to SQLite as it
//! comes. Orders arrive in batches and go in one transaction.

use chrono::{DateTime, Utc};
use snaplab_lab::{EventSink, LabEvent, RunContext};
use sqlx::SqlitePool;

pub struct Recorder {
    pool: SqlitePool,
}

impl Recorder {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    async fn record(&self, event: &LabEvent) -> Result<(), sqlx::Error> {
        match event {
            LabEvent::RunStarted { context, at, .. } => self.run_started(context, *at).await,
            LabEvent::ContextChanged { run_id, context, at } => {
                let json = serde_json::to_string(context).unwrap_or_default();
                sqlx::query("UPDATE runs SET context_json = ?, heartbeat_at = ? WHERE id = ?")
                    .bind(json)
                    .bind(at)
                    .bind(run_id)
                    .execute(&self.pool)
                    .await
                    .map(drop)
            }
            LabEvent::Notice {
                run_id,
                level,
                message,
                at,
            } => sqlx::query("INSERT INTO notices (run_id, level, message, at) VALUES (?, ?, ?, ?)")
                .bind(run_id)
                .bind(serde_json::to_value(level).ok().and_then(|v| v.as_str().map(String::from)))
                .bind(message)
                .bind(at)
                .execute(&self.pool)
                .await
                .map(drop),
            LabEvent::StepStarted {
                run_id,
                step_id,
                index,
                title,
                at,
                ..
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
            LabEvent::AwaitingLearner { run_id, at, .. } => self.heartbeat(run_id, *at).await,
            LabEvent::ApiCall { run_id, step_id, call, at } => sqlx::query(
                "INSERT INTO api_calls (run_id, step_id, operation, request_id, duration_ms, error, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(run_id)
            .bind(step_id)
            .bind(&call.operation)
            .bind(&call.request_id)
            .bind(i64::try_from(call.duration_ms).unwrap_or(i64::MAX))
            .bind(&call.error)
            .bind(at)
            .execute(&self.pool)
            .await
            .map(drop),
            LabEvent::ResourceCreated {
                run_id,
                kind,
                resource_id,
                role,
                at,
            } => sqlx::query(
                "INSERT OR IGNORE INTO resources (run_id, resource_id, kind, role, created_at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(run_id)
            .bind(resource_id)
            .bind(kind)
            .bind(role)
            .bind(at)
            .execute(&self.pool)
            .await
            .map(drop),
            LabEvent::ResourceDeleted { run_id, resource_id, at } => {
                sqlx::query("UPDATE resources SET deleted_at = ? WHERE run_id = ? AND resource_id = ?")
                    .bind(at)
                    .bind(run_id)
                    .bind(resource_id)
                    .execute(&self.pool)
                    .await
                    .map(drop)
            }
            // The diagram's view: derived from the cloud, not part of the record.
            LabEvent::Volumes { .. } => Ok(()),
            LabEvent::SnapshotProgress {
                run_id,
                snapshot_id,
                state,
                percent,
                at,
            } => sqlx::query(
                "INSERT INTO snapshot_progress (run_id, snapshot_id, state, percent, at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(run_id)
            .bind(snapshot_id)
            .bind(state)
            .bind(i64::from(*percent))
            .bind(at)
            .execute(&self.pool)
            .await
            .map(drop),
            LabEvent::WorkloadSample {
                run_id,
                orders_per_s,
                acknowledged,
                last_seq,
                paused,
                at,
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
            LabEvent::OrdersAcknowledged { run_id, entries } => {
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
            LabEvent::CheckResult {
                run_id,
                step_id,
                check_id,
                passed,
                message,
                at,
            } => sqlx::query(
                "INSERT INTO checks (run_id, step_id, check_id, passed, message, at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(run_id)
            .bind(step_id)
            .bind(check_id)
            .bind(passed)
            .bind(message)
            .bind(at)
            .execute(&self.pool)
            .await
            .map(drop),
            LabEvent::StepFinished {
                run_id,
                step_id,
                outcome,
                at,
            } => {
                let status = serde_json::to_value(outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                sqlx::query("UPDATE steps SET status = ?, finished_at = ? WHERE run_id = ? AND step_id = ?")
                    .bind(status)
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
            LabEvent::Verification {
                run_id, verification, ..
            } => sqlx::query("UPDATE runs SET verification_json = ? WHERE id = ?")
                .bind(serde_json::to_string(verification).unwrap_or_default())
                .bind(run_id)
                .execute(&self.pool)
                .await
                .map(drop),
            LabEvent::RunFinished {
                run_id,
                outcome,
                steps_passed,
                steps_total,
                at,
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

    async fn heartbeat(&self, run_id: &str, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE runs SET heartbeat_at = ? WHERE id = ?")
            .bind(at)
            .bind(run_id)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    async fn run_started(&self, ctx: &RunContext, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT OR IGNORE INTO learners (name, created_at) VALUES (?, ?)")
            .bind(&ctx.learner)
            .bind(at)
            .execute(&self.pool)
            .await?;
        let kind = serde_json::to_value(&ctx.target.kind)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO runs (id, lab_id, lab_title, learner_id, mode, consistency, pace, target_kind, target_endpoint,
                               shadow_disk, status, started_at, heartbeat_at, pid, context_json)
             VALUES (?, ?, ?, (SELECT id FROM learners WHERE name = ?), ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET status = 'running', finished_at = NULL, heartbeat_at = excluded.heartbeat_at,
                                            pid = excluded.pid, context_json = excluded.context_json",
        )
        .bind(&ctx.run_id)
        .bind(&ctx.lab_id)
        .bind(&ctx.lab_title)
        .bind(&ctx.learner)
        .bind(ctx.mode.as_str())
        .bind(ctx.consistency.as_str())
        .bind(&ctx.pace)
        .bind(kind)
        .bind(&ctx.target.endpoint)
        .bind(ctx.target.shadow_disk)
        .bind(ctx.started_at)
        .bind(at)
        .bind(i64::from(std::process::id()))
        .bind(serde_json::to_string(ctx).unwrap_or_default())
        .execute(&self.pool)
        .await
        .map(drop)
    }
}

#[async_trait::async_trait]
impl EventSink for Recorder {
    async fn handle(&mut self, event: &LabEvent) {
        if let Err(e) = self.record(event).await {
            tracing::error!(error = %e, run_id = event.run_id(), "cannot record an event");
            eprintln!("snaplab: warning: the run record missed an event: {e}");
        }
    }
}
