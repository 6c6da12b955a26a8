//! The PostgreSQL server the tests run beside (scripts/with-postgres.sh
//! starts it and sets SNAPLAB_TEST_POSTGRES): a fresh database per test, and
//! a TCP proxy in front of it whose connections a test can cut.
//! (Shared by path with crates/session's tests.)
#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it; a failed unwrap is a failed test

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::Connection;
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
