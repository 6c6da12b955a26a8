//! Lifecycles in time, on a clock the test moves: what a learner sees when
//! polling describe-* at each pace.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_ec2::types::{SnapshotState, VolumeAttachmentState, VolumeState};
use snaplab_emulator::Pace;
use snaplab_testkit::*;

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn volume_is_creating_then_available() {
    let lab = Lab::manual(Pace::Demo).await;
    let created = lab.create_volume("us-east-1a", 8).await;
    let id = created.as_str();
    assert_eq!(lab.volume(id).await.state(), Some(&VolumeState::Creating));
    lab.advance(Duration::from_millis(1000));
    assert_eq!(lab.volume(id).await.state(), Some(&VolumeState::Creating));
    lab.advance(Duration::from_millis(600));
    assert_eq!(lab.volume(id).await.state(), Some(&VolumeState::Available));
}

#[tokio::test]
async fn attach_goes_attaching_then_attached_and_detach_goes_detaching_then_available() {
    let lab = Lab::manual(Pace::Demo).await;
    let vol = lab.new_volume("us-east-1a", 8).await;
    lab.ec2
        .attach_volume()
        .volume_id(&vol)
        .instance_id(INSTANCE_ID)
        .device("/dev/sdg")
        .send()
        .await
        .unwrap();
    let v = lab.volume(&vol).await;
    assert_eq!(
        v.state(),
        Some(&VolumeState::InUse),
        "in-use as soon as the attach is accepted"
    );
    assert_eq!(v.attachments()[0].state(), Some(&VolumeAttachmentState::Attaching));
    lab.advance(SECOND);
    assert_eq!(
        lab.volume(&vol).await.attachments()[0].state(),
        Some(&VolumeAttachmentState::Attached)
    );

    lab.ec2.detach_volume().volume_id(&vol).send().await.unwrap();
    let v = lab.volume(&vol).await;
    assert_eq!(v.state(), Some(&VolumeState::InUse));
    assert_eq!(v.attachments()[0].state(), Some(&VolumeAttachmentState::Detaching));
    lab.advance(SECOND);
    let v = lab.volume(&vol).await;
    assert_eq!(v.state(), Some(&VolumeState::Available));
    assert!(v.attachments().is_empty());
}

#[tokio::test]
async fn demo_snapshot_stays_pending_five_seconds_with_progress_rising_in_steps() {
    let lab = Lab::manual(Pace::Demo).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    let mut seen = Vec::new();
    for _ in 0..5 {
        let s = lab.snapshot(&snap).await;
        assert_eq!(s.state(), Some(&SnapshotState::Pending));
        seen.push(s.progress().unwrap().trim_end_matches('%').parse::<u32>().unwrap());
        lab.advance(SECOND);
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "progress rises: {seen:?}");
    assert!(seen.iter().all(|p| *p < 100), "{seen:?}");
    lab.advance(Duration::from_secs(2));
    let s = lab.snapshot(&snap).await;
    assert_eq!(s.state(), Some(&SnapshotState::Completed));
    assert_eq!(s.progress(), Some("100%"));
}

#[tokio::test]
async fn realistic_snapshot_takes_longer_than_demo() {
    let demo = Lab::manual(Pace::Demo).await;
    let real = Lab::manual(Pace::Realistic).await;
    let d = demo.create_snapshot(DATA_VOLUME_ID).await;
    let r = real.create_snapshot(DATA_VOLUME_ID).await;
    demo.advance(Duration::from_secs(10));
    real.advance(Duration::from_secs(10));
    assert_eq!(demo.snapshot(&d).await.state(), Some(&SnapshotState::Completed));
    assert_eq!(real.snapshot(&r).await.state(), Some(&SnapshotState::Pending));
}

#[tokio::test]
async fn instant_pace_never_waits() {
    let lab = Lab::start(Pace::Instant).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    assert_eq!(lab.snapshot(&snap).await.state(), Some(&SnapshotState::Completed));
    let out = lab
        .ec2
        .create_volume()
        .snapshot_id(&snap)
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap();
    let vol = out.volume_id().unwrap();
    assert_eq!(lab.volume(vol).await.state(), Some(&VolumeState::Available));
}

#[tokio::test]
async fn volume_stays_usable_detachable_and_attachable_while_its_snapshot_is_pending() {
    let lab = Lab::manual(Pace::Demo).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.advance(SECOND);
    assert_eq!(lab.snapshot(&snap).await.state(), Some(&SnapshotState::Pending));

    // Detach during pending: AWS allows it (the scenario text said otherwise).
    lab.ec2.detach_volume().volume_id(DATA_VOLUME_ID).send().await.unwrap();
    lab.advance(SECOND);
    assert_eq!(lab.volume(DATA_VOLUME_ID).await.state(), Some(&VolumeState::Available));
    assert_eq!(lab.snapshot(&snap).await.state(), Some(&SnapshotState::Pending));

    lab.ec2
        .attach_volume()
        .volume_id(DATA_VOLUME_ID)
        .instance_id(INSTANCE_ID)
        .device(DATA_DEVICE)
        .send()
        .await
        .unwrap();
    lab.advance(SECOND);
    assert_eq!(lab.volume(DATA_VOLUME_ID).await.state(), Some(&VolumeState::InUse));

    lab.advance(Duration::from_secs(10));
    let s = lab.snapshot(&snap).await;
    assert_eq!(s.state(), Some(&SnapshotState::Completed));
    assert_eq!(s.volume_id(), Some(DATA_VOLUME_ID));
}

#[tokio::test]
async fn deleted_volume_is_deleting_then_gone() {
    let lab = Lab::manual(Pace::Demo).await;
    let vol = lab.new_volume("us-east-1a", 8).await;
    lab.ec2.delete_volume().volume_id(&vol).send().await.unwrap();
    assert_eq!(lab.volume(&vol).await.state(), Some(&VolumeState::Deleting));
    lab.advance(Duration::from_secs(2));
    let gone = lab.ec2.describe_volumes().volume_ids(&vol).send().await;
    assert_eq!(code(gone), "InvalidVolume.NotFound");
}

#[tokio::test]
async fn snapshot_start_time_is_the_moment_of_the_request() {
    let lab = Lab::manual(Pace::Demo).await;
    let out = lab
        .ec2
        .create_snapshot()
        .volume_id(DATA_VOLUME_ID)
        .send()
        .await
        .unwrap();
    lab.advance(Duration::from_secs(3));
    let s = lab.snapshot(out.snapshot_id().unwrap()).await;
    assert_eq!(s.start_time(), out.start_time());
}
