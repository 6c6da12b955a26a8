//! A whole lab run through the real-AWS code path (`snaplab run --aws`),
//! on snaplab's emulator acting as AWS (`--run-commands`: SSM commands run
//! as local processes in a sandbox per instance): preflight, consent,
//! provisioning, the Python writer on the instance, snapshot, detach and
//! re-attach, restore, both verifications, clean-up — and after a kill -9,
//! clean-up by tag. Sealed: the caller's AWS settings are removed, proxies
//! point nowhere, and SNAPLAB_FORBID_REAL_AWS refuses any call without an
//! endpoint override.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{aws_as, create_volume_as, json_lines, run_shown_as, snaplab_sealed, EmulatorProcess, TempDir};

const SECRET: &str = "aws-run-secret-never-recorded";
/// The stand-in's "AWS" key: to the emulator, an account of its own, where
/// this file's own checks must look too.
const KEY: &str = "AKIDAWSRUNTEST000001";

fn env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", SECRET.to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("SNAPLAB_FORBID_REAL_AWS", "1".to_string()),
        ("NO_PROXY", "127.0.0.1".to_string()),
    ]
}

fn sealed(args: &[&str], endpoint: &str) -> Output {
    let env = env(endpoint);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    snaplab_sealed(args, &pairs)
}

fn stand_in(dir: &TempDir, extra: &[&str]) -> EmulatorProcess {
    let sandbox = dir.0.join("sandbox");
    let mut args = vec!["--pace", "instant", "--run-commands", sandbox.to_str().unwrap()];
    args.extend_from_slice(extra);
    EmulatorProcess::start(&args)
}

/// Instances (not terminated), volumes and snapshots carrying the snaplab run tag.
fn tagged(endpoint: &str) -> usize {
    let count = |args: &[&str]| {
        let out = aws_as(endpoint, KEY, args);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_array().map_or(0, Vec::len)
    };
    let filter = "Name=tag-key,Values=snaplab:run";
    count(&[
        "ec2",
        "describe-instances",
        "--filters",
        filter,
        "Name=instance-state-name,Values=pending,running,shutting-down,stopped",
        "--query",
        "Reservations[].Instances[]",
    ]) + count(&["ec2", "describe-volumes", "--filters", filter, "--query", "Volumes[]"])
        + count(&[
            "ec2",
            "describe-snapshots",
            "--owner-ids",
            "self",
            "--filters",
            filter,
            "--query",
            "Snapshots[]",
        ])
}

fn assert_no_secret(bytes: &[u8], what: &str) {
    let text = String::from_utf8_lossy(bytes);
    assert!(!text.contains(SECRET), "the secret key is in {what}");
}

#[test]
fn a_whole_real_aws_path_run_on_the_stand_in_passes_verifies_twice_and_leaves_nothing() {
    let dir = TempDir::new("aws-run");
    let emulator = stand_in(&dir, &[]);
    let db = dir.db();
    let out = sealed(&["run", "--aws", "--yes", "--json", "--db", &db], &emulator.endpoint);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let events = json_lines(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{events:#?}");
    let account = snaplab_emulator::account_for_key(KEY);
    assert!(
        stderr.contains(&format!("snaplab will create, in AWS account {account}")),
        "{stderr}"
    );
    assert!(stderr.contains("Estimated cost: $"), "{stderr}");

    let started = events.iter().find(|e| e["event"] == "run_started").unwrap();
    assert_eq!(started["context"]["target"]["kind"], "aws");
    assert_eq!(started["context"]["target"]["endpoint"], emulator.endpoint.as_str());
    let created: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "resource_created")
        .map(|e| e["role"].as_str().unwrap())
        .collect();
    assert_eq!(created, ["app_server", "app_data", "backup", "restored"]);
    let notices: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "notice")
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(notices.iter().any(|n| n.contains("online in SSM")), "{notices:#?}");

    let commands: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "api_call")
        .filter_map(|e| e["operation"].as_str())
        .filter(|op| op.starts_with("SendCommand"))
        .collect();
    for sent in [
        "starting SecureCart's writer",
        "pausing SecureCart",
        "SecureCart's verifier",
    ] {
        assert!(
            commands.iter().any(|c| c.contains(sent)),
            "the API log shows the command {sent:?}: {commands:?}"
        );
    }
    // The stand-in completes snapshots at once: said as what can happen on AWS, not as AWS's habit.
    let continued = events
        .iter()
        .find(|e| e["event"] == "check_result" && e["check_id"] == "writes_continued")
        .unwrap();
    let said = continued["message"].as_str().unwrap();
    assert!(
        said.contains("a snapshot of a small volume with little written can finish within seconds"),
        "{said}"
    );
    let v = &events.iter().find(|e| e["event"] == "verification").unwrap()["verification"];
    assert_eq!(v["read_from"], "ebs direct");
    assert!(v["acknowledged_before_snapshot"].as_u64().unwrap() > 0, "{v:#}");
    assert_eq!(v["missing"], 0, "{v:#}");
    assert_eq!(v["after_snapshot_present"], 0, "{v:#}");
    let on_instance = &v["on_instance"];
    assert_eq!(on_instance["committed"], v["image"]["committed"], "{v:#}");
    assert_eq!(on_instance["last_seq"], v["image"]["last_seq"], "{v:#}");
    assert!(on_instance["device"]
        .as_str()
        .unwrap()
        .starts_with("/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol"));

    assert_eq!(tagged(&emulator.endpoint), 0, "the run's clean-up left something");
    let cleanup = sealed(&["cleanup", "--aws", "--all", "--yes"], &emulator.endpoint);
    assert!(
        String::from_utf8_lossy(&cleanup.stdout).contains("Nothing tagged by snaplab is left"),
        "{}",
        String::from_utf8_lossy(&cleanup.stderr)
    );
    assert!(
        std::fs::read_dir(dir.0.join("sandbox")).unwrap().next().is_none(),
        "every instance sandbox went with its instance"
    );
    for (bytes, what) in [(&out.stdout, "stdout"), (&out.stderr, "stderr")] {
        assert_no_secret(bytes, what);
    }
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            assert_no_secret(&std::fs::read(&path).unwrap(), &path.display().to_string());
        }
    }
    let run_id = started["run_id"].as_str().unwrap();
    let report = snaplab_sealed(&["report", run_id, "--db", &db], &[]);
    assert_no_secret(&report.stdout, "the report");
    let report = String::from_utf8_lossy(&report.stdout);
    assert!(report.contains("SecureCart's own verifier"), "{report}");
    assert!(
        report.contains("What this run's resources cost at snaplab's prices"),
        "{report}"
    );
    assert!(
        report.contains("| instance | i-") && report.contains("| app_server |"),
        "{report}"
    );
}

#[test]
fn killed_mid_run_the_resources_are_found_by_tag_and_deleted_and_nothing_else_is() {
    let dir = TempDir::new("aws-kill");
    let emulator = stand_in(&dir, &[]);
    // Someone else's volume, with one snaplab tag but not both: never touched.
    let mine = create_volume_as(&emulator.endpoint, KEY, Some("{Key=snaplab:run,Value=not-a-lab}"));

    let run_id = kill_after_the_snapshot(&emulator.endpoint, &dir.db());
    assert!(run_id.starts_with("run-"));
    assert!(tagged(&emulator.endpoint) >= 3, "the killed run left its resources");

    let out = sealed(&["cleanup", "--aws", "--all", "--yes"], &emulator.endpoint);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("instance i-"), "it listed what it deletes: {stdout}");
    assert!(stdout.contains("snapshot snap-"), "{stdout}");
    assert_eq!(
        tagged(&emulator.endpoint),
        1,
        "only the volume without both snaplab tags is left"
    );
    let left = aws_as(
        &emulator.endpoint,
        KEY,
        &["ec2", "describe-volumes", "--volume-ids", &mine],
    );
    assert!(left.status.success(), "{mine} was deleted");
}

/// Starts `snaplab run --aws` and kills it (SIGKILL) once its snapshot
/// exists: instance, volumes and snapshot are all out there. Its run id.
fn kill_after_the_snapshot(endpoint: &str, db: &str) -> String {
    signal_after_the_snapshot(endpoint, db, "-KILL")
}

/// The same with any signal; waits for the process to end.
fn signal_after_the_snapshot(endpoint: &str, db: &str, signal: &str) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_snaplab"));
    cmd.args(["run", "--aws", "--yes", "--json", "--db", db]);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().to_ascii_uppercase().starts_with("AWS_") {
            cmd.env_remove(&name);
        }
    }
    cmd.env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .envs(env(endpoint))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut run = cmd.spawn().unwrap();
    let stdout = run.stdout.take().unwrap();
    let started = Instant::now();
    let mut run_id = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if let Some(id) = event["run_id"].as_str() {
            run_id = id.to_string();
        }
        if event["event"] == "resource_created" && event["role"] == "backup" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the run never made its snapshot"
        );
    }
    let sent = Command::new("kill")
        .args([signal, &run.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    run.wait().unwrap();
    run_id
}

#[test]
fn stopped_with_sigterm_a_run_on_aws_deletes_what_it_created_before_it_exits() {
    let dir = TempDir::new("aws-term");
    let emulator = stand_in(&dir, &[]);
    let run_id = signal_after_the_snapshot(&emulator.endpoint, &dir.db(), "-TERM");
    assert_eq!(
        tagged(&emulator.endpoint),
        0,
        "a stopped AWS run leaves nothing running"
    );
    // Its stop deleted what it made: a resume has nothing to go on with, and says so.
    let out = sealed(&["run", "--resume", &run_id, "--db", &dir.db()], &emulator.endpoint);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "run {run_id} ran on AWS and what it created was deleted when it stopped"
        )),
        "{stderr}"
    );
}

#[test]
fn cleanup_of_a_run_on_aws_also_finds_what_its_record_never_heard_of() {
    let dir = TempDir::new("aws-unrecorded");
    let emulator = stand_in(&dir, &[]);
    let run_id = signal_after_the_snapshot(&emulator.endpoint, &dir.db(), "-TERM");
    // What a stop in the middle of CreateVolume leaves: made, tagged, never recorded.
    let tags = format!("{{Key=snaplab:run,Value={run_id}}},{{Key=snaplab:lab,Value=securecart-snapshot}}");
    create_volume_as(&emulator.endpoint, KEY, Some(&tags));
    assert_eq!(tagged(&emulator.endpoint), 1);

    let out = sealed(&["cleanup", &run_id, "--db", &dir.db()], &emulator.endpoint);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("Deleted the one resource run {run_id} left behind.")
    );
    assert_eq!(tagged(&emulator.endpoint), 0, "found by its tags and deleted");
}

#[test]
fn killed_after_the_snapshot_a_run_on_aws_resumes_stops_the_old_writer_and_cleans_up() {
    let dir = TempDir::new("aws-resume");
    let emulator = stand_in(&dir, &[]);
    let run_id = kill_after_the_snapshot(&emulator.endpoint, &dir.db());
    let out = sealed(
        &["run", "--resume", &run_id, "--json", "--db", &dir.db()],
        &emulator.endpoint,
    );
    let events = json_lines(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{events:#?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = &events.iter().find(|e| e["event"] == "verification").unwrap()["verification"];
    assert_eq!(v["missing"], 0, "{v:#}");
    assert_eq!(v["on_instance"]["committed"], v["image"]["committed"], "{v:#}");
    assert_eq!(tagged(&emulator.endpoint), 0, "the resumed run cleaned up everything");
}

#[test]
fn without_consent_or_with_a_denied_permission_nothing_is_created() {
    let dir = TempDir::new("aws-refused");
    let emulator = stand_in(&dir, &[]);
    // No terminal and no --yes: refused before anything is created.
    let out = sealed(&["run", "--aws", "--db", &dir.db()], &emulator.endpoint);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --yes"));
    assert_eq!(tagged(&emulator.endpoint), 0);

    let denied = stand_in(&dir, &["--deny", "ec2:CreateVolume"]);
    let out = sealed(&["run", "--aws", "--yes", "--db", &dir.db()], &denied.endpoint);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("NO  ec2:CreateVolume"), "{stderr}");
    assert!(stderr.contains("Nothing was created"), "{stderr}");
    assert_eq!(tagged(&denied.endpoint), 0);
}

#[test]
fn hands_on_on_aws_the_learner_types_the_commands_and_the_run_removes_its_server_at_the_end() {
    let dir = TempDir::new("aws-hands-on");
    let emulator = stand_in(&dir, &[]);
    let db = dir.db();
    let env = env(&emulator.endpoint);
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend([
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ]);
    let mut run = common::LiveRun::start_with(
        &["run", "--aws", "--yes", "--mode", "hands-on", "--json", "--db", &db],
        &env,
    );
    let started = run.until(Duration::from_secs(120), "run_started", |e| e["event"] == "run_started");
    let terminal = started["terminal"].as_str().unwrap();
    assert!(
        terminal.contains(&format!("AWS_ENDPOINT_URL={}", emulator.endpoint))
            && !terminal.contains("SECRET_ACCESS_KEY="),
        "the terminal line names the stand-in and no credential: {terminal}"
    );
    run.play_hands_on(|c| {
        if c.contains("create-snapshot") || c.contains("create-volume") {
            assert!(
                c.contains("snaplab:lab"),
                "what the learner creates is tagged for clean-up: {c}"
            );
        }
        run_shown_as(&emulator.endpoint, KEY, c);
    });
    assert!(run.finish(Duration::from_secs(60)).success());
    assert!(
        run.seen.iter().any(|e| e["event"] == "notice"
            && e["message"]
                .as_str()
                .unwrap_or("")
                .contains("Removing SecureCart's server")),
        "the run said it removes its server"
    );
    assert_eq!(
        tagged(&emulator.endpoint),
        0,
        "the server and data volume went with the run"
    );
}

/// The incremental lab on the real-AWS path (the stand-in): the writer on
/// the instance takes the lab's history and big records, the comparison
/// comes from EBS direct `ListChangedBlocks`, and nothing is left.
#[test]
fn the_incremental_lab_runs_on_the_real_aws_path_through_ebs_direct() {
    let dir = TempDir::new("aws-incremental");
    let emulator = stand_in(&dir, &[]);
    let db = dir.db();
    let out = sealed(
        &["run", "incremental", "--aws", "--yes", "--json", "--db", &db],
        &emulator.endpoint,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let events = json_lines(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{events:#?}");
    let started = events.iter().find(|e| e["event"] == "run_started").unwrap();
    let run_id = started["run_id"].as_str().unwrap();
    let writer = events
        .iter()
        .filter(|e| e["event"] == "api_call")
        .filter_map(|e| e["operation"].as_str())
        .find(|op| op.contains("starting SecureCart's writer"));
    assert!(writer.is_some(), "the writer ran on the instance");
    let report = common::snaplab(&["report", run_id, "--format", "json", "--db", &db]);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let c = &report["context"]["comparison"];
    assert_eq!(c["source"], "ebs direct", "{c}");
    let (changed, held) = (
        c["changed"].as_array().unwrap().len(),
        c["held"].as_array().unwrap().len(),
    );
    assert!(changed > 0 && changed < held, "{c}");
    assert!(held >= 60, "4,000 past orders of 8 KiB fill at least 60 blocks: {c}");
    assert_eq!(tagged(&emulator.endpoint), 0, "nothing tagged is left");
}

/// The crash- vs application-consistent lab on the real-AWS path (the
/// stand-in): the writer on the instance holds an order half-written for the
/// crash snapshot, which the lab reads torn through EBS direct.
#[test]
fn the_consistency_lab_holds_an_order_on_the_instance_and_finds_it_torn() {
    let dir = TempDir::new("aws-consistency");
    let emulator = stand_in(&dir, &[]);
    let db = dir.db();
    let out = sealed(
        &[
            "run",
            "crash-vs-app-consistent",
            "--aws",
            "--yes",
            "--json",
            "--db",
            &db,
        ],
        &emulator.endpoint,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let events = json_lines(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{events:#?}");
    let commands: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "api_call")
        .filter_map(|e| e["operation"].as_str())
        .collect();
    assert!(
        commands.iter().any(|c| c.contains("holding an order half-written")),
        "the hold went to the instance: {commands:?}"
    );
    let run_id = events[0]["run_id"].as_str().unwrap();
    let report = common::snaplab(&["report", run_id, "--format", "json", "--db", &db]);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let vs = report["context"]["verifications"].as_array().unwrap();
    assert_eq!(vs.len(), 2);
    assert_eq!(vs[0]["image"]["torn_seqs"].as_array().unwrap().len(), 1, "{:#}", vs[0]);
    assert_eq!(vs[0]["read_from"], "ebs direct");
    assert!(
        vs[1]["image"]["torn_seqs"].as_array().unwrap().is_empty(),
        "{:#}",
        vs[1]
    );
    assert_eq!(tagged(&emulator.endpoint), 0, "nothing tagged is left");
}
