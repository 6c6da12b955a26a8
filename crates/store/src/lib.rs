//! The record of every run, in one SQLite file (WAL, migrations embedded).
//! The [`Recorder`] is a sink of the lab's events; queries read back history,
//! reports and what a killed run needs to resume. Never a credential.

mod board;
mod commands;
mod queries;
mod recorder;
pub mod report;
mod summary;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub use board::{BoardRow, LearnerState};
pub use commands::CommandRow;
pub use queries::{HistoryFilter, MissedQuestion, RunSummary};
pub use recorder::Recorder;
pub use report::{RunReport, StepStatus};
pub use summary::{instructor_summary, summary_csv, SummaryRow};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the run record at {path} cannot be opened: {source}")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("the run record at {path} cannot be migrated: {source}")]
    Migrate {
        path: PathBuf,
        source: sqlx::migrate::MigrateError,
    },
    #[error("no run {0} in the record; list runs with snaplab history")]
    NoSuchRun(String),
    #[error("run record: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("run record holds unreadable data: {0}")]
    Corrupt(String),
}

/// The run record.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the record at `path`, migrates it, and marks
    /// runs whose process is gone as interrupted.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.to_path_buf(),
                source: sqlx::Error::Io(e),
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                path: path.to_path_buf(),
                source,
            })?;
        let store = Self {
            pool,
            path: path.to_path_buf(),
        };
        store.mark_dead_runs_interrupted().await?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A sink of the lab's events that records them (and the shop's order log).
    pub fn recorder(&self) -> Recorder {
        Recorder::new(self.pool.clone())
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// Whether the process that owns a run is still alive. Where /proc exists it
/// says so at once; elsewhere a run counts as alive while its heartbeat is fresh.
pub(crate) fn process_alive(pid: Option<i64>) -> Option<bool> {
    let pid = pid?;
    let proc_root = Path::new("/proc");
    if !proc_root.join("self").exists() {
        return None;
    }
    if i64::from(std::process::id()) == pid {
        return Some(true);
    }
    Some(proc_root.join(pid.to_string()).exists())
}
