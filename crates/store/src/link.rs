//! Delivery to a class database. A learner's record queues each write in its
//! outbox, in the transaction that applied it locally; a background task
//! sends the queue, oldest first, in batches. On the class side each batch is
//! one transaction that also files every write's (origin, seq) in
//! `delivered`: a write sent again — its batch committed but the learner
//! never heard — is skipped there, so each arrives exactly once. Only after
//! the commit does the outbox let the batch go. While the class database
//! cannot be reached the run goes on; the queue waits in the learner's file
//! and is sent when it can be (by this run, or by the next one linked).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Row};
use tokio::sync::{Mutex, Notify};

use crate::columns::stamp;
use crate::{Engine, Location, StoreError, Write};

/// Writes per class-side transaction.
const BATCH: i64 = 200;
/// How long delivery rests after a failure, at most.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The channel the class board listens on (see [`crate::BoardWatch`]).
pub(crate) const CHANNEL: &str = "snaplab_board";

/// How delivery to the class database stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LinkStatus {
    /// The class database, password hidden.
    pub class: String,
    /// Writes waiting in the learner's record.
    pub pending: i64,
    /// Writes delivered since this record was opened.
    pub delivered: i64,
    /// Writes the class database refused (e.g. of a run it never saw start); kept out of the queue.
    pub rejected: i64,
    /// The last delivery failed: why (the queue is kept).
    pub last_error: Option<String>,
}

#[derive(Clone)]
pub(crate) struct ClassLink {
    inner: Arc<Inner>,
}

struct Inner {
    location: Location,
    local: AnyPool,
    class: AnyPool,
    /// This record's name among the class's records.
    origin: String,
    wake: Notify,
    progress: Notify,
    stopping: Notify,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    migrated: bool,
    delivered: i64,
    rejected: i64,
    last_error: Option<String>,
    stopped: bool,
}

impl fmt::Debug for ClassLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClassLink")
            .field("class", &self.inner.location)
            .field("origin", &self.inner.origin)
            .finish()
    }
}

impl ClassLink {
    /// Starts delivering `local`'s outbox to `class`. The class database need
    /// not be reachable yet.
    pub(crate) async fn start(local: AnyPool, class: &Location) -> Result<Self, StoreError> {
        let Location::Postgres(url) = class else {
            return Err(StoreError::Usage(format!(
                "a class database is a postgres:// URL, not {class}"
            )));
        };
        let open_error = |source| StoreError::Open {
            location: class.describe(),
            source,
        };
        let options = AnyConnectOptions::from_str(url).map_err(open_error)?;
        let class_pool = AnyPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(3))
            .connect_lazy_with(options);
        let origin = origin(&local).await?;
        let link = Self {
            inner: Arc::new(Inner {
                location: class.clone(),
                local,
                class: class_pool,
                origin,
                wake: Notify::new(),
                progress: Notify::new(),
                stopping: Notify::new(),
                state: Mutex::new(State::default()),
            }),
        };
        let inner = link.inner.clone();
        tokio::spawn(async move { inner.deliver_forever().await });
        Ok(link)
    }

    pub(crate) fn location(&self) -> &Location {
        &self.inner.location
    }

    /// Queues `write` inside the local transaction that applied it.
    pub(crate) async fn enqueue(conn: &mut AnyConnection, write: &Write) -> Result<(), sqlx::Error> {
        let body = serde_json::to_string(write).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query("INSERT INTO outbox (body, queued_at) VALUES ($1, $2)")
            .bind(body)
            .bind(stamp(Utc::now()))
            .execute(conn)
            .await
            .map(drop)
    }

    /// Something was queued: deliver it now.
    pub(crate) fn wake(&self) {
        self.inner.wake.notify_one();
    }

    pub(crate) async fn status(&self) -> LinkStatus {
        self.inner.status().await
    }

    /// Waits until the outbox is empty, or `within` has passed.
    pub(crate) async fn flush(&self, within: Duration) -> LinkStatus {
        let deadline = Instant::now() + within;
        loop {
            let progress = self.inner.progress.notified();
            self.wake();
            let status = self.status().await;
            let left = deadline.saturating_duration_since(Instant::now());
            if status.pending == 0 || left.is_zero() {
                return status;
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(250)), progress).await;
        }
    }

    /// Stops delivering (what is queued stays queued).
    pub(crate) async fn stop(&self) {
        self.inner.state.lock().await.stopped = true;
        self.inner.stopping.notify_waiters();
        self.inner.class.close().await;
    }
}

impl Inner {
    async fn status(&self) -> LinkStatus {
        let pending = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox")
            .fetch_one(&self.local)
            .await
            .unwrap_or(-1);
        let state = self.state.lock().await;
        LinkStatus {
            class: self.location.describe(),
            pending,
            delivered: state.delivered,
            rejected: state.rejected,
            last_error: state.last_error.clone(),
        }
    }

    async fn deliver_forever(self: Arc<Self>) {
        let mut backoff = Duration::from_millis(250);
        loop {
            if self.state.lock().await.stopped {
                return;
            }
            let rest = match self.deliver_some().await {
                Ok(0) => Duration::from_secs(2),
                Ok(_) => {
                    backoff = Duration::from_millis(250);
                    self.progress.notify_waiters();
                    continue;
                }
                Err(e) => {
                    tracing::warn!(class = %self.location, error = %e, "the class database cannot be reached; writes wait in the outbox");
                    self.state.lock().await.last_error = Some(e.to_string());
                    self.progress.notify_waiters();
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    backoff
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = self.stopping.notified() => return,
                () = tokio::time::sleep(rest) => {}
            }
        }
    }

    /// Sends the oldest batch; how many writes left the outbox.
    async fn deliver_some(&self) -> Result<usize, sqlx::Error> {
        let rows = sqlx::query("SELECT seq, body FROM outbox ORDER BY seq LIMIT $1")
            .bind(BATCH)
            .fetch_all(&self.local)
            .await?;
        let batch = rows
            .iter()
            .map(|r| Ok((r.try_get::<i64, _>("seq")?, r.try_get::<String, _>("body")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let Some(&(last, _)) = batch.last() else {
            return Ok(0);
        };
        self.migrate_once().await?;
        match self.send(&batch).await {
            Ok(()) => {}
            // The class database refused a write: find it, send the rest.
            Err(e) if refused(&e) && batch.len() > 1 => {
                for one in batch.chunks(1) {
                    self.send_or_reject(one).await?;
                }
            }
            Err(e) if refused(&e) => self.reject(&batch, &e.to_string()).await?,
            Err(e) => return Err(e),
        }
        sqlx::query("DELETE FROM outbox WHERE seq <= $1")
            .bind(last)
            .execute(&self.local)
            .await?;
        let mut state = self.state.lock().await;
        state.delivered += i64::try_from(batch.len()).unwrap_or(i64::MAX);
        state.last_error = None;
        Ok(batch.len())
    }

    async fn send_or_reject(&self, one: &[(i64, String)]) -> Result<(), sqlx::Error> {
        match self.send(one).await {
            Err(e) if refused(&e) => self.reject(one, &e.to_string()).await,
            other => other,
        }
    }

    /// A write the class database will never take (its run never arrived
    /// there, say): filed as delivered so it cannot block the queue.
    async fn reject(&self, one: &[(i64, String)], why: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.class.begin().await?;
        for (seq, _) in one {
            self.file_delivered(&mut tx, *seq).await?;
        }
        tx.commit().await?;
        tracing::warn!(class = %self.location, error = why, "the class database refused a write; it stays in the learner's own record only");
        self.state.lock().await.rejected += i64::try_from(one.len()).unwrap_or(i64::MAX);
        Ok(())
    }

    /// One class-side transaction: each write not seen before is applied.
    async fn send(&self, batch: &[(i64, String)]) -> Result<(), sqlx::Error> {
        let mut tx = self.class.begin().await?;
        for (seq, body) in batch {
            if !self.file_delivered(&mut tx, *seq).await? {
                continue;
            }
            match serde_json::from_str::<Write>(body) {
                Ok(write) => {
                    write.apply(&mut tx).await?;
                }
                Err(e) => tracing::warn!(seq, error = %e, "an unreadable write in the outbox is skipped"),
            }
        }
        sqlx::query(&format!("NOTIFY {CHANNEL}")).execute(&mut *tx).await?;
        tx.commit().await
    }

    /// Files (origin, seq) as delivered; false when it already was.
    async fn file_delivered(&self, conn: &mut AnyConnection, seq: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO delivered (origin, seq, at) VALUES ($1, $2, $3) ON CONFLICT (origin, seq) DO NOTHING",
        )
        .bind(&self.origin)
        .bind(seq)
        .bind(stamp(Utc::now()))
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn migrate_once(&self) -> Result<(), sqlx::Error> {
        if self.state.lock().await.migrated {
            return Ok(());
        }
        crate::migrator(Engine::Postgres)
            .run(&self.class)
            .await
            .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
        self.state.lock().await.migrated = true;
        Ok(())
    }
}

/// The class database refused the data itself (a key or constraint), which
/// sending again cannot mend; anything else (a dropped connection, a server
/// shutting down) is retried.
fn refused(e: &sqlx::Error) -> bool {
    use sqlx::error::ErrorKind;
    matches!(e, sqlx::Error::Database(db) if matches!(
        db.kind(),
        ErrorKind::ForeignKeyViolation | ErrorKind::NotNullViolation | ErrorKind::CheckViolation | ErrorKind::UniqueViolation
    ))
}

/// This record's origin id: made once, kept in the file.
async fn origin(local: &AnyPool) -> Result<String, StoreError> {
    let fresh = uuid::Uuid::new_v4().simple().to_string();
    sqlx::query("INSERT INTO record_meta (key, value) VALUES ('origin', $1) ON CONFLICT (key) DO NOTHING")
        .bind(&fresh)
        .execute(local)
        .await?;
    Ok(sqlx::query_scalar("SELECT value FROM record_meta WHERE key = 'origin'")
        .fetch_one(local)
        .await?)
}
