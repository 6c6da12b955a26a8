//! The snapshot-alerts lab end to end: an SNS topic and email subscription,
//! an EventBridge rule for failed createSnapshot notifications targeting
//! it; a snapshot that completes raises an event but no alert, one the
//! emulator fails raises the alert — guided on the built-in emulator and a
//! standalone one at demo pace, hands-on with the aws CLI and a learner's
//! mistake (a rule that alerts on success).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{drive_hands_on, guided_run, snaplab, EmulatorProcess, LiveRun, TempDir};

/// What every passing run of the lab shows in its record.
fn assert_alerted(db: &str, events: &[serde_json::Value]) {
    let finished = events.last().unwrap();
    assert_eq!(finished["event"], "run_finished");
    assert_eq!(finished["outcome"], "passed", "{events:#?}");
    assert_eq!(finished["steps_passed"], 10);
    let run_id = events[0]["run_id"].as_str().unwrap();
    let out = snaplab(&["report", run_id, "--format", "json", "--db", db]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let inbox = r["context"]["alerts"]["inbox"].as_array().unwrap();
    assert_eq!(inbox.len(), 1, "one alert, for the failed snapshot only: {inbox:#?}");
    assert_eq!(inbox[0]["endpoint"], "ops@securecart.example");
    assert_eq!(inbox[0]["protocol"], "email");
    let event: serde_json::Value = serde_json::from_str(inbox[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(event["detail-type"], "EBS Snapshot Notification");
    assert_eq!(event["detail"]["result"], "failed");
    let failed = r["context"]["snapshot_id"].as_str().unwrap();
    assert_eq!(
        event["detail"]["snapshot_id"],
        format!("arn:aws:ec2::us-east-1:snapshot/{failed}")
    );
    assert!(event["detail"]["cause"]
        .as_str()
        .unwrap()
        .contains("the lab asked the emulator"));
    // The success was an event in the feed, not an alert.
    assert!(events.iter().any(|e| e["event"] == "notice"
        && e["message"]
            .as_str()
            .unwrap()
            .starts_with("EBS sent an event: createSnapshot succeeded")));
    let resources = r["resources"].as_array().unwrap();
    let kinds: Vec<&str> = resources.iter().map(|x| x["kind"].as_str().unwrap()).collect();
    for kind in ["alert_topic", "alert_rule", "snapshot"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    assert!(
        resources.iter().all(|x| !x["deleted_at"].is_null()),
        "the rule, the topic and both snapshots are gone: {resources:?}"
    );
    let md = String::from_utf8_lossy(&snaplab(&["report", run_id, "--format", "md", "--db", db]).stdout).to_string();
    assert!(
        md.contains("## Alerts delivered") && md.contains("ops@securecart.example"),
        "{md}"
    );
}

#[test]
fn guided_on_the_built_in_emulator_only_the_failure_alerts() {
    let (dir, events) = guided_run("snapshot-alerts", &["--pace", "instant"]);
    assert_alerted(&dir.db(), &events);
}

#[test]
fn guided_on_a_standalone_emulator_at_demo_pace_and_again_on_the_same_world() {
    let emulator = EmulatorProcess::start(&["--pace", "demo"]);
    // The second run finds no topic or rule left by the first.
    for _ in 0..2 {
        let (dir, events) = guided_run("snapshot-alerts", &["--endpoint", &emulator.endpoint]);
        assert_alerted(&dir.db(), &events);
    }
}

#[test]
fn hands_on_a_rule_that_alerts_on_success_is_refused_and_put_again() {
    let dir = TempDir::new("snapshot-alerts-hands-on");
    let db = dir.db();
    let (mut run, endpoint) = LiveRun::hands_on("snapshot-alerts", &db);
    // The mistake: alerting on every result, successes too; put right after the refusal.
    let refused = drive_hands_on(&mut run, &endpoint, |step, commands, _, first| match step {
        "rule" if first => Some(vec![commands[0].replace(r#"["failed"]"#, r#"["failed","succeeded"]"#)]),
        "rule" => Some(commands.to_vec()),
        _ => None,
    });
    assert!(run.finish(Duration::from_secs(30)).success());
    assert!(
        refused.iter().any(|m| m.contains("no \"succeeded\" in detail.result")),
        "the check named the mistake: {refused:#?}"
    );
    let events = run.seen.clone();
    assert_alerted(&db, &events);
}
