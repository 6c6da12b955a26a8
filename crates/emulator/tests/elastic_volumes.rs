//! Elastic Volumes through aws-sdk-ec2: ModifyVolume, the modification's
//! `modifying` → `optimizing` → `completed` over time, DescribeVolumesModifications,
//! and AWS's refusals (shrinking, out of a type's limits, one at a time, four a day).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_ec2::types::{Filter, VolumeModificationState, VolumeType};
use snaplab_emulator::Pace;
use snaplab_testkit::*;

async fn modification(lab: &Lab, volume: &str) -> aws_sdk_ec2::types::VolumeModification {
    let out = lab
        .ec2
        .describe_volumes_modifications()
        .volume_ids(volume)
        .send()
        .await
        .unwrap();
    assert_eq!(out.volumes_modifications().len(), 1);
    out.volumes_modifications()[0].clone()
}

#[tokio::test]
async fn a_volume_grows_and_changes_performance_through_modifying_optimizing_completed() {
    let lab = Lab::manual(Pace::Demo).await;
    let out = lab
        .ec2
        .modify_volume()
        .volume_id(DATA_VOLUME_ID)
        .size(20)
        .iops(4000)
        .send()
        .await
        .unwrap();
    let m = out.volume_modification().unwrap();
    assert_eq!(m.modification_state(), Some(&VolumeModificationState::Modifying));
    assert_eq!(
        (m.original_size(), m.original_iops(), m.original_throughput()),
        (Some(8), Some(3000), Some(125))
    );
    assert_eq!(m.original_volume_type(), Some(&VolumeType::Gp3));
    assert_eq!(
        (m.target_size(), m.target_iops(), m.target_throughput()),
        (Some(20), Some(4000), Some(125))
    );
    assert_eq!(m.progress(), Some(0));
    assert!(m.end_time().is_none());
    // The volume reports its new attributes from the request on, and stays attached.
    let v = lab.volume(DATA_VOLUME_ID).await;
    assert_eq!((v.size(), v.iops()), (Some(20), Some(4000)));
    assert_eq!(v.state().map(|s| s.as_str()), Some("in-use"));

    lab.advance(Duration::from_secs(3));
    let m = modification(&lab, DATA_VOLUME_ID).await;
    assert_eq!(m.modification_state(), Some(&VolumeModificationState::Optimizing));
    let midway = m.progress().unwrap();
    assert!((1..100).contains(&midway), "progress {midway}");

    lab.advance(Duration::from_secs(60));
    let m = modification(&lab, DATA_VOLUME_ID).await;
    assert_eq!(m.modification_state(), Some(&VolumeModificationState::Completed));
    assert_eq!(m.progress(), Some(100));
    assert!(m.end_time().is_some());

    let by_state = lab
        .ec2
        .describe_volumes_modifications()
        .filters(Filter::builder().name("modification-state").values("completed").build())
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = by_state
        .volumes_modifications()
        .iter()
        .filter_map(|m| m.volume_id())
        .collect();
    assert_eq!(ids, [DATA_VOLUME_ID]);
}

#[tokio::test]
async fn a_type_change_keeps_what_the_new_type_has_and_fills_in_its_defaults() {
    let lab = Lab::manual(Pace::Instant).await;
    let volume = lab.create_volume("us-east-1a", 100).await;
    let m = lab
        .ec2
        .modify_volume()
        .volume_id(&volume)
        .volume_type(VolumeType::Io2)
        .iops(5000)
        .send()
        .await
        .unwrap();
    let m = m.volume_modification().unwrap();
    assert_eq!(m.original_volume_type(), Some(&VolumeType::Gp3));
    assert_eq!(
        (m.original_iops(), m.original_throughput()),
        (Some(3000), Some(125)),
        "gp3's baseline"
    );
    assert_eq!(
        (m.target_volume_type(), m.target_iops()),
        (Some(&VolumeType::Io2), Some(5000))
    );
    assert_eq!(m.target_throughput(), None, "io2 has no throughput setting");
    // Instant pace: completed by the next request.
    assert_eq!(
        modification(&lab, &volume).await.modification_state(),
        Some(&VolumeModificationState::Completed)
    );
    let v = lab.volume(&volume).await;
    assert_eq!((v.volume_type(), v.iops()), (Some(&VolumeType::Io2), Some(5000)));
}

#[tokio::test]
async fn aws_refuses_shrinking_leaving_a_types_limits_a_second_modification_at_once_and_a_fifth_in_a_day() {
    let lab = Lab::manual(Pace::Demo).await;
    let e = &lab.ec2;
    let (c, _) = failure(e.modify_volume().volume_id(DATA_VOLUME_ID).size(4).send().await);
    assert_eq!(c, "InvalidParameterValue", "a volume never shrinks");
    let (c, _) = failure(e.modify_volume().volume_id(DATA_VOLUME_ID).iops(99_000).send().await);
    assert_eq!(c, "InvalidParameterValue", "gp3 tops out at 80,000 IOPS");
    let (c, _) = failure(
        e.modify_volume()
            .volume_id(DATA_VOLUME_ID)
            .volume_type(VolumeType::St1)
            .send()
            .await,
    );
    assert_eq!(c, "InvalidParameterValue", "st1 starts at 125 GiB");
    let (c, _) = failure(e.modify_volume().volume_id(DATA_VOLUME_ID).send().await);
    assert_eq!(c, "MissingParameter", "nothing to change");
    let (c, _) = failure(
        e.modify_volume()
            .volume_id("vol-0123456789abcdef1")
            .size(9)
            .send()
            .await,
    );
    assert_eq!(c, "InvalidVolume.NotFound");
    let (c, _) = failure(
        e.describe_volumes_modifications()
            .volume_ids(ROOT_VOLUME_ID)
            .send()
            .await,
    );
    assert_eq!(c, "InvalidVolumeModification.NotFound", "never modified");

    e.modify_volume()
        .volume_id(DATA_VOLUME_ID)
        .size(9)
        .send()
        .await
        .unwrap();
    let (c, m) = failure(e.modify_volume().volume_id(DATA_VOLUME_ID).size(10).send().await);
    assert_eq!(c, "IncorrectModificationState", "{m}");
    // Once completed, the next may start: up to four in a rolling 24 hours.
    for size in [10, 11, 12] {
        lab.advance(Duration::from_secs(60));
        e.modify_volume()
            .volume_id(DATA_VOLUME_ID)
            .size(size)
            .send()
            .await
            .unwrap();
    }
    lab.advance(Duration::from_secs(60));
    let (c, m) = failure(e.modify_volume().volume_id(DATA_VOLUME_ID).size(13).send().await);
    assert_eq!(c, "VolumeModificationRateExceeded", "{m}");
    lab.advance(Duration::from_secs(24 * 3600));
    e.modify_volume()
        .volume_id(DATA_VOLUME_ID)
        .size(13)
        .send()
        .await
        .unwrap();
    assert_eq!(lab.volume(DATA_VOLUME_ID).await.size(), Some(13));
}

#[tokio::test]
async fn a_volume_being_modified_cannot_be_attached_until_it_is_optimizing() {
    let lab = Lab::manual(Pace::Demo).await;
    let volume = lab.create_volume("us-east-1a", 10).await;
    lab.advance(Duration::from_secs(5));
    lab.ec2
        .modify_volume()
        .volume_id(&volume)
        .size(20)
        .send()
        .await
        .unwrap();
    let attach = || {
        lab.ec2
            .attach_volume()
            .volume_id(&volume)
            .instance_id(INSTANCE_ID)
            .device("/dev/sdh")
            .send()
    };
    let (c, m) = failure(attach().await);
    assert_eq!(
        (c.as_str(), m.as_str()),
        (
            "OperationNotPermitted",
            format!("Cannot attach volume {volume} when it is in modification state: MODIFYING").as_str()
        )
    );
    lab.advance(Duration::from_secs(3));
    attach().await.unwrap();
}

#[tokio::test]
async fn dry_run_modifies_nothing() {
    let lab = Lab::manual(Pace::Instant).await;
    let r = lab
        .ec2
        .modify_volume()
        .volume_id(DATA_VOLUME_ID)
        .size(30)
        .dry_run(true)
        .send()
        .await;
    assert_eq!(code(r), "DryRunOperation");
    assert_eq!(lab.volume(DATA_VOLUME_ID).await.size(), Some(8));
    let all = lab.ec2.describe_volumes_modifications().send().await.unwrap();
    assert!(all.volumes_modifications().is_empty());
}
