//! The app's terminal: the learner's login shell on a pseudo-terminal,
//! started with the run's cloud in its environment, whose output goes to
//! the window and whose command lines (with their exit status and times)
//! are reported for the run's record.
//!
//! bash marks each command line it runs (an OSC sequence printed by its
//! prompt, [`marker`]); the marks are taken out of the output here. Other
//! shells run without marks: the terminal works, nothing is recorded.

mod marker;
mod redact;
mod session;
mod shell;
mod utf8;

pub use session::{Terminal, TerminalEvent, TerminalSize, TerminalSpec, TypedCommand};
pub use shell::Shell;

#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    #[error("cannot open a pseudo-terminal: {0}")]
    Pty(String),
    #[error("cannot start the shell {shell}: {reason}")]
    Spawn { shell: String, reason: String },
    #[error("cannot write the shell's start-up file in {0}: {1}")]
    StartupFile(String, String),
    #[error("the terminal's shell has ended ({0}): open a new terminal")]
    Closed(String),
}
