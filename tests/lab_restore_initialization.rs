//! The restore-initialization lab end to end: a restored volume's first
//! read fetches its blocks from the snapshot, the second does not; reading
//! every block initializes it; a restore made while Fast Snapshot Restore is
//! enabled is initialized at once; FSR is turned off again — guided on the
//! built-in emulator and a standalone one at demo pace, hands-on with the
//! aws CLI and a learner's mistake (FSR enabled in the wrong zone).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{drive_hands_on, guided_run, snaplab, snaplab_route, EmulatorProcess, LiveRun, TempDir};

const STEPS: u64 = 16;

/// What every passing run of the lab shows in its record; returns the reads.
fn assert_reads(db: &str, events: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let finished = events.last().unwrap();
    assert_eq!(finished["event"], "run_finished");
    assert_eq!(finished["outcome"], "passed", "{events:#?}");
    assert_eq!(finished["steps_passed"], STEPS);
    let run_id = events[0]["run_id"].as_str().unwrap();
    let out = snaplab(&["report", run_id, "--format", "json", "--db", db]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reads = r["context"]["reads"].as_array().unwrap().clone();
    let kinds: Vec<&str> = reads.iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["first", "again", "initialize", "first"], "{reads:#?}");
    let (first, again, init, fast) = (&reads[0], &reads[1], &reads[2], &reads[3]);
    // Lazy loading: the first read fetched blocks, the second none.
    assert!(first["blocks_fetched"].as_u64().unwrap() > 0, "{first}");
    assert_eq!(first["progress_before"], 0, "{first}");
    let half = first["progress_after"].as_i64().unwrap();
    assert!((1..100).contains(&half), "{first}");
    assert_eq!(again["blocks_fetched"], 0, "{again}");
    assert_eq!(again["volume_id"], first["volume_id"]);
    // Initializing fetched the rest: 100%.
    assert!(init["blocks_fetched"].as_u64().unwrap() > 0, "{init}");
    assert!(init["length"].as_u64().unwrap() > first["length"].as_u64().unwrap());
    assert_eq!(init["progress_after"], 100, "{init}");
    // The restore made with FSR enabled: another volume, initialized at creation.
    assert_ne!(fast["volume_id"], first["volume_id"]);
    assert_eq!(fast["progress_before"], 100, "{fast}");
    assert_eq!(fast["blocks_fetched"], 0, "{fast}");
    assert_eq!(
        fast["samples"].as_array().unwrap().len(),
        first["samples"].as_array().unwrap().len()
    );
    let resources = r["resources"].as_array().unwrap();
    assert!(
        resources.iter().all(|x| !x["deleted_at"].is_null()),
        "everything is gone, the snapshot too (FSR off first): {resources:?}"
    );
    let md = snaplab(&["report", run_id, "--format", "md", "--db", db]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("## Reads of the restored volumes") && md.contains("| second read |"),
        "the report shows the reads: {md}"
    );
    reads
}

fn median(pass: &serde_json::Value) -> f64 {
    let mut v: Vec<f64> = pass["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["mib_per_s"].as_f64().unwrap())
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[test]
fn guided_on_the_built_in_emulator_first_reads_wait_and_fast_restore_does_not() {
    let (dir, events) = guided_run("restore-initialization", &["--pace", "instant"]);
    let reads = assert_reads(&dir.db(), &events);
    // At pace instant the lab asked for 10 ms per block: a 1 MiB first read
    // (two blocks) takes at least 20 ms, so it is at most 50 MiB/s.
    assert!(median(&reads[0]) <= 51.0, "{}", reads[0]);
    let checks: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "check_result")
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        checks.iter().any(|m| m.contains("initialization progress 100%")),
        "{checks:#?}"
    );
}

#[test]
fn guided_on_a_standalone_emulator_at_demo_pace() {
    let emulator = EmulatorProcess::start(&["--pace", "demo"]);
    let (dir, events) = guided_run("restore-initialization", &["--endpoint", &emulator.endpoint]);
    let reads = assert_reads(&dir.db(), &events);
    // Demo pace: 16 ms per block, a first read of 1 MiB at 32 MiB/s at best.
    assert!(median(&reads[0]) <= 33.0, "{}", reads[0]);
}

#[test]
fn on_a_shared_instant_emulator_the_first_read_cost_is_given_back_at_the_end() {
    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let (dir, events) = guided_run("restore-initialization", &["--endpoint", &emulator.endpoint]);
    assert_reads(&dir.db(), &events);
    assert!(
        events.iter().any(|e| e["event"] == "notice"
            && e["message"]
                .as_str()
                .unwrap()
                .contains("asked it for 10 ms per block until the run ends")),
        "the learner is told"
    );
    let setting = snaplab_route(&emulator.endpoint, "GET", "/_snaplab/lazy-loading", "");
    assert_eq!(setting["from"], "pace", "{setting}");
    assert_eq!(setting["first_read_per_block_us"], 0, "{setting}");
}

#[test]
fn hands_on_fast_restore_in_the_wrong_zone_is_named_and_must_be_turned_off_too() {
    let dir = TempDir::new("restore-initialization-hands-on");
    let db = dir.db();
    let (mut run, endpoint) = LiveRun::hands_on("restore-initialization", &db);
    let wrong_zone = |c: &str| c.replace("us-east-1a", "us-east-1b");
    // The mistake: FSR enabled in another zone than the instance's; then,
    // disabling in the instance's zone leaves the wrong one on: the check
    // names it, and the learner disables it there too.
    let refused = drive_hands_on(&mut run, &endpoint, |step, commands, refused, first| match step {
        "enable-fsr" if first => Some(vec![wrong_zone(&commands[0])]),
        "enable-fsr" if refused.len() == 1 => Some(commands.to_vec()),
        "disable-fsr" if !first && refused.len() == 2 => Some(vec![wrong_zone(&commands[0])]),
        _ => None,
    });
    assert!(run.finish(Duration::from_secs(30)).success());
    assert_eq!(refused.len(), 2, "{refused:#?}");
    assert!(
        refused[0].contains("not enabled in us-east-1a, the instance's zone")
            && refused[0].contains("enable-fast-snapshot-restores --availability-zones us-east-1a"),
        "{refused:#?}"
    );
    assert!(refused[1].contains("in us-east-1b, billed every hour"), "{refused:#?}");
    let events = run.seen.clone();
    assert_reads(&db, &events);
}
