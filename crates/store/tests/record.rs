//! The record on both engines — a real SQLite file and a real PostgreSQL
//! database (each test runs on one, then the other): every event kind the recorder takes is
//! written and read back through history, the report and the resume state;
//! a run whose process died is found interrupted and resumable; outside
//! text cannot break the Markdown or inject HTML; history filters.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use chrono::{DateTime, Duration, Utc};
use snaplab_cloud::{ApiCall, TargetKind};
use snaplab_lab::{
    CheckId, Consistency, EventKind, EventSink, LabEvent, Level, Mode, OrderLog, ResourceKind, ResourceRole,
    RunOutcome, RunStatus, StepOutcome,
};
use snaplab_store::{Engine, HistoryFilter, LearnerState, StepStatus, Store, StoreError};

mod support;
use support::run::*;
use support::{records, Record};

#[tokio::test]
async fn every_table_is_written_and_read_back_through_the_report() {
    for rec in records("roundtrip").await {
        every_table_is_written_and_read_back_through_the_report_on(&rec).await;
    }
}

async fn every_table_is_written_and_read_back_through_the_report_on(rec: &Record) {
    let store = rec.open().await;
    let ctx = record_a_run(&store, "run-1", "ada", Some(RunOutcome::Failed)).await;
    // Closed and opened again: it is the file that holds it.
    store.close().await;
    let store = rec.open().await;
    let r = store.report("run-1").await.unwrap();

    let s = &r.summary;
    assert_eq!(
        (s.id.as_str(), s.lab.as_str(), s.learner.as_str()),
        ("run-1", "securecart-snapshot", "ada")
    );
    assert_eq!(
        (s.target_kind, s.target_endpoint.as_deref()),
        (TargetKind::Snaplab, Some("http://127.0.0.1:4599"))
    );
    assert_eq!(s.target_label, "snaplab emulator at http://127.0.0.1:4599");
    assert_eq!(
        (s.mode, s.consistency, s.outcome),
        (Mode::HandsOn, Consistency::Crash, RunStatus::Failed)
    );
    assert_eq!((s.steps_passed, s.steps_total, s.resources_left), (1, 9, 0));
    assert_eq!(
        s.finished_at,
        Some(t0() + Duration::seconds(15)),
        "the 15th event ended it"
    );
    assert_eq!(r.context, ctx, "the last recorded context");

    let steps: Vec<(&str, StepStatus, usize)> = r
        .steps
        .iter()
        .map(|s| (s.step_id.as_str(), s.status, s.checks.len()))
        .collect();
    assert_eq!(
        steps,
        [
            ("create-snapshot", StepStatus::Passed, 1),
            ("verify", StepStatus::Running, 0)
        ]
    );
    let check = &r.steps[0].checks[0];
    assert_eq!((check.check_id, check.passed), (CheckId::SnapshotCreated, true));

    assert_eq!(r.api_calls.len(), 2);
    assert_eq!(r.api_calls[0].request_id.as_deref(), Some("req-1"));
    assert_eq!(r.api_calls[1].error.as_deref(), Some("InvalidSnapshot.NotFound: gone"));
    assert_eq!(r.api_calls[1].step_id.as_deref(), Some("create-snapshot"));
    assert_eq!(r.notices.len(), 1);
    assert_eq!(
        (r.notices[0].level.as_str(), r.notices[0].message.as_str()),
        ("warning", "a | notice")
    );
    assert_eq!(r.resources.len(), 1);
    assert_eq!(
        (r.resources[0].kind, r.resources[0].role),
        (ResourceKind::Snapshot, ResourceRole::Backup)
    );
    assert!(r.resources[0].deleted_at.is_some());
    assert_eq!(r.orders_acknowledged, 2, "two of the three orders were acknowledged");
    assert_eq!(r.orders_per_s.len(), 1);
    assert!((r.orders_per_s[0].value - 61.5).abs() < 1e-9);
    assert_eq!(r.snapshot_percent.len(), 1);
    assert_eq!(r.verification, Some(verification()));

    // The shop's log, as a resumed run reads it.
    let (again, log) = store.resume_state("run-1").await.unwrap();
    assert_eq!(again, ctx);
    assert_eq!(
        log.entries(),
        &[order(1, 1, true), order(2, 2, true), order(3, 6, false)]
    );
}

#[tokio::test]
async fn a_run_whose_process_died_is_interrupted_and_resumable() {
    for rec in records("killed").await {
        a_run_whose_process_died_is_interrupted_and_resumable_on(&rec).await;
    }
}

async fn a_run_whose_process_died_is_interrupted_and_resumable_on(rec: &Record) {
    let store = rec.open().await;
    let ctx = record_a_run(&store, "run-k", "bo", None).await;
    assert_eq!(
        store.status("run-k").await.unwrap(),
        RunStatus::Running,
        "this process is alive"
    );
    // The owner of the run was killed: a pid that no longer exists.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    store.close().await;
    set_owner_pid(rec, dead).await;

    let store = rec.open().await;
    if rec.engine == Engine::Postgres {
        assert_eq!(
            store.status("run-k").await.unwrap(),
            RunStatus::Running,
            "a class database's runs belong to processes on other machines: no pid says they died"
        );
        // The learner's own record finds it dead, and says so to the class.
        store.mark_interrupted("run-k").await.unwrap();
    }
    assert_eq!(store.status("run-k").await.unwrap(), RunStatus::Interrupted);
    assert_eq!(
        store.summary("run-k").await.unwrap().steps_total,
        9,
        "known from the start"
    );
    let r = store.report("run-k").await.unwrap();
    let verify = r.steps.iter().find(|s| s.step_id == "verify").unwrap();
    assert_eq!(verify.status, StepStatus::Interrupted, "the step that was running");
    let (resumed, log) = store.resume_state("run-k").await.unwrap();
    assert_eq!(resumed, ctx);
    assert_eq!(log.last_seq(), 3);
}

/// Sets the run's owner pid, as a killed process would have left it.
async fn set_owner_pid(rec: &Record, pid: u32) {
    rec.execute(&format!("UPDATE runs SET pid = {pid}")).await;
}

#[tokio::test]
async fn history_filters_by_learner_and_lab_and_an_unknown_run_says_how_to_list_them() {
    for rec in records("history").await {
        history_filters_by_learner_and_lab_and_an_unknown_run_says_how_to_list_them_on(&rec).await;
    }
}

async fn history_filters_by_learner_and_lab_and_an_unknown_run_says_how_to_list_them_on(rec: &Record) {
    let store = rec.open().await;
    record_a_run(&store, "run-a", "ada", Some(RunOutcome::Passed)).await;
    record_a_run(&store, "run-b", "bo", Some(RunOutcome::Failed)).await;
    let all = store.history(&HistoryFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    let ada = store
        .history(&HistoryFilter {
            learner: Some("ada".into()),
            lab: None,
        })
        .await
        .unwrap();
    assert_eq!(ada.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["run-a"]);
    let none = store
        .history(&HistoryFilter {
            learner: None,
            lab: Some("incremental".into()),
        })
        .await
        .unwrap();
    assert!(none.is_empty());
    match store.report("run-zz").await {
        Err(e @ StoreError::NoSuchRun(_)) => assert!(e.to_string().contains("snaplab history"), "{e}"),
        other => panic!("{:?}", other.map(|r| r.summary.id)),
    }
}

#[tokio::test]
async fn outside_text_cannot_break_the_markdown_or_inject_html() {
    for rec in records("escape").await {
        outside_text_cannot_break_the_markdown_or_inject_html_on(&rec).await;
    }
}

async fn outside_text_cannot_break_the_markdown_or_inject_html_on(rec: &Record) {
    let store = rec.open().await;
    let learner = "ann | **bold** <b>x</b> `tick`";
    let mut feed = Feed {
        recorder: store.recorder(),
        run_id: "run-e".into(),
        at: t0(),
    };
    feed.send(EventKind::RunStarted {
        resumed: false,
        steps_total: 9,
        context: Box::new(context("run-e", learner, TargetKind::Embedded)),
        terminal: String::new(),
    })
    .await;
    feed.send(EventKind::StepStarted {
        step_id: "create-snapshot".into(),
        index: 1,
        title: "Create <script>alert(1)</script>".into(),
        page: String::new(),
        commands: Vec::new(),
    })
    .await;
    feed.send(EventKind::CheckResult {
        step_id: "create-snapshot".into(),
        check_id: CheckId::SnapshotCreated,
        passed: false,
        message: "pipes | in | it\nand a second line <img src=x onerror=alert(1)>".into(),
    })
    .await;
    feed.send(EventKind::ApiCall {
        call: ApiCall {
            step_id: Some("create-snapshot".into()),
            operation: "CreateSnapshot".into(),
            request_id: None,
            duration_ms: 1,
            error: Some("Bad | thing <b>".into()),
        },
    })
    .await;
    let r = store.report("run-e").await.unwrap();
    let md = r.to_markdown();
    // The learner row is still a two-cell table row, its text escaped.
    let row = md.lines().find(|l| l.starts_with("| learner |")).unwrap();
    assert_eq!(row.matches(" | ").count(), 1, "{row}");
    assert!(
        row.contains("ann \\| \\*\\*bold\\*\\* \\<b\\>x\\</b\\> \\`tick\\`"),
        "{row}"
    );
    // The API call row keeps its five cells.
    let call = md.lines().find(|l| l.contains("CreateSnapshot")).unwrap();
    assert_eq!(call.matches(" | ").count(), 4, "{call}");
    // A message with a line break stays on its list item.
    assert!(md.contains("pipes \\| in \\| it and a second line"), "{md}");

    let html = r.to_html();
    assert!(html.starts_with("<!doctype html>"));
    for raw in ["<b>", "<script>", "<img"] {
        assert!(!html.contains(raw), "raw {raw} in the HTML:\n{html}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(
        html.contains("ann | **bold** &lt;b&gt;x&lt;/b&gt; `tick`"),
        "the learner reads as typed:\n{html}"
    );
    assert!(html.contains("<table>") && html.contains("<h2>Steps</h2>"));
}

#[tokio::test]
async fn a_write_the_record_refuses_is_the_sinks_error() {
    for rec in records("refused").await {
        a_write_the_record_refuses_is_the_sinks_error_on(&rec).await;
    }
}

async fn a_write_the_record_refuses_is_the_sinks_error_on(rec: &Record) {
    let store = rec.open().await;
    // A check for a run the record does not have breaks a foreign key.
    let event = LabEvent {
        run_id: "run-ghost".into(),
        at: t0(),
        kind: EventKind::CheckResult {
            step_id: "s".into(),
            check_id: CheckId::PointInTime,
            passed: true,
            message: String::new(),
        },
    };
    let err = store.recorder().handle(&event).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the run record could not take a check_result event:"),
        "{err}"
    );
    let err = store
        .recorder()
        .append("run-ghost", &[order(1, 1, true)])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the run record could not take the shop's orders:"),
        "{err}"
    );
}

#[tokio::test]
async fn typed_commands_are_kept_under_the_step_going_on_and_shown_in_the_report() {
    for rec in records("commands").await {
        typed_commands_are_kept_under_the_step_going_on_and_shown_in_the_report_on(&rec).await;
    }
}

async fn typed_commands_are_kept_under_the_step_going_on_and_shown_in_the_report_on(rec: &Record) {
    let store = rec.open().await;
    let at = t0() + Duration::seconds(20);
    // A run the record does not have: refused.
    store.record_command("run-1", "x", 0, at, at).await.unwrap_err();
    record_a_run(&store, "run-1", "ada", None).await;
    let step = store
        .record_command("run-1", "aws ec2 describe-volumes --volume-ids `cat id`", 0, at, at)
        .await
        .unwrap();
    assert_eq!(step.as_deref(), Some("verify"), "the latest step");
    store
        .record_command(
            "run-1",
            "aws ec2 create-volume --availability-zone nowhere-1z",
            254,
            at,
            at,
        )
        .await
        .unwrap();
    store.close().await;

    let store = rec.open().await;
    let r = store.report("run-1").await.unwrap();
    let verify = r.steps.iter().find(|s| s.step_id == "verify").unwrap();
    let typed: Vec<(&str, i32)> = verify
        .commands
        .iter()
        .map(|c| (c.command.as_str(), c.exit_status))
        .collect();
    assert_eq!(
        typed,
        vec![
            ("aws ec2 describe-volumes --volume-ids `cat id`", 0),
            ("aws ec2 create-volume --availability-zone nowhere-1z", 254)
        ]
    );
    assert!(r
        .steps
        .iter()
        .filter(|s| s.step_id != "verify")
        .all(|s| s.commands.is_empty()));
    let md = r.to_markdown();
    assert!(
        md.contains("$ aws ec2 create-volume --availability-zone nowhere-1z    # exit 254"),
        "{md}"
    );
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    let verify_json = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step_id"] == "verify")
        .unwrap();
    assert_eq!(verify_json["commands"][1]["exit_status"], 254);
    // Deleting nothing else: another run's list is its own.
    assert!(store.commands("run-2").await.unwrap().is_empty());
}

/// Starts a run for the board: `learner` on step `step` (0-based) of 9.
async fn board_run(store: &Store, run_id: &str, learner: &str, start: DateTime<Utc>, step: usize) -> Feed {
    let mut ctx = context(run_id, learner, TargetKind::Snaplab);
    ctx.mode = Mode::HandsOn;
    let mut feed = Feed {
        recorder: store.recorder(),
        run_id: run_id.into(),
        at: start,
    };
    feed.send(EventKind::RunStarted {
        resumed: false,
        steps_total: 9,
        context: Box::new(ctx),
        terminal: String::new(),
    })
    .await;
    for (index, id) in ["start-shop", "create-snapshot", "detach-while-pending"]
        .iter()
        .enumerate()
        .take(step + 1)
    {
        feed.send(EventKind::StepStarted {
            step_id: (*id).into(),
            index,
            title: format!("Step {id}"),
            page: String::new(),
            commands: Vec::new(),
        })
        .await;
        if index < step {
            feed.send(EventKind::StepFinished {
                step_id: (*id).into(),
                outcome: StepOutcome::Passed,
            })
            .await;
        }
    }
    feed
}

fn awaiting(step: &str) -> EventKind {
    EventKind::AwaitingLearner {
        step_id: step.into(),
        awaiting: Default::default(),
        commands: vec!["aws ec2 create-snapshot …".into()],
        page: String::new(),
    }
}

#[tokio::test]
async fn the_class_board_shows_where_each_learner_is_and_who_is_stuck() {
    for rec in records("board").await {
        the_class_board_shows_where_each_learner_is_and_who_is_stuck_on(&rec).await;
    }
}

async fn the_class_board_shows_where_each_learner_is_and_who_is_stuck_on(rec: &Record) {
    let store = rec.open().await;
    let now = t0() + Duration::minutes(10);
    let recent = now - Duration::seconds(40);

    // Ada: an older run that passed, then a new one now waiting for her on step 2.
    let mut old = board_run(&store, "run-ada-1", "ada", t0(), 0).await;
    old.send(EventKind::RunFinished {
        outcome: RunOutcome::Passed,
        steps_passed: 9,
        steps_total: 9,
    })
    .await;
    let mut ada = board_run(&store, "run-ada-2", "ada", recent, 1).await;
    ada.send(awaiting("create-snapshot")).await;
    let ada_waits_from = ada.at;
    // She tries; the check fails, and the run waits for another try: stuck.
    let mut grace = board_run(&store, "run-grace", "grace", recent, 1).await;
    grace.send(awaiting("create-snapshot")).await;
    grace
        .send(EventKind::CheckResult {
            step_id: "create-snapshot".into(),
            check_id: CheckId::SnapshotCreated,
            passed: false,
            message: "No snapshot of vol-0123456789abcdef0 was created since this step began".into(),
        })
        .await;
    grace.send(awaiting("create-snapshot")).await;
    // Edsger: the app is doing a step (nothing to wait for).
    let _edsger = board_run(&store, "run-edsger", "edsger", recent, 2).await;
    // Barbara: her computer went quiet long ago, the run still marked running.
    let _barbara = board_run(&store, "run-barbara", "barbara", t0(), 0).await;
    // Alan: a run that failed, and why.
    let mut alan = board_run(&store, "run-alan", "alan", recent, 0).await;
    alan.send(EventKind::Notice {
        level: Level::Warning,
        message: "The run stopped: the endpoint went away".into(),
    })
    .await;
    alan.send(EventKind::RunFinished {
        outcome: RunOutcome::Failed,
        steps_passed: 0,
        steps_total: 9,
    })
    .await;

    let board = store.class_board(None, now).await.unwrap();
    let by: std::collections::BTreeMap<&str, &snaplab_store::BoardRow> =
        board.iter().map(|r| (r.learner.as_str(), r)).collect();
    let names: Vec<&str> = board.iter().map(|r| r.learner.as_str()).collect();
    assert_eq!(
        names,
        ["ada", "alan", "barbara", "edsger", "grace"],
        "one row per learner, by name"
    );

    let a = by["ada"];
    assert_eq!(
        (a.run_id.as_str(), a.state),
        ("run-ada-2", LearnerState::Waiting),
        "her latest run"
    );
    assert_eq!(
        (a.step_number, a.step_id.as_deref()),
        (Some(2), Some("create-snapshot"))
    );
    assert_eq!(a.waiting_since, Some(ada_waits_from));
    assert_eq!(a.steps_passed, 1);
    assert_eq!(
        a.seconds_on_step(now),
        Some((now - (recent + Duration::seconds(4))).num_seconds())
    );

    let g = by["grace"];
    assert_eq!(g.state, LearnerState::Stuck);
    assert!(g.message.as_deref().unwrap().starts_with("No snapshot of"), "{g:?}");
    assert_eq!(by["edsger"].state, LearnerState::Working);
    assert_eq!(by["edsger"].step_number, Some(3));
    assert_eq!(by["barbara"].state, LearnerState::Silent);
    let al = by["alan"];
    assert_eq!(al.state, LearnerState::Failed);
    assert_eq!(al.message.as_deref(), Some("The run stopped: the endpoint went away"));
    assert_eq!(al.seconds_on_step(now), None, "an ended run is on no step");

    // Grace tries again and passes: no longer stuck, the run moves on.
    grace
        .send(EventKind::CheckResult {
            step_id: "create-snapshot".into(),
            check_id: CheckId::SnapshotCreated,
            passed: true,
            message: "Snapshot made".into(),
        })
        .await;
    let board = store.class_board(Some("securecart-snapshot"), now).await.unwrap();
    let g = board.iter().find(|r| r.learner == "grace").unwrap();
    assert_eq!(
        (g.state, g.message.as_deref(), g.waiting_since),
        (LearnerState::Working, None, None)
    );
    assert!(store.class_board(Some("another-lab"), now).await.unwrap().is_empty());
}
