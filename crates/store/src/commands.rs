//! Commands typed in the app's terminal, kept beside the step they were
//! typed in, so an instructor sees how a learner got to each check.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::{Store, StoreError};

/// A command line as recorded: never its output or the environment.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct CommandRow {
    /// The step going on when it finished (the report nests commands under their step).
    #[serde(skip)]
    pub step_id: Option<String>,
    pub command: String,
    pub exit_status: i32,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

impl Store {
    /// Records a command under the run's latest step; returns that step.
    pub async fn record_command(
        &self,
        run_id: &str,
        command: &str,
        exit_status: i32,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "INSERT INTO commands (run_id, seq, step_id, command, exit_status, started_at, finished_at)
             VALUES (?1,
                     (SELECT COALESCE(MAX(seq), 0) + 1 FROM commands WHERE run_id = ?1),
                     (SELECT step_id FROM steps WHERE run_id = ?1 ORDER BY idx DESC LIMIT 1),
                     ?2, ?3, ?4, ?5)
             RETURNING step_id",
        )
        .bind(run_id)
        .bind(command)
        .bind(exit_status)
        .bind(started_at)
        .bind(finished_at)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("step_id")?)
    }

    /// A run's commands, in the order typed.
    pub async fn commands(&self, run_id: &str) -> Result<Vec<CommandRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT step_id, command, exit_status, started_at, finished_at FROM commands WHERE run_id = ? ORDER BY seq",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?)
    }
}
