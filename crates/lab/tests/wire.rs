//! The `snaplab run --json` wire format, pinned: scripts read these objects.
//! Each event is one flat object with `"event"`, `"run_id"` and `"at"` and
//! its kind's fields, exactly as before the event type took its
//! `{ run_id, at, kind }` shape.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use snaplab_cloud::{ApiCall, SnapshotState};
use snaplab_lab::{CheckId, EventKind, LabEvent, Level, ResourceKind, ResourceRole, RunOutcome, StepOutcome};

fn event(kind: EventKind) -> LabEvent {
    LabEvent {
        run_id: "run-20261129-120000-ab12".into(),
        at: Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 1).single().unwrap(),
        kind,
    }
}

fn wire(kind: EventKind) -> Value {
    serde_json::to_value(event(kind)).unwrap()
}

const AT: &str = "2026-11-29T12:00:01Z";
const RUN: &str = "run-20261129-120000-ab12";

#[test]
fn each_kind_is_one_flat_object_with_its_fields() {
    let cases = [
        (
            EventKind::CheckResult {
                step_id: "create-snapshot".into(),
                check_id: CheckId::SnapshotCreated,
                passed: false,
                message: "No snapshot.".into(),
            },
            json!({"event": "check_result", "run_id": RUN, "at": AT, "step_id": "create-snapshot",
                   "check_id": "snapshot_created", "passed": false, "message": "No snapshot."}),
        ),
        (
            EventKind::ApiCall {
                call: ApiCall {
                    step_id: Some("restore".into()),
                    operation: "CreateVolume".into(),
                    request_id: Some("req-1".into()),
                    duration_ms: 3,
                    error: None,
                },
            },
            json!({"event": "api_call", "run_id": RUN, "at": AT, "step_id": "restore", "operation": "CreateVolume",
                   "request_id": "req-1", "duration_ms": 3, "error": null}),
        ),
        (
            EventKind::SnapshotProgress {
                snapshot_id: "snap-1".into(),
                state: SnapshotState::Pending,
                percent: 42,
            },
            json!({"event": "snapshot_progress", "run_id": RUN, "at": AT, "snapshot_id": "snap-1",
                   "state": "pending", "percent": 42}),
        ),
        (
            EventKind::WorkloadSample {
                orders_per_s: 60.5,
                acknowledged: 120,
                last_seq: 121,
                paused: false,
            },
            json!({"event": "workload_sample", "run_id": RUN, "at": AT, "orders_per_s": 60.5, "acknowledged": 120,
                   "last_seq": 121, "paused": false}),
        ),
        (
            EventKind::Notice {
                level: Level::Warning,
                message: "m".into(),
            },
            json!({"event": "notice", "run_id": RUN, "at": AT, "level": "warning", "message": "m"}),
        ),
        (
            EventKind::ResourceCreated {
                kind: ResourceKind::Volume,
                resource_id: "vol-1".into(),
                role: ResourceRole::Restored,
            },
            json!({"event": "resource_created", "run_id": RUN, "at": AT, "kind": "volume", "resource_id": "vol-1",
                   "role": "restored"}),
        ),
        (
            EventKind::ResourceDeleted {
                resource_id: "vol-1".into(),
            },
            json!({"event": "resource_deleted", "run_id": RUN, "at": AT, "resource_id": "vol-1"}),
        ),
        (
            EventKind::StepFinished {
                step_id: "verify".into(),
                outcome: StepOutcome::Skipped,
            },
            json!({"event": "step_finished", "run_id": RUN, "at": AT, "step_id": "verify", "outcome": "skipped"}),
        ),
        (
            EventKind::RunFinished {
                outcome: RunOutcome::Interrupted,
                steps_passed: 3,
                steps_total: 9,
            },
            json!({"event": "run_finished", "run_id": RUN, "at": AT, "outcome": "interrupted", "steps_passed": 3,
                   "steps_total": 9}),
        ),
    ];
    for (kind, want) in cases {
        let name = kind.name();
        let got = wire(kind.clone());
        assert_eq!(got, want, "{name}");
        assert_eq!(got["event"], name, "EventKind::name agrees with the tag");
        // And back: the object reads as the same event.
        let back: LabEvent = serde_json::from_value(got).unwrap();
        assert_eq!(back, event(kind));
    }
}

#[test]
fn step_started_and_awaiting_learner_keep_their_fields() {
    let started = wire(EventKind::StepStarted {
        step_id: "monitor".into(),
        index: 4,
        title: "Monitor progress".into(),
        page: "# Monitor".into(),
        commands: vec!["aws ec2 describe-snapshots".into()],
    });
    let keys: Vec<&str> = started.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec!["at", "commands", "event", "index", "page", "run_id", "step_id", "title"];
    want.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, want);
    let awaiting = wire(EventKind::AwaitingLearner {
        step_id: "monitor".into(),
        awaiting: snaplab_lab::Awaiting::Run,
        commands: vec![],
        page: String::new(),
    });
    assert_eq!(awaiting["awaiting"], "run");
    assert_eq!(awaiting["event"], "awaiting_learner");
}
