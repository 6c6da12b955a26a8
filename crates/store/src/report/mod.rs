//! A run's report: read from the record here (one query per table, no
//! lab logic), rendered as JSON, Markdown ([`markdown`]) or HTML ([`html`],
//! through a Markdown library with raw HTML shown as text).

mod html;
mod markdown;

use chrono::{DateTime, Utc};
use snaplab_lab::{CheckId, Level, ResourceKind, ResourceRole, RunContext, RunStatus, Verification};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::columns::{enum_column, flag, time, time_opt};
use crate::queries::RunSummary;
use crate::{Store, StoreError};

/// Where a recorded step stands.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Running,
    Passed,
    Failed,
    Skipped,
    /// It was running when the run was interrupted.
    Interrupted,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Interrupted => "interrupted",
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckRow {
    /// Which step it judged (the report nests checks under their step).
    #[serde(skip)]
    pub step_id: String,
    pub check_id: CheckId,
    pub passed: bool,
    pub message: String,
    pub at: DateTime<Utc>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepRow {
    pub step_id: String,
    pub title: String,
    pub status: StepStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub checks: Vec<CheckRow>,
    /// Typed in the app's terminal during the step (before the first step: under it).
    pub commands: Vec<crate::CommandRow>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct ApiCallRow {
    pub step_id: Option<String>,
    pub operation: String,
    pub request_id: Option<String>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct NoticeRow {
    pub level: Level,
    pub message: String,
    pub at: DateTime<Utc>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResourceRow {
    pub resource_id: String,
    pub kind: ResourceKind,
    pub role: ResourceRole,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct SamplePoint {
    pub at: DateTime<Utc>,
    pub value: f64,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    #[serde(flatten)]
    pub summary: RunSummary,
    pub context: RunContext,
    pub steps: Vec<StepRow>,
    pub verification: Option<Verification>,
    pub api_calls: Vec<ApiCallRow>,
    pub notices: Vec<NoticeRow>,
    pub resources: Vec<ResourceRow>,
    pub orders_acknowledged: i64,
    pub orders_per_s: Vec<SamplePoint>,
    pub snapshot_percent: Vec<SamplePoint>,
}

impl RunReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as Markdown; text from outside (names, messages) is escaped.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// The report as a standalone HTML page.
    pub fn to_html(&self) -> String {
        html::render(self)
    }
}

impl Store {
    /// Reads one run's report from the record.
    pub async fn report(&self, run_id: &str) -> Result<RunReport, StoreError> {
        let summary = self.summary(run_id).await?;
        let context = self.context(run_id).await?;
        let verification = sqlx::query("SELECT verification_json FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_one(&self.pool)
            .await?
            .try_get::<Option<String>, _>("verification_json")?
            .map(|j| serde_json::from_str(&j))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let checks = self
            .rows(
                "SELECT step_id, check_id, passed, message, at FROM checks WHERE run_id = $1 ORDER BY id",
                run_id,
            )
            .await?
            .iter()
            .map(|r| {
                Ok(CheckRow {
                    step_id: r.try_get("step_id")?,
                    check_id: enum_column(r, "check_id")?,
                    passed: flag(r, "passed")?,
                    message: r.try_get("message")?,
                    at: time(r, "at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let commands = self.commands(run_id).await?;
        let mut steps = Vec::new();
        for r in self
            .rows(
                "SELECT step_id, title, status, started_at, finished_at FROM steps WHERE run_id = $1 ORDER BY idx",
                run_id,
            )
            .await?
        {
            let step_id: String = r.try_get("step_id")?;
            let status: StepStatus = enum_column(&r, "status")?;
            let first = steps.is_empty();
            steps.push(StepRow {
                checks: checks.iter().filter(|c| c.step_id == step_id).cloned().collect(),
                commands: commands
                    .iter()
                    .filter(|c| c.step_id.as_deref().map_or(first, |s| s == step_id))
                    .cloned()
                    .collect(),
                status: if status == StepStatus::Running && summary.outcome == RunStatus::Interrupted {
                    StepStatus::Interrupted
                } else {
                    status
                },
                step_id,
                title: r.try_get("title")?,
                started_at: time(&r, "started_at")?,
                finished_at: time_opt(&r, "finished_at")?,
            });
        }
        let api_calls = self
            .rows(
                "SELECT step_id, operation, request_id, duration_ms, error, at FROM api_calls WHERE run_id = $1 ORDER BY id",
                run_id,
            )
            .await?
            .iter()
            .map(|r| {
                Ok(ApiCallRow {
                    step_id: r.try_get("step_id")?,
                    operation: r.try_get("operation")?,
                    request_id: r.try_get("request_id")?,
                    duration_ms: r.try_get("duration_ms")?,
                    error: r.try_get("error")?,
                    at: time(r, "at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let notices = self
            .rows(
                "SELECT level, message, at FROM notices WHERE run_id = $1 ORDER BY id",
                run_id,
            )
            .await?
            .iter()
            .map(|r| {
                Ok(NoticeRow {
                    level: enum_column(r, "level")?,
                    message: r.try_get("message")?,
                    at: time(r, "at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let resources = self
            .rows(
                "SELECT resource_id, kind, role, created_at, deleted_at FROM resources WHERE run_id = $1
                 ORDER BY created_at, resource_id",
                run_id,
            )
            .await?
            .iter()
            .map(|r| {
                Ok(ResourceRow {
                    resource_id: r.try_get("resource_id")?,
                    kind: enum_column(r, "kind")?,
                    role: enum_column(r, "role")?,
                    created_at: time(r, "created_at")?,
                    deleted_at: time_opt(r, "deleted_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let orders_acknowledged: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE run_id = $1 AND acked_at_us IS NOT NULL")
                .bind(run_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(RunReport {
            summary,
            context,
            steps,
            verification,
            api_calls,
            notices,
            resources,
            orders_acknowledged,
            orders_per_s: self
                .series(
                    "SELECT at, orders_per_s AS value FROM workload_samples WHERE run_id = $1 ORDER BY id",
                    run_id,
                )
                .await?,
            snapshot_percent: self
                .series(
                    "SELECT at, CAST(percent AS DOUBLE PRECISION) AS value FROM snapshot_progress WHERE run_id = $1
                     ORDER BY id",
                    run_id,
                )
                .await?,
        })
    }

    /// A run's rows of one table.
    async fn rows(&self, sql: &'static str, run_id: &str) -> Result<Vec<AnyRow>, StoreError> {
        Ok(sqlx::query(sql).bind(run_id).fetch_all(&self.pool).await?)
    }

    async fn series(&self, sql: &'static str, run_id: &str) -> Result<Vec<SamplePoint>, StoreError> {
        self.rows(sql, run_id)
            .await?
            .iter()
            .map(|r| {
                Ok(SamplePoint {
                    at: time(r, "at")?,
                    value: r.try_get("value")?,
                })
            })
            .collect()
    }
}
