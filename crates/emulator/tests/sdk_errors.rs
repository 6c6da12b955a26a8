//! Every error code of EBS-FACTS.md's table, as the real aws-sdk-ec2 parses it.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_ec2::types::{Filter, InstanceSpecification, VolumeType};
use snaplab_emulator::Pace;
use snaplab_testkit::*;

#[tokio::test]
async fn malformed_ids_are_malformed_not_not_found() {
    let lab = Lab::start(Pace::Instant).await;
    let e = &lab.ec2;
    assert_eq!(
        code(e.describe_volumes().volume_ids("vol-123").send().await),
        "InvalidVolumeID.Malformed"
    );
    assert_eq!(
        code(e.describe_volumes().volume_ids("snap-0123456789abcdef0").send().await),
        "InvalidVolumeID.Malformed"
    );
    assert_eq!(
        code(e.describe_snapshots().snapshot_ids("snap-xyz").send().await),
        "InvalidSnapshotID.Malformed"
    );
    assert_eq!(
        code(e.describe_instances().instance_ids("i-nothex").send().await),
        "InvalidInstanceID.Malformed"
    );
    assert_eq!(
        code(e.create_snapshot().volume_id("vol-0123456789ABCDEF0").send().await),
        "InvalidVolumeID.Malformed"
    );
    assert_eq!(
        code(
            e.attach_volume()
                .volume_id(DATA_VOLUME_ID)
                .instance_id("i-1")
                .device("/dev/sdg")
                .send()
                .await
        ),
        "InvalidInstanceID.Malformed"
    );
    let msg = message(e.describe_volumes().volume_ids("vol-123").send().await);
    assert_eq!(
        msg, "Invalid id: \"vol-123\" (expecting \"vol-...\")",
        "AWS's words, nothing more"
    );
}

#[tokio::test]
async fn well_formed_unknown_ids_are_not_found() {
    let lab = Lab::start(Pace::Instant).await;
    let e = &lab.ec2;
    assert_eq!(
        code(e.describe_volumes().volume_ids("vol-0123456789abcdef1").send().await),
        "InvalidVolume.NotFound"
    );
    assert_eq!(
        code(e.describe_volumes().volume_ids("vol-01234567").send().await),
        "InvalidVolume.NotFound"
    );
    assert_eq!(
        code(
            e.describe_snapshots()
                .snapshot_ids("snap-0123456789abcdef0")
                .send()
                .await
        ),
        "InvalidSnapshot.NotFound"
    );
    assert_eq!(
        code(e.describe_instances().instance_ids("i-0123456789abcdef0").send().await),
        "InvalidInstanceID.NotFound"
    );
    assert_eq!(
        code(e.delete_snapshot().snapshot_id("snap-0123456789abcdef0").send().await),
        "InvalidSnapshot.NotFound"
    );
    assert_eq!(
        code(
            e.create_volume()
                .snapshot_id("snap-0123456789abcdef0")
                .availability_zone("us-east-1a")
                .send()
                .await
        ),
        "InvalidSnapshot.NotFound"
    );
    assert_eq!(
        code(
            e.create_tags()
                .resources("vol-0123456789abcdef1")
                .tags(aws_sdk_ec2::types::Tag::builder().key("a").value("b").build())
                .send()
                .await
        ),
        "InvalidVolume.NotFound"
    );
    assert_eq!(
        code(
            e.create_tags()
                .resources("sg-0123456789abcdef1")
                .tags(aws_sdk_ec2::types::Tag::builder().key("a").value("b").build())
                .send()
                .await
        ),
        "InvalidID"
    );
}

#[tokio::test]
async fn attaching_a_creating_volume_is_incorrect_state() {
    let lab = Lab::manual(Pace::Demo).await;
    let created = lab.create_volume("us-east-1a", 8).await;
    let vol = created.as_str();
    let r = lab
        .ec2
        .attach_volume()
        .volume_id(vol)
        .instance_id(INSTANCE_ID)
        .device("/dev/sdg")
        .send()
        .await;
    let m = message(
        lab.ec2
            .attach_volume()
            .volume_id(vol)
            .instance_id(INSTANCE_ID)
            .device("/dev/sdg")
            .send()
            .await,
    );
    assert_eq!(code(r), "IncorrectState");
    assert_eq!(m, format!("Volume '{vol}' is in the 'creating' state."));
}

#[tokio::test]
async fn restoring_a_pending_snapshot_is_incorrect_state() {
    let lab = Lab::manual(Pace::Demo).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    let r = lab
        .ec2
        .create_volume()
        .snapshot_id(&snap)
        .availability_zone("us-east-1a")
        .send()
        .await;
    assert_eq!(code(r), "IncorrectState");
}

#[tokio::test]
async fn attached_volumes_are_in_use_for_attach_and_delete() {
    let lab = Lab::start(Pace::Instant).await;
    let e = &lab.ec2;
    assert_eq!(
        code(
            e.attach_volume()
                .volume_id(DATA_VOLUME_ID)
                .instance_id(INSTANCE_ID)
                .device("/dev/sdg")
                .send()
                .await
        ),
        "VolumeInUse"
    );
    assert_eq!(
        code(e.delete_volume().volume_id(DATA_VOLUME_ID).send().await),
        "VolumeInUse"
    );
}

#[tokio::test]
async fn device_in_use_invalid_device_and_undersized_restore_are_invalid_parameter_values() {
    let lab = Lab::start(Pace::Instant).await;
    let e = &lab.ec2;
    let spare = lab.new_volume("us-east-1a", 8).await;
    let clash = e
        .attach_volume()
        .volume_id(&spare)
        .instance_id(INSTANCE_ID)
        .device(DATA_DEVICE)
        .send()
        .await;
    assert_eq!(code(clash), "InvalidParameterValue");
    let bad = e
        .attach_volume()
        .volume_id(&spare)
        .instance_id(INSTANCE_ID)
        .device("sdg")
        .send()
        .await;
    assert_eq!(code(bad), "InvalidParameterValue");

    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    let small = e
        .create_volume()
        .snapshot_id(&snap)
        .size(4)
        .availability_zone("us-east-1a")
        .send()
        .await;
    let m = message(
        e.create_volume()
            .snapshot_id(&snap)
            .size(4)
            .availability_zone("us-east-1a")
            .send()
            .await,
    );
    assert_eq!(code(small), "InvalidParameterValue");
    assert!(m.contains(">= 8GiB"), "{m}");

    // gp3 goes to 65,536 GiB; gp2 stays at 16,384 (EBS-FACTS).
    let sized = |size: i32, kind: VolumeType| {
        e.create_volume()
            .availability_zone("us-east-1a")
            .size(size)
            .volume_type(kind)
            .send()
    };
    assert_eq!(code(sized(65537, VolumeType::Gp3).await), "InvalidParameterValue");
    assert_eq!(code(sized(16385, VolumeType::Gp2).await), "InvalidParameterValue");
    let largest = sized(65536, VolumeType::Gp3)
        .await
        .expect("a 64 TiB gp3 volume is allowed");
    assert_eq!(largest.size(), Some(65536));
    let small_hdd = e
        .create_volume()
        .availability_zone("us-east-1a")
        .size(10)
        .volume_type(VolumeType::St1)
        .send()
        .await;
    assert_eq!(code(small_hdd), "InvalidParameterValue");
    let gp2_iops = e
        .create_volume()
        .availability_zone("us-east-1a")
        .size(10)
        .volume_type(VolumeType::Gp2)
        .iops(3000)
        .send()
        .await;
    assert_eq!(code(gp2_iops), "InvalidParameterCombination");
}

#[tokio::test]
async fn detaching_what_is_not_attached_is_invalid_attachment() {
    let lab = Lab::start(Pace::Instant).await;
    let e = &lab.ec2;
    let spare = lab.new_volume("us-east-1a", 8).await;
    assert_eq!(
        code(e.detach_volume().volume_id(&spare).send().await),
        "InvalidAttachment.NotFound"
    );
    assert_eq!(
        code(
            e.detach_volume()
                .volume_id(DATA_VOLUME_ID)
                .device("/dev/sdz")
                .send()
                .await
        ),
        "InvalidAttachment.NotFound"
    );
}

#[tokio::test]
async fn detaching_the_running_instances_root_volume_is_an_incorrect_state() {
    let lab = Lab::start(Pace::Instant).await;
    let r = lab.ec2.detach_volume().volume_id(ROOT_VOLUME_ID).send().await;
    let m = message(lab.ec2.detach_volume().volume_id(ROOT_VOLUME_ID).send().await);
    assert_eq!(code(r), "IncorrectState");
    assert_eq!(
        m,
        format!("Unable to detach root volume '{ROOT_VOLUME_ID}' from instance '{INSTANCE_ID}'")
    );
}

#[tokio::test]
async fn attaching_across_zones_is_a_zone_mismatch() {
    let lab = Lab::start(Pace::Instant).await;
    let in_b = lab.new_volume("us-east-1b", 8).await;
    let r = lab
        .ec2
        .attach_volume()
        .volume_id(&in_b)
        .instance_id(INSTANCE_ID)
        .device("/dev/sdg")
        .send()
        .await;
    let m = message(
        lab.ec2
            .attach_volume()
            .volume_id(&in_b)
            .instance_id(INSTANCE_ID)
            .device("/dev/sdg")
            .send()
            .await,
    );
    assert_eq!(code(r), "InvalidVolume.ZoneMismatch");
    assert_eq!(
        m,
        format!("The volume '{in_b}' is not in the same availability zone as instance '{INSTANCE_ID}'")
    );
}

#[tokio::test]
async fn unknown_zone_is_invalid_zone_not_found() {
    let lab = Lab::start(Pace::Instant).await;
    let r = lab
        .ec2
        .create_volume()
        .availability_zone("us-east-1z")
        .size(8)
        .send()
        .await;
    assert_eq!(code(r), "InvalidZone.NotFound");
}

#[tokio::test]
async fn create_volume_without_size_or_snapshot_is_missing_parameter() {
    let lab = Lab::start(Pace::Instant).await;
    assert_eq!(
        code(lab.ec2.create_volume().availability_zone("us-east-1a").send().await),
        "MissingParameter"
    );
    assert_eq!(code(lab.ec2.create_volume().size(8).send().await), "MissingParameter");
    // A missing parameter is reported before a bad value (AWS's order).
    assert_eq!(
        code(lab.ec2.create_volume().availability_zone("us-east-9z").send().await),
        "MissingParameter"
    );
    assert_eq!(
        code(
            lab.ec2
                .create_snapshots()
                .instance_specification(InstanceSpecification::builder().build())
                .send()
                .await
        ),
        "MissingParameter"
    );
}

#[tokio::test]
async fn sixth_pending_snapshot_of_a_gp3_volume_exceeds_the_concurrency_limit() {
    let lab = Lab::manual(Pace::Demo).await;
    for _ in 0..5 {
        lab.create_snapshot(DATA_VOLUME_ID).await;
    }
    let sixth = lab.ec2.create_snapshot().volume_id(DATA_VOLUME_ID).send().await;
    assert_eq!(code(sixth), "ConcurrentSnapshotLimitExceeded");
    // Once they complete, snapshots can be taken again.
    lab.advance(Duration::from_secs(60));
    lab.create_snapshot(DATA_VOLUME_ID).await;
}

#[tokio::test]
async fn an_st1_volume_allows_one_pending_snapshot() {
    let lab = Lab::manual(Pace::Demo).await;
    let out = lab
        .ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(125)
        .volume_type(VolumeType::St1)
        .send()
        .await
        .unwrap();
    let vol = out.volume_id().unwrap().to_string();
    lab.advance(Duration::from_secs(10));
    lab.create_snapshot(&vol).await;
    assert_eq!(
        code(lab.ec2.create_snapshot().volume_id(&vol).send().await),
        "ConcurrentSnapshotLimitExceeded"
    );
}

#[tokio::test]
async fn realistic_pace_enforces_the_per_volume_snapshot_rate() {
    let lab = Lab::manual(Pace::Realistic).await;
    lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.advance(Duration::from_secs(5));
    assert_eq!(
        code(lab.ec2.create_snapshot().volume_id(DATA_VOLUME_ID).send().await),
        "SnapshotCreationPerVolumeRateExceeded"
    );
    lab.advance(Duration::from_secs(11));
    lab.create_snapshot(DATA_VOLUME_ID).await;
}

#[tokio::test]
async fn demo_pace_has_no_rate_limit() {
    let lab = Lab::manual(Pace::Demo).await;
    lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.create_snapshot(DATA_VOLUME_ID).await;
}

#[tokio::test]
async fn ids_with_max_results_and_bad_tokens_and_unknown_filters_are_refused() {
    let lab = Lab::start(Pace::Instant).await;
    let e = &lab.ec2;
    assert_eq!(
        code(
            e.describe_volumes()
                .volume_ids(DATA_VOLUME_ID)
                .max_results(5)
                .send()
                .await
        ),
        "InvalidParameterCombination"
    );
    assert_eq!(
        code(e.describe_volumes().max_results(2).send().await),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(e.describe_snapshots().next_token("!!!").send().await),
        "InvalidPaginationToken"
    );
    let typo = Filter::builder().name("staus").values("pending").build();
    assert_eq!(
        code(e.describe_snapshots().filters(typo).send().await),
        "InvalidParameterValue"
    );
}

#[tokio::test]
async fn reserved_tag_keys_are_refused() {
    let lab = Lab::start(Pace::Instant).await;
    let tag = aws_sdk_ec2::types::Tag::builder().key("aws:owner").value("x").build();
    let r = lab.ec2.create_tags().resources(DATA_VOLUME_ID).tags(tag).send().await;
    assert_eq!(code(r), "InvalidParameterValue");
}

#[tokio::test]
async fn a_tag_specification_without_tags_is_refused_in_aws_words() {
    let lab = Lab::start(Pace::Instant).await;
    let empty = aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(aws_sdk_ec2::types::ResourceType::Volume)
        .build();
    let r = lab
        .ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .tag_specifications(empty)
        .send()
        .await;
    assert_eq!(
        failure(r),
        (
            "InvalidParameterValue".into(),
            "Tag specification must have at least one tag".into()
        )
    );
    let volumes = lab.ec2.describe_volumes().send().await.unwrap();
    assert_eq!(volumes.volumes().len(), 2, "nothing was created");
}

#[tokio::test]
async fn a_kms_key_without_encrypted_is_an_invalid_parameter_dependency() {
    let lab = Lab::start(Pace::Instant).await;
    let key = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555";
    for encrypted in [None, Some(false)] {
        let r = lab
            .ec2
            .create_volume()
            .availability_zone("us-east-1a")
            .size(1)
            .kms_key_id(key)
            .set_encrypted(encrypted)
            .send()
            .await;
        assert_eq!(
            failure(r),
            (
                "InvalidParameterDependency".into(),
                "The parameter KmsKeyId requires the parameter Encrypted to be set.".into()
            ),
            "Encrypted={encrypted:?}"
        );
    }
}

#[tokio::test]
async fn messages_are_aws_words_and_with_hints_say_what_to_do_next() {
    let missing = "vol-0123456789abcdef1";
    let plain = Lab::start(Pace::Instant).await;
    let hinting = Lab::hinting(Pace::Instant).await;
    let ask = |lab: &Lab| lab.ec2.describe_volumes().volume_ids(missing).send();
    assert_eq!(
        message(ask(&plain).await),
        format!("The volume '{missing}' does not exist.")
    );
    assert_eq!(
        message(ask(&hinting).await),
        format!("The volume '{missing}' does not exist. List volumes with aws ec2 describe-volumes.")
    );
    let delete = |lab: &Lab| lab.ec2.delete_volume().volume_id(DATA_VOLUME_ID).send();
    assert_eq!(
        message(delete(&plain).await),
        format!("Volume {DATA_VOLUME_ID} is currently attached to {INSTANCE_ID}")
    );
    assert!(
        message(delete(&hinting).await).ends_with(&format!(
            "Detach it first: aws ec2 detach-volume --volume-id {DATA_VOLUME_ID}"
        )),
        "the hint follows AWS's words"
    );
    let no_size = |lab: &Lab| lab.ec2.create_volume().availability_zone("us-east-1a").send();
    assert_eq!(
        message(no_size(&plain).await),
        "The request must contain the parameter size/snapshot"
    );
    let malformed = message(hinting.ec2.describe_volumes().volume_ids("vol-123").send().await);
    assert!(malformed.contains("17 hex digits"), "{malformed}");
}

/// Actions the SDK cannot send malformed: raw Query requests over HTTP.
mod raw {
    use super::*;

    async fn post(endpoint: &str, body: &str) -> (u16, String) {
        let r = reqwest::Client::new()
            .post(endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    #[tokio::test]
    async fn unknown_action_is_invalid_action_in_ec2_envelope() {
        let lab = Lab::start(Pace::Instant).await;
        let (status, body) = post(lab.endpoint(), "Action=LaunchRocket&Version=2016-11-15").await;
        assert_eq!(status, 400);
        assert!(
            body.contains("<Response><Errors><Error><Code>InvalidAction</Code>"),
            "{body}"
        );
        assert!(body.contains("<RequestID>"), "{body}");
    }

    #[tokio::test]
    async fn missing_action_and_missing_parameters_are_400s() {
        let lab = Lab::start(Pace::Instant).await;
        let (status, body) = post(lab.endpoint(), "Version=2016-11-15").await;
        assert_eq!(status, 400);
        assert!(body.contains("<Code>MissingAction</Code>"), "{body}");
        let (status, body) = post(lab.endpoint(), "Action=AttachVolume&VolumeId=vol-0123456789abcdef0").await;
        assert_eq!(status, 400);
        assert!(body.contains("<Code>MissingParameter</Code>"), "{body}");
        let (status, body) = post(
            lab.endpoint(),
            "Action=CreateVolume&AvailabilityZone=us-east-1a&Size=eight",
        )
        .await;
        assert_eq!(status, 400);
        assert!(body.contains("<Code>InvalidParameterValue</Code>"), "{body}");
    }

    #[tokio::test]
    async fn dry_run_is_http_412() {
        let lab = Lab::start(Pace::Instant).await;
        let (status, body) = post(lab.endpoint(), "Action=DescribeVolumes&DryRun=true").await;
        assert_eq!(status, 412);
        assert!(body.contains("<Code>DryRunOperation</Code>"), "{body}");
    }

    #[tokio::test]
    async fn every_reply_carries_a_request_id() {
        let lab = Lab::start(Pace::Instant).await;
        let (status, body) = post(lab.endpoint(), "Action=DescribeVolumes").await;
        assert_eq!(status, 200);
        assert!(body.contains("<requestId>"), "{body}");
        assert!(
            body.contains("xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\""),
            "{body}"
        );
    }

    #[tokio::test]
    async fn health_describes_the_emulator() {
        let lab = Lab::start(Pace::Demo).await;
        let health: serde_json::Value = reqwest::get(format!("{}/_snaplab/health", lab.endpoint()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(health["service"], "snaplab-emulator");
        assert_eq!(health["pace"], "demo");
        assert!(health["version"].is_string());
    }

    #[tokio::test]
    async fn another_service_in_the_scope_is_a_clear_400() {
        let lab = Lab::start(Pace::Instant).await;
        let r = reqwest::Client::new()
            .post(lab.endpoint())
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body("Action=ListQueues")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        assert!(r.text().await.unwrap().contains("'sqs'"));
    }
}
