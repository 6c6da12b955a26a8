//! Hands-on mode: the test plays the learner. For every step it runs the
//! exact commands the app shows, through the real aws CLI, then presses
//! Enter; once it restores into the wrong zone, and the check must say so.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{aws_json, run_shown, run_shown_as, EmulatorProcess, LiveRun, TempDir};

/// The AWS_ENDPOINT_URL of the `export …` line a run_started event shows the learner.
fn terminal_endpoint(started: &serde_json::Value) -> String {
    terminal_value(started, "AWS_ENDPOINT_URL")
}

#[test]
fn a_learner_does_the_lab_with_the_aws_cli_and_a_wrong_zone_fails_its_check() {
    let dir = TempDir::new("hands-on");
    let db = dir.db();
    // Port 0: the built-in emulator takes any free port, so parallel runs (and
    // whatever else listens on 4566) never collide; the test learns the port
    // from the run, as a learner does from its terminal line.
    let mut run = LiveRun::start(&[
        "run",
        "--mode",
        "hands-on",
        "--pace",
        "demo",
        "--emulator-port",
        "0",
        "--json",
        "--db",
        &db,
    ]);
    let started = run.until(Duration::from_secs(60), "run_started", |e| e["event"] == "run_started");
    let endpoint = started["context"]["target"]["endpoint"].as_str().unwrap().to_string();
    assert_eq!(started["context"]["mode"], "hands-on");
    assert_eq!(
        terminal_endpoint(&started),
        endpoint,
        "the terminal line points at the run's own emulator"
    );

    let mut answered: Vec<String> = Vec::new();
    let mut wrong_volume: Option<String> = None;
    let mut zone_check_failed = None;
    loop {
        let e = run.until(Duration::from_secs(120), "a prompt or the end", |e| {
            matches!(
                e["event"].as_str(),
                Some("awaiting_learner" | "run_finished" | "check_result")
            )
        });
        match e["event"].as_str().unwrap() {
            "run_finished" => {
                assert_eq!(e["outcome"], "passed", "{:#?}", run.seen);
                break;
            }
            "check_result" => {
                if e["check_id"] == "restored_in_instance_zone" && e["passed"] == false {
                    zone_check_failed = Some(e["message"].as_str().unwrap().to_string());
                }
            }
            _ => {
                let step = e["step_id"].as_str().unwrap().to_string();
                let commands: Vec<String> = e["commands"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_string())
                    .collect();
                assert!(!commands.is_empty(), "a hands-on step shows commands: {e}");
                let first_time = !answered.contains(&step);
                if first_time {
                    for c in &commands {
                        assert!(!c.contains("not known yet"), "every id is filled in: {c}");
                        if step == "restore" && wrong_volume.is_none() {
                            // The learner's mistake: the wrong Availability Zone.
                            let wrong = c.replace("--availability-zone us-east-1a", "--availability-zone us-east-1b");
                            let out: serde_json::Value = serde_json::from_str(&run_shown(&endpoint, &wrong)).unwrap();
                            wrong_volume = Some(out["VolumeId"].as_str().unwrap().to_string());
                        } else {
                            run_shown(&endpoint, c);
                        }
                    }
                    if step == "cleanup" {
                        let wrong = wrong_volume.clone().unwrap();
                        run_shown(&endpoint, &format!("aws ec2 delete-volume --volume-id {wrong}"));
                    }
                    answered.push(step.clone());
                } else if step == "restore" && zone_check_failed.is_some() {
                    // Told what was wrong, the learner does it right this time.
                    let once = answered.iter().filter(|s| *s == "restore").count();
                    if once == 1 {
                        for c in &commands {
                            run_shown(&endpoint, c);
                        }
                        answered.push(step.clone());
                    }
                } else {
                    // Checked too early (still attaching…): wait and check again.
                    std::thread::sleep(Duration::from_millis(500));
                }
                run.answer("");
            }
        }
    }
    assert!(run.finish(Duration::from_secs(30)).success());

    let message = zone_check_failed.expect("the wrong zone failed its check");
    assert!(
        message.contains("us-east-1b")
            && message.contains("us-east-1a")
            && message.contains("--availability-zone us-east-1a"),
        "the message says what is wrong and what to do: {message}"
    );
    let checks: Vec<&serde_json::Value> = run.seen.iter().filter(|e| e["event"] == "check_result").collect();
    let last_zone = checks
        .iter()
        .rev()
        .find(|c| c["check_id"] == "restored_in_instance_zone")
        .unwrap();
    assert_eq!(last_zone["passed"], true);
    // Steps the learner cannot do by hand were done by the app, never prompted.
    let prompted: Vec<&str> = run
        .seen
        .iter()
        .filter(|e| e["event"] == "awaiting_learner")
        .filter_map(|e| e["step_id"].as_str())
        .collect();
    for app_step in ["start-shop", "keep-writing", "verify"] {
        assert!(!prompted.contains(&app_step), "{app_step} was prompted");
    }
    let run_id = started["run_id"].as_str().unwrap();
    let report = common::snaplab(&["report", run_id, "--format", "json", "--db", &db]);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["outcome"], "passed");
    assert_eq!(report["mode"], "hands-on");
    let resources = report["resources"].as_array().unwrap();
    assert!(
        resources.len() >= 3,
        "snapshot, wrong volume, right volume: {resources:?}"
    );
    assert!(resources.iter().all(|r| !r["deleted_at"].is_null()));
}

#[test]
fn a_learner_can_skip_and_quit_and_the_run_is_interrupted() {
    let dir = TempDir::new("hands-on-quit");
    let db = dir.db();
    let mut run = LiveRun::start(&[
        "run",
        "--mode",
        "hands-on",
        "--pace",
        "instant",
        "--emulator-port",
        "0",
        "--json",
        "--db",
        &db,
    ]);
    let prompt = run.until(Duration::from_secs(60), "the first prompt", |e| {
        e["event"] == "awaiting_learner"
    });
    assert_eq!(prompt["step_id"], "create-snapshot");
    run.answer("s");
    let skipped = run.until(Duration::from_secs(30), "step_finished", |e| {
        e["event"] == "step_finished"
    });
    assert_eq!(skipped["outcome"], "skipped");
    run.until(Duration::from_secs(30), "the next prompt", |e| {
        e["event"] == "awaiting_learner"
    });
    run.answer("q");
    let finished = run.until(Duration::from_secs(30), "run_finished", |e| {
        e["event"] == "run_finished"
    });
    assert_eq!(finished["outcome"], "interrupted");
    assert_eq!(run.finish(Duration::from_secs(30)).code(), Some(130));
    let history = common::json_lines(&common::snaplab(&["history", "--json", "--db", &db]));
    assert_eq!(history[0]["outcome"], "interrupted");
}

/// One word of the `export …` line a run_started event shows the learner.
fn terminal_value(started: &serde_json::Value, name: &str) -> String {
    let terminal = started["terminal"].as_str().unwrap();
    let prefix = format!("{name}=");
    terminal
        .split_whitespace()
        .find_map(|w| w.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {name} in {terminal:?}"))
        .to_string()
}

#[test]
fn on_a_class_emulator_the_line_a_learner_copies_carries_their_own_key_and_their_commands_drive_their_own_securecart() {
    let dir = TempDir::new("hands-on-class");
    let db = dir.db();
    let emulator = EmulatorProcess::start(&["--pace", "demo"]);
    let mut run = LiveRun::start(&[
        "run",
        "--mode",
        "hands-on",
        "--endpoint",
        &emulator.endpoint,
        "--learner",
        "Ada",
        "--json",
        "--db",
        &db,
    ]);
    let started = run.until(Duration::from_secs(60), "run_started", |e| e["event"] == "run_started");
    let key = terminal_value(&started, "AWS_ACCESS_KEY_ID");
    assert_eq!(
        key,
        snaplab_cloud::learner_access_key("ada"),
        "Ada's own key, from her name"
    );
    assert_eq!(terminal_value(&started, "AWS_ENDPOINT_URL"), emulator.endpoint);
    assert_eq!(started["context"]["target"]["access_key"], key.as_str());

    run.play_hands_on(|c| {
        run_shown_as(&emulator.endpoint, &key, c);
    });
    assert!(run.finish(Duration::from_secs(30)).success());
    // Her SecureCart was not the default account's, which nobody touched.
    let instance = run
        .seen
        .iter()
        .find_map(|e| e["context"]["scenario"]["instance_id"].as_str())
        .unwrap();
    assert_ne!(instance, "i-0a1b2c3d4e5f60789");
    let snapshots = aws_json(
        &emulator.endpoint,
        &["ec2", "describe-snapshots", "--owner-ids", "self"],
    );
    assert_eq!(
        snapshots["Snapshots"],
        serde_json::json!([]),
        "the default account saw no snapshot"
    );
}
