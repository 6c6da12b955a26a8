//! Where snaplab keeps its files: the run record (SQLite) and, next to it,
//! each run's emulator state and shadow disks.

use std::path::{Path, PathBuf};

use anyhow::Context;

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
        let dirs = directories::ProjectDirs::from("", "", "snaplab")
            .context("cannot find a home directory for the run record; pass --db PATH")?;
        Ok(dirs.data_dir().join("snaplab.db"))
    }
}

/// A run's own files: `<record's folder>/snaplab-runs/<run id>/`.
pub fn run_dir(db: &Path, run_id: &str) -> PathBuf {
    db.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .join("snaplab-runs")
        .join(run_id)
}
