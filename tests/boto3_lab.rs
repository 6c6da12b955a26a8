//! boto3 judges the emulator: the lab's steps, waiters, paginators and error
//! codes through botocore's parser (tests/clients/boto3_lab.py).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::Command;

use common::{python, repo_root, EmulatorProcess};

#[test]
fn boto3_runs_the_lab_and_parses_every_reply() {
    let emulator = EmulatorProcess::start(&["--pace", "demo"]);
    let script = repo_root().join("tests/clients/boto3_lab.py");
    let out = Command::new(python())
        .arg(&script)
        .arg(&emulator.endpoint)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); run `make test`, which installs boto3", python()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "boto3 checks failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
}
