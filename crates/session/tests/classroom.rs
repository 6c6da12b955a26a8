//! A class on one emulator: learners running `--endpoint` at the same moment
//! each drive a SecureCart of their own (their access key is their account),
//! and two runs that share one world never touch it at once; a learner whose
//! connection to the class database (a real PostgreSQL server) drops mid-run
//! loses nothing, and nothing arrives twice.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

#[path = "../../store/tests/support/postgres.rs"]
mod postgres;
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use snaplab_emulator::{Emulator, EmulatorConfig, Pace};
use snaplab_lab::{Catalog, Consistency, EventKind, LabEvent, Mode, NoLearner, RunOutcome, RunStatus};
use snaplab_session::{plan, RunRequest};
use snaplab_store::{Location, Store};
use support::{Dir, Watch};
use tokio::sync::oneshot;

fn request(endpoint: &str, learner: &str) -> RunRequest {
    RunRequest {
        lab: "securecart-snapshot".into(),
        endpoint: Some(endpoint.into()),
        mode: Mode::Guided,
        consistency: Consistency::Crash,
        pace: None,
        emulator_port: None,
        learner: learner.into(),
        access_key: None,
        resume: None,
        record: true,
        aws: None,
    }
}

fn notices(seen: &Mutex<Vec<LabEvent>>) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Notice { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// One learner's run to its end: its outcome, what the record says of it, and its notices.
async fn run(
    store: &Store,
    catalog: &Catalog,
    request: RunRequest,
) -> (RunOutcome, snaplab_lab::RunContext, Vec<String>) {
    let plan = plan(store, catalog, request).await.unwrap();
    let run_id = plan.run_id.clone();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Box::new(Watch {
        seen: seen.clone(),
        step: "none",
        when: None,
    });
    // Boxed: a run's future is large, and several share this thread's stack.
    let started = Box::pin(plan.start(vec![sink], Box::new(NoLearner))).await.unwrap();
    let ended = Box::pin(started.run_until(std::future::pending())).await.unwrap();
    let context = store.context(&run_id).await.unwrap();
    (ended.outcome, context, notices(&seen))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_learners_on_one_emulator_at_once_each_drive_their_own_securecart() {
    let dir = Dir::new("four");
    let emulator = Emulator::start(EmulatorConfig {
        pace: Pace::Instant,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let store = Store::open(&dir.0.join("class.db")).await.unwrap();
    let catalog = Catalog::builtin().unwrap();
    let learners = ["ada", "grace", "edsger", "barbara"];
    let runs = learners.map(|l| Box::pin(run(&store, &catalog, request(emulator.endpoint(), l))));
    let ended = futures_join_all(runs).await;
    let mut instances = Vec::new();
    for ((outcome, context, notices), learner) in ended.into_iter().zip(learners) {
        assert_eq!(outcome, RunOutcome::Passed, "{learner}: {notices:?}");
        assert_eq!(
            context.target.access_key.as_deref(),
            Some(snaplab_cloud::learner_access_key(learner).as_str()),
            "{learner} signs with a key of their own"
        );
        instances.push(context.scenario.unwrap().instance_id);
    }
    instances.sort();
    instances.dedup();
    assert_eq!(instances.len(), 4, "four SecureCarts: {instances:?}");
    emulator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_in_the_same_world_says_it_is_in_use_and_touches_nothing() {
    let dir = Dir::new("lease");
    let emulator = Emulator::start(EmulatorConfig {
        pace: Pace::Demo,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let store = Store::open(&dir.0.join("class.db")).await.unwrap();
    let catalog = Catalog::builtin().unwrap();
    let shared = |learner: &str| RunRequest {
        access_key: Some("AKIASHAREDDESK".into()),
        pace: None,
        ..request(emulator.endpoint(), learner)
    };

    // Ada's run holds the world from its first step on…
    let first = plan(&store, &catalog, shared("ada")).await.unwrap();
    let first_id = first.run_id.clone();
    let (tx, shop_open) = oneshot::channel();
    let sink = Box::new(Watch {
        seen: Arc::default(),
        step: "start-shop",
        when: Some(tx),
    });
    let first = tokio::spawn(async move {
        let started = Box::pin(first.start(vec![sink], Box::new(NoLearner))).await.unwrap();
        Box::pin(started.run_until(std::future::pending()))
            .await
            .unwrap()
            .outcome
    });
    shop_open.await.unwrap();

    // …so Grace's, on the same key, stops before touching it, saying whose it is.
    let (outcome, context, notices) = Box::pin(run(&store, &catalog, shared("grace"))).await;
    assert_eq!(outcome, RunOutcome::Failed);
    let refusal = notices
        .iter()
        .find(|n| n.contains("in use by run"))
        .unwrap_or_else(|| panic!("{notices:?}"));
    assert!(refusal.contains(&first_id) && refusal.contains("ada"), "{refusal}");
    assert!(refusal.contains("--access-key"), "it says what to do: {refusal}");
    assert!(context.finished.is_empty(), "no step ran: {:?}", context.finished);
    assert!(
        context.resources.is_empty(),
        "nothing was made: {:?}",
        context.resources
    );

    // Once Ada's run has ended its lease is gone: the world is Grace's to use.
    assert_eq!(first.await.unwrap(), RunOutcome::Passed);
    let (outcome, _, notices) = Box::pin(run(&store, &catalog, shared("grace"))).await;
    assert_eq!(outcome, RunOutcome::Passed, "{notices:?}");
    emulator.stop().await;
}

/// Runs futures to their ends, concurrently, in order.
async fn futures_join_all<F: std::future::Future>(futures: [F; 4]) -> Vec<F::Output> {
    let [a, b, c, d] = futures;
    let (a, b, c, d) = tokio::join!(a, b, c, d);
    vec![a, b, c, d]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_whose_class_database_drops_mid_run_loses_nothing_and_nothing_arrives_twice() {
    let dir = Dir::new("dropped");
    let emulator = Emulator::start(EmulatorConfig {
        pace: Pace::Demo,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let class_url = postgres::fresh_database("dropped").await;
    let proxy = postgres::Proxy::start().await;
    let store = Store::open_linked(&dir.0.join("mine.db"), &proxy.url(&class_url))
        .await
        .unwrap();
    let catalog = Catalog::builtin().unwrap();
    let plan = plan(&store, &catalog, request(emulator.endpoint(), "grace"))
        .await
        .unwrap();
    let run_id = plan.run_id.clone();
    let (sink, _seen, shop_open) = support::watch("start-shop");
    let running = tokio::spawn(async move {
        let started = Box::pin(plan.start(vec![sink], Box::new(NoLearner))).await.unwrap();
        Box::pin(started.run_until(std::future::pending()))
            .await
            .unwrap()
            .outcome
    });

    // The shop is taking orders when the learner's network to the class goes.
    shop_open.await.unwrap();
    proxy.cut();
    let class = Store::open_at(&Location::Postgres(class_url.clone())).await.unwrap();
    let before = postgres::contents(&class).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let cut_off = loop {
        let status = store.class_status().await.unwrap();
        if status.pending >= 80 && status.last_error.is_some() {
            break status;
        }
        assert!(Instant::now() < deadline, "the run's writes should pile up: {status:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let during = postgres::contents(&class).await;
    postgres::assert_same(&during, &before, "nothing reaches the class while cut");

    // It comes back while the run goes on; the run passes as if nothing happened.
    proxy.restore();
    let outcome = running.await.unwrap();
    assert_eq!(outcome, RunOutcome::Passed);
    let drain = Instant::now();
    let status = store.flush_class(Duration::from_secs(30)).await.unwrap();
    assert_eq!((status.pending, status.rejected), (0, 0), "{status:?}");
    let mine = postgres::contents(&store).await;
    let orders = postgres::count(&mine, "orders");
    assert!(
        orders > postgres::count(&during, "orders"),
        "orders taken while cut arrived later"
    );
    postgres::assert_same(
        &postgres::contents(&class).await,
        &mine,
        "every event exactly once, none lost",
    );
    assert_eq!(class.summary(&run_id).await.unwrap().outcome, RunStatus::Passed);
    eprintln!(
        "cut with {} writes waiting ({:?}); after the run: {} writes delivered in all, {orders} orders, the last drained in {:?}",
        cut_off.pending,
        cut_off.last_error,
        status.delivered,
        drain.elapsed()
    );
    store.close().await;
    emulator.stop().await;
}
