//! The window's commands: thin calls into the lab engine and the record.
//! No lab logic lives here.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use snaplab_aws::plan::RunPlan as AwsPlan;
use snaplab_aws::AwsChoice;
use snaplab_cloud::target::detect;
use snaplab_cloud::{endpoint, CloudError, TargetKind};
use snaplab_emulator::Pace;
use snaplab_lab::{Consistency, LabDef, Mode, RunContext};
use snaplab_session::{default_learner, RunRequest, SessionError};
use snaplab_store::{
    instructor_summary, summary_csv, BoardRow, HistoryFilter, MissedQuestion, RunReport, RunSummary, StoreError,
    SummaryRow,
};
use tauri::{AppHandle, Emitter, Manager, State};

use crate::aws::{self, AwsAccount};
use crate::bridge;
use crate::learner::{Button, ButtonLearner};
use crate::state::{ActiveRun, AppState};

/// What a command failed with.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error(transparent)]
    Aws(#[from] snaplab_aws::AwsError),
    #[error("{0}")]
    Invalid(String),
    #[error("run {0} is still going: finish or stop it first")]
    Busy(String),
    #[error("no run is going: start one from the start screen")]
    NoRun,
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Terminal(#[from] snaplab_terminal::TerminalError),
    #[error("the terminal is not open: open it from the lab player")]
    NoTerminal,
}

/// What kind of failure, for the window to branch on (the message is for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Something the learner typed or chose is not valid.
    Invalid,
    /// The endpoint URL is not one (or is real AWS): fix the field.
    BadEndpoint,
    /// Nothing answers at the endpoint.
    Unreachable,
    /// The cloud refused the credentials.
    Credentials,
    /// The cloud answered with an AWS error.
    Cloud,
    /// A run is going already.
    Busy,
    /// No run is going.
    NoRun,
    /// No such run in the record.
    NotFound,
    /// The run cannot be resumed (finished, or running elsewhere).
    NotResumable,
    /// The run record cannot be read or written.
    Record,
    /// A file could not be written.
    Write,
    /// The terminal could not start, or its shell has ended.
    Terminal,
    Internal,
}

/// A failed command as the window receives it: `{ code, message }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CommandFailure {
    pub code: ErrorCode,
    /// One sentence that says what happened and what to do.
    pub message: String,
}

fn cloud_code(e: &CloudError) -> ErrorCode {
    if e.is_bad_endpoint() || e.is_real_aws() {
        ErrorCode::BadEndpoint
    } else if e.is_unreachable() {
        ErrorCode::Unreachable
    } else if e.is_credentials() {
        ErrorCode::Credentials
    } else {
        ErrorCode::Cloud
    }
}

fn aws_code(e: &snaplab_aws::AwsError) -> ErrorCode {
    use snaplab_aws::AwsError as A;
    match e {
        A::BadCredentials { .. } | A::NoCredentials { .. } | A::SsoLogin { .. } | A::MfaProfile { .. } => {
            ErrorCode::Credentials
        }
        A::Unreachable { .. } => ErrorCode::Unreachable,
        A::UnknownProfile { .. } | A::NoRegion | A::RealAwsForbidden { .. } => ErrorCode::Invalid,
        _ => ErrorCode::Cloud,
    }
}

fn store_code(e: &StoreError) -> ErrorCode {
    match e {
        StoreError::NoSuchRun(_) => ErrorCode::NotFound,
        _ => ErrorCode::Record,
    }
}

impl CommandError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Session(e) => match e {
                SessionError::Cloud(c) => cloud_code(c),
                SessionError::Lab(snaplab_lab::LabError::Cloud(c)) => cloud_code(c),
                SessionError::Lab(snaplab_lab::LabError::Definition(_)) => ErrorCode::Invalid,
                SessionError::Lab(snaplab_lab::LabError::Record(_)) => ErrorCode::Record,
                SessionError::Store(s) => store_code(s),
                SessionError::StillRunning(_) | SessionError::AlreadyFinished { .. } => ErrorCode::NotResumable,
                SessionError::NoDataDir | SessionError::NeedsLocalRecord => ErrorCode::Record,
                SessionError::Aws(a) => aws_code(a),
                SessionError::AwsNotResumable(_) => ErrorCode::NotResumable,
                SessionError::Lab(_) | SessionError::Emulator(_) => ErrorCode::Internal,
            },
            Self::Store(e) => store_code(e),
            Self::Cloud(e) => cloud_code(e),
            Self::Aws(e) => aws_code(e),
            Self::Invalid(_) => ErrorCode::Invalid,
            Self::Busy(_) => ErrorCode::Busy,
            Self::NoRun => ErrorCode::NoRun,
            Self::Write { .. } => ErrorCode::Write,
            Self::Terminal(_) | Self::NoTerminal => ErrorCode::Terminal,
        }
    }

    pub fn failure(&self) -> CommandFailure {
        CommandFailure {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.failure().serialize(s)
    }
}

type Result<T> = std::result::Result<T, CommandError>;

/// The UI's event name for a run that stopped on an error (a `CommandFailure`).
pub const RUN_ERROR: &str = "run-error";

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppInfo {
    pub version: String,
    pub db_path: String,
    /// The class database runs are also sent to (password hidden), if any.
    pub class_db: Option<String>,
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
    /// The learner's AWS account: after a ready preflight and their consent.
    Aws,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StartOptions {
    pub lab: String,
    pub target: TargetChoice,
    pub endpoint: Option<String>,
    /// With an endpoint: the access key (blank or absent: the learner's own,
    /// derived from their name, so a class shares one emulator).
    #[serde(default)]
    pub access_key: Option<String>,
    /// With the AWS target: the account (as checked by the preflight).
    pub aws: Option<AwsAccount>,
    pub learner: String,
    pub mode: Mode,
    pub consistency: Consistency,
    /// The built-in emulator's pace; default by mode (demo guided, realistic hands-on).
    pub pace: Option<AppPace>,
    /// Guided: wait for "Run step" before each step (otherwise run straight through).
    pub step_by_step: bool,
    /// An interrupted run to continue.
    pub resume: Option<String>,
    /// Hands-on: put the commands typed in the app's terminal into the record.
    pub record_commands: bool,
}

/// The paces the start screen offers for the built-in emulator.
#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AppPace {
    Instant,
    Demo,
    Realistic,
}

impl From<AppPace> for Pace {
    fn from(p: AppPace) -> Self {
        match p {
            AppPace::Instant => Pace::Instant,
            AppPace::Demo => Pace::Demo,
            AppPace::Realistic => Pace::Realistic,
        }
    }
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
        db_path: state.store.location().to_string(),
        class_db: state.store.class_location().map(|l| l.describe()),
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

/// The run the start screen asks for, checked: an endpoint must be typed
/// and must not be AWS's own (real AWS only as the AWS target, which needs
/// `cleared`: what a ready preflight and the learner's consent allowed), a
/// blank learner is the user's login name.
pub fn run_request(options: StartOptions, cleared: Option<(AwsChoice, AwsPlan)>) -> Result<RunRequest> {
    let (endpoint, aws) = match (options.target, cleared) {
        (TargetChoice::Builtin, _) => (None, None),
        (TargetChoice::Aws, None) => {
            return Err(CommandError::Invalid(
                "a run on AWS starts only after the preflight and your consent".into(),
            ))
        }
        (TargetChoice::Aws, cleared) => (None, cleared),
        (TargetChoice::Endpoint, _) => {
            let typed = options.endpoint.unwrap_or_default();
            if typed.trim().is_empty() {
                return Err(CommandError::Invalid(
                    "type the endpoint's URL, e.g. http://localhost:4566".into(),
                ));
            }
            (Some(endpoint::check(&typed)?), None)
        }
    };
    let pace = options.pace.map(Pace::from);
    let learner = match options.learner.trim() {
        "" => default_learner(),
        name => name.to_string(),
    };
    Ok(RunRequest {
        lab: options.lab,
        endpoint,
        mode: options.mode,
        consistency: options.consistency,
        pace,
        emulator_port: None,
        learner,
        access_key: options.access_key.filter(|k| !k.trim().is_empty()),
        resume: options.resume,
        record: true,
        aws,
    })
}

#[tauri::command]
pub async fn start_run(app: AppHandle, state: State<'_, AppState>, options: StartOptions) -> Result<RunContext> {
    let mut active = state.active.lock().await;
    if let Some(run) = active.as_ref().filter(|r| !r.task.inner().is_finished()) {
        return Err(CommandError::Busy(run.run_id.clone()));
    }
    let step_by_step = options.step_by_step;
    let record_commands = options.record_commands;
    let cleared = match options.target {
        TargetChoice::Aws => {
            let asked = options.aws.clone().unwrap_or_default();
            Some(aws::take_cleared(&state, &options.lab, &asked).await?)
        }
        _ => None,
    };
    let request = run_request(options, cleared)?;
    let plan = snaplab_session::plan(&state.store, &state.catalog, request).await?;
    let (input, replies) = ButtonLearner::new(step_by_step);
    let started = plan
        .start(vec![Box::new(bridge::to_window(app.clone()))], Box::new(input))
        .await?;
    let context = started.context().clone();
    let on_aws = context.target.kind == TargetKind::Aws;
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
                let _ = app.emit(RUN_ERROR, CommandError::from(e).failure());
            }
            let state = app.state::<AppState>();
            {
                let mut active = state.active.lock().await;
                if active.as_ref().is_some_and(|r| r.run_id == run_id) {
                    *active = None;
                }
            }
            // The run is over: so is its terminal's shell (after the run stopped
            // being the active one, so no terminal can open for it any more).
            crate::terminal::close(&state, Some(&run_id));
        })
    };
    *active = Some(ActiveRun {
        run_id: context.run_id.clone(),
        replies,
        stop: Some(stop),
        task,
        on_aws,
        record_commands,
    });
    Ok(context)
}

#[tauri::command]
pub async fn reply(state: State<'_, AppState>, reply: Reply) -> Result<()> {
    press(&state, reply).await
}

/// Passes a button press to the run going on.
pub async fn press(state: &AppState, reply: Reply) -> Result<()> {
    let active = state.active.lock().await;
    let run = active.as_ref().ok_or(CommandError::NoRun)?;
    let button = match reply {
        Reply::Go => Button::Go,
        Reply::Skip => Button::Skip,
        Reply::Quit => Button::Quit,
    };
    run.replies.send(button).map_err(|_| CommandError::NoRun)
}

/// The learner's choice on the knowledge check the run is asking.
#[tauri::command]
pub async fn answer_question(state: State<'_, AppState>, answer: String) -> Result<()> {
    let active = state.active.lock().await;
    let run = active.as_ref().ok_or(CommandError::NoRun)?;
    run.replies
        .send(Button::Answer(answer))
        .map_err(|_| CommandError::NoRun)
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
    runs(&state, learner, lab).await
}

/// The recorded runs, filtered (an empty filter is none).
pub async fn runs(state: &AppState, learner: Option<String>, lab: Option<String>) -> Result<Vec<RunSummary>> {
    Ok(state.store.history(&filter(learner, lab)).await?)
}

#[tauri::command]
pub async fn summary(
    state: State<'_, AppState>,
    learner: Option<String>,
    lab: Option<String>,
) -> Result<Vec<SummaryRow>> {
    Ok(instructor_summary(&runs(&state, learner, lab).await?))
}

/// The instructor's board: every learner's latest run (of `lab`), where it stands now.
#[tauri::command]
pub async fn class_board(state: State<'_, AppState>, lab: Option<String>) -> Result<Vec<BoardRow>> {
    let lab = lab.filter(|l| !l.trim().is_empty());
    Ok(state
        .class_record()
        .await?
        .class_board(lab.as_deref(), chrono::Utc::now())
        .await?)
}

/// Returns when the class board may have changed: at once on a class
/// database's notification, else after `wait_ms` (at most a minute). True
/// when a change was heard.
#[tauri::command]
pub async fn class_board_changed(state: State<'_, AppState>, wait_ms: u32) -> Result<bool> {
    let wait = Duration::from_millis(u64::from(wait_ms.clamp(100, 60_000)));
    let mut watch = state.board_watch.lock().await;
    if watch.is_none() {
        *watch = Some(state.class_record().await?.board_watch().await?);
    }
    match watch.as_mut() {
        Some(w) => match w.changed(wait).await {
            Ok(heard) => Ok(heard),
            Err(e) => {
                // The connection went: listen again on the next wait.
                *watch = None;
                Err(e.into())
            }
        },
        None => Ok(false),
    }
}

/// The knowledge checks the filtered runs missed most.
#[tauri::command]
pub async fn missed_questions(
    state: State<'_, AppState>,
    learner: Option<String>,
    lab: Option<String>,
) -> Result<Vec<MissedQuestion>> {
    Ok(state.store.missed_questions(&filter(learner, lab)).await?)
}

#[tauri::command]
pub async fn run_report(state: State<'_, AppState>, run_id: String) -> Result<RunReport> {
    report_of(&state, &run_id).await
}

/// A run's report from the app's record, or — a classmate's run opened from
/// the board — from the class database.
async fn report_of(state: &AppState, run_id: &str) -> Result<RunReport> {
    match state.store.report(run_id).await {
        Err(StoreError::NoSuchRun(_)) if state.store.class_location().is_some() => {
            Ok(state.class_record().await?.report(run_id).await?)
        }
        other => Ok(other?),
    }
}

/// What "Clean up" in History did, in one sentence.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CleanupDone {
    pub deleted: usize,
    pub left: usize,
    pub message: String,
}

/// Deletes what a recorded run left behind (the same path as `snaplab cleanup`).
#[tauri::command]
pub async fn clean_up_run(state: State<'_, AppState>, run_id: String) -> Result<CleanupDone> {
    clean_up(&state, run_id).await
}

pub async fn clean_up(state: &AppState, run_id: String) -> Result<CleanupDone> {
    if state.active.lock().await.as_ref().is_some_and(|r| r.run_id == run_id) {
        return Err(CommandError::Busy(run_id));
    }
    let c = snaplab_session::clean_up(&state.store, &state.catalog, &run_id).await?;
    let message = c.message(&run_id);
    Ok(CleanupDone {
        deleted: c.deleted,
        left: c.left,
        message,
    })
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
    save_report(&state, run_id, format, path).await
}

pub async fn save_report(state: &AppState, run_id: String, format: ReportFormat, path: PathBuf) -> Result<()> {
    let report = report_of(state, &run_id).await?;
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
    let runs = runs(&state, learner, lab).await?;
    write(path, &summary_csv(&instructor_summary(&runs)))
}

/// Writes the class board's record's summary (learners × labs) as CSV: on a
/// class database, the whole class's results.
#[tauri::command]
pub async fn export_class_summary(state: State<'_, AppState>, lab: Option<String>, path: PathBuf) -> Result<()> {
    save_class_summary(&state, lab, path).await
}

pub async fn save_class_summary(state: &AppState, lab: Option<String>, path: PathBuf) -> Result<()> {
    let runs = state.class_record().await?.history(&filter(None, lab)).await?;
    write(path, &summary_csv(&instructor_summary(&runs)))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use snaplab_lab::Catalog;
    use snaplab_store::Store;

    use super::*;

    fn options(target: TargetChoice, endpoint: Option<&str>) -> StartOptions {
        StartOptions {
            lab: "securecart-snapshot".into(),
            target,
            endpoint: endpoint.map(String::from),
            access_key: None,
            aws: None,
            learner: "  ".into(),
            mode: Mode::Guided,
            consistency: Consistency::Crash,
            pace: Some(AppPace::Instant),
            step_by_step: true,
            resume: None,
            record_commands: true,
        }
    }

    fn failure_of<T: std::fmt::Debug>(r: Result<T>) -> (ErrorCode, String) {
        let e = r.expect_err("the command should fail");
        (e.code(), e.to_string())
    }

    async fn state(name: &str) -> (AppState, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("snaplab-app-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("r.db")).await.unwrap();
        (app_state(store), dir)
    }

    fn app_state(store: Store) -> AppState {
        AppState {
            store,
            catalog: Catalog::builtin().unwrap(),
            active: Default::default(),
            launched: Instant::now(),
            cleared: Default::default(),
            terminal: Default::default(),
            class: Default::default(),
            board_watch: Default::default(),
        }
    }

    /// A run recorded through `store`, passed.
    async fn passed_run(store: &Store, run_id: &str, learner: &str) {
        crate::test_run::record_a_run(store, run_id, learner, Some(snaplab_lab::RunOutcome::Passed)).await;
    }

    #[tokio::test]
    async fn on_a_class_database_the_board_its_reports_and_its_results_are_the_classs() {
        let (_, dir) = state("class").await;
        let class = crate::test_postgres::fresh_database("app_class").await;
        // A classmate's run reaches the class database from their own file.
        let classmate = Store::open_linked(&dir.join("ada.db"), &class).await.unwrap();
        passed_run(&classmate, "run-ada", "ada").await;
        assert_eq!(classmate.flush_class(Duration::from_secs(30)).await.unwrap().pending, 0);
        // The instructor's app, linked to the same class.
        let app = app_state(Store::open_linked(&dir.join("mine.db"), &class).await.unwrap());
        passed_run(&app.store, "run-mine", "me").await;
        assert_eq!(app.store.flush_class(Duration::from_secs(30)).await.unwrap().pending, 0);

        let board = app
            .class_record()
            .await
            .unwrap()
            .class_board(None, chrono::Utc::now())
            .await
            .unwrap();
        let names: Vec<&str> = board.iter().map(|r| r.learner.as_str()).collect();
        assert_eq!(names, ["ada", "me"], "the class's learners, not only this file's");
        assert_eq!(
            report_of(&app, "run-ada").await.unwrap().summary.learner,
            "ada",
            "read from the class"
        );
        assert_eq!(
            report_of(&app, "run-mine").await.unwrap().summary.learner,
            "me",
            "read from the file"
        );
        let (code, _) = failure_of(report_of(&app, "run-nobody").await);
        assert_eq!(code, ErrorCode::NotFound);
        let csv = dir.join("class.csv");
        save_class_summary(&app, None, csv.clone()).await.unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        assert!(
            text.lines().any(|l| l.starts_with("ada,")) && text.lines().any(|l| l.starts_with("me,")),
            "{text}"
        );
        // The board's wait hears a delivery from a classmate.
        let mut watch = app.class_record().await.unwrap().board_watch().await.unwrap();
        passed_run(&classmate, "run-ada-2", "ada").await;
        assert!(
            watch.changed(Duration::from_secs(20)).await.unwrap(),
            "a notification, not the timeout"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_start_screen_cannot_start_a_run_on_aws_unasked_or_on_a_bad_endpoint() {
        let (code, message) = failure_of(run_request(options(TargetChoice::Aws, None), None));
        assert_eq!(code, ErrorCode::Invalid);
        assert_eq!(message, "a run on AWS starts only after the preflight and your consent");
        for url in [
            "https://ec2.us-east-1.amazonaws.com",
            "HTTPS://EC2.EU-WEST-1.API.AWS.",
            "http://u@localhost:4566",
        ] {
            let (code, message) = failure_of(run_request(options(TargetChoice::Endpoint, Some(url)), None));
            assert_eq!(code, ErrorCode::BadEndpoint, "{url}: {message}");
        }
        let (code, message) = failure_of(run_request(options(TargetChoice::Endpoint, Some("  ")), None));
        assert_eq!(
            (code, message.as_str()),
            (
                ErrorCode::Invalid,
                "type the endpoint's URL, e.g. http://localhost:4566"
            )
        );
    }

    #[test]
    fn a_good_start_is_normalised() {
        let r = run_request(options(TargetChoice::Endpoint, Some(" http://localhost:4566/ ")), None).unwrap();
        assert_eq!(r.endpoint.as_deref(), Some("http://localhost:4566"));
        assert_eq!(r.learner, default_learner(), "a blank learner is the login name");
        assert_eq!(r.pace, Some(Pace::Instant));
        assert!(r.record);
        assert_eq!(
            run_request(options(TargetChoice::Builtin, Some("ignored")), None)
                .unwrap()
                .endpoint,
            None
        );
    }

    #[tokio::test]
    async fn commands_without_a_run_or_with_an_unknown_run_say_what_to_do() {
        let (state, dir) = state("errors").await;
        let (code, message) = failure_of(press(&state, Reply::Go).await);
        assert_eq!(
            (code, message.as_str()),
            (ErrorCode::NoRun, "no run is going: start one from the start screen")
        );
        let (code, message) = failure_of(clean_up(&state, "run-nope".into()).await);
        assert_eq!(code, ErrorCode::NotFound);
        assert!(message.contains("snaplab history"), "{message}");
        let (code, _) =
            failure_of(save_report(&state, "run-nope".into(), ReportFormat::Html, dir.join("r.html")).await);
        assert_eq!(code, ErrorCode::NotFound);
        assert!(runs(&state, Some(String::new()), Some(String::new()))
            .await
            .unwrap()
            .is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_run_on_aws_launches_only_what_a_ready_preflight_for_that_lab_and_account_cleared_once() {
        let (state, dir) = state("cleared").await;
        let lab = "securecart-snapshot";
        let picked = AwsAccount {
            profile: Some("lab".into()),
            region: Some(" eu-west-1 ".into()),
        };
        let (code, message) = failure_of(aws::take_cleared(&state, lab, &picked).await);
        assert_eq!(code, ErrorCode::Invalid);
        assert!(message.starts_with("check this account first (Preflight)"), "{message}");

        let plan = AwsPlan::new(lab, "eu-west-1", "t4g.nano", "snaplab-ssm");
        *state.cleared.lock().await = Some(aws::Cleared {
            asked: picked.clone(),
            lab: lab.into(),
            choice: AwsChoice {
                profile: Some("lab".into()),
                region: Some("eu-west-1".into()),
            },
            plan: plan.clone(),
        });
        // Another region, another profile or another lab: not what was checked (and still kept).
        for (other_lab, other) in [
            (
                lab,
                AwsAccount {
                    region: Some("us-east-1".into()),
                    ..picked.clone()
                },
            ),
            (
                lab,
                AwsAccount {
                    profile: None,
                    ..picked.clone()
                },
            ),
            ("restore-drill", picked.clone()),
        ] {
            let (code, _) = failure_of(aws::take_cleared(&state, other_lab, &other).await);
            assert_eq!(code, ErrorCode::Invalid, "{other_lab} {other:?}");
        }
        // The same, blanks aside: taken once.
        let same = AwsAccount {
            region: Some("eu-west-1".into()),
            ..picked
        };
        let (choice, taken) = aws::take_cleared(&state, lab, &same).await.unwrap();
        assert_eq!((choice.region.as_deref(), taken), (Some("eu-west-1"), plan));
        assert!(
            aws::take_cleared(&state, lab, &same).await.is_err(),
            "one consent, one run"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_failure_reaches_the_window_as_code_and_message() {
        let e = CommandError::Busy("run-1".into());
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "busy", "message": "run run-1 is still going: finish or stop it first"})
        );
        let unwritable = write(PathBuf::from("/nonexistent-dir/report.html"), "x").unwrap_err();
        assert_eq!(unwritable.code(), ErrorCode::Write);
        assert!(
            unwritable
                .to_string()
                .starts_with("cannot write /nonexistent-dir/report.html"),
            "{unwritable}"
        );
    }
}
