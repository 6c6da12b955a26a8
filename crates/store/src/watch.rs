//! Waiting for the class board to change: LISTEN/NOTIFY on PostgreSQL (each
//! delivered batch notifies), a plain interval on SQLite.

use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::link::CHANNEL;
use crate::{Location, Store, StoreError};

/// Tells when the board may have changed.
pub struct BoardWatch {
    listener: Option<PgListener>,
}

impl Store {
    /// A watch on this record's board (on PostgreSQL, a listening connection).
    pub async fn board_watch(&self) -> Result<BoardWatch, StoreError> {
        let listener = match &self.location {
            Location::Postgres(url) => {
                let mut listener = PgListener::connect(url).await?;
                listener.listen(CHANNEL).await?;
                Some(listener)
            }
            Location::Sqlite(_) => None,
        };
        Ok(BoardWatch { listener })
    }
}

impl BoardWatch {
    /// Whether changes are pushed (PostgreSQL) rather than polled.
    pub fn is_live(&self) -> bool {
        self.listener.is_some()
    }

    /// Returns when the board changed, or after `at_most` (times on steps
    /// move on even when nothing is written). True when a change was heard.
    pub async fn changed(&mut self, at_most: Duration) -> Result<bool, StoreError> {
        let Some(listener) = &mut self.listener else {
            tokio::time::sleep(at_most).await;
            return Ok(false);
        };
        match tokio::time::timeout(at_most, listener.recv()).await {
            Err(_elapsed) => Ok(false),
            Ok(notice) => {
                notice?;
                // A burst of batches is one change to show.
                while let Ok(more) = tokio::time::timeout(Duration::from_millis(50), listener.recv()).await {
                    more?;
                }
                Ok(true)
            }
        }
    }
}
