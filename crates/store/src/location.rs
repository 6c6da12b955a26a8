//! Where a record lives: a SQLite file, or a PostgreSQL database by URL.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// A `postgres://` (or `postgresql://`) URL; it may hold a password,
    /// so it is only ever shown through [`Location::describe`].
    Postgres(String),
}

impl Location {
    /// `postgres://…` and `postgresql://…` are PostgreSQL; anything else is a file path.
    pub fn parse(text: &str) -> Self {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Self::Postgres(text.to_string())
        } else {
            Self::Sqlite(PathBuf::from(text))
        }
    }

    pub fn engine(&self) -> crate::Engine {
        match self {
            Self::Sqlite(_) => crate::Engine::Sqlite,
            Self::Postgres(_) => crate::Engine::Postgres,
        }
    }

    /// For messages: the path, or the URL with any password hidden.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => hide_password(url),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// sqlx's URL for a SQLite file: created if missing; the characters its URL
/// parser would read as syntax are escaped.
pub(crate) fn sqlite_url(path: &Path) -> String {
    let mut escaped = String::new();
    for c in path.display().to_string().chars() {
        match c {
            '%' => escaped.push_str("%25"),
            '?' => escaped.push_str("%3F"),
            '#' => escaped.push_str("%23"),
            c => escaped.push(c),
        }
    }
    format!("sqlite://{escaped}?mode=rwc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_and_the_rest_are_files() {
        assert_eq!(
            Location::parse("postgres://u@h/db"),
            Location::Postgres("postgres://u@h/db".into())
        );
        assert!(matches!(Location::parse("PostgreSQL://h/db"), Location::Postgres(_)));
        assert_eq!(Location::parse("class.db"), Location::Sqlite("class.db".into()));
    }

    #[test]
    fn a_password_is_never_shown() {
        let loc = Location::parse("postgres://teacher:s3cret@10.0.0.5:5432/class?sslmode=require");
        assert_eq!(
            loc.describe(),
            "postgres://teacher:***@10.0.0.5:5432/class?sslmode=require"
        );
        assert!(!format!("{loc:?} {loc}").contains("s3cret"));
        assert_eq!(Location::parse("postgres://h/db").describe(), "postgres://h/db");
    }

    #[test]
    fn odd_file_names_survive_the_url() {
        assert_eq!(
            sqlite_url(Path::new("/tmp/a?b%c#d.db")),
            "sqlite:///tmp/a%3Fb%25c%23d.db?mode=rwc"
        );
    }
}
