//! The record through the CLI: `snaplab cleanup` on every path (a run on
//! the built-in emulator, one on a standalone emulator, one whose emulator
//! state is gone, a finished run, an unknown run), `history` filters and its
//! instructor CSV, and reports with text that could break them; the class
//! board; a class record on a real PostgreSQL server (`--db postgres://`).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
#[path = "../crates/store/tests/support/postgres.rs"]
mod postgres;

use std::process::Output;
use std::time::Duration;

use common::{json_lines, snaplab, EmulatorProcess, LiveRun, TempDir};

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the lab until `step` has finished, then stops it as Ctrl-C would
/// (exit 130, recorded interrupted). Returns the run id.
fn run_until_step_then_stop(db: &str, extra: &[&str], step: &str) -> String {
    let mut args = vec!["run", "--json", "--db", db, "--emulator-port", "0"];
    args.extend_from_slice(extra);
    let mut run = LiveRun::start(&args);
    let started = run.until(Duration::from_secs(60), "run_started", |e| e["event"] == "run_started");
    let run_id = started["run_id"].as_str().unwrap().to_string();
    run.until(Duration::from_secs(120), step, |e| {
        e["event"] == "step_finished" && e["step_id"] == step
    });
    let pid = run.child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    assert_eq!(run.finish(Duration::from_secs(60)).code(), Some(130));
    run_id
}

fn history(db: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["history", "--json", "--db", db];
    args.extend_from_slice(extra);
    let out = snaplab(&args);
    assert_eq!(out.status.code(), Some(0), "history failed: {}", text(&out).1);
    json_lines(&out)
}

#[test]
fn cleanup_deletes_what_an_interrupted_run_on_the_built_in_emulator_left() {
    let dir = TempDir::new("cleanup-embedded");
    let db = dir.db();
    let run_id = run_until_step_then_stop(&db, &["--pace", "instant"], "restore");
    let h = history(&db, &[]);
    assert_eq!(
        (h[0]["outcome"].as_str(), h[0]["resources_left"].as_i64()),
        (Some("interrupted"), Some(2))
    );

    let out = snaplab(&["cleanup", &run_id, "--db", &db]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("Deleted all 2 resources run {run_id} left behind.")
    );
    assert_eq!(history(&db, &[])[0]["resources_left"], 0);
    let report: serde_json::Value =
        serde_json::from_slice(&snaplab(&["report", &run_id, "--format", "json", "--db", &db]).stdout).unwrap();
    let deletes: Vec<&str> = report["api_calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["step_id"] == "cleanup")
        .filter_map(|c| c["operation"].as_str())
        .collect();
    assert!(
        deletes.contains(&"DeleteVolume") && deletes.contains(&"DeleteSnapshot"),
        "{deletes:?}"
    );

    let again = snaplab(&["cleanup", &run_id, "--db", &db]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(text(&again).0.trim(), format!("Run {run_id} left nothing behind."));
}

#[test]
fn cleanup_of_a_run_on_a_standalone_emulator_deletes_there() {
    let dir = TempDir::new("cleanup-endpoint");
    let db = dir.db();
    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let run_id = run_until_step_then_stop(&db, &["--endpoint", &emulator.endpoint], "create-snapshot");
    let out = snaplab(&["cleanup", &run_id, "--db", &db]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_eq!(
        text(&out).0.trim(),
        format!("Deleted the one resource run {run_id} left behind.")
    );
    let snaps = common::aws_json(
        &emulator.endpoint,
        &[
            "ec2",
            "describe-snapshots",
            "--owner-ids",
            "self",
            "--filters",
            &format!("Name=tag:snaplab:run,Values={run_id}"),
        ],
    );
    assert_eq!(
        snaps["Snapshots"].as_array().unwrap().len(),
        0,
        "gone from the emulator too"
    );
}

#[test]
fn cleanup_says_so_when_the_emulator_state_is_gone_or_the_run_is_unknown() {
    let dir = TempDir::new("cleanup-gone");
    let db = dir.db();
    let run_id = run_until_step_then_stop(&db, &["--pace", "instant"], "create-snapshot");
    std::fs::remove_dir_all(dir.0.join("snaplab-runs").join(&run_id)).unwrap();
    let out = snaplab(&["cleanup", &run_id, "--db", &db]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(text(&out).0.contains("whose state is gone"), "{}", text(&out).0);
    assert_eq!(history(&db, &[])[0]["resources_left"], 0, "recorded as gone with it");

    let unknown = snaplab(&["cleanup", "run-nope", "--db", &db]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown)
        .1
        .contains("no run run-nope in the record; list runs with snaplab history"));
}

#[test]
fn history_filters_and_its_csv_defuses_what_a_spreadsheet_would_run() {
    let dir = TempDir::new("history");
    let db = dir.db();
    for learner in ["ann", "+cmd|calc", "bo, \"the\" second"] {
        let out = snaplab(&["run", "--pace", "instant", "--learner", learner, "--db", &db]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    }
    assert_eq!(history(&db, &[]).len(), 3);
    let ann = history(&db, &["--learner", "ann"]);
    assert_eq!(ann.len(), 1);
    assert_eq!(ann[0]["learner"], "ann");
    assert!(history(&db, &["--lab", "no-such-lab"]).is_empty());
    assert_eq!(history(&db, &["--lab", "securecart-snapshot"]).len(), 3);

    let csv = snaplab(&["history", "--csv", "--db", &db]);
    assert_eq!(csv.status.code(), Some(0));
    let csv = text(&csv).0;
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "learner,lab,runs,passed_runs,last_outcome,last_started_at,last_duration_s,best_steps_passed,steps_total,quiz_correct,quiz_asked"
    );
    assert_eq!(lines.len(), 4);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("'+cmd|calc,securecart-snapshot,1,1,passed,")),
        "{csv}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("\"bo, \"\"the\"\" second\",securecart-snapshot,1,1,passed,")),
        "{csv}"
    );
}

#[test]
fn a_report_keeps_outside_text_as_text() {
    let dir = TempDir::new("report-escape");
    let db = dir.db();
    let learner = "eve | <b>bold</b> **x**";
    let out = snaplab(&["run", "--pace", "instant", "--learner", learner, "--json", "--db", &db]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let run_id = json_lines(&out)[0]["run_id"].as_str().unwrap().to_string();
    let md = snaplab(&["report", &run_id, "--db", &db]);
    assert_eq!(md.status.code(), Some(0));
    let md = text(&md).0;
    let row = md.lines().find(|l| l.starts_with("| learner |")).unwrap();
    assert_eq!(row, "| learner | eve \\| \\<b\\>bold\\</b\\> \\*\\*x\\*\\* |");
    let html = snaplab(&["report", &run_id, "--format", "html", "--db", &db]);
    assert_eq!(html.status.code(), Some(0));
    let html = text(&html).0;
    assert!(!html.contains("<b>bold"), "raw HTML from a learner's name");
    assert!(html.contains("<td>eve | &lt;b&gt;bold&lt;/b&gt; **x**</td>"), "{html}");
}

#[test]
fn the_class_board_shows_every_learners_latest_run_in_the_terminal_and_as_json() {
    let dir = TempDir::new("class-board");
    let db = dir.db();
    let empty = snaplab(&["class", "--db", &db]);
    assert!(
        text(&empty).0.contains("No learner has started a run"),
        "{:?}",
        text(&empty)
    );
    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    for learner in ["ada", "grace"] {
        let out = snaplab(&[
            "run",
            "--endpoint",
            &emulator.endpoint,
            "--learner",
            learner,
            "--db",
            &db,
        ]);
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    }
    // Grace's second run stops after its first step: her latest is the one on the board.
    let stopped = run_until_step_then_stop(&db, &["--learner", "grace"], "start-shop");

    let out = snaplab(&["class", "--db", &db, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let rows = json_lines(&out);
    let names: Vec<&str> = rows.iter().map(|r| r["learner"].as_str().unwrap()).collect();
    assert_eq!(names, ["ada", "grace"]);
    assert_eq!(rows[0]["state"], "passed");
    assert_eq!(
        (rows[1]["run_id"].as_str(), rows[1]["state"].as_str()),
        (Some(stopped.as_str()), Some("interrupted"))
    );
    // Stopped once the first step had finished: on it, or on the next just begun.
    let step = rows[1]["step_number"].as_i64().unwrap();
    assert!((1..=2).contains(&step), "{}", rows[1]);

    let (table, _) = text(&snaplab(&["class", "--db", &db]));
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("learner") && header.contains("status") && header.contains("on step"),
        "{table}"
    );
    assert!(
        table.lines().any(|l| l.starts_with("ada") && l.contains("passed")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("grace") && l.contains("interrupted")),
        "{table}"
    );
    let (other_lab, _) = text(&snaplab(&["class", "--db", &db, "--lab", "incremental"]));
    assert!(other_lab.contains("No learner has started a run"), "{other_lab}");
}

#[test]
fn a_class_database_on_postgres_collects_every_learners_runs_and_what_could_not_be_sent_follows() {
    let class = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(postgres::fresh_database("cli_class"));
    let dir = TempDir::new("class-pg");
    let own = |learner: &str| dir.0.join(format!("{learner}.db")).display().to_string();
    let emulator = EmulatorProcess::start(&["--pace", "instant"]);
    let run = |learner: &str, db: &str| {
        snaplab(&[
            "run",
            "--endpoint",
            &emulator.endpoint,
            "--learner",
            learner,
            "--db",
            db,
            "--local-db",
            &own(learner),
        ])
    };
    for learner in ["ada", "grace"] {
        let out = run(learner, &class);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(
            err.contains("Class record: every change reached postgres://snaplab@"),
            "{err}"
        );
    }

    // Linus's network to the class is down: his run passes all the same, kept in his own file.
    let nowhere = postgres::with_database("postgres://snaplab@127.0.0.1:1/postgres", "class");
    let out = run("linus", &nowhere);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("cannot be reached") && err.contains("wait in") && err.contains("snaplab sync"),
        "it says what waits and how it will be sent: {err}"
    );
    let his = history(&own("linus"), &[]);
    assert_eq!((his.len(), his[0]["outcome"].as_str()), (1, Some("passed")));
    let board = json_lines(&snaplab(&["class", "--db", &class, "--json"]));
    assert_eq!(board.len(), 2, "not yet on the board: {board:?}");

    // Back on the network: what waited is sent, once.
    for _ in 0..2 {
        let out = snaplab(&["sync", "--db", &class, "--local-db", &own("linus")]);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(err.contains("every change reached"), "{err}");
    }

    // The instructor's view of the class database.
    let out = snaplab(&["class", "--db", &class, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let board = json_lines(&out);
    let rows: Vec<(&str, &str)> = board
        .iter()
        .map(|r| (r["learner"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [("ada", "passed"), ("grace", "passed"), ("linus", "passed")]);
    let runs = history(&class, &[]);
    assert_eq!(runs.len(), 3, "each run once: {runs:?}");
    let ada = runs.iter().find(|r| r["learner"] == "ada").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = snaplab(&["report", &ada, "--db", &class]);
    let (report, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(report.contains("ada") && report.contains("passed"), "{report}");
    let (table, _) = text(&snaplab(&["class", "--db", &class]));
    assert!(
        table.contains("postgres://snaplab@") || table.lines().count() > 3,
        "{table}"
    );

    // sync without a class database says what it needs.
    let out = snaplab(&["sync", "--db", &own("ada")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("snaplab sync --db postgres://"),
        "{:?}",
        text(&out)
    );
}
