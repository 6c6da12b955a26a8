//! A learner's record linked to a class database on a real PostgreSQL
//! server: every write arrives once, in order; with the connection cut (a
//! TCP proxy between them drops it) the run goes on, its writes wait in the
//! learner's file and arrive when the connection is back — none lost, none
//! twice, even one sent again after its batch committed; a queue left by a
//! closed run is sent by the next; a write the class refuses does not block
//! the rest; the board hears each delivery (LISTEN/NOTIFY); a server that
//! requires TLS is reached over it.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use snaplab_lab::{EventKind, Level, RunOutcome};
use snaplab_store::{Location, Store};
use sqlx::AnyConnection;
use sqlx::Connection;

mod support;
use support::postgres::{assert_same, contents, count, fresh_database, Proxy};
use support::run::*;
use support::Dir;

/// Waits until every queued write is delivered (the test fails if not within 30 s).
async fn delivered(store: &Store) {
    let status = store.flush_class(Duration::from_secs(30)).await.unwrap();
    assert_eq!(status.pending, 0, "{status:?}");
}

#[tokio::test]
async fn every_write_reaches_the_class_database_once_and_reads_back_the_same() {
    let dir = Dir::new("linked");
    let class_url = fresh_database("linked").await;
    let store = Store::open_linked(&dir.0.join("mine.db"), &class_url).await.unwrap();
    record_a_run(&store, "run-1", "ada", Some(RunOutcome::Passed)).await;
    store
        .record_command("run-1", "aws ec2 describe-snapshots", 0, t0(), t0())
        .await
        .unwrap();
    delivered(&store).await;

    let class = store.class_view().await.unwrap();
    assert_eq!(class.location(), &Location::Postgres(class_url.clone()));
    let mine = contents(&store).await;
    assert_eq!(
        contents(&class).await,
        mine,
        "the class holds what the learner's file holds"
    );
    assert_eq!((count(&mine, "orders"), count(&mine, "commands")), (3, 1));
    // Read back through the store on both: the same report, the same board row.
    assert_eq!(
        class.report("run-1").await.unwrap().to_json(),
        store.report("run-1").await.unwrap().to_json()
    );
    let status = store.class_status().await.unwrap();
    assert_eq!(
        (status.pending, status.rejected, status.last_error.as_deref()),
        (0, 0, None)
    );
    assert!(status.delivered >= 15, "{status:?}");
    assert_eq!(status.class, Location::Postgres(class_url).describe());
    store.close().await;
}

#[tokio::test]
async fn with_the_connection_cut_the_run_goes_on_and_every_write_arrives_once_when_it_is_back() {
    let dir = Dir::new("cut");
    let class_url = fresh_database("cut").await;
    let proxy = Proxy::start().await;
    let store = Store::open_linked(&dir.0.join("mine.db"), &proxy.url(&class_url))
        .await
        .unwrap();
    let mut feed = Feed {
        recorder: store.recorder(),
        run_id: "run-c".into(),
        at: t0(),
    };
    feed.send(EventKind::RunStarted {
        resumed: false,
        steps_total: 9,
        context: Box::new(context("run-c", "grace", snaplab_cloud::TargetKind::Snaplab)),
        terminal: String::new(),
    })
    .await;
    delivered(&store).await;

    // The network goes: every write still succeeds, into the learner's file.
    proxy.cut();
    for i in 0..40 {
        feed.send(EventKind::Notice {
            level: Level::Info,
            message: format!("offline {i}"),
        })
        .await;
    }
    let waiting = store.flush_class(Duration::from_secs(2)).await.unwrap();
    assert_eq!(waiting.pending, 40, "{waiting:?}");
    assert!(waiting.last_error.is_some(), "it says why: {waiting:?}");
    let class = Store::open_at(&Location::Postgres(class_url.clone())).await.unwrap();
    assert_eq!(
        count(&contents(&class).await, "notices"),
        0,
        "nothing arrived while cut"
    );

    // Back: the queue drains, each write once.
    proxy.restore();
    delivered(&store).await;
    let mine = contents(&store).await;
    assert_eq!(count(&mine, "notices"), 40);
    assert_same(
        &contents(&class).await,
        &mine,
        "the class holds what the learner's file holds",
    );

    // A batch the class committed but whose answer was lost is sent again:
    // it is skipped there (the outbox keeps the same numbers).
    let url = match store.location() {
        Location::Sqlite(path) => format!("sqlite://{}", path.display()),
        Location::Postgres(_) => unreachable!(),
    };
    let mut local = AnyConnection::connect(&url).await.unwrap();
    let body = serde_json::to_string(&snaplab_store::Write::Event(snaplab_lab::LabEvent {
        run_id: "run-c".into(),
        at: t0(),
        kind: EventKind::Notice {
            level: Level::Info,
            message: "offline 0".into(),
        },
    }))
    .unwrap();
    // Seq 2 was the first notice's number (RunStarted was 1).
    sqlx::query("INSERT INTO outbox (seq, body, queued_at) VALUES (2, $1, 'then')")
        .bind(body)
        .execute(&mut local)
        .await
        .unwrap();
    delivered(&store).await;
    assert_same(&contents(&class).await, &mine, "sent twice, applied once");
    store.close().await;
}

#[tokio::test]
async fn a_queue_left_when_the_class_was_never_reached_is_sent_by_the_next_linked_open() {
    let dir = Dir::new("later");
    let class_url = fresh_database("later").await;
    let proxy = Proxy::start().await;
    proxy.cut();
    let file = dir.0.join("mine.db");
    let store = Store::open_linked(&file, &proxy.url(&class_url)).await.unwrap();
    record_a_run(&store, "run-l", "alan", Some(RunOutcome::Failed)).await;
    let left = store.flush_class(Duration::from_millis(500)).await.unwrap();
    assert!(left.pending > 10, "{left:?}");
    let mine = contents(&store).await;
    store.close().await;

    proxy.restore();
    let store = Store::open_linked(&file, &proxy.url(&class_url)).await.unwrap();
    delivered(&store).await;
    let class = Store::open_at(&Location::Postgres(class_url)).await.unwrap();
    assert_same(
        &contents(&class).await,
        &mine,
        "the class holds what the learner's file holds",
    );
    store.close().await;
}

#[tokio::test]
async fn a_write_the_class_refuses_does_not_hold_up_the_rest() {
    let dir = Dir::new("refuse");
    let class_url = fresh_database("refuse").await;
    let file = dir.0.join("mine.db");
    // A run begun before the record was linked: the class never saw it start.
    let before = Store::open(&file).await.unwrap();
    record_a_run(&before, "run-old", "edsger", None).await;
    before.close().await;

    let store = Store::open_linked(&file, &class_url).await.unwrap();
    store.heartbeat("run-old").await.unwrap();
    store
        .record_command("run-old", "aws ec2 describe-volumes", 0, t0(), t0())
        .await
        .unwrap();
    record_a_run(&store, "run-new", "edsger", Some(RunOutcome::Passed)).await;
    delivered(&store).await;
    let status = store.class_status().await.unwrap();
    assert_eq!(
        status.rejected, 1,
        "the command of a run the class never saw: {status:?}"
    );
    let class = Store::open_at(&Location::Postgres(class_url)).await.unwrap();
    assert_eq!(
        class.summary("run-new").await.unwrap().outcome,
        snaplab_lab::RunStatus::Passed
    );
    assert!(class.summary("run-old").await.is_err());
    store.close().await;
}

#[tokio::test]
async fn the_board_hears_each_delivery_at_once() {
    let dir = Dir::new("notify");
    let class_url = fresh_database("notify").await;
    let class = Store::open_at(&Location::Postgres(class_url.clone())).await.unwrap();
    let mut watch = class.board_watch().await.unwrap();
    assert!(watch.is_live());
    let store = Store::open_linked(&dir.0.join("mine.db"), &class_url).await.unwrap();
    let heard = tokio::spawn(async move {
        let start = Instant::now();
        let heard = watch.changed(Duration::from_secs(20)).await.unwrap();
        (heard, start.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut feed = Feed {
        recorder: store.recorder(),
        run_id: "run-n".into(),
        at: t0(),
    };
    feed.send(EventKind::RunStarted {
        resumed: false,
        steps_total: 9,
        context: Box::new(context("run-n", "barbara", snaplab_cloud::TargetKind::Snaplab)),
        terminal: String::new(),
    })
    .await;
    let (heard, after) = heard.await.unwrap();
    assert!(heard, "a notification, not the 20 s timeout (after {after:?})");
    assert!(after < Duration::from_secs(15), "{after:?}");
    let board = class
        .class_board(None, t0() + chrono::Duration::seconds(2))
        .await
        .unwrap();
    assert_eq!(
        board.iter().map(|r| r.learner.as_str()).collect::<Vec<_>>(),
        ["barbara"]
    );

    // On a file there is nothing to hear: the watch is a plain interval.
    let mut polled = store.board_watch().await.unwrap();
    assert!(!polled.is_live());
    assert!(!polled.changed(Duration::from_millis(50)).await.unwrap());
    store.close().await;
}

#[tokio::test]
async fn a_class_database_that_requires_tls_is_reached_over_tls() {
    let dir = Dir::new("tls");
    let url = format!("{}?sslmode=require", fresh_database("tls").await);
    let store = Store::open_linked(&dir.0.join("mine.db"), &url).await.unwrap();
    record_a_run(&store, "run-t", "ada", Some(RunOutcome::Passed)).await;
    delivered(&store).await;
    let class = Store::open_at(&Location::Postgres(url.clone())).await.unwrap();
    assert_eq!(
        class.summary("run-t").await.unwrap().outcome,
        snaplab_lab::RunStatus::Passed
    );
    let mut conn = AnyConnection::connect(&url).await.unwrap();
    let tls: String = sqlx::query_scalar("SELECT CAST(ssl AS TEXT) FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(tls, "true", "the connection is encrypted");
    store.close().await;
}
