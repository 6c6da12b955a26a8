//! The `--db` option: where the run record lives — a SQLite file (the
//! default), or a class's PostgreSQL database.

use std::path::PathBuf;
use std::time::Duration;

use snaplab_store::{Location, Store};

#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The run record: a SQLite file, or a class's PostgreSQL database (postgres://user@host/db).
    /// With a class database, runs record into the learner's own file first (--local-db) and
    /// send each change to the class as soon as it can be reached. Default: snaplab.db in the
    /// platform data directory.
    #[arg(long, env = "SNAPLAB_DB", value_name = "PATH|URL", global = true)]
    pub db: Option<String>,
    /// With a class database: the learner's own record, where runs go first. Default: snaplab.db
    /// in the platform data directory.
    #[arg(long, env = "SNAPLAB_LOCAL_DB", value_name = "PATH", global = true)]
    pub local_db: Option<PathBuf>,
}

impl DbArgs {
    pub fn location(&self) -> anyhow::Result<Location> {
        match &self.db {
            Some(db) => Ok(Location::parse(db)),
            None => Ok(Location::Sqlite(snaplab_session::default_db_path()?)),
        }
    }

    /// The record to read (history, reports, the class board): the class
    /// database itself when `--db` names one.
    pub async fn open_to_read(&self) -> anyhow::Result<Store> {
        Ok(Store::open_at(&self.location()?).await?)
    }

    /// The record a run writes: a file, linked to the class database when
    /// `--db` names one.
    pub async fn open_to_run(&self) -> anyhow::Result<Store> {
        match self.location()? {
            Location::Sqlite(path) => Ok(Store::open(&path).await?),
            Location::Postgres(url) => {
                let local = match &self.local_db {
                    Some(p) => p.clone(),
                    None => snaplab_session::default_db_path()?,
                };
                Ok(Store::open_linked(&local, &url).await?)
            }
        }
    }
}

/// How long a finished command waits for its writes to reach the class database.
const FLUSH_WAIT: Duration = Duration::from_secs(10);

/// Before a command that wrote ends: its writes sent to the class database,
/// or a line saying what waits and how it will be sent.
pub async fn finish_class_delivery(store: &Store) {
    let Some(status) = store.flush_class(FLUSH_WAIT).await else {
        return;
    };
    let local = store.location();
    if status.pending == 0 {
        eprintln!("Class record: every change reached {}.", status.class);
    } else {
        eprintln!(
            "Class record: {} cannot be reached ({}). {} change(s) wait in {local}; \
             the next run with this --db sends them, or: snaplab sync --db <the class database>.",
            status.class,
            status.last_error.as_deref().unwrap_or("no answer yet"),
            status.pending,
        );
    }
    if status.rejected > 0 {
        eprintln!(
            "Class record: {} change(s) were refused by the class database (a run it never saw start); \
             they stay in {local} only.",
            status.rejected
        );
    }
}
