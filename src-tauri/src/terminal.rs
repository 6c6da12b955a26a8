//! The lab player's terminal: one shell for the run going on, started with
//! the run's cloud in its environment. Its output reaches the window over a
//! channel; each command line it reports goes into the run's record (unless
//! the learner turned that off), under the step going on, in the order run.
//!
//! The shell belongs to the run, not to the page: leaving the lab player
//! (for History, say) and coming back attaches the new page to the same
//! shell, with the recent output replayed. The run's end closes it.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use snaplab_terminal::{Shell, Terminal, TerminalEvent, TerminalSize, TerminalSpec, TypedCommand};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use crate::commands::CommandError;
use crate::state::AppState;

type Result<T> = std::result::Result<T, CommandError>;

/// How much recent output a page that attaches again is shown.
const BACKLOG_BYTES: usize = 64 * 1024;

/// The terminal and the run it belongs to.
pub struct RunTerminal {
    pub run_id: String,
    terminal: Terminal,
    view: Arc<Mutex<Attached>>,
    info: TerminalInfo,
}

/// Where the shell's events go: the page showing it (if any), and what a
/// page attaching later needs to catch up.
#[derive(Default)]
struct Attached {
    channel: Option<Channel<TerminalEvent>>,
    backlog: VecDeque<String>,
    backlog_bytes: usize,
    commands: Vec<TypedCommand>,
}

impl Attached {
    fn keep(&mut self, event: &TerminalEvent) {
        match event {
            TerminalEvent::Output { data } => {
                self.backlog_bytes += data.len();
                self.backlog.push_back(data.clone());
                while self.backlog_bytes > BACKLOG_BYTES && self.backlog.len() > 1 {
                    if let Some(old) = self.backlog.pop_front() {
                        self.backlog_bytes -= old.len();
                    }
                }
            }
            TerminalEvent::Command { command } => self.commands.push(command.clone()),
            TerminalEvent::Exited { .. } => {}
        }
    }

    fn send(&self, event: TerminalEvent) {
        if let Some(channel) = &self.channel {
            if let Err(e) = channel.send(event) {
                tracing::debug!("the window no longer listens to the terminal: {e}");
            }
        }
    }

    /// A new page takes over: it first gets what the shell printed lately
    /// and the commands it ran, on the same channel as what follows.
    fn attach(&mut self, channel: Channel<TerminalEvent>) {
        self.channel = Some(channel);
        let data: String = self.backlog.iter().map(String::as_str).collect();
        if !data.is_empty() {
            self.send(TerminalEvent::Output { data });
        }
        for command in self.commands.clone() {
            self.send(TerminalEvent::Command { command });
        }
    }
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

/// Attaches the page to the run's shell, starting one if there is none
/// (or the last one has ended).
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
    {
        let open = state.terminal.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = open.as_ref().filter(|t| t.run_id == run_id && t.terminal.is_alive()) {
            t.view.lock().unwrap_or_else(|p| p.into_inner()).attach(on_event);
            t.terminal.resize(size)?;
            return Ok(t.info.clone());
        }
    }
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
    let view = Arc::new(Mutex::new(Attached {
        channel: Some(on_event),
        ..Default::default()
    }));
    let recorder = info.recording.then(|| recorder(&app, &run_id));
    let terminal = {
        let view = view.clone();
        Terminal::open(spec, move |event| {
            if let (Some(recorder), TerminalEvent::Command { command }) = (&recorder, &event) {
                let _ = recorder.send(command.clone());
            }
            let mut view = view.lock().unwrap_or_else(|p| p.into_inner());
            view.keep(&event);
            view.send(event);
        })?
    };
    // Kept only if the run is still the one going on: its end clears the
    // active run first and closes the terminal after, so a shell opened
    // meanwhile is never left behind.
    let active = state.active.lock().await;
    if active.as_ref().is_none_or(|r| r.run_id != run_id) {
        return Err(CommandError::NoRun);
    }
    let old = state
        .terminal
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .replace(RunTerminal {
            run_id,
            terminal,
            view,
            info: info.clone(),
        });
    drop(active);
    drop(old);
    Ok(info)
}

/// Records the run's commands one after another, in the order they ran.
fn recorder(app: &AppHandle, run_id: &str) -> tokio::sync::mpsc::UnboundedSender<TypedCommand> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<TypedCommand>();
    let (app, run_id) = (app.clone(), run_id.to_string());
    tauri::async_runtime::spawn(async move {
        while let Some(c) = rx.recv().await {
            let store = &app.state::<AppState>().store;
            if let Err(e) = store
                .record_command(&run_id, &c.command, c.exit_status, c.started_at, c.finished_at)
                .await
            {
                tracing::warn!("a command typed in the terminal was not recorded: {e}");
            }
        }
    });
    tx
}

/// Types into the terminal. (Async: a write that waits for a busy shell
/// must not hold up the window.)
#[tauri::command]
pub async fn terminal_input(state: State<'_, AppState>, data: String) -> Result<()> {
    let open = state.terminal.lock().unwrap_or_else(|p| p.into_inner());
    let t = open.as_ref().ok_or(CommandError::NoTerminal)?;
    Ok(t.terminal.write(&data)?)
}

#[tauri::command]
pub async fn terminal_resize(state: State<'_, AppState>, size: TerminalSize) -> Result<()> {
    let open = state.terminal.lock().unwrap_or_else(|p| p.into_inner());
    let t = open.as_ref().ok_or(CommandError::NoTerminal)?;
    Ok(t.terminal.resize(size)?)
}

/// Ends the terminal's shell: any, or only `run_id`'s (a run that ended).
pub fn close(state: &AppState, run_id: Option<&str>) {
    let taken = {
        let mut open = state.terminal.lock().unwrap_or_else(|p| p.into_inner());
        match open.as_ref().is_some_and(|t| run_id.is_none_or(|id| t.run_id == id)) {
            true => open.take(),
            false => None,
        }
    };
    // Dropped outside the lock: the shell gets SIGHUP.
    drop(taken);
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
