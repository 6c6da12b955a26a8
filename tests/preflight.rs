//! `snaplab preflight` through the real-AWS code path, on stand-ins that run
//! here: snaplab's emulator acting as AWS (with `--deny` for refused
//! permissions) and a real moto server (an independent judge of the
//! requests). Every run is sealed: no AWS variable of the caller's, config
//! files /dev/null, dead proxies, and SNAPLAB_FORBID_REAL_AWS so a call
//! without an endpoint override is refused before it is sent.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::Output;

use common::{aws_as, snaplab_sealed, EmulatorProcess, Moto, TempDir};

const KEY_ID: &str = "AKIDPREFLIGHTKEY0001";
const SECRET: &str = "preflight-secret-never-printed";

fn preflight(endpoint: &str, args: &[&str]) -> Output {
    let mut all = vec!["preflight"];
    all.extend_from_slice(args);
    preflight_like(endpoint, &all)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON object ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn check<'a>(report: &'a serde_json::Value, action: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == action)
        .unwrap_or_else(|| panic!("no check for {action} in {report:#}"))
}

fn assert_no_secret(out: &Output) {
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains(SECRET), "the secret key was printed:\n{text}");
    }
}

fn resource_counts(endpoint: &str) -> (usize, usize, usize) {
    let count = |args: &[&str], key: &str| {
        let out = aws_as(endpoint, KEY_ID, args);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v[key].as_array().map_or(0, Vec::len)
    };
    (
        count(
            &[
                "ec2",
                "describe-instances",
                "--query",
                "Reservations[].Instances[]",
                "--output",
                "json",
            ],
            "",
        ),
        count(&["ec2", "describe-volumes"], "Volumes"),
        count(&["ec2", "describe-snapshots", "--owner-ids", "self"], "Snapshots"),
    )
}

#[test]
fn on_the_emulator_everything_is_allowed_nothing_is_created_and_no_secret_is_printed() {
    let dir = TempDir::new("preflight-sandbox");
    let emulator = EmulatorProcess::start(&["--pace", "instant", "--run-commands", dir.0.to_str().unwrap()]);
    let before = resource_counts(&emulator.endpoint);
    let out = preflight(&emulator.endpoint, &["--json"]);
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_no_secret(&out);
    // The stand-in's "AWS" key is an account of its own there (12 digits derived from it).
    let account = snaplab_emulator::account_for_key(KEY_ID);
    assert_eq!(report["account"], account.as_str());
    assert!(report["arn"]
        .as_str()
        .unwrap()
        .starts_with(&format!("arn:aws:iam::{account}:")));
    assert_eq!(report["region"], "us-east-1");
    assert_eq!(report["zone"], "us-east-1a");
    assert_eq!(report["endpoint"], emulator.endpoint.as_str());
    let checks = report["checks"].as_array().unwrap();
    for action in [
        "ec2:RunInstances",
        "ec2:CreateVolume",
        "ec2:CreateSnapshot",
        "ec2:AttachVolume",
        "ec2:DetachVolume",
        "ec2:DeleteVolume",
        "ec2:DeleteSnapshot",
        "ec2:TerminateInstances",
        "ssm:SendCommand",
        "ssm:GetParameter",
        "iam:GetInstanceProfile",
        "ebs:ListSnapshotBlocks",
        "ebs:ListChangedBlocks",
    ] {
        assert_eq!(check(&report, action)["allowed"], true, "{action}: {report:#}");
    }
    assert!(checks.iter().all(|c| c["allowed"] == true), "{report:#}");
    let cost = report["estimated_cost_usd"].as_f64().unwrap();
    assert!(
        cost > 0.0 && cost < 0.10,
        "a 45-minute run of a t4g.nano costs cents: {cost}"
    );
    assert_eq!(
        resource_counts(&emulator.endpoint),
        before,
        "preflight created something"
    );
}

#[test]
fn a_denied_action_fails_the_preflight_and_names_the_statement_that_allows_it() {
    let emulator = EmulatorProcess::start(&["--pace", "instant", "--deny", "ec2:RunInstances,ebs:ListSnapshotBlocks"]);
    let out = preflight(&emulator.endpoint, &["--json"]);
    let report = json(&out);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let run = check(&report, "ec2:RunInstances");
    assert_eq!(run["allowed"], false);
    assert!(
        run["detail"].as_str().unwrap().contains("UnauthorizedOperation"),
        "{run:#}"
    );
    let sids: Vec<&str> = run["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(
        sids,
        ["LaunchFromPublicImagesIntoDefaultSubnets", "CreateOnlyTaggedResources"]
    );
    assert_eq!(check(&report, "ebs:ListSnapshotBlocks")["allowed"], false);
    assert_eq!(
        check(&report, "ec2:CreateVolume")["allowed"],
        true,
        "the rest still checked"
    );

    let text = preflight(&emulator.endpoint, &[]);
    assert_eq!(text.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("NO  ec2:RunInstances"), "{stdout}");
    assert!(stdout.contains("\"Sid\": \"CreateOnlyTaggedResources\""), "{stdout}");
    assert!(stdout.contains("Not ready: 2 denied or missing"), "{stdout}");
    let stderr = String::from_utf8_lossy(&text.stderr);
    assert!(
        stderr.contains(&format!("every call goes to {}, not to AWS", emulator.endpoint)),
        "the endpoint override is said out loud: {stderr}"
    );
}

#[test]
fn moto_judges_the_requests_and_the_instance_profile_check_follows_iam() {
    // AWS's managed policies (AmazonSSMManagedInstanceCore) exist in moto only when asked for.
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let out = preflight(&moto.endpoint, &["--json"]);
    let report = json(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "moto has no snaplab-ssm profile yet: {report:#}"
    );
    assert_eq!(report["account"], "123456789012");
    let profile = check(&report, "iam:GetInstanceProfile");
    assert_eq!(profile["allowed"], false);
    assert!(
        profile["detail"].as_str().unwrap().contains("docs/real-aws.md"),
        "{profile:#}"
    );
    for action in [
        "ec2:CreateVolume",
        "ec2:AttachVolume",
        "ec2:TerminateInstances",
        "ssm:GetParameter",
    ] {
        assert_eq!(check(&report, action)["allowed"], true, "{action}: {report:#}");
    }

    // Created by preflight itself (moto judges the IAM calls), the profile passes and
    // RunInstances' DryRun with it too.
    let report = json(&preflight(
        &moto.endpoint,
        &["--create-instance-profile", "--yes", "--json"],
    ));
    assert_eq!(check(&report, "iam:GetInstanceProfile")["allowed"], true, "{report:#}");
    assert_eq!(check(&report, "ec2:RunInstances")["allowed"], true, "{report:#}");
}

#[test]
fn without_an_endpoint_override_nothing_is_sent_when_real_aws_is_forbidden() {
    let out = snaplab_sealed(
        &["preflight"],
        &[
            ("AWS_ACCESS_KEY_ID", KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_REGION", "us-east-1"),
            ("SNAPLAB_FORBID_REAL_AWS", "1"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("real AWS is switched off"), "{stderr}");
    assert_no_secret(&out);
}

#[test]
fn profiles_that_cannot_work_say_what_to_do_before_anything_is_sent() {
    let dir = TempDir::new("preflight-profiles");
    let config = dir.0.join("config");
    std::fs::write(
        &config,
        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Lab\nregion = us-east-1\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n\
         [profile admin]\nrole_arn = arn:aws:iam::111122223333:role/Admin\nsource_profile = dev\nmfa_serial = arn:aws:iam::111122223333:mfa/me\n",
    )
    .unwrap();
    let home = dir.0.to_str().unwrap();
    let run = |profile: &str| {
        snaplab_sealed(
            &["preflight", "--profile", profile],
            &[
                ("AWS_CONFIG_FILE", config.to_str().unwrap()),
                ("HOME", home),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
                ("SNAPLAB_FORBID_REAL_AWS", "1"),
            ],
        )
    };
    let cases = [
        ("admin", "asks for an MFA code"),
        ("nope", "no AWS profile named 'nope'"),
        ("dev", "run `aws sso login --profile dev`"),
    ];
    for (profile, says) in cases {
        let out = run(profile);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{profile}: {stderr}");
        assert!(stderr.contains(says), "{profile}: {stderr}");
    }
}

#[test]
fn the_policy_is_a_policy_document() {
    let out = snaplab_sealed(&["preflight", "--policy"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    assert_eq!(doc["Version"], "2012-10-17");
    assert!(doc["Statement"].as_array().unwrap().len() >= 8);
}

#[test]
fn a_missing_instance_profile_is_named_and_created_only_with_consent() {
    let emulator = EmulatorProcess::start(&["--pace", "instant", "--empty"]);
    let report = json(&preflight(&emulator.endpoint, &["--json"]));
    assert_eq!(check(&report, "iam:GetInstanceProfile")["allowed"], false, "{report:#}");

    let dir = TempDir::new("preflight-profile");
    let db = dir.db();
    let run = preflight_like(&emulator.endpoint, &["run", "--aws", "--yes", "--db", &db]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("snaplab preflight --create-instance-profile"),
        "{stderr}"
    );

    // No terminal to ask in, no --yes: refused, nothing created.
    let refused = preflight(&emulator.endpoint, &["--create-instance-profile"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pass --yes"));
    let report = json(&preflight(&emulator.endpoint, &["--json"]));
    assert_eq!(check(&report, "iam:GetInstanceProfile")["allowed"], false);

    let created = preflight(&emulator.endpoint, &["--create-instance-profile", "--yes", "--json"]);
    let stderr = String::from_utf8_lossy(&created.stderr);
    assert!(stderr.contains("created instance profile snaplab-ssm"), "{stderr}");
    let report = json(&created);
    assert_eq!(created.status.code(), Some(0), "{report:#}");
    // Once there, creating again changes nothing and says so by saying less.
    let again = preflight(&emulator.endpoint, &["--create-instance-profile", "--yes"]);
    assert!(!String::from_utf8_lossy(&again.stderr).contains("created instance profile"));
}

/// Any snaplab command with the preflight's sealed environment. (aws-config
/// honours the proxy variables: loopback goes direct, anything else to the dead proxy.)
fn preflight_like(endpoint: &str, args: &[&str]) -> Output {
    snaplab_sealed(
        args,
        &[
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_ACCESS_KEY_ID", KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_REGION", "us-east-1"),
            ("SNAPLAB_FORBID_REAL_AWS", "1"),
            ("NO_PROXY", "127.0.0.1"),
        ],
    )
}
