//! A run killed with SIGKILL in the middle of a step is never left looking
//! alive, and `snaplab run --resume` continues it where it stopped — the
//! built-in emulator's state included.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{json_lines, snaplab, LiveRun, TempDir};

#[test]
fn a_run_killed_mid_step_shows_interrupted_and_resumes_to_a_pass() {
    let dir = TempDir::new("resume");
    let db = dir.db();
    let mut run = LiveRun::start(&["run", "--pace", "demo", "--json", "--db", &db]);
    let started = run.until(Duration::from_secs(30), "run_started", |e| e["event"] == "run_started");
    let run_id = started["run_id"].as_str().unwrap().to_string();
    // Mid-step: keep-writing has begun and shows the pending snapshot.
    run.until(Duration::from_secs(60), "keep-writing to start", |e| {
        e["event"] == "step_started" && e["step_id"] == "keep-writing"
    });
    run.until(Duration::from_secs(60), "the snapshot's progress", |e| {
        e["event"] == "snapshot_progress"
    });
    run.child.kill().unwrap(); // SIGKILL: no chance to record anything more
    run.child.wait().unwrap();

    let history = json_lines(&snaplab(&["history", "--json", "--db", &db]));
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["id"], run_id.as_str());
    assert_eq!(history[0]["outcome"], "interrupted", "a killed run never looks alive");
    assert!(history[0]["finished_at"].is_null());
    let report: serde_json::Value =
        serde_json::from_slice(&snaplab(&["report", &run_id, "--format", "json", "--db", &db]).stdout).unwrap();
    // Where the kill landed depends on the machine's speed: keep-writing or
    // a later step. Whichever it was is recorded as interrupted (or, killed
    // between two steps, the last one passed) and the resume starts there.
    let steps = report["steps"].as_array().unwrap();
    let last = steps.last().unwrap();
    assert!(last["status"] == "interrupted" || last["status"] == "passed", "{last}");
    let lab: Vec<String> = json_lines(&snaplab(&["labs", "--json"]))[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let done: Vec<&str> = steps
        .iter()
        .filter(|s| s["status"] == "passed")
        .filter_map(|s| s["step_id"].as_str())
        .collect();
    assert!(
        done.contains(&"create-snapshot"),
        "the snapshot was taken before the kill: {done:?}"
    );
    let resumes_at = lab.iter().find(|id| !done.contains(&id.as_str())).unwrap().clone();
    assert!(
        dir.0.join("snaplab-runs").join(&run_id).join("emulator").exists(),
        "emulator state kept"
    );

    let out = snaplab(&["run", "--resume", &run_id, "--json", "--db", &db]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let events = json_lines(&out);
    assert_eq!(events[0]["event"], "run_started");
    assert_eq!(events[0]["resumed"], true);
    assert!(events.iter().all(|e| e["run_id"] == run_id.as_str()));
    let started_steps: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "step_started")
        .filter_map(|e| e["step_id"].as_str())
        .collect();
    assert_eq!(
        started_steps.first().copied(),
        Some(resumes_at.as_str()),
        "resumes at the step that was interrupted"
    );
    for step in &done {
        assert!(!started_steps.contains(step), "{step} is not run again");
    }
    let finished = events.last().unwrap();
    assert_eq!(finished["outcome"], "passed");
    assert_eq!(finished["steps_passed"], 9);

    let report: serde_json::Value =
        serde_json::from_slice(&snaplab(&["report", &run_id, "--format", "json", "--db", &db]).stdout).unwrap();
    assert_eq!(report["outcome"], "passed");
    let v = &report["verification"];
    assert_eq!(v["missing"], 0, "{v}");
    assert_eq!(v["after_snapshot_present"], 0, "{v}");
    assert!(v["acknowledged_before_snapshot"].as_u64().unwrap() > 0);
    let snapshots: Vec<_> = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "snapshot")
        .collect();
    assert_eq!(snapshots.len(), 1, "the snapshot was not taken twice");

    let again = snaplab(&["run", "--resume", &run_id, "--db", &db]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already finished"));
}
