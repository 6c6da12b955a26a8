//! Commands typed in the app's terminal, kept beside the step they were
//! typed in, so an instructor sees how a learner got to each check.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::columns::time;
use crate::{Store, StoreError, Write};

/// A command line as recorded: never its output or the environment.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
        self.write(&Write::Command {
            run_id: run_id.to_string(),
            command: command.to_string(),
            exit_status,
            started_at,
            finished_at,
        })
        .await
    }

    /// A run's commands, in the order typed.
    pub async fn commands(&self, run_id: &str) -> Result<Vec<CommandRow>, StoreError> {
        sqlx::query(
            "SELECT step_id, command, exit_status, started_at, finished_at FROM commands WHERE run_id = $1 ORDER BY seq",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(CommandRow {
                step_id: r.try_get("step_id")?,
                command: r.try_get("command")?,
                exit_status: r.try_get("exit_status")?,
                started_at: time(r, "started_at")?,
                finished_at: time(r, "finished_at")?,
            })
        })
        .collect()
    }
}
