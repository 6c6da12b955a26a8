//! One `AWS-RunShellScript` invocation on one instance: a local `sh`
//! process in its own process group (so the whole script can be paused,
//! resumed or killed), its output kept in files, its status as SSM reports it.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::clock::{Clock, Timestamp};

/// SSM keeps this much of a command's standard output…
pub const STDOUT_LIMIT: usize = 24_000;
/// … and of its standard error.
pub const STDERR_LIMIT: usize = 8_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Stop,
    Continue,
    Kill,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Self::Stop => "-STOP",
            Self::Continue => "-CONT",
            Self::Kill => "-KILL",
        }
    }
}

/// SSM's invocation statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationStatus {
    InProgress,
    Success,
    Failed,
    TimedOut,
    Cancelled,
}

impl InvocationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "InProgress",
            Self::Success => "Success",
            Self::Failed => "Failed",
            Self::TimedOut => "TimedOut",
            Self::Cancelled => "Cancelled",
        }
    }
}

#[derive(Debug)]
enum State {
    Running(Child),
    Ended {
        status: InvocationStatus,
        code: i32,
        at: Timestamp,
    },
}

#[derive(Debug)]
pub struct Invocation {
    pub command_id: String,
    pub instance_id: String,
    pub started_at: Timestamp,
    pid: u32,
    deadline: Instant,
    stdout: PathBuf,
    stderr: PathBuf,
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
}

impl Invocation {
    /// Starts `script` with `sh` in `dir` (the instance's sandbox).
    pub fn start(
        command_id: &str,
        instance_id: &str,
        dir: &Path,
        script: &str,
        timeout_s: u64,
        clock: Arc<dyn Clock>,
    ) -> io::Result<Arc<Self>> {
        use std::os::unix::process::CommandExt;
        let out_dir = dir.join("var/lib/snaplab/commands").join(command_id);
        fs::create_dir_all(&out_dir)?;
        let (stdout, stderr) = (out_dir.join("stdout"), out_dir.join("stderr"));
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(dir)
            .env("SNAPLAB_ROOT", dir)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout)?)
            .stderr(File::create(&stderr)?)
            .process_group(0)
            .spawn()?;
        Ok(Arc::new(Self {
            command_id: command_id.to_string(),
            instance_id: instance_id.to_string(),
            started_at: clock.now(),
            pid: child.id(),
            deadline: Instant::now() + Duration::from_secs(timeout_s.max(1)),
            stdout,
            stderr,
            state: Mutex::new(State::Running(child)),
            clock,
        }))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Signals the whole process group (the script and what it started).
    pub fn signal(&self, signal: Signal) {
        if !matches!(*self.lock(), State::Running(_)) {
            return;
        }
        let _ = Command::new("kill")
            .args([signal.name(), "--", &format!("-{}", self.pid)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if signal == Signal::Kill {
            self.status();
        }
    }

    /// The status now: the exit code once ended, and when it ended.
    pub fn status(&self) -> (InvocationStatus, i32, Option<Timestamp>) {
        let mut state = self.lock();
        if let State::Running(child) = &mut *state {
            let ended = match child.try_wait() {
                Ok(Some(exit)) => Some(match exit.code() {
                    Some(0) => (InvocationStatus::Success, 0),
                    Some(code) => (InvocationStatus::Failed, code),
                    None => (InvocationStatus::Cancelled, -1),
                }),
                Ok(None) if Instant::now() >= self.deadline => {
                    let _ = Command::new("kill")
                        .args(["-KILL", "--", &format!("-{}", self.pid)])
                        .status();
                    let _ = child.wait();
                    Some((InvocationStatus::TimedOut, -1))
                }
                Ok(None) => None,
                Err(_) => Some((InvocationStatus::Failed, -1)),
            };
            if let Some((status, code)) = ended {
                *state = State::Ended {
                    status,
                    code,
                    at: self.clock.now(),
                };
            }
        }
        match &*state {
            State::Running(_) => (InvocationStatus::InProgress, -1, None),
            State::Ended { status, code, at } => (*status, *code, Some(*at)),
        }
    }

    /// The first `STDOUT_LIMIT` characters of the output so far.
    pub fn stdout(&self) -> String {
        read_prefix(&self.stdout, STDOUT_LIMIT)
    }

    pub fn stderr(&self) -> String {
        read_prefix(&self.stderr, STDERR_LIMIT)
    }
}

fn read_prefix(path: &Path, chars: usize) -> String {
    let mut bytes = Vec::new();
    if let Ok(f) = File::open(path) {
        let _ = f.take(chars as u64 * 4).read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).chars().take(chars).collect()
}
