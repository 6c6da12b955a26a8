//! A snapshot failed on purpose (`PUT /_snaplab/volumes/{id}/fail-next-snapshot`):
//! it goes `pending` → `error` with a `StateMessage` the real aws-sdk-ec2
//! reads, the waiter gives up on it, only the next snapshot fails, and a
//! multi-volume set with one failing snapshot fails as a whole (one
//! `createSnapshots` notification for it).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{InstanceSpecification, SnapshotState};
use snaplab_emulator::Pace;
use snaplab_testkit::*;

async fn fail_next(lab: &Lab, volume: &str, body: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .put(format!(
            "{}/_snaplab/volumes/{volume}/fail-next-snapshot",
            lab.endpoint()
        ))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn the_next_snapshot_fails_with_its_message_and_the_one_after_completes() {
    let lab = Lab::manual(Pace::Demo).await;
    let (status, body) = fail_next(
        &lab,
        DATA_VOLUME_ID,
        r#"{"state_message": "Disk full on the test rig"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let failing = lab.create_snapshot(DATA_VOLUME_ID).await;
    let s = lab.snapshot(&failing).await;
    assert_eq!(
        s.state(),
        Some(&SnapshotState::Pending),
        "it fails when it would have completed"
    );
    assert_eq!(s.state_message(), None);
    lab.advance(Duration::from_secs(60));
    let s = lab.snapshot(&failing).await;
    assert_eq!(s.state(), Some(&SnapshotState::Error));
    assert_eq!(s.state_message(), Some("Disk full on the test rig"));
    assert_eq!(s.progress(), Some("0%"));
    assert!(s.completion_time().is_none());
    // The waiter stops at `error` (its failure state) instead of waiting on.
    let waited = lab
        .ec2
        .wait_until_snapshot_completed()
        .snapshot_ids(&failing)
        .wait(Duration::from_secs(30))
        .await;
    assert!(waited.is_err(), "{waited:?}");
    // A volume cannot be restored from it.
    let restore = lab
        .ec2
        .create_volume()
        .snapshot_id(&failing)
        .availability_zone("us-east-1a")
        .send()
        .await;
    assert_eq!(code(restore), "IncorrectState");

    let next = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.advance(Duration::from_secs(60));
    assert_eq!(lab.snapshot(&next).await.state(), Some(&SnapshotState::Completed));
}

#[tokio::test]
async fn one_failing_snapshot_fails_its_whole_set() {
    let lab = Lab::start(Pace::Instant).await;
    let (status, body) = fail_next(&lab, DATA_VOLUME_ID, "").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["next_snapshot_fails_with"]
        .as_str()
        .unwrap()
        .contains("internal error"));
    let out = lab
        .ec2
        .create_snapshots()
        .instance_specification(InstanceSpecification::builder().instance_id(INSTANCE_ID).build())
        .send()
        .await
        .unwrap();
    let ids: Vec<String> = out
        .snapshots()
        .iter()
        .map(|s| s.snapshot_id().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2, "root and data volume");
    for id in &ids {
        let s = lab.snapshot(id).await;
        assert_eq!(s.state(), Some(&SnapshotState::Error), "{id}");
        let message = s.state_message().unwrap();
        match s.volume_id() {
            Some(DATA_VOLUME_ID) => assert!(message.contains("internal error"), "{message}"),
            _ => assert!(
                message.starts_with("Another snapshot of its multi-volume set failed"),
                "{message}"
            ),
        }
    }
}

#[tokio::test]
async fn bad_requests_to_fail_a_snapshot_are_refused_clearly() {
    let lab = Lab::start(Pace::Instant).await;
    let (status, body) = fail_next(&lab, DATA_VOLUME_ID, "{").await;
    assert_eq!((status, body["error"].as_str()), (400, Some("InvalidParameterValue")));
    assert!(body["message"].as_str().unwrap().contains("state_message"), "{body}");
    let (status, body) = fail_next(&lab, "vol-00000000000000bad", "").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("InvalidVolume.NotFound")));
    let (status, body) = fail_next(&lab, "volume-1", "").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("InvalidVolumeID.Malformed"))
    );
    // Nothing was set by the refusals: the next snapshot completes.
    let s = lab.create_snapshot(DATA_VOLUME_ID).await;
    assert_eq!(lab.snapshot(&s).await.state(), Some(&SnapshotState::Completed));
}
