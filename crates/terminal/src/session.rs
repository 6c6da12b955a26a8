//! A shell on a pseudo-terminal: its output and the commands it ran reach
//! `on_event` from a reader thread, its end from a thread that waits for
//! it; input, resizes and closing come from the owner.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use portable_pty::{CommandBuilder, MasterPty, PtySize};

use crate::marker::{MarkParser, Piece};
use crate::redact::redact_secrets;
use crate::shell::{bash_rc, Shell};
use crate::utf8::Utf8Stream;
use crate::TerminalError;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TerminalSize {
    pub cols: u16,
    pub rows: u16,
}

/// What to start and with what around it.
#[derive(Debug, Clone)]
pub struct TerminalSpec {
    pub shell: Shell,
    /// Variables set (`Some`) or removed (`None`) over this process's own.
    pub env: Vec<(String, Option<String>)>,
    /// Directories put in front of PATH.
    pub path_prepend: Vec<PathBuf>,
    pub cwd: Option<PathBuf>,
    pub size: TerminalSize,
}

/// A command line the shell ran: never its output, never the environment.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TypedCommand {
    pub command: String,
    pub exit_status: i32,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TerminalEvent {
    Output {
        data: String,
    },
    Command {
        command: TypedCommand,
    },
    /// The shell ended (its exit code when it had one).
    Exited {
        code: Option<u32>,
    },
}

pub struct Terminal {
    master: Box<dyn MasterPty + Send>,
    writer: Mutex<Box<dyn Write + Send>>,
    rc_dir: Option<PathBuf>,
    /// Until the shell has ended (set by the thread that waits for it).
    alive: Arc<AtomicBool>,
    /// Asks that thread to end the shell.
    closing: Arc<AtomicBool>,
}

type Sink = Arc<Mutex<dyn FnMut(TerminalEvent) + Send>>;

impl Terminal {
    pub fn open(
        spec: TerminalSpec,
        on_event: impl FnMut(TerminalEvent) + Send + 'static,
    ) -> Result<Self, TerminalError> {
        let pty = portable_pty::native_pty_system()
            .openpty(pty_size(spec.size))
            .map_err(|e| TerminalError::Pty(e.to_string()))?;
        let nonce = format!("{:016x}", RandomState::new().build_hasher().finish());
        let rc_dir = match spec.shell.records_commands() {
            true => Some(write_rc(&bash_rc(&nonce, &spec.env))?),
            false => None,
        };
        let rc_file = rc_dir.as_deref().map(|d| d.join("bashrc"));
        let mut cmd = CommandBuilder::new(&spec.shell.program);
        cmd.args(spec.shell.args(rc_file.as_deref()));
        cmd.env("TERM", "xterm-256color");
        cmd.env("COLORTERM", "truecolor");
        for (key, value) in &spec.env {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            }
        }
        if let Some(path) = joined_path(&spec.path_prepend) {
            cmd.env("PATH", path);
        }
        if let Some(dir) = spec.cwd.as_ref().filter(|d| d.is_dir()) {
            cmd.cwd(dir);
        }
        let spawned = pty.slave.spawn_command(cmd);
        // The shell holds the other end now; ours would keep reads open after it ends.
        drop(pty.slave);
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                remove(rc_dir);
                return Err(TerminalError::Spawn {
                    shell: spec.shell.program.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        let pipes = pty
            .master
            .try_clone_reader()
            .and_then(|r| Ok((r, pty.master.take_writer()?)));
        let (reader, writer) = match pipes {
            Ok(pipes) => pipes,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                remove(rc_dir);
                return Err(TerminalError::Pty(e.to_string()));
            }
        };
        let sink: Sink = Arc::new(Mutex::new(on_event));
        let alive = Arc::new(AtomicBool::new(true));
        let closing = Arc::new(AtomicBool::new(false));
        {
            let (sink, alive, closing) = (sink.clone(), alive.clone(), closing.clone());
            std::thread::Builder::new()
                .name("terminal-waiter".into())
                .spawn(move || wait_for_end(child, &closing, &alive, &sink))
                .map_err(|e| TerminalError::Pty(e.to_string()))?;
        }
        std::thread::Builder::new()
            .name("terminal-reader".into())
            .spawn(move || read_until_end(reader, &nonce, &sink))
            .map_err(|e| TerminalError::Pty(e.to_string()))?;
        Ok(Self {
            master: pty.master,
            writer: Mutex::new(writer),
            rc_dir,
            alive,
            closing,
        })
    }

    /// Whether the shell is still running.
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Types `data` as if from the keyboard.
    pub fn write(&self, data: &str) -> Result<(), TerminalError> {
        if !self.is_alive() {
            return Err(TerminalError::Closed("it has exited".into()));
        }
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        w.write_all(data.as_bytes())
            .and_then(|_| w.flush())
            .map_err(|e| TerminalError::Closed(e.to_string()))
    }

    pub fn resize(&self, size: TerminalSize) -> Result<(), TerminalError> {
        self.master
            .resize(pty_size(size))
            .map_err(|e| TerminalError::Pty(e.to_string()))
    }

    /// Ends the shell: SIGHUP, as a closed terminal window does (bash passes
    /// it on to its jobs), then SIGKILL if it has not ended a moment later.
    pub fn close(&mut self) {
        self.closing.store(true, Ordering::SeqCst);
        remove(self.rc_dir.take());
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.close();
    }
}

fn remove(dir: Option<PathBuf>) {
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Waits for the shell (and ends it when asked): a shell that exits while a
/// job it left keeps the terminal open is seen to end all the same.
fn wait_for_end(
    mut child: Box<dyn portable_pty::Child + Send + Sync>,
    closing: &AtomicBool,
    alive: &AtomicBool,
    sink: &Sink,
) {
    let code = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status.exit_code()),
            Ok(None) => {}
            Err(_) => break None,
        }
        if closing.load(Ordering::SeqCst) {
            // std's kill through portable-pty: SIGHUP, a grace period, then SIGKILL.
            let _ = child.kill();
            break child.wait().ok().map(|s| s.exit_code());
        }
        std::thread::sleep(WAIT_POLL);
    };
    alive.store(false, Ordering::SeqCst);
    emit(sink, TerminalEvent::Exited { code });
}

const WAIT_POLL: std::time::Duration = std::time::Duration::from_millis(100);

fn emit(sink: &Sink, event: TerminalEvent) {
    let mut on_event = sink.lock().unwrap_or_else(|p| p.into_inner());
    on_event(event);
}

fn pty_size(size: TerminalSize) -> PtySize {
    PtySize {
        rows: size.rows.max(2),
        cols: size.cols.max(10),
        pixel_width: 0,
        pixel_height: 0,
    }
}

fn joined_path(prepend: &[PathBuf]) -> Option<std::ffi::OsString> {
    if prepend.is_empty() {
        return None;
    }
    let current = std::env::var_os("PATH").unwrap_or_default();
    let dirs = prepend.iter().cloned().chain(std::env::split_paths(&current));
    std::env::join_paths(dirs).ok()
}

/// A fresh private directory holding bash's start-up file.
fn write_rc(rc: &str) -> Result<PathBuf, TerminalError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "snaplab-terminal-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let io = |e: std::io::Error| TerminalError::StartupFile(dir.display().to_string(), e.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    private_dir(&dir).map_err(io)?;
    std::fs::write(dir.join("bashrc"), rc).map_err(io)?;
    Ok(dir)
}

#[cfg(unix)]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir(dir)
}

fn read_until_end(mut reader: Box<dyn Read + Send>, nonce: &str, sink: &Sink) {
    let mut marks = MarkParser::new(nonce);
    let mut text = Utf8Stream::default();
    // Set by a line's start mark; a finish without one (the first prompt) is no command.
    let mut started: Option<DateTime<Utc>> = None;
    let mut buf = [0u8; 8192];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for piece in marks.feed(&buf[..n]) {
            match piece {
                Piece::Output(bytes) => {
                    let data = text.decode(&bytes);
                    if !data.is_empty() {
                        emit(sink, TerminalEvent::Output { data });
                    }
                }
                Piece::Started => started = Some(Utc::now()),
                Piece::Finished { exit_status, command } => {
                    if let Some(started_at) = started.take() {
                        let command = TypedCommand {
                            command: redact_secrets(&command),
                            exit_status,
                            started_at,
                            finished_at: Utc::now(),
                        };
                        emit(sink, TerminalEvent::Command { command });
                    }
                }
            }
        }
    }
}
