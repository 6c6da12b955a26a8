//! One run wired together, on the built-in emulator at pace instant with a
//! real SQLite record: a new run, a run stopped from outside and resumed, the
//! clean-up of what an interrupted run left, and the refusals.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;
use snaplab_emulator::Pace;
use snaplab_lab::{Catalog, Consistency, EventKind, Ids, Mode, NoLearner, RunOutcome, RunStatus};
use snaplab_session::plan as plan_run;
use snaplab_session::{clean_up, plan_with, run_dir, RunRequest, SessionError, Sources};
use snaplab_store::{HistoryFilter, Store};
use support::{watch, Dir};

/// Plans `request()` changed by `patch`.
async fn plan_changed(
    store: &Store,
    catalog: &Catalog,
    patch: impl FnOnce(&mut RunRequest),
) -> Result<snaplab_session::RunPlan, SessionError> {
    let mut r = request();
    patch(&mut r);
    plan_run(store, catalog, r).await
}

fn request() -> RunRequest {
    RunRequest {
        lab: "securecart-snapshot".into(),
        endpoint: None,
        mode: Mode::Guided,
        consistency: Consistency::Crash,
        pace: Some(Pace::Instant),
        emulator_port: Some(0),
        learner: "ada".into(),
        access_key: None,
        resume: None,
        record: true,
        aws: None,
    }
}

/// Starts a new run and stops it from outside once `step` has finished; returns its id.
async fn run_then_stop_after(store: &Store, catalog: &Catalog, step: &'static str) -> String {
    let plan = plan_run(store, catalog, request()).await.unwrap();
    let run_id = plan.run_id.clone();
    let (sink, _, done) = watch(step);
    let ended = plan
        .start(vec![sink], Box::new(NoLearner))
        .await
        .unwrap()
        .run_until(async {
            let _ = done.await;
        })
        .await
        .unwrap();
    assert_eq!((ended.outcome, ended.stopped), (RunOutcome::Interrupted, true));
    run_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_run_is_recorded_passed_and_leaves_no_files() {
    let dir = Dir::new("new");
    let store = Store::open(&dir.0.join("r.db")).await.unwrap();
    let catalog = Catalog::builtin().unwrap();
    let sources = Sources {
        ids: Ids::seeded(3),
        ..Sources::default()
    };
    let plan = plan_with(&store, &catalog, request(), sources.clone()).await.unwrap();
    let expected = Ids::seeded(3).run_id(snaplab_lab::clock::now(&sources.clock));
    assert_eq!(
        &plan.run_id[..20],
        &expected[..20],
        "the run id comes from the injected sources"
    );
    let run_id = plan.run_id.clone();
    let started = plan.start(Vec::new(), Box::new(NoLearner)).await.unwrap();
    let ended = started.run_until(std::future::pending()).await.unwrap();
    assert_eq!((ended.outcome, ended.stopped), (RunOutcome::Passed, false));
    let s = store.summary(&run_id).await.unwrap();
    assert_eq!((s.outcome, s.steps_passed, s.resources_left), (RunStatus::Passed, 9, 0));
    assert!(
        !run_dir(store.path().unwrap(), &run_id).exists(),
        "a finished run's emulator state is removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_run_is_interrupted_resumes_where_it_stopped_and_cannot_be_resumed_twice() {
    let dir = Dir::new("stop");
    let store = Store::open(&dir.0.join("r.db")).await.unwrap();
    let catalog = Catalog::builtin().unwrap();
    let plan = plan_run(&store, &catalog, request()).await.unwrap();
    let run_id = plan.run_id.clone();
    let (sink, seen, snapshot_made) = watch("create-snapshot");
    let started = plan.start(vec![sink], Box::new(NoLearner)).await.unwrap();
    let ended = started
        .run_until(async {
            let _ = snapshot_made.await;
        })
        .await
        .unwrap();
    assert_eq!((ended.outcome, ended.stopped), (RunOutcome::Interrupted, true));
    assert_eq!(store.status(&run_id).await.unwrap(), RunStatus::Interrupted);
    assert!(
        run_dir(store.path().unwrap(), &run_id).join("emulator").exists(),
        "kept to resume"
    );
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert!(
        matches!(
            last.kind,
            EventKind::RunFinished {
                outcome: RunOutcome::Interrupted,
                ..
            }
        ),
        "every sink heard the run end: {last:?}"
    );

    let again = plan_changed(&store, &catalog, |r| r.resume = Some(run_id.clone()))
        .await
        .unwrap();
    assert_eq!(again.run_id, run_id);
    let (sink, seen, _) = watch("none");
    let ended = again
        .start(vec![sink], Box::new(NoLearner))
        .await
        .unwrap()
        .run_until(std::future::pending())
        .await
        .unwrap();
    assert_eq!(ended.outcome, RunOutcome::Passed);
    let steps: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepStarted { step_id, .. } => Some(step_id.clone()),
            _ => None,
        })
        .collect();
    assert!(!steps.contains(&"start-shop".to_string()), "{steps:?}");
    assert_eq!(steps.last().map(String::as_str), Some("cleanup"));
    // Stopped while the step's end was being recorded, create-snapshot may
    // start again: then it is found done, and no second snapshot is made.
    let seen = seen.lock().unwrap().clone();
    let snapshots_made = seen
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::ApiCall { call } if call.operation == "CreateSnapshot"))
        .count();
    assert_eq!(snapshots_made, 0);
    if steps.first().map(String::as_str) == Some("create-snapshot") {
        assert!(seen.iter().any(|e| matches!(&e.kind, EventKind::Notice { message, .. }
            if message == "Create the snapshot: already done before the interruption.")));
    }

    match plan_changed(&store, &catalog, |r| r.resume = Some(run_id.clone())).await {
        Err(e @ SessionError::AlreadyFinished { .. }) => {
            assert_eq!(
                e.to_string(),
                format!("run {run_id} already finished (passed); start a new one")
            );
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a finished run was resumed"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_up_deletes_what_an_interrupted_run_left_and_only_once() {
    let dir = Dir::new("cleanup");
    let store = Store::open(&dir.0.join("r.db")).await.unwrap();
    let catalog = Catalog::builtin().unwrap();
    let run_id = run_then_stop_after(&store, &catalog, "restore").await;
    assert_eq!(
        store.summary(&run_id).await.unwrap().resources_left,
        2,
        "a snapshot and a restored volume"
    );

    let cleaned = clean_up(&store, &catalog, &run_id).await.unwrap();
    assert_eq!(
        (cleaned.left, cleaned.deleted, cleaned.emulator_state_gone),
        (2, 2, false)
    );
    assert_eq!(store.summary(&run_id).await.unwrap().resources_left, 0);
    let r = store.report(&run_id).await.unwrap();
    assert!(r.resources.iter().all(|x| x.deleted_at.is_some()));
    assert!(r
        .api_calls
        .iter()
        .any(|c| c.operation == "DeleteVolume" && c.step_id.as_deref() == Some("cleanup")));
    let twice = clean_up(&store, &catalog, &run_id).await.unwrap();
    assert_eq!((twice.left, twice.deleted), (0, 0), "nothing left the second time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_up_after_the_built_in_emulators_state_is_gone_records_the_resources_gone() {
    let dir = Dir::new("gone");
    let store = Store::open(&dir.0.join("r.db")).await.unwrap();
    let catalog = Catalog::builtin().unwrap();
    let run_id = run_then_stop_after(&store, &catalog, "create-snapshot").await;
    std::fs::remove_dir_all(run_dir(store.path().unwrap(), &run_id)).unwrap();
    let cleaned = clean_up(&store, &catalog, &run_id).await.unwrap();
    assert_eq!(
        (cleaned.left, cleaned.deleted, cleaned.emulator_state_gone),
        (1, 0, true)
    );
    assert_eq!(store.summary(&run_id).await.unwrap().resources_left, 0);
    let (ctx, _) = store.resume_state(&run_id).await.unwrap();
    assert!(
        ctx.resources.iter().all(|r| r.deleted),
        "the context agrees with the table"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_aws_endpoint_or_an_unknown_run_is_refused_before_anything_is_recorded() {
    let dir = Dir::new("refused");
    let store = Store::open(&dir.0.join("r.db")).await.unwrap();
    let catalog = Catalog::builtin().unwrap();
    for url in ["https://ec2.us-east-1.amazonaws.com", "https://EC2.US-EAST-1.API.AWS."] {
        let plan = plan_changed(&store, &catalog, |r| r.endpoint = Some(url.into()))
            .await
            .unwrap();
        match plan.start(Vec::new(), Box::new(NoLearner)).await {
            Err(SessionError::Cloud(e)) => assert!(e.is_real_aws(), "{e}"),
            Err(e) => panic!("{url}: {e}"),
            Ok(_) => panic!("{url} was not refused"),
        }
    }
    assert!(store.history(&HistoryFilter::default()).await.unwrap().is_empty());
    let unknown = plan_changed(&store, &catalog, |r| r.resume = Some("run-nope".into())).await;
    assert!(matches!(
        unknown,
        Err(SessionError::Store(snaplab_store::StoreError::NoSuchRun(_)))
    ));
    assert!(matches!(
        clean_up(&store, &catalog, "run-nope").await,
        Err(SessionError::Store(snaplab_store::StoreError::NoSuchRun(_)))
    ));
}
