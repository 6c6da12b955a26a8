//! Fast Snapshot Restore through the real aws-sdk-ec2: per (snapshot, zone)
//! `enabling` → `optimizing` → `enabled` over time, then `disabling` →
//! `disabled`; per-item errors beside successes; the quota; deleting a
//! snapshot turns its FSR off.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_ec2::types::{FastSnapshotRestoreStateCode, Filter};
use snaplab_emulator::Pace;
use snaplab_testkit::*;

async fn states(lab: &Lab, snapshot: &str) -> Vec<(String, FastSnapshotRestoreStateCode)> {
    let out = lab
        .ec2
        .describe_fast_snapshot_restores()
        .filters(Filter::builder().name("snapshot-id").values(snapshot).build())
        .send()
        .await
        .unwrap();
    out.fast_snapshot_restores()
        .iter()
        .map(|r| (r.availability_zone().unwrap().to_string(), r.state().unwrap().clone()))
        .collect()
}

#[tokio::test]
async fn enabling_optimizes_over_time_then_disabling_turns_it_off() {
    let lab = Lab::manual(Pace::Demo).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.advance(Duration::from_secs(60));
    lab.wait_completed(&snap).await;
    let out = lab
        .ec2
        .enable_fast_snapshot_restores()
        .source_snapshot_ids(&snap)
        .availability_zones("us-east-1a")
        .availability_zones("us-east-1b")
        .send()
        .await
        .unwrap();
    assert!(out.unsuccessful().is_empty(), "{out:?}");
    let ok = out.successful();
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[0].state(), Some(&FastSnapshotRestoreStateCode::Enabling));
    assert_eq!(ok[0].state_transition_reason(), Some("Client.UserInitiated"));
    assert_eq!(ok[0].owner_id(), Some("000000000000"));
    assert!(ok[0].enabling_time().is_some() && ok[0].enabled_time().is_none());

    lab.advance(Duration::from_secs(3));
    let now: Vec<_> = states(&lab, &snap).await;
    assert_eq!(
        now,
        [
            ("us-east-1a".to_string(), FastSnapshotRestoreStateCode::Optimizing),
            ("us-east-1b".to_string(), FastSnapshotRestoreStateCode::Optimizing)
        ]
    );
    // 8 GiB at the demo pace's 0.5 s per GiB.
    lab.advance(Duration::from_secs(5));
    let enabled = lab
        .ec2
        .describe_fast_snapshot_restores()
        .filters(Filter::builder().name("state").values("enabled").build())
        .send()
        .await
        .unwrap();
    let r = &enabled.fast_snapshot_restores()[0];
    assert_eq!(enabled.fast_snapshot_restores().len(), 2);
    assert_eq!(
        r.state_transition_reason(),
        Some("Client.UserInitiated - Lifecycle state transition")
    );
    assert!(r.optimizing_time().is_some() && r.enabled_time().is_some());

    // Deleting a snapshot you own disables its FSR (EBS User Guide,
    // "Configure fast snapshot restore"): another snapshot, deleted while enabled.
    let other = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.advance(Duration::from_secs(60));
    lab.wait_completed(&other).await;
    lab.ec2
        .enable_fast_snapshot_restores()
        .source_snapshot_ids(&other)
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap();
    lab.ec2.delete_snapshot().snapshot_id(&other).send().await.unwrap();
    assert!(states(&lab, &other).await.is_empty(), "its FSR went with it");

    let off = lab
        .ec2
        .disable_fast_snapshot_restores()
        .source_snapshot_ids(&snap)
        .availability_zones("us-east-1a")
        .availability_zones("us-east-1b")
        .send()
        .await
        .unwrap();
    assert_eq!(
        off.successful()[0].state(),
        Some(&FastSnapshotRestoreStateCode::Disabling)
    );
    assert!(off.successful()[0].disabling_time().is_some());
    lab.advance(Duration::from_secs(3));
    assert!(
        states(&lab, &snap).await.is_empty(),
        "disabled ones are no longer listed"
    );
    lab.ec2.delete_snapshot().snapshot_id(&snap).send().await.unwrap();
}

#[tokio::test]
async fn a_bad_zone_or_snapshot_fails_alone_and_the_quota_is_five_snapshots() {
    let lab = Lab::start(Pace::Instant).await;
    let mut snaps = Vec::new();
    for _ in 0..6 {
        let s = lab.create_snapshot(DATA_VOLUME_ID).await;
        lab.wait_completed(&s).await;
        snaps.push(s);
    }
    let out = lab
        .ec2
        .enable_fast_snapshot_restores()
        .source_snapshot_ids(&snaps[0])
        .source_snapshot_ids("snap-0000000000000dead")
        .availability_zones("us-east-1a")
        .availability_zones("eu-west-1a")
        .send()
        .await
        .unwrap();
    assert_eq!(out.successful().len(), 1, "{out:?}");
    assert_eq!(out.successful()[0].availability_zone(), Some("us-east-1a"));
    let failed = out.unsuccessful();
    assert_eq!(failed.len(), 2, "one item per snapshot: {failed:?}");
    let zone_error = &failed[0].fast_snapshot_restore_state_errors()[0];
    assert_eq!(zone_error.availability_zone(), Some("eu-west-1a"));
    assert_eq!(zone_error.error().unwrap().code(), Some("InvalidZone.NotFound"));
    let missing = failed
        .iter()
        .find(|f| f.snapshot_id() == Some("snap-0000000000000dead"))
        .unwrap();
    let codes: Vec<_> = missing
        .fast_snapshot_restore_state_errors()
        .iter()
        .map(|e| e.error().unwrap().code().unwrap())
        .collect();
    assert!(codes.contains(&"InvalidSnapshot.NotFound"), "{codes:?}");

    // The same zone again changes nothing; four more snapshots reach the quota.
    for s in &snaps[..5] {
        let out = lab
            .ec2
            .enable_fast_snapshot_restores()
            .source_snapshot_ids(s)
            .availability_zones("us-east-1a")
            .send()
            .await
            .unwrap();
        assert!(out.unsuccessful().is_empty(), "{out:?}");
    }
    let sixth = lab
        .ec2
        .enable_fast_snapshot_restores()
        .source_snapshot_ids(&snaps[5])
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap();
    let e = &sixth.unsuccessful()[0].fast_snapshot_restore_state_errors()[0];
    assert_eq!(e.error().unwrap().code(), Some("ResourceLimitExceeded"));
    let listed = lab
        .ec2
        .describe_fast_snapshot_restores()
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.fast_snapshot_restores().len(), 2);
    assert!(listed.next_token().is_some(), "five listed two at a time");

    let too_many = lab
        .ec2
        .enable_fast_snapshot_restores()
        .set_source_snapshot_ids(Some((0..11).map(|i| format!("snap-{i:017x}")).collect()))
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        too_many.as_service_error().unwrap().meta().code(),
        Some("InvalidRequest")
    );
}
