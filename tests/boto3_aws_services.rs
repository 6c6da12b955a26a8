//! boto3 judges what the real-AWS path calls besides EC2 volumes — STS,
//! IAM, SSM parameters, the default VPC, RunInstances — and `--deny`
//! (tests/clients/boto3_aws_services.py).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::Command;

use common::{python, repo_root, EmulatorProcess};

#[test]
fn boto3_parses_sts_iam_and_ssm_and_sees_denied_actions_refused() {
    let emulator = EmulatorProcess::start(&[
        "--pace",
        "demo",
        "--deny",
        "ec2:TerminateInstances,ssm:GetParameter,iam:GetRole",
    ]);
    let script = repo_root().join("tests/clients/boto3_aws_services.py");
    let out = Command::new(python())
        .arg(&script)
        .arg(&emulator.endpoint)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); run `make test`, which installs boto3", python()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "boto3 checks failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
