//! The real-AWS path's provisioning and clean-up by tag, judged by a real
//! moto server (an implementation of AWS independent of ours): the server
//! and its volumes carry both snaplab tags from creation, IMDSv2 is
//! required, the instance profile is the SSM one; clean-up by tag deletes
//! every snaplab resource and leaves alone what was there before.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use std::sync::Arc;

use common::{aws, create_ssm_instance_profile, create_volume, Moto};
use snaplab_aws::cleanup::{delete, find, Runs};
use snaplab_aws::{preflight, Account, AwsChoice, AwsSite, PreflightOptions};
use snaplab_cloud::Ec2;
use snaplab_lab::tempo::Tempo;

fn text(endpoint: &str, args: &[&str]) -> String {
    let out = aws(endpoint, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_sees_every_resource_tagged_at_creation_and_clean_up_by_tag_deletes_only_those() {
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    create_ssm_instance_profile(&moto.endpoint);
    // What was there before: an untagged volume, and an instance tagged by someone else.
    let theirs = create_volume(&moto.endpoint, None);
    let their_instance = text(
        &moto.endpoint,
        &[
            "ec2",
            "run-instances",
            "--image-id",
            "ami-12c6146b",
            "--instance-type",
            "t3.micro",
            "--tag-specifications",
            "ResourceType=instance,Tags=[{Key=snaplab:run,Value=someone-else}]",
            "--query",
            "Instances[0].InstanceId",
            "--output",
            "text",
        ],
    );

    // This test process is the only one in its binary: the environment is its own.
    std::env::set_var("AWS_ENDPOINT_URL", &moto.endpoint);
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    std::env::set_var("AWS_CONFIG_FILE", "/dev/null");
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    std::env::set_var("SNAPLAB_FORBID_REAL_AWS", "1");
    std::env::remove_var("AWS_PROFILE");
    let account = Account::open(&AwsChoice {
        profile: None,
        region: Some("us-east-1".into()),
    })
    .await
    .unwrap();
    let report = preflight(
        &account,
        &PreflightOptions {
            lab_id: "securecart-snapshot".into(),
            instance_profile: "snaplab-ssm".into(),
        },
    )
    .await
    .unwrap();
    let site = AwsSite {
        account: account.clone(),
        plan: report.plan.clone(),
        progress: Arc::new(|_| {}),
        observer: None,
    };
    let ec2 = Ec2::new(account.ec2(), &moto.endpoint);
    let tempo = Tempo::for_pace(snaplab_cloud::TargetPace::Instant);
    let (scenario, created) = site.launch(&ec2, "run-moto-1", &tempo).await.unwrap();
    assert_eq!(created.len(), 2);

    let tags_of = |id: &str, kind: &str| -> String {
        let query = match kind {
            "instance" => "Reservations[0].Instances[0].Tags",
            _ => "Volumes[0].Tags",
        };
        let args: Vec<&str> = match kind {
            "instance" => vec!["ec2", "describe-instances", "--instance-ids", id, "--query", query],
            _ => vec!["ec2", "describe-volumes", "--volume-ids", id, "--query", query],
        };
        text(&moto.endpoint, &args)
    };
    for (id, kind) in [
        (scenario.instance_id.as_str(), "instance"),
        (scenario.data_volume_id.as_str(), "volume"),
    ] {
        let tags = tags_of(id, kind);
        assert!(
            tags.contains("\"snaplab:run\"") && tags.contains("\"run-moto-1\""),
            "{id}: {tags}"
        );
        assert!(
            tags.contains("\"snaplab:lab\"") && tags.contains("\"securecart-snapshot\""),
            "{id}: {tags}"
        );
    }
    let instance = text(
        &moto.endpoint,
        &[
            "ec2",
            "describe-instances",
            "--instance-ids",
            &scenario.instance_id,
            "--query",
            "Reservations[0].Instances[0].[MetadataOptions.HttpTokens,IamInstanceProfile.Arn,KeyName,Placement.AvailabilityZone]",
            "--output",
            "text",
        ],
    );
    assert!(instance.starts_with("required"), "IMDSv2 only: {instance}");
    assert!(instance.contains("instance-profile/snaplab-ssm"), "{instance}");
    assert!(instance.contains("None"), "no key pair: {instance}");
    // The root volume: the instance's other attached volume (moto names its device as it likes).
    let root = text(
        &moto.endpoint,
        &[
            "ec2",
            "describe-volumes",
            "--filters",
            &format!("Name=attachment.instance-id,Values={}", scenario.instance_id),
            "--query",
            &format!("Volumes[?VolumeId!='{}'].VolumeId | [0]", scenario.data_volume_id),
            "--output",
            "text",
        ],
    );
    assert!(
        root.starts_with("vol-"),
        "moto shows the instance's root volume: {root}"
    );
    assert!(
        tags_of(&root, "volume").contains("run-moto-1"),
        "the root volume is tagged at launch"
    );

    let found = find(&account, &Runs::All).await.unwrap();
    let ids: Vec<&str> = found.all().map(|r| r.id.as_str()).collect();
    assert!(ids.contains(&scenario.instance_id.as_str()), "{ids:?}");
    assert!(ids.contains(&scenario.data_volume_id.as_str()), "{ids:?}");
    assert!(
        !ids.contains(&theirs.as_str()) && !ids.contains(&their_instance.as_str()),
        "{ids:?}"
    );
    delete(&account, &found, &|_| {}).await.unwrap();
    assert!(find(&account, &Runs::All).await.unwrap().is_empty());
    text(&moto.endpoint, &["ec2", "describe-volumes", "--volume-ids", &theirs]);
    let state = text(
        &moto.endpoint,
        &[
            "ec2",
            "describe-instances",
            "--instance-ids",
            &their_instance,
            "--query",
            "Reservations[0].Instances[0].State.Name",
            "--output",
            "text",
        ],
    );
    assert_eq!(state, "running", "an instance with only one snaplab tag is left alone");
}
