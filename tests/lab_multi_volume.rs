//! The multi-volume lab end to end: SecureCart's orders and stock on two
//! volumes; two CreateSnapshot calls apart restore as a pair that sells
//! stock for orders it does not hold, one CreateSnapshots call as a pair
//! that agrees — guided on the built-in emulator and on moto, hands-on with
//! the aws CLI.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{drive_hands_on, guided_run, snaplab, EmulatorProcess, LiveRun, Moto, TempDir};

/// What every passing run of the lab shows in its record.
fn assert_pairs(db: &str, events: &[serde_json::Value]) -> serde_json::Value {
    let finished = events.last().unwrap();
    assert_eq!(finished["event"], "run_finished");
    assert_eq!(finished["outcome"], "passed", "{events:#?}");
    assert_eq!(finished["steps_passed"], 13);
    let run_id = events[0]["run_id"].as_str().unwrap();
    let out = snaplab(&["report", run_id, "--format", "json", "--db", db]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let vs = r["context"]["verifications"].as_array().unwrap();
    assert_eq!(vs.len(), 2, "two pairs verified: {vs:#?}");
    let (apart, set) = (&vs[0]["pair"], &vs[1]["pair"]);
    let phantom = apart["stock_without_order"].as_array().unwrap();
    assert!(!phantom.is_empty(), "the pair taken apart disagrees: {apart}");
    assert!(apart["products_mismatched"].as_u64().unwrap() > 0, "{apart}");
    assert!(apart["apart_ms"].as_i64().unwrap() > 0, "{apart}");
    // The phantom orders are exactly the ones begun after the orders
    // snapshot: none of them is on the restored orders volume.
    let last_on_orders = vs[0]["image"]["last_seq"].as_u64().unwrap();
    assert!(phantom.iter().all(|s| s.as_u64().unwrap() > last_on_orders), "{apart}");
    assert!(set["stock_without_order"].as_array().unwrap().is_empty(), "{set}");
    assert_eq!(set["products_mismatched"], 0, "{set}");
    assert_eq!(set["apart_ms"], 0, "one instant: {set}");
    assert_eq!(vs[1]["image"]["intact"], true);
    assert_eq!(vs[1]["torn_after_replay"], 0);
    for v in vs {
        assert_eq!(v["missing"], 0, "{v}");
        assert_eq!(v["after_snapshot_present"], 0, "{v}");
    }
    let inventory = &r["context"]["scenario"]["inventory"];
    assert_eq!(inventory["device"], "/dev/sdp");
    let resources = r["resources"].as_array().unwrap();
    assert!(
        resources
            .iter()
            .any(|x| x["resource_id"] == inventory["volume_id"] && x["role"] == "app_data"),
        "the inventory volume is the run's: {resources:?}"
    );
    assert!(
        resources.iter().all(|x| !x["deleted_at"].is_null()),
        "everything is gone, the inventory volume too: {resources:?}"
    );
    let md = snaplab(&["report", run_id, "--format", "md", "--db", db]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("| stock changes without their order | ") && md.contains("| 0 |"),
        "the report shows both pairs: {md}"
    );
    r
}

fn guided(extra: &[&str]) -> (TempDir, Vec<serde_json::Value>) {
    guided_run("multi-volume", extra)
}

/// The devices each pair was attached at, from the attach checks' messages.
fn attach_messages(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["event"] == "check_result" && e["check_id"] == "pair_attached")
        .filter_map(|e| e["message"].as_str().map(String::from))
        .collect()
}

#[test]
fn guided_on_the_built_in_emulator_the_pair_apart_disagrees_and_the_set_agrees() {
    let (dir, events) = guided(&["--pace", "instant"]);
    let r = assert_pairs(&dir.db(), &events);
    let attached = attach_messages(&events);
    assert!(
        attached[0].contains("at /dev/sdg and") && attached[0].ends_with("at /dev/sdq."),
        "{attached:?}"
    );
    assert!(
        attached[1].contains("at /dev/sdh and") && attached[1].ends_with("at /dev/sdr."),
        "the second pair beside the first: {attached:?}"
    );
    assert_eq!(r["context"]["target"]["kind"], "embedded");
}

#[test]
fn guided_on_moto_the_snapshots_apart_straddle_its_second() {
    let moto = Moto::start();
    let (dir, events) = guided(&["--endpoint", &moto.endpoint]);
    assert_pairs(&dir.db(), &events);
}

#[test]
fn guided_on_a_standalone_emulator_at_demo_pace_twice_then_another_lab_on_one_world() {
    let emulator = EmulatorProcess::start(&["--pace", "demo"]);
    // The second run finds the first one's store on the data volume and
    // its inventory volume gone: it starts a store of its own.
    for _ in 0..2 {
        let (dir, events) = guided(&["--endpoint", &emulator.endpoint]);
        let r = assert_pairs(&dir.db(), &events);
        assert_eq!(r["context"]["target"]["kind"], "snaplab");
    }
    // The data volume's journal outlived its stock table (deleted with the
    // inventory volume): the next lab's SecureCart starts a store of its own.
    let (_dir, events) = guided_run("securecart-snapshot", &["--endpoint", &emulator.endpoint]);
    let finished = events.last().unwrap();
    assert_eq!(finished["outcome"], "passed", "{events:#?}");
}

#[test]
fn hands_on_the_learner_snapshots_apart_then_as_one_set() {
    let dir = TempDir::new("multi-volume-hands-on");
    let db = dir.db();
    let (mut run, endpoint) = LiveRun::hands_on("multi-volume", &db);
    // The learner's mistake: checking after snapshotting the orders volume
    // only; the inventory one follows the refusal.
    let refused = drive_hands_on(&mut run, &endpoint, |step, commands, refused, first| match step {
        "snapshots-apart" if first => Some(vec![commands[0].clone()]),
        "snapshots-apart" if refused.len() == 1 => Some(vec![commands[1].clone()]),
        _ => None,
    });
    assert!(run.finish(Duration::from_secs(30)).success());
    assert!(
        refused
            .iter()
            .any(|m| m.contains("no snapshot of the inventory volume")),
        "the check said which volume was not snapshotted: {refused:#?}"
    );
    let events = run.seen.clone();
    assert_pairs(&db, &events);
}
