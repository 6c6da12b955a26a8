//! A run's report, read from the record: JSON, Markdown or HTML.

use chrono::{DateTime, Utc};
use snaplab_lab::{RunContext, Verification};
use sqlx::Row;

use crate::queries::RunSummary;
use crate::{Store, StoreError};

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct CheckRow {
    /// Which step it judged (the report nests checks under their step).
    #[serde(skip)]
    pub step_id: String,
    pub check_id: String,
    pub passed: bool,
    pub message: String,
    pub at: DateTime<Utc>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepRow {
    pub step_id: String,
    pub title: String,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub checks: Vec<CheckRow>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ApiCallRow {
    pub step_id: Option<String>,
    pub operation: String,
    pub request_id: Option<String>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct NoticeRow {
    pub level: String,
    pub message: String,
    pub at: DateTime<Utc>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ResourceRow {
    pub resource_id: String,
    pub kind: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
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

impl Store {
    pub async fn report(&self, run_id: &str) -> Result<RunReport, StoreError> {
        let summary = self.summary(run_id).await?;
        let context = self.context(run_id).await?;
        let verification = sqlx::query("SELECT verification_json FROM runs WHERE id = ?")
            .bind(run_id)
            .fetch_one(&self.pool)
            .await?
            .try_get::<Option<String>, _>("verification_json")?
            .map(|j| serde_json::from_str(&j))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let checks: Vec<CheckRow> =
            sqlx::query_as("SELECT step_id, check_id, passed, message, at FROM checks WHERE run_id = ? ORDER BY id")
                .bind(run_id)
                .fetch_all(&self.pool)
                .await?;
        let mut steps = Vec::new();
        for r in sqlx::query(
            "SELECT step_id, title, status, started_at, finished_at FROM steps WHERE run_id = ? ORDER BY idx",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?
        {
            let step_id: String = r.try_get("step_id")?;
            let status: String = r.try_get("status")?;
            steps.push(StepRow {
                checks: checks.iter().filter(|c| c.step_id == step_id).cloned().collect(),
                status: if status == "running" && summary.outcome == "interrupted" {
                    "interrupted".into()
                } else {
                    status
                },
                step_id,
                title: r.try_get("title")?,
                started_at: r.try_get("started_at")?,
                finished_at: r.try_get("finished_at")?,
            });
        }
        let api_calls = sqlx::query_as(
            "SELECT step_id, operation, request_id, duration_ms, error, at FROM api_calls WHERE run_id = ? ORDER BY id",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        let notices = sqlx::query_as("SELECT level, message, at FROM notices WHERE run_id = ? ORDER BY id")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await?;
        let resources = sqlx::query_as(
            "SELECT resource_id, kind, role, created_at, deleted_at FROM resources WHERE run_id = ? ORDER BY created_at",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        let orders_acknowledged: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM orders WHERE run_id = ? AND acked_at_us IS NOT NULL")
                .bind(run_id)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
        let series = |sql: &'static str| sqlx::query_as::<_, SamplePoint>(sql).bind(run_id).fetch_all(&self.pool);
        Ok(RunReport {
            summary,
            context,
            steps,
            verification,
            api_calls,
            notices,
            resources,
            orders_acknowledged,
            orders_per_s: series("SELECT at, orders_per_s AS value FROM workload_samples WHERE run_id = ? ORDER BY id")
                .await?,
            snapshot_percent: series(
                "SELECT at, CAST(percent AS REAL) AS value FROM snapshot_progress WHERE run_id = ? ORDER BY id",
            )
            .await?,
        })
    }
}

fn mark(passed: bool) -> &'static str {
    if passed {
        "PASS"
    } else {
        "FAIL"
    }
}

impl RunReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn to_markdown(&self) -> String {
        let s = &self.summary;
        let c = &self.context;
        let mut out = format!(
            "# {} — run {}\n\n| | |\n|---|---|\n| learner | {} |\n| outcome | **{}** ({} of {} steps passed) |\n| mode | {} |\n| consistency | {} |\n| target | {} ({}) |\n| started | {} |\n| finished | {} |\n\n",
            c.lab_title,
            s.id,
            s.learner,
            s.outcome,
            s.steps_passed,
            s.steps_total,
            s.mode,
            s.consistency,
            c.target.kind.label(),
            c.target.endpoint,
            s.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            s.finished_at.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_else(|| "—".into()),
        );
        if c.target.shadow_disk {
            out.push_str(&format!("> Shadow disk: {}.\n\n", c.target.data_plane));
        }
        out.push_str("## Steps\n\n");
        for step in &self.steps {
            out.push_str(&format!("### {} — {}\n\n", step.title, step.status));
            for check in &step.checks {
                out.push_str(&format!(
                    "- {} `{}`: {}\n",
                    mark(check.passed),
                    check.check_id,
                    check.message
                ));
            }
            out.push('\n');
        }
        if let Some(v) = &self.verification {
            let p = &v.point_in_time;
            out.push_str(&format!(
                "## Verification\n\nRestored volume {} from snapshot {} (started {}), read from the {}.\n\n| | |\n|---|---|\n| acknowledged before the snapshot | {} |\n| present in the restore | {} |\n| missing | {} |\n| begun after the snapshot | {} |\n| of those, present | {} |\n| torn | {} |\n| replayed from the journal | {:?} |\n\n",
                v.restored_volume_id,
                v.snapshot_id,
                v.snapshot_started_at.format("%H:%M:%S%.3f UTC"),
                v.read_from,
                p.acknowledged_before_snapshot,
                p.present_in_restore,
                p.missing,
                p.begun_after_snapshot,
                p.after_snapshot_present,
                p.torn,
                v.replayed
            ));
            for line in &v.explanation {
                out.push_str(&format!("- {line}\n"));
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "## API calls\n\n{} calls. \n\n| step | operation | ms | request id | error |\n|---|---|---|---|---|\n",
            self.api_calls.len()
        ));
        for call in &self.api_calls {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                call.step_id.as_deref().unwrap_or("—"),
                call.operation,
                call.duration_ms,
                call.request_id.as_deref().unwrap_or("—"),
                call.error.as_deref().unwrap_or("")
            ));
        }
        out
    }

    pub fn to_html(&self) -> String {
        let md = self.to_markdown();
        let mut body = String::new();
        let mut in_table = false;
        for line in md.lines() {
            let esc = html_escape(line);
            if line.starts_with('|') {
                if line.starts_with("|---") {
                    continue;
                }
                if !in_table {
                    body.push_str("<table>\n");
                    in_table = true;
                }
                let cells: Vec<&str> = esc.trim_matches('|').split('|').map(str::trim).collect();
                body.push_str(&format!("<tr><td>{}</td></tr>\n", cells.join("</td><td>")));
                continue;
            }
            if in_table {
                body.push_str("</table>\n");
                in_table = false;
            }
            if let Some(h) = esc.strip_prefix("### ") {
                body.push_str(&format!("<h3>{h}</h3>\n"));
            } else if let Some(h) = esc.strip_prefix("## ") {
                body.push_str(&format!("<h2>{h}</h2>\n"));
            } else if let Some(h) = esc.strip_prefix("# ") {
                body.push_str(&format!("<h1>{h}</h1>\n"));
            } else if let Some(li) = esc.strip_prefix("- ") {
                body.push_str(&format!("<p class=\"item\">{li}</p>\n"));
            } else if !esc.trim().is_empty() {
                body.push_str(&format!("<p>{esc}</p>\n"));
            }
        }
        if in_table {
            body.push_str("</table>\n");
        }
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — {}</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.5}}table{{border-collapse:collapse}}td{{border:1px solid #ccc;padding:.25rem .5rem}}</style></head>\n<body>\n{body}</body></html>\n",
            html_escape(&self.context.lab_title),
            html_escape(&self.summary.id)
        )
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
