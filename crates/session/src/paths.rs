//! Where snaplab keeps its files: the run record (SQLite) and, next to it,
//! each run's emulator state and shadow disks.

use std::path::{Path, PathBuf};

use crate::SessionError;

/// `snaplab.db` in the platform data directory (e.g. `~/.local/share/snaplab/`).
pub fn default_db_path() -> Result<PathBuf, SessionError> {
    let dirs = directories::ProjectDirs::from("", "", "snaplab").ok_or(SessionError::NoDataDir)?;
    Ok(dirs.data_dir().join("snaplab.db"))
}

/// A run's own files: `<record's folder>/snaplab-runs/<run id>/`.
pub fn run_dir(db: &Path, run_id: &str) -> PathBuf {
    db.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .join("snaplab-runs")
        .join(run_id)
}
