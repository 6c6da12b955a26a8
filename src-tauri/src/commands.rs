//! The window's commands: thin calls into the lab engine and the record.
//! No lab logic lives here.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use snaplab_cloud::target::{detect, real_aws_refused};
use snaplab_cloud::TargetKind;
use snaplab_emulator::Pace;
use snaplab_lab::{Consistency, LabDef, LearnerReply, Mode, RunContext};
use snaplab_session::{default_learner, RunRequest, SessionError};
use snaplab_store::{instructor_summary, summary_csv, HistoryFilter, RunReport, RunSummary, StoreError, SummaryRow};
use tauri::{AppHandle, Emitter, Manager, State};

use crate::bridge::Bridge;
use crate::learner::ButtonLearner;
use crate::state::{ActiveRun, AppState};

/// What a command failed with, as the window shows it: one sentence that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

type Result<T> = std::result::Result<T, CommandError>;

/// The UI's event name for a run that stopped on an error (a string).
pub const RUN_ERROR: &str = "run-error";

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppInfo {
    pub version: String,
    pub db_path: String,
    pub default_learner: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct EndpointCheck {
    pub reachable: bool,
    pub kind: Option<TargetKind>,
    /// What answers there, or why nothing does, and what to do.
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TargetChoice {
    /// The built-in emulator, started by the app for the run.
    Builtin,
    /// An endpoint: LocalStack, moto or a standalone snaplab emulator.
    Endpoint,
    /// Real AWS: refused in this version.
    Aws,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StartOptions {
    pub lab: String,
    pub target: TargetChoice,
    pub endpoint: Option<String>,
    pub learner: String,
    pub mode: Mode,
    pub consistency: Consistency,
    /// `instant`, `demo` or `realistic`; default by mode.
    pub pace: Option<String>,
    /// Guided: wait for "Run step" before each step (otherwise run straight through).
    pub step_by_step: bool,
    /// An interrupted run to continue.
    pub resume: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// Guided: run the step. Hands-on: check what the learner did.
    Go,
    Skip,
    Quit,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Html,
    Markdown,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        db_path: state.store.path().display().to_string(),
        default_learner: default_learner(),
    }
}

/// Called once the start screen is interactive (the cold-start benchmark's mark).
#[tauri::command]
pub fn ui_ready(app: AppHandle, state: State<'_, AppState>) {
    let ms = state.launched.elapsed().as_secs_f64() * 1000.0;
    tracing::info!("start screen interactive {ms:.0} ms after launch");
    if std::env::var_os("SNAPLAB_EXIT_WHEN_READY").is_some() {
        println!("snaplab-app ready {ms:.1} ms");
        app.exit(0);
    }
}

#[tauri::command]
pub fn labs(state: State<'_, AppState>) -> Vec<LabDef> {
    state.catalog.labs().to_vec()
}

#[tauri::command]
pub async fn check_endpoint(url: String) -> EndpointCheck {
    let url = url.trim().to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return EndpointCheck {
            reachable: false,
            kind: None,
            message: "An endpoint is a URL such as http://localhost:4566.".into(),
        };
    }
    match detect(&url).await {
        Ok(kind) => EndpointCheck {
            reachable: true,
            message: format!("{} answers at {url}.", kind.label()),
            kind: Some(kind),
        },
        Err(e) => EndpointCheck {
            reachable: false,
            kind: None,
            message: e.to_string(),
        },
    }
}

#[tauri::command]
pub async fn start_run(app: AppHandle, state: State<'_, AppState>, options: StartOptions) -> Result<RunContext> {
    let mut active = state.active.lock().await;
    if let Some(run) = active.as_ref().filter(|r| !r.task.inner().is_finished()) {
        return Err(CommandError::Invalid(format!(
            "run {} is still going: finish or stop it first",
            run.run_id
        )));
    }
    let endpoint = match options.target {
        TargetChoice::Builtin => None,
        TargetChoice::Aws => return Err(CommandError::Invalid(real_aws_refused().to_string())),
        TargetChoice::Endpoint => Some(
            options
                .endpoint
                .filter(|e| !e.trim().is_empty())
                .ok_or_else(|| CommandError::Invalid("type the endpoint's URL, e.g. http://localhost:4566".into()))?
                .trim()
                .to_string(),
        ),
    };
    let pace = options
        .pace
        .as_deref()
        .map(str::parse::<Pace>)
        .transpose()
        .map_err(|e| CommandError::Invalid(e.to_string()))?;
    let learner = match options.learner.trim() {
        "" => default_learner(),
        name => name.to_string(),
    };
    let request = RunRequest {
        lab: options.lab,
        endpoint,
        mode: options.mode,
        consistency: options.consistency,
        pace,
        learner,
        resume: options.resume,
        record: true,
    };
    let plan = snaplab_session::plan(&state.store, &state.catalog, request).await?;
    let (input, replies) = ButtonLearner::new(options.step_by_step);
    let started = plan
        .start(vec![Box::new(Bridge::new(app.clone()))], Box::new(input))
        .await?;
    let context = started.context().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run_id = started.run_id.clone();
    let task = {
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let stop = async {
                let _ = stopped.await;
            };
            if let Err(e) = started.run_until(stop).await {
                tracing::warn!("run stopped on an error: {e}");
                let _ = app.emit(RUN_ERROR, e.to_string());
            }
            let state = app.state::<AppState>();
            let mut active = state.active.lock().await;
            if active.as_ref().is_some_and(|r| r.run_id == run_id) {
                *active = None;
            }
        })
    };
    *active = Some(ActiveRun {
        run_id: context.run_id.clone(),
        replies,
        stop: Some(stop),
        task,
    });
    Ok(context)
}

#[tauri::command]
pub async fn reply(state: State<'_, AppState>, reply: Reply) -> Result<()> {
    let active = state.active.lock().await;
    let run = active
        .as_ref()
        .ok_or_else(|| CommandError::Invalid("no run is going: start one from the start screen".into()))?;
    let reply = match reply {
        Reply::Go => LearnerReply::Check,
        Reply::Skip => LearnerReply::Skip,
        Reply::Quit => LearnerReply::Quit,
    };
    run.replies
        .send(reply)
        .map_err(|_| CommandError::Invalid("the run has already ended".into()))
}

/// Stops the run now; it is recorded as interrupted and can be resumed.
#[tauri::command]
pub async fn stop_run(state: State<'_, AppState>) -> Result<()> {
    state.stop_active().await;
    Ok(())
}

fn filter(learner: Option<String>, lab: Option<String>) -> HistoryFilter {
    HistoryFilter {
        learner: learner.filter(|s| !s.is_empty()),
        lab: lab.filter(|s| !s.is_empty()),
    }
}

#[tauri::command]
pub async fn history(
    state: State<'_, AppState>,
    learner: Option<String>,
    lab: Option<String>,
) -> Result<Vec<RunSummary>> {
    Ok(state.store.history(&filter(learner, lab)).await?)
}

#[tauri::command]
pub async fn summary(
    state: State<'_, AppState>,
    learner: Option<String>,
    lab: Option<String>,
) -> Result<Vec<SummaryRow>> {
    let runs = state.store.history(&filter(learner, lab)).await?;
    Ok(instructor_summary(&runs))
}

#[tauri::command]
pub async fn run_report(state: State<'_, AppState>, run_id: String) -> Result<RunReport> {
    Ok(state.store.report(&run_id).await?)
}

fn write(path: PathBuf, text: &str) -> Result<()> {
    std::fs::write(&path, text).map_err(|source| CommandError::Write { path, source })
}

/// Writes a run's report where the learner chose in the save dialog.
#[tauri::command]
pub async fn export_report(
    state: State<'_, AppState>,
    run_id: String,
    format: ReportFormat,
    path: PathBuf,
) -> Result<()> {
    let report = state.store.report(&run_id).await?;
    let text = match format {
        ReportFormat::Html => report.to_html(),
        ReportFormat::Markdown => report.to_markdown(),
    };
    write(path, &text)
}

/// Writes the instructor's summary (learners × labs) as CSV.
#[tauri::command]
pub async fn export_summary(
    state: State<'_, AppState>,
    learner: Option<String>,
    lab: Option<String>,
    path: PathBuf,
) -> Result<()> {
    let runs = state.store.history(&filter(learner, lab)).await?;
    write(path, &summary_csv(&instructor_summary(&runs)))
}
