//! The `--db` option: where the run record lives.

use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The run record (SQLite). Default: snaplab.db in the platform data directory.
    #[arg(long, env = "SNAPLAB_DB", value_name = "PATH", global = true)]
    pub db: Option<PathBuf>,
}

impl DbArgs {
    pub fn path(&self) -> anyhow::Result<PathBuf> {
        if let Some(p) = &self.db {
            return Ok(p.clone());
        }
        Ok(snaplab_session::default_db_path()?)
    }
}
