//! aws-sdk-ec2's own waiters against the emulator. The SDK's sleeps are cut
//! to a hundredth (see common::FastSleep); the acceptors are the SDK's.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use snaplab_emulator::Pace;
use snaplab_testkit::*;

use aws_sdk_ec2::client::Waiters;

const MAX_WAIT: Duration = Duration::from_secs(600);

#[tokio::test]
async fn snapshot_completed_waiter_returns_once_the_clock_passes_completion() {
    let lab = Lab::manual(Pace::Demo).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    let ec2 = lab.ec2.clone();
    let id = snap.clone();
    let waiter = tokio::spawn(async move {
        ec2.wait_until_snapshot_completed()
            .snapshot_ids(id)
            .wait(MAX_WAIT)
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "still pending: the waiter keeps polling");
    lab.advance(Duration::from_secs(30));
    let done = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .unwrap()
        .unwrap();
    let final_poll = done.expect("waiter succeeds");
    let out = final_poll.as_result().expect("a describe result");
    assert_eq!(out.snapshots()[0].state().map(|s| s.as_str()), Some("completed"));
}

#[tokio::test]
async fn volume_available_and_in_use_waiters_follow_create_and_attach() {
    let lab = Lab::manual(Pace::Demo).await;
    let vol = lab.create_volume("us-east-1a", 8).await;
    let ec2 = lab.ec2.clone();
    let v = vol.clone();
    let available = tokio::spawn(async move { ec2.wait_until_volume_available().volume_ids(v).wait(MAX_WAIT).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!available.is_finished());
    lab.advance(Duration::from_secs(5));
    tokio::time::timeout(Duration::from_secs(10), available)
        .await
        .unwrap()
        .unwrap()
        .expect("available");

    lab.ec2
        .attach_volume()
        .volume_id(&vol)
        .instance_id(INSTANCE_ID)
        .device("/dev/sdg")
        .send()
        .await
        .unwrap();
    lab.ec2
        .wait_until_volume_in_use()
        .volume_ids(&vol)
        .wait(MAX_WAIT)
        .await
        .expect("in-use");
}

#[tokio::test]
async fn volume_deleted_waiter_succeeds_when_the_volume_is_gone() {
    let lab = Lab::start(Pace::Instant).await;
    let vol = lab.new_volume("us-east-1a", 1).await;
    lab.ec2.delete_volume().volume_id(&vol).send().await.unwrap();
    lab.ec2
        .wait_until_volume_deleted()
        .volume_ids(&vol)
        .wait(MAX_WAIT)
        .await
        .expect("deleted");
}

#[tokio::test]
async fn instance_running_waiter_sees_the_seeded_instance() {
    let lab = Lab::start(Pace::Instant).await;
    lab.ec2
        .wait_until_instance_running()
        .instance_ids(INSTANCE_ID)
        .wait(MAX_WAIT)
        .await
        .expect("running");
}
