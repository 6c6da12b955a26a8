//! The crash- vs application-consistent lab end to end: the crash-consistent
//! snapshot tears an order every run (taken while SecureCart holds it
//! half-written) and replay completes it; the application-consistent one
//! holds none; both restores verified side by side, and the pauses' cost
//! recorded — guided on the built-in emulator and on moto, hands-on with the
//! aws CLI.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{guided_run, run_shown, snaplab, LiveRun, Moto, TempDir};

/// What every passing run of the lab shows in its record.
fn assert_side_by_side(db: &str, events: &[serde_json::Value]) -> serde_json::Value {
    let finished = events.last().unwrap();
    assert_eq!(finished["event"], "run_finished");
    assert_eq!(finished["outcome"], "passed", "{events:#?}");
    assert_eq!(finished["steps_passed"], 13);
    let run_id = events[0]["run_id"].as_str().unwrap();
    let out = snaplab(&["report", run_id, "--format", "json", "--db", db]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let vs = r["context"]["verifications"].as_array().unwrap();
    assert_eq!(vs.len(), 2, "two restores verified: {vs:#?}");
    let (crash, app) = (&vs[0], &vs[1]);
    assert_eq!(crash["consistency"], "crash");
    assert_eq!(app["consistency"], "app");
    assert_eq!(
        crash["image"]["torn_seqs"].as_array().unwrap().len(),
        1,
        "one order torn: {crash}"
    );
    assert_eq!(crash["replayed"], crash["image"]["torn_seqs"], "replay completed it");
    assert_eq!(crash["torn_after_replay"], 0);
    assert!(app["image"]["torn_seqs"].as_array().unwrap().is_empty(), "{app}");
    for v in [crash, app] {
        assert_eq!(v["missing"], 0, "{v}");
        assert_eq!(v["after_snapshot_present"], 0, "{v}");
    }
    assert_ne!(crash["restored_volume_id"], app["restored_volume_id"]);
    let pauses = r["context"]["pauses"].as_array().unwrap();
    let held = pauses.iter().find(|p| p["step_id"] == "crash-snapshot").unwrap();
    assert_eq!(held["mid_order"], true);
    let paused = pauses.iter().find(|p| p["step_id"] == "app-snapshot").unwrap();
    assert_eq!(paused["mid_order"], false);
    assert!(paused["paused_ms"].as_u64().is_some(), "{paused}");
    let resources = r["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 4, "two snapshots, two restores: {resources:?}");
    assert!(resources.iter().all(|x| !x["deleted_at"].is_null()));
    let md = snaplab(&["report", run_id, "--format", "md", "--db", db]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("## The restores side by side") && md.contains("| torn | 1 | 0 |"),
        "the report shows the restores side by side: {md}"
    );
    r
}

fn guided(extra: &[&str]) -> (TempDir, Vec<serde_json::Value>) {
    guided_run("crash-vs-app-consistent", extra)
}

#[test]
fn guided_on_the_built_in_emulator_a_torn_order_every_run() {
    let (dir, events) = guided(&["--pace", "instant"]);
    let r = assert_side_by_side(&dir.db(), &events);
    let devices: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "check_result" && e["check_id"] == "restored_attached")
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(devices.iter().any(|m| m.ends_with("at /dev/sdg.")), "{devices:?}");
    assert!(
        devices.iter().any(|m| m.ends_with("at /dev/sdh.")),
        "both restores stay attached: {devices:?}"
    );
    assert_eq!(r["context"]["target"]["kind"], "embedded");
}

#[test]
fn guided_on_moto_the_hold_outlasts_its_second() {
    let moto = Moto::start();
    let (dir, events) = guided(&["--endpoint", &moto.endpoint]);
    assert_side_by_side(&dir.db(), &events);
}

#[test]
fn hands_on_the_learner_snapshots_while_the_order_is_held() {
    let dir = TempDir::new("crash-vs-app-hands-on");
    let db = dir.db();
    let (mut run, endpoint) = LiveRun::hands_on("crash-vs-app-consistent", &db);
    let mut done: Vec<String> = Vec::new();
    let mut failed_first_try = false;
    loop {
        let e = run.until(Duration::from_secs(120), "a prompt or the end", |e| {
            matches!(
                e["event"].as_str(),
                Some("awaiting_learner" | "run_finished" | "check_result" | "notice")
            )
        });
        match e["event"].as_str().unwrap() {
            "run_finished" => break,
            "notice" | "check_result" => {
                if e["check_id"] == "snapshot_created" && e["passed"] == false {
                    failed_first_try = true;
                }
            }
            _ => {
                let step = e["step_id"].as_str().unwrap().to_string();
                // The learner's mistake: checking the crash step before creating the snapshot.
                if step == "crash-snapshot" && !failed_first_try {
                    run.answer("");
                    continue;
                }
                if !done.contains(&step) {
                    for c in e["commands"].as_array().unwrap() {
                        let c = c.as_str().unwrap();
                        assert!(!c.contains("not known yet"), "every id is filled in: {c}");
                        run_shown(&endpoint, c);
                    }
                    done.push(step);
                } else {
                    std::thread::sleep(Duration::from_millis(300));
                }
                run.answer("");
            }
        }
    }
    assert!(run.finish(Duration::from_secs(30)).success());
    assert!(failed_first_try, "the check said no snapshot was made yet");
    let notices: Vec<&str> = run
        .seen
        .iter()
        .filter(|e| e["event"] == "notice")
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        notices
            .iter()
            .any(|n| n.contains("holding an order half-written") && n.contains("Create the snapshot now")),
        "the learner is told when to act: {notices:#?}"
    );
    let events = run.seen.clone();
    assert_side_by_side(&db, &events);
}
