//! Reading and writing the columns both engines keep as plain text or
//! integers: times (RFC 3339 text in UTC, as the first SQLite records did)
//! and flags (0 or 1).

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::StoreError;

/// A time as the record stores it.
pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

pub(crate) fn time(r: &AnyRow, column: &str) -> Result<DateTime<Utc>, StoreError> {
    let text: String = r.try_get(column)?;
    parse_time(&text).ok_or_else(|| StoreError::Corrupt(format!("column {column} holds '{text}', not a time")))
}

pub(crate) fn time_opt(r: &AnyRow, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    match r.try_get::<Option<String>, _>(column)? {
        Some(text) => parse_time(&text)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt(format!("column {column} holds '{text}', not a time"))),
        None => Ok(None),
    }
}

pub(crate) fn flag(r: &AnyRow, column: &str) -> Result<bool, StoreError> {
    Ok(r.try_get::<i64, _>(column)? != 0)
}

/// A column holding one of our enums by its serde name (a mode, a level…).
pub(crate) fn enum_column<T: serde::de::DeserializeOwned>(r: &AnyRow, column: &str) -> Result<T, StoreError> {
    let text: String = r.try_get(column)?;
    serde_json::from_value(serde_json::Value::String(text.clone()))
        .map_err(|_| StoreError::Corrupt(format!("column {column} holds '{text}'")))
}

/// RFC 3339, or the "YYYY-MM-DD HH:MM:SS" form SQLite's own functions write.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_back_as_written() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(stamp(at), "2026-12-01T10:00:00.123456+00:00");
        assert_eq!(parse_time(&stamp(at)), Some(at));
        assert!(parse_time("2026-12-01 10:00:00").is_some());
        assert_eq!(parse_time("yesterday"), None);
    }
}
