//! The lab player's terminal: one shell for the run going on, started with
//! the run's cloud in its environment. Its output reaches the window over a
//! channel; each command line it reports goes into the run's record (unless
//! the learner turned that off), under the step going on.

use std::path::{Path, PathBuf};

use serde::Serialize;
use snaplab_terminal::{Shell, Terminal, TerminalEvent, TerminalSize, TerminalSpec};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use crate::commands::CommandError;
use crate::state::AppState;

type Result<T> = std::result::Result<T, CommandError>;

/// The terminal and the run it belongs to.
pub struct RunTerminal {
    pub run_id: String,
    terminal: Terminal,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct TerminalInfo {
    /// The shell's name: `bash`, `zsh`…
    pub shell: String,
    /// Whether the commands typed go into the run's record.
    pub recording: bool,
    /// Why they do not, when they do not.
    pub not_recording_because: Option<String>,
}

/// Opens the run's terminal (a new shell; one open before is closed).
#[tauri::command]
pub async fn terminal_open(
    app: AppHandle,
    state: State<'_, AppState>,
    size: TerminalSize,
    on_event: Channel<TerminalEvent>,
) -> Result<TerminalInfo> {
    let (run_id, wanted) = {
        let active = state.active.lock().await;
        let run = active.as_ref().ok_or(CommandError::NoRun)?;
        (run.run_id.clone(), run.record_commands)
    };
    let context = state.store.context(&run_id).await?;
    let mut env: Vec<(String, Option<String>)> = context
        .terminal_env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    env.push(("SNAPLAB_RUN_ID".into(), Some(run_id.clone())));
    let shell = Shell::login();
    let info = TerminalInfo {
        shell: shell.name(),
        recording: wanted && shell.records_commands(),
        not_recording_because: match (wanted, shell.records_commands()) {
            (false, _) => Some("recording is off for this run (the Start screen's choice)".into()),
            (true, false) => Some(format!(
                "commands are recorded from bash only, and your login shell is {}",
                shell.name()
            )),
            (true, true) => None,
        },
    };
    let spec = TerminalSpec {
        shell,
        env,
        path_prepend: aws_cli_dir().into_iter().collect(),
        cwd: std::env::var_os("HOME").map(PathBuf::from),
        size,
    };
    let recording = info.recording;
    let terminal = {
        let (app, run_id) = (app.clone(), run_id.clone());
        Terminal::open(spec, move |event| {
            if let (true, TerminalEvent::Command { command }) = (recording, &event) {
                record(&app, &run_id, command.clone());
            }
            if let Err(e) = on_event.send(event) {
                tracing::debug!("the window no longer listens to the terminal: {e}");
            }
        })?
    };
    let old = state
        .terminal
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .replace(RunTerminal { run_id, terminal });
    drop(old);
    Ok(info)
}

fn record(app: &AppHandle, run_id: &str, c: snaplab_terminal::TypedCommand) {
    let (app, run_id) = (app.clone(), run_id.to_string());
    tauri::async_runtime::spawn(async move {
        let store = &app.state::<AppState>().store;
        if let Err(e) = store
            .record_command(&run_id, &c.command, c.exit_status, c.started_at, c.finished_at)
            .await
        {
            tracing::warn!("a command typed in the terminal was not recorded: {e}");
        }
    });
}

/// Types into the terminal.
#[tauri::command]
pub fn terminal_input(state: State<'_, AppState>, data: String) -> Result<()> {
    let open = state.terminal.lock().unwrap_or_else(|p| p.into_inner());
    let t = open.as_ref().ok_or(CommandError::NoTerminal)?;
    Ok(t.terminal.write(&data)?)
}

#[tauri::command]
pub fn terminal_resize(state: State<'_, AppState>, size: TerminalSize) -> Result<()> {
    let open = state.terminal.lock().unwrap_or_else(|p| p.into_inner());
    let t = open.as_ref().ok_or(CommandError::NoTerminal)?;
    Ok(t.terminal.resize(size)?)
}

#[tauri::command]
pub fn terminal_close(state: State<'_, AppState>) {
    close(&state, None);
}

/// Ends the terminal's shell: any, or only `run_id`'s (a run that ended).
pub fn close(state: &AppState, run_id: Option<&str>) {
    let mut open = state.terminal.lock().unwrap_or_else(|p| p.into_inner());
    if open.as_ref().is_some_and(|t| run_id.is_none_or(|id| t.run_id == id)) {
        // Dropped: the shell gets SIGHUP.
        open.take();
    }
}

/// Where the set-up's aws CLI is, when the PATH has none: `SNAPLAB_AWS_CLI`,
/// else the venv `scripts/tools.sh` makes in this checkout.
fn aws_cli_dir() -> Option<PathBuf> {
    if on_path("aws") {
        return None;
    }
    let from_env = std::env::var_os("SNAPLAB_AWS_CLI").map(PathBuf::from);
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-tools/bin/aws");
    [from_env, Some(checkout)]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .and_then(|p| p.parent().map(Path::to_path_buf))
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}
