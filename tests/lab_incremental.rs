//! The incremental lab end to end: two snapshots of the busy shop, the
//! blocks changed between them, the first deleted, the second restored in
//! full — guided on the built-in emulator and on moto (a shadow disk), and
//! hands-on with the aws CLI running the commands shown, with the mistakes
//! a learner makes told by the checks.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{guided_run, json_lines, run_shown, snaplab, LiveRun, Moto, TempDir};

fn report(db: &str, run_id: &str) -> serde_json::Value {
    let out = snaplab(&["report", run_id, "--format", "json", "--db", db]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What every passing run of the lab shows in its record.
fn assert_incremental(db: &str, events: &[serde_json::Value]) -> serde_json::Value {
    let finished = events.last().unwrap();
    assert_eq!(finished["event"], "run_finished");
    assert_eq!(finished["outcome"], "passed", "{events:#?}");
    assert_eq!(finished["steps_passed"], 12);
    let run_id = events[0]["run_id"].as_str().unwrap();
    let r = report(db, run_id);
    let ctx = &r["context"];
    let c = &ctx["comparison"];
    let (changed, held) = (
        c["changed"].as_array().unwrap().len(),
        c["held"].as_array().unwrap().len(),
    );
    assert!(changed > 0 && changed < held, "some blocks changed, not all: {c}");
    assert_eq!(c["block_size"], 524288);
    assert_eq!(c["second_snapshot_id"], ctx["snapshot_id"]);
    assert_eq!(c["first_snapshot_id"], ctx["previous_snapshot_id"]);
    assert_ne!(ctx["snapshot_id"], ctx["previous_snapshot_id"]);
    let v = &r["verification"];
    assert_eq!(v["missing"], 0, "the second snapshot restores in full: {v}");
    assert_eq!(v["present_in_restore"], v["acknowledged_before_snapshot"]);
    let resources = r["resources"].as_array().unwrap();
    let snapshots = resources.iter().filter(|x| x["kind"] == "snapshot").count();
    assert_eq!(snapshots, 2, "{resources:?}");
    assert!(resources.iter().all(|x| !x["deleted_at"].is_null()));
    let md = snaplab(&["report", run_id, "--format", "md", "--db", db]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("## Blocks changed between the snapshots")
            && md.contains(&format!("| changed (what the second snapshot stores) | {changed} |")),
        "the report shows the comparison: {md}"
    );
    r
}

fn guided(extra: &[&str]) -> (TempDir, Vec<serde_json::Value>) {
    guided_run("incremental", extra)
}

#[test]
fn guided_on_the_built_in_emulator_through_ebs_direct() {
    let (dir, events) = guided(&["--pace", "instant"]);
    let r = assert_incremental(&dir.db(), &events);
    assert_eq!(r["context"]["comparison"]["source"], "emulator");
    let calls: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "api_call")
        .filter_map(|e| e["operation"].as_str())
        .collect();
    assert!(calls.contains(&"DeleteSnapshot"), "{calls:?}");
}

#[test]
fn guided_on_moto_from_the_shadow_disk() {
    let moto = Moto::start();
    let (dir, events) = guided(&["--endpoint", &moto.endpoint]);
    let r = assert_incremental(&dir.db(), &events);
    assert_eq!(r["context"]["comparison"]["source"], "shadow disk");
    assert_eq!(r["context"]["target"]["kind"], "moto");
}

#[test]
fn hands_on_with_the_aws_cli_and_the_checks_say_what_is_missing() {
    let dir = TempDir::new("incremental-hands-on");
    let db = dir.db();
    let (mut run, endpoint) = LiveRun::hands_on("incremental", &db);
    let mut done: Vec<String> = Vec::new();
    let mut failures: Vec<(String, String)> = Vec::new();
    loop {
        let e = run.until(Duration::from_secs(120), "a prompt or the end", |e| {
            matches!(
                e["event"].as_str(),
                Some("awaiting_learner" | "run_finished" | "check_result")
            )
        });
        match e["event"].as_str().unwrap() {
            "run_finished" => break,
            "check_result" => {
                if e["passed"] == false {
                    failures.push((
                        e["check_id"].as_str().unwrap().to_string(),
                        e["message"].as_str().unwrap().to_string(),
                    ));
                }
            }
            _ => {
                let step = e["step_id"].as_str().unwrap().to_string();
                // The learner's mistakes: checking before doing the step, once each.
                let mistake = match step.as_str() {
                    "second-snapshot" => Some("snapshot_created"),
                    "delete-first" => Some("previous_snapshot_deleted"),
                    _ => None,
                };
                if mistake.is_some_and(|check| !failures.iter().any(|(c, _)| c == check)) {
                    run.answer("");
                    continue;
                }
                if !done.contains(&step) {
                    for c in e["commands"].as_array().unwrap() {
                        let c = c.as_str().unwrap();
                        assert!(!c.contains("not known yet"), "every id is filled in: {c}");
                        let out = run_shown(&endpoint, c);
                        if step == "changed-blocks" && c.contains("list-changed-blocks") {
                            let n: u64 = out.trim().parse().unwrap();
                            assert!(n > 0, "the learner's own count: {out}");
                        }
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
    let events: Vec<serde_json::Value> = run.seen.clone();
    assert_incremental(&db, &events);
    let said = |check: &str| {
        failures
            .iter()
            .find(|(c, _)| c == check)
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| panic!("{check} never failed: {failures:?}"))
    };
    let second = said("snapshot_created");
    assert!(
        second.contains("since this step began"),
        "the first snapshot does not count again: {second}"
    );
    let delete = said("previous_snapshot_deleted");
    assert!(
        delete.contains("aws ec2 delete-snapshot --snapshot-id snap-"),
        "{delete}"
    );
}

#[test]
fn a_lab_is_refused_before_it_starts_on_a_target_it_does_not_run_on() {
    let dir = TempDir::new("incremental-targets");
    // The same lab, declared for AWS only.
    let labs = dir.0.join("labs");
    let lab = labs.join("incremental");
    std::fs::create_dir_all(lab.join("steps")).unwrap();
    let source = common::repo_root().join("labs/incremental");
    for entry in std::fs::read_dir(source.join("steps")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), lab.join("steps").join(entry.file_name())).unwrap();
    }
    let toml = std::fs::read_to_string(source.join("lab.toml")).unwrap();
    let toml = toml.replace("order = 4\n", "order = 4\ntargets = [\"aws\"]\n");
    assert!(toml.contains(r#"targets = ["aws"]"#));
    std::fs::write(lab.join("lab.toml"), toml).unwrap();

    let db = dir.db();
    let out = common::snaplab_sealed(
        &["run", "incremental", "--pace", "instant", "--db", &db],
        &[("SNAPLAB_LABS_DIR", labs.to_str().unwrap())],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("lab incremental does not run on built-in emulator: it runs on AWS"),
        "{stderr}"
    );
    let listed = common::snaplab_sealed(&["labs", "--json"], &[("SNAPLAB_LABS_DIR", labs.to_str().unwrap())]);
    let listed = json_lines(&listed);
    assert_eq!(listed[0]["targets"], serde_json::json!(["aws"]));
    let history = json_lines(&common::snaplab(&["history", "--json", "--db", &db]));
    assert!(history.is_empty(), "nothing was recorded: {history:?}");
}
