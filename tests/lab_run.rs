//! `snaplab run` end to end: the whole lab on every target, the JSON event
//! stream, the SQLite record read back through `history` and `report`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{json_lines, snaplab, EmulatorProcess, Moto, TempDir};

/// Runs the lab with `--json` and returns (exit code, events).
fn run_lab(dir: &TempDir, extra: &[&str]) -> (Option<i32>, Vec<serde_json::Value>) {
    let db = dir.db();
    let mut args = vec!["run", "--json", "--db", &db];
    args.extend_from_slice(extra);
    let out = snaplab(&args);
    if !out.status.success() {
        eprintln!("stderr: {}", String::from_utf8_lossy(&out.stderr));
    }
    (out.status.code(), json_lines(&out))
}

fn of_kind<'a>(events: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

fn report_json(dir: &TempDir, run_id: &str) -> serde_json::Value {
    let out = snaplab(&["report", run_id, "--format", "json", "--db", &dir.db()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What every passing run must show, whatever the target.
fn assert_passed(dir: &TempDir, events: &[serde_json::Value]) -> serde_json::Value {
    assert!(!events.is_empty());
    let run_id = events[0]["run_id"].as_str().unwrap().to_string();
    for e in events {
        assert!(e["event"].is_string(), "{e}");
        assert_eq!(e["run_id"], run_id.as_str(), "{e}");
    }
    assert_eq!(events[0]["event"], "run_started");
    let finished = events.last().unwrap();
    assert_eq!(finished["event"], "run_finished");
    assert_eq!(finished["outcome"], "passed", "{events:#?}");
    assert_eq!(finished["steps_passed"], 9);
    assert_eq!(of_kind(events, "step_started").len(), 9);
    let failed: Vec<_> = of_kind(events, "check_result")
        .into_iter()
        .filter(|c| c["passed"] != true)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(!of_kind(events, "api_call").is_empty());
    assert!(!of_kind(events, "snapshot_progress").is_empty());
    assert!(!of_kind(events, "workload_sample").is_empty());

    let report = report_json(dir, &run_id);
    assert_eq!(report["outcome"], "passed");
    assert_eq!(report["steps_passed"], 9);
    assert_eq!(report["steps_total"], 9);
    let v = &report["verification"];
    assert!(v["acknowledged_before_snapshot"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["present_in_restore"], v["acknowledged_before_snapshot"]);
    assert_eq!(v["missing"], 0);
    assert_eq!(v["after_snapshot_present"], 0);
    assert!(v["torn"].as_u64().unwrap() <= 1);
    assert!(report["orders_acknowledged"].as_i64().unwrap() > 0);
    assert!(report["api_calls"].as_array().unwrap().len() >= 10);
    assert!(
        report["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !r["deleted_at"].is_null()),
        "clean-up recorded"
    );
    report
}

#[test]
fn the_lab_passes_on_the_built_in_emulator_crash_consistent() {
    let dir = TempDir::new("embedded-crash");
    let (code, events) = run_lab(&dir, &["--pace", "instant", "--learner", "ada"]);
    assert_eq!(code, Some(0));
    let report = assert_passed(&dir, &events);
    assert_eq!(report["context"]["target"]["kind"], "embedded");
    assert_eq!(report["consistency"], "crash");
    assert_eq!(report["learner"], "ada");

    let out = snaplab(&["history", "--json", "--db", &dir.db()]);
    let history = json_lines(&out);
    assert_eq!(history.len(), 1);
    let h = &history[0];
    for field in [
        "id",
        "lab",
        "target_kind",
        "learner",
        "started_at",
        "finished_at",
        "outcome",
        "steps_passed",
        "steps_total",
    ] {
        assert!(!h[field].is_null(), "history has {field}: {h}");
    }
    assert_eq!(h["outcome"], "passed");
    assert_eq!(h["lab"], "securecart-snapshot");
    assert_eq!(h["target_kind"], "embedded");
    assert_eq!(
        h["target_endpoint"],
        serde_json::Value::Null,
        "the built-in emulator's port is not worth keeping"
    );
    assert_eq!(h["resources_left"], 0);
    // A finished run leaves no emulator state behind.
    assert!(!dir.0.join("snaplab-runs").join(h["id"].as_str().unwrap()).exists());
}

#[test]
fn the_lab_passes_application_consistent_with_no_torn_order() {
    let dir = TempDir::new("embedded-app");
    let (code, events) = run_lab(&dir, &["--pace", "instant", "--consistency", "app"]);
    assert_eq!(code, Some(0));
    let report = assert_passed(&dir, &events);
    assert_eq!(
        report["verification"]["torn"], 0,
        "a quiesced snapshot holds no torn order"
    );
    // No assertion on `in_flight`: at pace instant the last order before the
    // pause, or the first after the resume, can fall within the 1 ms the
    // snapshot's StartTime is known to, and either outcome is then correct.
    let notices: Vec<&str> = of_kind(&events, "notice")
        .iter()
        .filter_map(|n| n["message"].as_str())
        .collect();
    assert!(notices.iter().any(|m| m.contains("paused writes")), "{notices:?}");
}

#[test]
fn the_lab_passes_on_a_standalone_snaplab_emulator() {
    let dir = TempDir::new("standalone");
    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let (code, events) = run_lab(&dir, &["--endpoint", &emulator.endpoint]);
    assert_eq!(code, Some(0));
    let report = assert_passed(&dir, &events);
    assert_eq!(report["context"]["target"]["kind"], "snaplab");
    assert_eq!(report["context"]["target"]["shadow_disk"], false);
    assert_eq!(report["verification"]["read_from"], "emulator");
}

#[test]
fn the_lab_passes_on_moto_with_a_shadow_disk_and_says_so() {
    let dir = TempDir::new("moto");
    let moto = Moto::start();
    let (code, events) = run_lab(&dir, &["--endpoint", &moto.endpoint]);
    assert_eq!(code, Some(0));
    let report = assert_passed(&dir, &events);
    assert_eq!(report["context"]["target"]["kind"], "moto");
    assert_eq!(report["context"]["target"]["shadow_disk"], true);
    assert_eq!(report["verification"]["read_from"], "shadow disk");
    let notices: Vec<&str> = of_kind(&events, "notice")
        .iter()
        .filter_map(|n| n["message"].as_str())
        .collect();
    assert!(
        notices
            .iter()
            .any(|m| m.contains("Shadow disk") && m.contains("keeps no volume data")),
        "{notices:?}"
    );
    // The Markdown report says it plainly too.
    let run_id = events[0]["run_id"].as_str().unwrap();
    let md = snaplab(&["report", run_id, "--db", &dir.db()]);
    assert!(String::from_utf8_lossy(&md.stdout).contains("Shadow disk"));
}

#[test]
fn reports_come_as_markdown_html_and_json() {
    let dir = TempDir::new("reports");
    let (code, events) = run_lab(&dir, &["--pace", "instant"]);
    assert_eq!(code, Some(0), "the run passed: {events:#?}");
    let run_id = events[0]["run_id"].as_str().unwrap();
    let md = snaplab(&["report", run_id, "--db", &dir.db()]);
    assert!(md.status.success(), "{}", String::from_utf8_lossy(&md.stderr));
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.starts_with("# SecureCart"));
    assert!(md.contains("## Verification") && md.contains("| acknowledged before the snapshot |"));
    let html = snaplab(&["report", run_id, "--format", "html", "--db", &dir.db()]);
    assert!(html.status.success(), "{}", String::from_utf8_lossy(&html.stderr));
    let html = String::from_utf8(html.stdout).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.contains("<table>") && html.contains("<h2>Verification</h2>"));
    let missing = snaplab(&["report", "run-nope", "--db", &dir.db()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("snaplab history"));
}

/// Runs `snaplab run` sealed off from any real AWS account and asserts it
/// refused with status 2, saying each of `says`, and recorded nothing.
fn assert_refused(dir: &TempDir, args: &[&str], env: &[(&str, &str)], says: &[&str]) {
    let db = dir.db();
    let mut all = vec!["run", "--db", &db];
    all.extend_from_slice(args);
    let out = common::snaplab_sealed(&all, env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
    for said in says {
        assert!(stderr.contains(said), "{args:?} {env:?}: expected {said:?} in {stderr}");
    }
    common::assert_nothing_recorded(&db);
}

#[test]
fn an_aws_endpoint_is_refused_without_aws_and_touches_nothing() {
    const REAL_AWS: &str = "goes to real AWS only when you choose it with --aws";
    let dir = TempDir::new("aws");
    // --aws itself, on a machine where real AWS is switched off: refused before any call.
    assert_refused(
        &dir,
        &["--aws", "--yes"],
        &[("AWS_REGION", "us-east-1"), ("SNAPLAB_FORBID_REAL_AWS", "1")],
        &["real AWS is switched off"],
    );
    for url in [
        "https://ec2.us-east-1.amazonaws.com",
        "https://EC2.US-EAST-1.AMAZONAWS.COM",
        "https://ec2.us-east-1.amazonaws.com.",
        "https://ec2.us-east-1.api.aws",
    ] {
        assert_refused(&dir, &["--endpoint", url], &[], &[REAL_AWS]);
    }
    // From the environment, not the flag: both variables an aws CLI user sets.
    for var in ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2"] {
        assert_refused(
            &dir,
            &[],
            &[(var, "https://ec2.us-east-1.amazonaws.com")],
            &[REAL_AWS, var],
        );
    }
    // User info makes a URL look like one host and be another: not an endpoint.
    assert_refused(
        &dir,
        &["--endpoint", "http://127.0.0.1@ec2.amazonaws.com"],
        &[],
        &["is not an endpoint URL"],
    );
}

#[test]
fn an_unreachable_endpoint_is_a_clear_error_and_records_nothing() {
    let dir = TempDir::new("unreachable");
    let port = common::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let out = snaplab(&["run", "--endpoint", &url, "--db", &dir.db()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot reach") && stderr.contains("Is it running?"),
        "{stderr}"
    );
    common::assert_nothing_recorded(&dir.db());
}

#[test]
fn labs_lists_the_securecart_lab_and_an_unknown_lab_is_named() {
    let out = snaplab(&["labs", "--json"]);
    let labs = json_lines(&out);
    let lab = labs.iter().find(|l| l["id"] == "securecart-snapshot").unwrap();
    assert_eq!(lab["steps"].as_array().unwrap().len(), 9);
    assert!(lab["targets"].as_array().unwrap().iter().any(|t| t == "moto"), "{lab}");
    let incremental = labs.iter().find(|l| l["id"] == "incremental").unwrap();
    assert_eq!(incremental["steps"].as_array().unwrap().len(), 12);
    let dir = TempDir::new("nolab");
    let out = snaplab(&["run", "no-such-lab", "--db", &dir.db()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("securecart-snapshot"));
}

#[test]
fn an_endpoint_that_dies_mid_run_fails_the_run_cleanly_with_the_reason() {
    let dir = TempDir::new("dies");
    let mut emulator = EmulatorProcess::start(&["--pace", "demo"]);
    let db = dir.db();
    let mut run = common::LiveRun::start(&["run", "--json", "--endpoint", &emulator.endpoint, "--db", &db]);
    run.until(std::time::Duration::from_secs(60), "keep-writing", |e| {
        e["event"] == "step_started" && e["step_id"] == "keep-writing"
    });
    emulator.terminate();
    let finished = run.until(std::time::Duration::from_secs(120), "run_finished", |e| {
        e["event"] == "run_finished"
    });
    assert_eq!(finished["outcome"], "failed");
    assert_eq!(run.finish(std::time::Duration::from_secs(30)).code(), Some(1));
    let said: Vec<String> = run
        .seen
        .iter()
        .filter(|e| e["event"] == "notice" || e["event"] == "check_result")
        .filter_map(|e| e["message"].as_str().map(String::from))
        .collect();
    assert!(said.iter().any(|m| m.contains("cannot reach")), "{said:#?}");
    let history = json_lines(&snaplab(&["history", "--json", "--db", &db]));
    assert_eq!(
        history[0]["outcome"], "failed",
        "recorded as failed, not passed nor running"
    );
}
