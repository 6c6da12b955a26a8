//! The record of every run: by default one SQLite file (WAL, migrations
//! embedded); for a class, a PostgreSQL database every learner writes to.
//! Both engines are driven through sqlx's `Any` driver with the same SQL and
//! two migration sets of one schema (tests/schema.rs proves them alike).
//!
//! Every change to the record is a [`Write`], applied in one transaction.
//! A learner's run always records into their own SQLite file; with a class
//! database the same transaction queues the write in the file's outbox, and
//! the [`link`] delivers it to PostgreSQL exactly once, whenever it is
//! reachable. The [`Recorder`] is the lab's event sink over that path.

mod board;
mod columns;
mod commands;
pub mod link;
mod location;
mod queries;
mod recorder;
pub mod report;
mod summary;
mod watch;
mod write;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use board::{BoardRow, LearnerState};
pub use commands::CommandRow;
pub use link::LinkStatus;
pub use location::Location;
pub use queries::{HistoryFilter, MissedQuestion, RunSummary};
pub use recorder::Recorder;
pub use report::{RunReport, StepStatus};
pub use summary::{instructor_summary, summary_csv, SummaryRow};
pub use watch::BoardWatch;
pub use write::Write;

use link::ClassLink;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the run record at {location} cannot be opened: {source}")]
    Open { location: String, source: sqlx::Error },
    #[error("the run record at {location} cannot be migrated: {source}")]
    Migrate {
        location: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error("no run {0} in the record; list runs with snaplab history")]
    NoSuchRun(String),
    #[error("run record: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("run record holds unreadable data: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Usage(String),
}

/// Which database engine holds a record (the SQL is the same; a few
/// behaviours are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The run record.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    location: Location,
    /// Set when this (SQLite) record also feeds a class database.
    link: Option<ClassLink>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens (creating if needed) the SQLite record at `path`, migrates it,
    /// and marks runs whose process is gone as interrupted.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_at(&Location::Sqlite(path.to_path_buf())).await
    }

    /// Opens a record where `location` says: a SQLite file, or a PostgreSQL
    /// database read and written directly (the instructor's view, the tests).
    pub async fn open_at(location: &Location) -> Result<Self, StoreError> {
        Self::open_with(location, None).await
    }

    async fn open_with(location: &Location, class: Option<&Location>) -> Result<Self, StoreError> {
        let pool = connect(location).await?;
        let link = match class {
            Some(class) => Some(ClassLink::start(pool.clone(), class).await?),
            None => None,
        };
        let store = Self {
            pool,
            location: location.clone(),
            link,
        };
        store.mark_dead_runs_interrupted().await?;
        Ok(store)
    }

    /// Applies `write` in one transaction (queued for the class database in
    /// the same one, when there is one). A command returns its step.
    pub async fn write(&self, write: &Write) -> Result<Option<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let out = write.apply(&mut tx).await?;
        if self.link.is_some() {
            ClassLink::enqueue(&mut tx, write).await?;
        }
        tx.commit().await?;
        if let Some(link) = &self.link {
            link.wake();
        }
        Ok(out)
    }

    /// A learner's record for a class: their own SQLite file at `path`, which
    /// every run records into as usual, and which delivers each write to the
    /// class database at `class_url` — now, or once it can be reached.
    pub async fn open_linked(path: &Path, class_url: &str) -> Result<Self, StoreError> {
        let local = Location::Sqlite(path.to_path_buf());
        Self::open_with(&local, Some(&Location::parse(class_url))).await
    }

    /// The local file, when the record is one.
    pub fn path(&self) -> Option<&Path> {
        match &self.location {
            Location::Sqlite(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn engine(&self) -> Engine {
        self.location.engine()
    }

    /// A sink of the lab's events that records them (and the shop's order log).
    pub fn recorder(&self) -> Recorder {
        Recorder::new(self.clone())
    }

    /// The class database this record feeds, read directly (the board); the
    /// record itself when it feeds none.
    pub async fn class_view(&self) -> Result<Store, StoreError> {
        match &self.link {
            Some(link) => Store::open_at(link.location()).await,
            None => Ok(self.clone()),
        }
    }

    /// The class database this record feeds, if any.
    pub fn class_location(&self) -> Option<&Location> {
        self.link.as_ref().map(ClassLink::location)
    }

    /// How delivery to the class database stands (`None` without one).
    pub async fn class_status(&self) -> Option<LinkStatus> {
        match &self.link {
            Some(link) => Some(link.status().await),
            None => None,
        }
    }

    /// Waits up to `within` for every queued write to reach the class
    /// database; says how delivery stands then (`None` without one).
    pub async fn flush_class(&self, within: Duration) -> Option<LinkStatus> {
        match &self.link {
            Some(link) => Some(link.flush(within).await),
            None => None,
        }
    }

    pub async fn close(self) {
        if let Some(link) = &self.link {
            link.stop().await;
        }
        self.pool.close().await;
    }
}

/// A pool on `location`, migrated.
async fn connect(location: &Location) -> Result<AnyPool, StoreError> {
    sqlx::any::install_default_drivers();
    let open_error = |source| StoreError::Open {
        location: location.describe(),
        source,
    };
    let engine = location.engine();
    let url = match location {
        Location::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| open_error(sqlx::Error::Io(e)))?;
            }
            location::sqlite_url(path)
        }
        Location::Postgres(url) => url.clone(),
    };
    let options = AnyConnectOptions::from_str(&url).map_err(open_error)?;
    let pool = match engine {
        Engine::Sqlite => {
            AnyPoolOptions::new()
                .max_connections(4)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .await
                        .map(drop)
                    })
                })
                .connect_with(options)
                .await
        }
        Engine::Postgres => {
            AnyPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
        }
    }
    .map_err(open_error)?;
    migrate(&pool, engine, location).await?;
    Ok(pool)
}

pub(crate) fn migrator(engine: Engine) -> &'static sqlx::migrate::Migrator {
    match engine {
        Engine::Sqlite => &SQLITE_MIGRATIONS,
        Engine::Postgres => &POSTGRES_MIGRATIONS,
    }
}

async fn migrate(pool: &AnyPool, engine: Engine, location: &Location) -> Result<(), StoreError> {
    migrator(engine).run(pool).await.map_err(|source| StoreError::Migrate {
        location: location.describe(),
        source,
    })
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
