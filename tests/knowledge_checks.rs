//! Knowledge checks through the CLI: answered from a file (right, wrong, a
//! reply that names no choice), recorded per run in SQLite and shown in the
//! report, History's score and the most-missed list; a run nobody answers
//! records them as not asked and still passes; a bad answers file is refused
//! before anything runs.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{assert_nothing_recorded, json_lines, snaplab, TempDir};

fn answered(events: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    events.iter().filter(|e| e["event"] == "question_answered").collect()
}

#[test]
fn answers_from_a_file_are_scored_recorded_and_reported() {
    let dir = TempDir::new("quiz-file");
    let db = dir.db();
    let answers = dir.0.join("answers.toml");
    // Right by text, right by number, wrong by letter.
    std::fs::write(
        &answers,
        "second-stores = \"Only the blocks changed since the first snapshot\"\n\
         delete-first = 2\n\
         restore-after-delete = \"a\"\n",
    )
    .unwrap();
    let out = snaplab(&[
        "run",
        "incremental",
        "--pace",
        "instant",
        "--json",
        "--db",
        &db,
        "--answers",
        answers.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events = json_lines(&out);
    assert_eq!(events.last().unwrap()["outcome"], "passed");
    let asked: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "question_asked")
        .map(|e| e["question"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        asked,
        ["second-stores", "delete-first", "restore-after-delete"],
        "only the questions the file answers are asked, in the lab's order"
    );
    // Interleaved: the first is asked right after its step finished.
    let pos = |pred: &dyn Fn(&serde_json::Value) -> bool| events.iter().position(pred).unwrap();
    let after = pos(&|e| e["event"] == "step_finished" && e["step_id"] == "second-snapshot");
    let q = pos(&|e| e["event"] == "question_asked" && e["question"]["id"] == "second-stores");
    let next = pos(&|e| e["event"] == "step_started" && e["step_id"] == "second-completed");
    assert!(after < q && q < next, "{after} < {q} < {next}");

    let all = answered(&events);
    assert_eq!(all.len(), 6, "every question is recorded, asked or not");
    let by_id = |id: &str| all.iter().find(|e| e["answer"]["question_id"] == id).unwrap()["answer"].clone();
    assert_eq!(by_id("second-stores")["correct"], true);
    assert_eq!(by_id("delete-first")["answer"], "False");
    assert_eq!(by_id("delete-first")["correct"], true);
    assert_eq!(by_id("restore-after-delete")["correct"], false);
    assert_eq!(by_id("first-stores")["asked"], false);
    assert_eq!(by_id("list-changed-blocks")["asked"], false);

    let run_id = events[0]["run_id"].as_str().unwrap();
    let history = snaplab(&["history", "--json", "--db", &db]);
    let runs = json_lines(&history);
    assert_eq!(
        (runs[0]["quiz_correct"].as_i64(), runs[0]["quiz_asked"].as_i64()),
        (Some(2), Some(3))
    );
    let missed = json_lines(&snaplab(&["history", "--missed", "--json", "--db", &db]));
    assert_eq!(missed.len(), 1, "{missed:?}");
    assert_eq!(missed[0]["question_id"], "restore-after-delete");
    assert_eq!(
        (missed[0]["missed"].as_i64(), missed[0]["asked"].as_i64()),
        (Some(1), Some(1))
    );
    let csv = String::from_utf8_lossy(&snaplab(&["history", "--csv", "--db", &db]).stdout).to_string();
    assert!(csv.lines().nth(1).unwrap().ends_with(",2,3"), "{csv}");
    let md = String::from_utf8_lossy(&snaplab(&["report", run_id, "--format", "md", "--db", &db]).stdout).to_string();
    assert!(md.contains("## Knowledge checks\n\n2 of 3 right."), "{md}");
    assert!(md.contains("| not asked |"), "{md}");
}

#[test]
fn a_run_nobody_answers_records_every_question_as_not_asked_and_passes() {
    let dir = TempDir::new("quiz-none");
    let db = dir.db();
    let out = snaplab(&["run", "securecart-snapshot", "--pace", "instant", "--json", "--db", &db]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events = json_lines(&out);
    assert_eq!(events.last().unwrap()["outcome"], "passed");
    assert!(!events.iter().any(|e| e["event"] == "question_asked"));
    let all = answered(&events);
    assert_eq!(all.len(), 6);
    assert!(all
        .iter()
        .all(|e| e["answer"]["asked"] == false && e["answer"]["answer"].is_null()));
    let runs = json_lines(&snaplab(&["history", "--json", "--db", &db]));
    assert_eq!(runs[0]["quiz_asked"], 0);
    let text = String::from_utf8_lossy(&snaplab(&["history", "--db", &db]).stdout).to_string();
    assert!(text.lines().nth(1).unwrap().contains("9/9     —"), "{text}");
}

#[test]
fn an_answers_file_naming_no_question_of_the_lab_is_refused_before_the_run() {
    let dir = TempDir::new("quiz-bad");
    let db = dir.db();
    let answers = dir.0.join("answers.json");
    std::fs::write(&answers, r#"{"keep-using": 2, "no-such-question": "True"}"#).unwrap();
    let out = snaplab(&[
        "run",
        "securecart-snapshot",
        "--pace",
        "instant",
        "--db",
        &db,
        "--answers",
        answers.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "'no-such-question' is not a question of this lab; its questions are: keep-using, detach-while-pending"
        ),
        "{err}"
    );
    assert_nothing_recorded(&db);
    // A reply that names no choice is refused before the run, with the choices.
    std::fs::write(&answers, "keep-using = \"maybe\"").unwrap();
    let out = snaplab(&[
        "run",
        "securecart-snapshot",
        "--db",
        &db,
        "--answers",
        answers.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("'maybe' names none of the choices of 'keep-using': 1 = No"),
        "{err}"
    );
    assert_nothing_recorded(&db);
    std::fs::write(&answers, "keep-using = [1]").unwrap();
    let out = snaplab(&[
        "run",
        "securecart-snapshot",
        "--db",
        &db,
        "--answers",
        answers.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the answer to 'keep-using' is [1]: give the choice's number or text"),
        "{err}"
    );
}

/// On a terminal (a pseudo-terminal from `script`), a guided run asks each
/// question and reads the learner's reply: by number, by letter or text,
/// a reply that names no choice asked again, `s` to skip.
#[test]
fn on_a_terminal_the_questions_are_asked_and_answered() {
    let dir = TempDir::new("quiz-terminal");
    let db = dir.db();
    let command = format!(
        "{} run securecart-snapshot --pace instant --learner tty --db {db}",
        env!("CARGO_BIN_EXE_snaplab")
    );
    // keep-using: 2 (right); detach-while-pending: t (wrong); restore-holds:
    // 3 (right); wait-for-completed: "maybe", then completed (right);
    // monitoring: skipped; gp3-performance: 1 (right).
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script runs");
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().unwrap();
        stdin.write_all(b"2\nt\n3\nmaybe\ncompleted\ns\n1\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    for expected in [
        "Knowledge check 1 of 6: Can SecureCart keep using",
        "✔ Right.",
        "✘ Not \"True\": the answer is \"False\".",
        "'maybe' is not one of the choices",
        "Skipped: the answer is \"EventBridge events",
        "Knowledge checks: 4 of 6 right.",
        "PASSED: 9 of 9 steps passed.",
    ] {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
    let runs = json_lines(&snaplab(&["history", "--json", "--db", &db]));
    assert_eq!(
        (runs[0]["quiz_correct"].as_i64(), runs[0]["quiz_asked"].as_i64()),
        (Some(4), Some(6))
    );
}
