//! Records for the store's tests on both engines: a SQLite file in a temp
//! folder, and a fresh database on the PostgreSQL server `make test` starts
//! (scripts/with-postgres.sh sets SNAPLAB_TEST_POSTGRES).
#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it; a failed unwrap is a failed test

use std::sync::atomic::{AtomicU32, Ordering};

use snaplab_store::{Engine, Location, Store};
use sqlx::Connection;

pub mod postgres;
pub mod run;
pub use postgres::fresh_database;

/// A folder for one test's files, removed on drop.
pub struct Dir(pub std::path::PathBuf);

impl Dir {
    pub fn new(name: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let d = std::env::temp_dir().join(format!(
            "snaplab-store-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One engine's empty record for a test.
pub struct Record {
    pub location: Location,
    pub engine: Engine,
    _dir: Option<Dir>,
}

impl Record {
    pub async fn open(&self) -> Store {
        eprintln!("on {:?}: {}", self.engine, self.location);
        Store::open_at(&self.location).await.unwrap()
    }

    /// Runs SQL on the record behind the store's back (what another process did).
    pub async fn execute(&self, sql: &str) {
        sqlx::any::install_default_drivers();
        let url = match &self.location {
            Location::Sqlite(path) => format!("sqlite://{}", path.display()),
            Location::Postgres(url) => url.clone(),
        };
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }
}

/// The same test's record on SQLite, then on PostgreSQL.
pub async fn records(name: &str) -> [Record; 2] {
    [sqlite(name), postgres(name).await]
}

pub fn sqlite(name: &str) -> Record {
    let dir = Dir::new(name);
    Record {
        location: Location::Sqlite(dir.0.join("record.db")),
        engine: Engine::Sqlite,
        _dir: Some(dir),
    }
}

/// A new, empty database on the test server.
pub async fn postgres(name: &str) -> Record {
    Record {
        location: Location::Postgres(fresh_database(name).await),
        engine: Engine::Postgres,
        _dir: None,
    }
}
