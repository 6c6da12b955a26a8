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
use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, AnyPool, Connection, Row};
use tokio::sync::{Mutex, Notify};

use crate::columns::stamp;
use crate::{Engine, Location, StoreError, Write};

/// Writes per class-side transaction.
const BATCH: i64 = 200;
/// How long one connection attempt, or one batch, may take before it counts as failed.
const PATIENCE: Duration = Duration::from_secs(15);
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
    class: AnyConnectOptions,
    /// The delivery task's connection to the class database (dropped after a
    /// failure, made again on the next try).
    conn: Mutex<Option<AnyConnection>>,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// This record's name among the class's records.
    origin: String,
    wake: Notify,
    progress: Notify,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    migrated: bool,
    delivered: i64,
    rejected: i64,
    last_error: Option<String>,
    /// Deliveries that failed since the record was opened.
    failures: u64,
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
        let origin = origin(&local).await?;
        let link = Self {
            inner: Arc::new(Inner {
                location: class.clone(),
                local,
                class: options,
                conn: Mutex::new(None),
                task: std::sync::Mutex::new(None),
                origin,
                wake: Notify::new(),
                progress: Notify::new(),
                state: Mutex::new(State::default()),
            }),
        };
        let inner = link.inner.clone();
        let task = tokio::spawn(async move { inner.deliver_forever().await });
        if let Ok(mut slot) = link.inner.task.lock() {
            *slot = Some(task);
        }
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

    /// Waits until the outbox is empty, `within` has passed, or two tries in
    /// a row have failed (the class database is not there now: no use waiting).
    pub(crate) async fn flush(&self, within: Duration) -> LinkStatus {
        let deadline = Instant::now() + within;
        let failed_before = self.inner.state.lock().await.failures;
        loop {
            let progress = self.inner.progress.notified();
            self.wake();
            let status = self.status().await;
            let left = deadline.saturating_duration_since(Instant::now());
            let failing = self.inner.state.lock().await.failures >= failed_before + 2;
            if status.pending == 0 || left.is_zero() || failing {
                return status;
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(250)), progress).await;
        }
    }

    /// Stops delivering (what is queued stays queued). The task is aborted
    /// wherever it is: a batch cut off is rolled back, or — committed but not
    /// yet let go locally — skipped when sent again.
    pub(crate) async fn stop(&self) {
        let task = self.inner.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            task.abort();
        }
        if let Some(conn) = self.inner.conn.lock().await.take() {
            let _ = conn.close().await;
        }
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
            let rest = match self.deliver_some().await {
                Ok(0) => Duration::from_secs(2),
                Ok(_) => {
                    backoff = Duration::from_millis(250);
                    self.progress.notify_waiters();
                    continue;
                }
                Err(e) => {
                    let mut state = self.state.lock().await;
                    // Said once per outage; the status says it from then on.
                    if state.last_error.is_none() {
                        tracing::info!(class = %self.location, error = %e, "the class database cannot be reached; writes wait in the outbox");
                    } else {
                        tracing::debug!(class = %self.location, error = %e, "the class database still cannot be reached");
                    }
                    state.last_error = Some(e.to_string());
                    state.failures += 1;
                    drop(state);
                    self.progress.notify_waiters();
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    backoff
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
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
        let mut slot = self.conn.lock().await;
        let conn = match slot.take() {
            Some(conn) => conn,
            None => tokio::time::timeout(PATIENCE, AnyConnection::connect_with(&self.class))
                .await
                .unwrap_or_else(|_| Err(no_answer()))?,
        };
        let conn = slot.insert(conn);
        let sent = tokio::time::timeout(PATIENCE, self.deliver(conn, &batch)).await;
        if let Err(e) = sent.unwrap_or_else(|_| Err(no_answer())) {
            // The connection may be broken: a new one next time.
            *slot = None;
            return Err(e);
        }
        drop(slot);
        sqlx::query("DELETE FROM outbox WHERE seq <= $1")
            .bind(last)
            .execute(&self.local)
            .await?;
        let mut state = self.state.lock().await;
        state.delivered += i64::try_from(batch.len()).unwrap_or(i64::MAX);
        state.last_error = None;
        Ok(batch.len())
    }

    /// Sends a batch over `conn`; a write the class database refuses is
    /// found (one by one) and set aside, and the rest sent.
    async fn deliver(&self, conn: &mut AnyConnection, batch: &[(i64, String)]) -> Result<(), sqlx::Error> {
        self.migrate_once(conn).await?;
        match self.send(conn, batch).await {
            Err(e) if refused(&e) => {
                for one in batch.chunks(1) {
                    match self.send(conn, one).await {
                        Err(e) if refused(&e) => self.reject(conn, one, &e.to_string()).await?,
                        other => other?,
                    }
                }
                Ok(())
            }
            other => other,
        }
    }

    /// A write the class database will never take (its run never arrived
    /// there, say): filed as delivered so it cannot block the queue.
    async fn reject(&self, conn: &mut AnyConnection, one: &[(i64, String)], why: &str) -> Result<(), sqlx::Error> {
        let mut tx = conn.begin().await?;
        for (seq, _) in one {
            self.file_delivered(&mut tx, *seq).await?;
        }
        tx.commit().await?;
        tracing::warn!(class = %self.location, error = why, "the class database refused a write; it stays in the learner's own record only");
        self.state.lock().await.rejected += i64::try_from(one.len()).unwrap_or(i64::MAX);
        Ok(())
    }

    /// One class-side transaction: each write not seen before is applied.
    async fn send(&self, conn: &mut AnyConnection, batch: &[(i64, String)]) -> Result<(), sqlx::Error> {
        let mut tx = conn.begin().await?;
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

    async fn migrate_once(&self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        if self.state.lock().await.migrated {
            return Ok(());
        }
        crate::migrator(Engine::Postgres)
            .run_direct(conn)
            .await
            .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
        self.state.lock().await.migrated = true;
        Ok(())
    }
}

/// A connection or batch that took longer than [`PATIENCE`] (a network that
/// drops packets rather than refusing them).
fn no_answer() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("no answer within {} s", PATIENCE.as_secs()),
    ))
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
