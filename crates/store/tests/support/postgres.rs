//! The PostgreSQL server the tests run beside (scripts/with-postgres.sh
//! starts it and sets SNAPLAB_TEST_POSTGRES): a fresh database per test, and
//! a TCP proxy in front of it whose connections a test can cut.
//! (Shared by path with crates/session's tests.)
#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it; a failed unwrap is a failed test

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use snaplab_store::{Location, Store};
use sqlx::{AnyConnection, Connection, Row};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The test server's URL (its `postgres` database).
pub fn server_url() -> String {
    std::env::var("SNAPLAB_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "SNAPLAB_TEST_POSTGRES is not set: the store's tests run on PostgreSQL too. \
             Run them beside a throwaway server: scripts/with-postgres.sh cargo nextest run (make test does)"
        )
    })
}

/// Creates a database named after the test; returns its URL.
pub async fn fresh_database(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let server = server_url();
    let db: String = format!("t_{name}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let mut conn = sqlx::PgConnection::connect(&server).await.unwrap();
    for sql in [format!("DROP DATABASE IF EXISTS {db}"), format!("CREATE DATABASE {db}")] {
        sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
    with_database(&server, &db)
}

/// `url` with its database replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let (scheme, rest) = base.split_once("://").unwrap();
    let host = rest.split('/').next().unwrap();
    format!("{scheme}://{host}/{db}{query}")
}

/// Every table's rows of the record, as text, in a stable order: what
/// "the same record" means (the learner's file and the class database).
pub async fn contents(store: &Store) -> Vec<(String, Vec<String>)> {
    sqlx::any::install_default_drivers();
    let url = match store.location() {
        Location::Sqlite(path) => format!("sqlite://{}", path.display()),
        Location::Postgres(url) => url.clone(),
    };
    let mut conn = AnyConnection::connect(&url).await.unwrap();
    let mut all = Vec::new();
    for (table, columns, order) in [
        ("learners", "name", "name"),
        (
            "runs",
            "id, lab_id, learner_id, status, started_at, finished_at, steps_passed, steps_total, context_json, verification_json, awaiting_since",
            "id",
        ),
        ("steps", "run_id, step_id, idx, title, status, started_at, finished_at", "run_id, idx"),
        ("checks", "run_id, step_id, check_id, passed, message, at", "id"),
        ("api_calls", "run_id, step_id, operation, request_id, duration_ms, error, at", "id"),
        ("snapshot_progress", "run_id, snapshot_id, state, percent, at", "id"),
        ("workload_samples", "run_id, CAST(ROUND(orders_per_s * 1000) AS BIGINT), acknowledged, last_seq, paused, at", "id"),
        ("orders", "run_id, seq, product_id, quantity, begun_at_us, acked_at_us", "run_id, seq"),
        ("resources", "run_id, resource_id, kind, role, created_at, deleted_at", "run_id, resource_id"),
        ("notices", "run_id, level, message, at", "id"),
        ("answers", "run_id, question_id, answer, correct, asked, at", "run_id, question_id"),
        ("commands", "run_id, seq, step_id, command, exit_status", "run_id, seq"),
    ] {
        // (Reals compared to a thousandth: each engine prints them its own way.)
        let texts = columns
            .split(", ")
            .map(|c| format!("COALESCE(CAST({c} AS TEXT), '∅')"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows = sqlx::query(&format!("SELECT {texts} AS line FROM {table} ORDER BY {order}"))
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>("line").unwrap())
            .collect();
        all.push((table.to_string(), rows));
    }
    conn.close().await.unwrap();
    all
}

/// Fails, naming the rows that differ (a few per table), unless both hold the same.
pub fn assert_same(got: &[(String, Vec<String>)], want: &[(String, Vec<String>)], what: &str) {
    let mut differences = Vec::new();
    for ((table, got), (_, want)) in got.iter().zip(want) {
        let extra: Vec<&String> = got.iter().filter(|r| !want.contains(r)).take(3).collect();
        let missing: Vec<&String> = want.iter().filter(|r| !got.contains(r)).take(3).collect();
        if got.len() != want.len() || !extra.is_empty() || !missing.is_empty() {
            let cut = |r: &&String| r.chars().take(300).collect::<String>();
            differences.push(format!(
                "{table}: {} rows, want {}; extra {:?}; missing {:?}",
                got.len(),
                want.len(),
                extra.iter().map(cut).collect::<Vec<_>>(),
                missing.iter().map(cut).collect::<Vec<_>>()
            ));
        }
    }
    assert!(differences.is_empty(), "{what}:\n{}", differences.join("\n"));
}

pub fn count(contents: &[(String, Vec<String>)], table: &str) -> usize {
    contents.iter().find(|(t, _)| t == table).unwrap().1.len()
}

/// A TCP proxy to the test server. `cut` drops every connection through it
/// and refuses new ones (a learner's network gone); `restore` lets them in.
pub struct Proxy {
    pub port: u16,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start() -> Self {
        let server = server_url();
        let target = server.split_once("://").unwrap().1.split('/').next().unwrap();
        let target = target.rsplit_once('@').map_or(target, |(_, h)| h).to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = tokio::spawn({
            let (open, links) = (open.clone(), links.clone());
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !open.load(Ordering::SeqCst) {
                        continue; // dropped: the connection closes at once
                    }
                    let target = target.clone();
                    links.lock().unwrap().push(tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&target).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    }));
                }
            }
        });
        Self {
            port,
            open,
            links,
            accept,
        }
    }

    /// `url` (on the test server) reached through this proxy.
    pub fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let user = authority
            .rsplit_once('@')
            .map_or(String::new(), |(u, _)| format!("{u}@"));
        format!("{scheme}://{user}127.0.0.1:{}{tail}", self.port)
    }

    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
