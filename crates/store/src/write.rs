//! Every change to the record, as a value: applied in one transaction to the
//! learner's record and, through the outbox, once more to the class database.
//! The SQL is the same on both engines.

use chrono::{DateTime, Utc};
use snaplab_lab::{EventKind, LabEvent, RunContext};
use snaplab_workload::LogEntry;
use sqlx::{AnyConnection, Row};

use crate::columns::stamp;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "write", rename_all = "snake_case")]
pub enum Write {
    /// One of the lab's events.
    Event(LabEvent),
    /// A batch of the shop's order log.
    Orders { run_id: String, entries: Vec<LogEntry> },
    /// A command typed in the app's terminal.
    Command {
        run_id: String,
        command: String,
        exit_status: i32,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
    },
    /// A run whose process is gone: resumable.
    Interrupted { run_id: String },
    /// Every resource of a run is gone (clean-up).
    ResourcesDeleted { run_id: String, at: DateTime<Utc> },
    /// The run is alive.
    Heartbeat { run_id: String, at: DateTime<Utc> },
}

impl Write {
    /// What it is, for errors.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Event(e) => e.kind.name(),
            Self::Orders { .. } => "orders",
            Self::Command { .. } => "command",
            Self::Interrupted { .. } => "interrupted",
            Self::ResourcesDeleted { .. } => "resources_deleted",
            Self::Heartbeat { .. } => "heartbeat",
        }
    }

    /// Applies it on `conn` (inside the caller's transaction). A command
    /// returns the step it was filed under.
    pub(crate) async fn apply(&self, conn: &mut AnyConnection) -> Result<Option<String>, sqlx::Error> {
        match self {
            Self::Event(event) => record_event(conn, event).await.map(|()| None),
            Self::Orders { run_id, entries } => {
                for e in entries {
                    sqlx::query(
                        "INSERT INTO orders (run_id, seq, product_id, quantity, begun_at_us, acked_at_us)
                         VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT (run_id, seq) DO UPDATE SET product_id = excluded.product_id,
                             quantity = excluded.quantity, begun_at_us = excluded.begun_at_us,
                             acked_at_us = excluded.acked_at_us",
                    )
                    .bind(run_id)
                    .bind(i64::try_from(e.seq).unwrap_or(i64::MAX))
                    .bind(i64::from(e.product_id))
                    .bind(i64::from(e.quantity))
                    .bind(e.begun_at_us)
                    .bind(e.acked_at_us)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(None)
            }
            Self::Command {
                run_id,
                command,
                exit_status,
                started_at,
                finished_at,
            } => {
                let row = sqlx::query(
                    "INSERT INTO commands (run_id, seq, step_id, command, exit_status, started_at, finished_at)
                     VALUES ($1,
                             (SELECT COALESCE(MAX(seq), 0) + 1 FROM commands WHERE run_id = $1),
                             (SELECT step_id FROM steps WHERE run_id = $1 ORDER BY idx DESC LIMIT 1),
                             $2, $3, $4, $5)
                     RETURNING step_id",
                )
                .bind(run_id)
                .bind(command)
                .bind(i64::from(*exit_status))
                .bind(stamp(*started_at))
                .bind(stamp(*finished_at))
                .fetch_one(&mut *conn)
                .await?;
                row.try_get("step_id")
            }
            Self::Interrupted { run_id } => {
                sqlx::query("UPDATE runs SET status = 'interrupted' WHERE id = $1 AND status = 'running'")
                    .bind(run_id)
                    .execute(&mut *conn)
                    .await?;
                Ok(None)
            }
            Self::ResourcesDeleted { run_id, at } => {
                sqlx::query("UPDATE resources SET deleted_at = $1 WHERE run_id = $2 AND deleted_at IS NULL")
                    .bind(stamp(*at))
                    .bind(run_id)
                    .execute(&mut *conn)
                    .await?;
                let json: Option<String> = sqlx::query_scalar("SELECT context_json FROM runs WHERE id = $1")
                    .bind(run_id)
                    .fetch_optional(&mut *conn)
                    .await?;
                if let Some(json) = json {
                    let mut ctx: RunContext =
                        serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                    for r in &mut ctx.resources {
                        r.deleted = true;
                    }
                    sqlx::query("UPDATE runs SET context_json = $1 WHERE id = $2")
                        .bind(to_json(&ctx)?)
                        .bind(run_id)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(None)
            }
            Self::Heartbeat { run_id, at } => {
                sqlx::query("UPDATE runs SET heartbeat_at = $1 WHERE id = $2")
                    .bind(stamp(*at))
                    .bind(run_id)
                    .execute(&mut *conn)
                    .await?;
                Ok(None)
            }
        }
    }
}

async fn record_event(conn: &mut AnyConnection, event: &LabEvent) -> Result<(), sqlx::Error> {
    let run_id = &event.run_id;
    let at = stamp(event.at);
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
        sqlx::query("UPDATE runs SET awaiting_since = NULL WHERE id = $1 AND awaiting_since IS NOT NULL")
            .bind(run_id)
            .execute(&mut *conn)
            .await?;
    }
    let query = match &event.kind {
        EventKind::RunStarted {
            context, steps_total, ..
        } => return run_started(conn, context, *steps_total, &at).await,
        EventKind::ContextChanged { context } => {
            sqlx::query("UPDATE runs SET context_json = $1, heartbeat_at = $2 WHERE id = $3")
                .bind(to_json(context)?)
                .bind(at)
                .bind(run_id)
        }
        EventKind::Notice { level, message } => {
            sqlx::query("INSERT INTO notices (run_id, level, message, at) VALUES ($1, $2, $3, $4)")
                .bind(run_id)
                .bind(level.as_str())
                .bind(message)
                .bind(at)
        }
        EventKind::StepStarted {
            step_id, index, title, ..
        } => sqlx::query(
            "INSERT INTO steps (run_id, step_id, idx, title, status, started_at) VALUES ($1, $2, $3, $4, 'running', $5)
             ON CONFLICT (run_id, step_id) DO UPDATE SET status = 'running', finished_at = NULL",
        )
        .bind(run_id)
        .bind(step_id)
        .bind(i64::try_from(*index).unwrap_or(i64::MAX))
        .bind(title)
        .bind(at),
        // Waiting for the learner, from the first wait on, until they act.
        // (A knowledge check's card is the app's to show; the answer is what is recorded.)
        EventKind::AwaitingLearner { .. } | EventKind::QuestionAsked { .. } => sqlx::query(
            "UPDATE runs SET heartbeat_at = $1, awaiting_since = COALESCE(awaiting_since, $1) WHERE id = $2",
        )
        .bind(at)
        .bind(run_id),
        EventKind::ApiCall { call } => sqlx::query(
            "INSERT INTO api_calls (run_id, step_id, operation, request_id, duration_ms, error, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(run_id)
        .bind(&call.step_id)
        .bind(&call.operation)
        .bind(&call.request_id)
        .bind(i64::try_from(call.duration_ms).unwrap_or(i64::MAX))
        .bind(&call.error)
        .bind(at),
        EventKind::ResourceCreated {
            kind,
            resource_id,
            role,
        } => sqlx::query(
            "INSERT INTO resources (run_id, resource_id, kind, role, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (run_id, resource_id) DO NOTHING",
        )
        .bind(run_id)
        .bind(resource_id)
        .bind(kind.as_str())
        .bind(role.as_str())
        .bind(at),
        EventKind::ResourceDeleted { resource_id } => {
            sqlx::query("UPDATE resources SET deleted_at = $1 WHERE run_id = $2 AND resource_id = $3")
                .bind(at)
                .bind(run_id)
                .bind(resource_id)
        }
        // The diagram's view: derived from the cloud, not part of the record.
        EventKind::Volumes { .. } => return Ok(()),
        EventKind::SnapshotProgress {
            snapshot_id,
            state,
            percent,
        } => sqlx::query(
            "INSERT INTO snapshot_progress (run_id, snapshot_id, state, percent, at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(run_id)
        .bind(snapshot_id)
        .bind(state.as_str())
        .bind(i64::from(*percent))
        .bind(at),
        EventKind::WorkloadSample {
            orders_per_s,
            acknowledged,
            last_seq,
            paused,
        } => sqlx::query(
            "INSERT INTO workload_samples (run_id, orders_per_s, acknowledged, last_seq, paused, at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(run_id)
        .bind(*orders_per_s)
        .bind(i64::try_from(*acknowledged).unwrap_or(i64::MAX))
        .bind(i64::try_from(*last_seq).unwrap_or(i64::MAX))
        .bind(i64::from(*paused))
        .bind(at),
        EventKind::CheckResult {
            step_id,
            check_id,
            passed,
            message,
        } => sqlx::query(
            "INSERT INTO checks (run_id, step_id, check_id, passed, message, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(run_id)
        .bind(step_id)
        .bind(check_id.as_str())
        .bind(i64::from(*passed))
        .bind(message)
        .bind(at),
        EventKind::StepFinished { step_id, outcome } => {
            sqlx::query("UPDATE steps SET status = $1, finished_at = $2 WHERE run_id = $3 AND step_id = $4")
                .bind(outcome.as_str())
                .bind(&at)
                .bind(run_id)
                .bind(step_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "UPDATE runs SET heartbeat_at = $1,
                     steps_passed = (SELECT COUNT(*) FROM steps WHERE run_id = $2 AND status = 'passed')
                 WHERE id = $2",
            )
            .bind(at)
            .bind(run_id)
        }
        EventKind::QuestionAnswered { answer, .. } => sqlx::query(
            "INSERT INTO answers (run_id, question_id, prompt, answer, correct, asked, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (run_id, question_id) DO UPDATE SET prompt = excluded.prompt, answer = excluded.answer,
                 correct = excluded.correct, asked = excluded.asked, at = excluded.at",
        )
        .bind(run_id)
        .bind(&answer.question_id)
        .bind(&answer.prompt)
        .bind(&answer.answer)
        .bind(i64::from(answer.correct))
        .bind(i64::from(answer.asked))
        .bind(stamp(answer.at)),
        EventKind::Verification { verification } => {
            sqlx::query("UPDATE runs SET verification_json = $1 WHERE id = $2")
                .bind(to_json(verification)?)
                .bind(run_id)
        }
        EventKind::RunFinished {
            outcome,
            steps_passed,
            steps_total,
        } => sqlx::query(
            "UPDATE runs SET status = $1, finished_at = $2, heartbeat_at = $2, steps_passed = $3, steps_total = $4
             WHERE id = $5",
        )
        .bind(outcome.as_str())
        .bind(at)
        .bind(i64::try_from(*steps_passed).unwrap_or(i64::MAX))
        .bind(i64::try_from(*steps_total).unwrap_or(i64::MAX))
        .bind(run_id),
    };
    query.execute(&mut *conn).await.map(drop)
}

async fn run_started(
    conn: &mut AnyConnection,
    ctx: &RunContext,
    steps_total: usize,
    at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO learners (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
        .bind(&ctx.learner)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO runs (id, lab_id, lab_title, learner_id, mode, consistency, pace, target_kind, target_endpoint,
                           shadow_disk, status, started_at, heartbeat_at, pid, context_json, steps_total)
         VALUES ($1, $2, $3, (SELECT id FROM learners WHERE name = $4), $5, $6, $7, $8, $9, $10, 'running', $11, $12,
                 $13, $14, $15)
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
    .bind(ctx.target.kind.as_str())
    .bind(&ctx.target.endpoint)
    .bind(i64::from(ctx.target.shadow_disk))
    .bind(stamp(ctx.started_at))
    .bind(at)
    .bind(i64::from(std::process::id()))
    .bind(to_json(ctx)?)
    .bind(i64::try_from(steps_total).unwrap_or(i64::MAX))
    .execute(&mut *conn)
    .await
    .map(drop)
}

/// JSON for a column; our own types always serialise, but say so if not.
fn to_json(value: &impl serde::Serialize) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}
