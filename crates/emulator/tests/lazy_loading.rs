//! Lazy loading: a volume restored from a snapshot fetches each of the
//! snapshot's blocks on first read (slow, once), reports its initialization
//! through DescribeVolumeStatus (judged by the real aws-sdk-ec2), and is
//! initialized at creation when Fast Snapshot Restore is enabled in its zone.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{Filter, InitializationType};
use snaplab_emulator::blocks::BLOCK_SIZE;
use snaplab_emulator::Pace;
use snaplab_testkit::*;

/// Reads `len` bytes at `offset`: how many blocks the read fetched, and how long it took.
async fn read(lab: &Lab, volume: &str, offset: u64, len: u64) -> (u64, Duration) {
    let started = Instant::now();
    let r = reqwest::get(format!(
        "{}/_snaplab/volumes/{volume}/data?offset={offset}&length={len}",
        lab.endpoint()
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let fetched = r.headers()["x-snaplab-blocks-fetched"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().len() as u64, len);
    (fetched, started.elapsed())
}

async fn set_cost(lab: &Lab, body: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .put(format!("{}/_snaplab/lazy-loading", lab.endpoint()))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn progress(lab: &Lab, volume: &str) -> (Option<i64>, String) {
    let out = lab
        .ec2
        .describe_volume_status()
        .volume_ids(volume)
        .send()
        .await
        .unwrap();
    let item = &out.volume_statuses()[0];
    let details = item.initialization_status_details().unwrap();
    assert_eq!(details.initialization_type(), Some(&InitializationType::Default));
    let state = item
        .volume_status()
        .unwrap()
        .details()
        .iter()
        .find(|d| d.name().map(|n| n.as_str()) == Some("initialization-state"))
        .and_then(|d| d.status())
        .unwrap()
        .to_string();
    (details.progress(), state)
}

/// A snapshot holding eight written blocks (0..8), restored and attached at /dev/sdg.
async fn restored_with_eight_blocks(lab: &Lab) -> String {
    lab.write(DATA_VOLUME_ID, 0, &vec![7u8; 8 * BLOCK_SIZE as usize]).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.restore_and_attach(&snap, "/dev/sdg").await
}

#[tokio::test]
async fn first_reads_fetch_each_block_once_and_progress_follows() {
    let lab = Lab::start(Pace::Instant).await;
    // Off at pace instant until asked for.
    let restored = restored_with_eight_blocks(&lab).await;
    let (fetched, _) = read(&lab, &restored, 0, BLOCK_SIZE).await;
    assert_eq!(fetched, 1, "the block is fetched even when it costs nothing");

    let (status, body) = set_cost(&lab, r#"{"first_read_per_block_us": 30000}"#).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["from"], "request");
    assert_eq!(progress(&lab, &restored).await, (Some(12), "initializing".to_string()));

    // Blocks 1..4: three fetched, 30 ms each at the least.
    let (fetched, took) = read(&lab, &restored, BLOCK_SIZE, 3 * BLOCK_SIZE).await;
    assert_eq!(fetched, 3);
    assert!(took >= Duration::from_millis(90), "{took:?}");
    // Read again: nothing left to fetch.
    assert_eq!(read(&lab, &restored, 0, 4 * BLOCK_SIZE).await.0, 0);
    assert_eq!(progress(&lab, &restored).await.0, Some(50));

    // A write makes a block the volume's own: no fetch for it later.
    let put = reqwest::Client::new()
        .put(format!(
            "{}/_snaplab/volumes/{restored}/data?offset={}",
            lab.endpoint(),
            4 * BLOCK_SIZE
        ))
        .body(vec![1u8; BLOCK_SIZE as usize])
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    // Blocks past the snapshot's data (8..) were never in it: nothing to fetch.
    let (fetched, _) = read(&lab, &restored, 4 * BLOCK_SIZE, 12 * BLOCK_SIZE).await;
    assert_eq!(fetched, 3, "blocks 5, 6 and 7 only");
    assert_eq!(progress(&lab, &restored).await, (Some(100), "completed".to_string()));

    // The filter on the detail finds it; a volume created empty has none.
    let out = lab
        .ec2
        .describe_volume_status()
        .filters(
            Filter::builder()
                .name("volume-status.details-name")
                .values("initialization-state")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = out.volume_statuses().iter().filter_map(|s| s.volume_id()).collect();
    assert_eq!(ids, [restored.as_str()]);
    let data = lab
        .ec2
        .describe_volume_status()
        .volume_ids(DATA_VOLUME_ID)
        .send()
        .await
        .unwrap();
    let item = &data.volume_statuses()[0];
    assert!(item.initialization_status_details().is_none());
    assert_eq!(item.volume_status().unwrap().status().map(|s| s.as_str()), Some("ok"));

    // Back to the pace's cost.
    let (status, body) = set_cost(&lab, r#"{"first_read_per_block_us": null}"#).await;
    assert_eq!((status, body["from"].as_str()), (200, Some("pace")));
}

#[tokio::test]
async fn a_volume_from_a_fast_restore_snapshot_is_initialized_at_creation() {
    let lab = Lab::start(Pace::Instant).await;
    lab.write(DATA_VOLUME_ID, 0, &vec![3u8; 4 * BLOCK_SIZE as usize]).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.wait_completed(&snap).await;
    // Enabled in another zone only: this restore still loads lazily.
    lab.ec2
        .enable_fast_snapshot_restores()
        .source_snapshot_ids(&snap)
        .availability_zones("us-east-1b")
        .send()
        .await
        .unwrap();
    let lazy = lab.restore_and_attach(&snap, "/dev/sdg").await;
    assert_eq!(progress(&lab, &lazy).await.0, Some(0));
    lab.ec2
        .enable_fast_snapshot_restores()
        .source_snapshot_ids(&snap)
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap();
    let fast = lab.restore_and_attach(&snap, "/dev/sdh").await;
    assert_eq!(progress(&lab, &fast).await, (Some(100), "completed".to_string()));
    assert_eq!(read(&lab, &fast, 0, 4 * BLOCK_SIZE).await.0, 0);
    assert_eq!(read(&lab, &lazy, 0, 4 * BLOCK_SIZE).await.0, 4);
}

#[tokio::test]
async fn bad_settings_and_bad_status_requests_get_clear_errors() {
    let lab = Lab::start(Pace::Instant).await;
    for body in ["", "{", r#"{"first_read_per_block_us": -1}"#, r#"{"other": 1}"#] {
        let (status, json) = set_cost(&lab, body).await;
        assert_eq!(status, 400, "{body}: {json}");
        assert_eq!(json["error"], "InvalidParameterValue");
        assert!(
            json["message"].as_str().unwrap().contains("first_read_per_block_us"),
            "{json}"
        );
    }
    let (status, json) = set_cost(&lab, r#"{"first_read_per_block_us": 5000000}"#).await;
    assert_eq!(status, 400, "{json}");
    let r = reqwest::get(format!("{}/_snaplab/lazy-loading", lab.endpoint()))
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["first_read_per_block_us"], 0, "a refused value changes nothing");

    let err = lab
        .ec2
        .describe_volume_status()
        .volume_ids("vol-00000000000000bad")
        .send()
        .await;
    assert_eq!(code(err), "InvalidVolume.NotFound");
    let err = lab.ec2.describe_volume_status().volume_ids("vol-nope").send().await;
    assert_eq!(code(err), "InvalidVolumeID.Malformed");
    let err = lab
        .ec2
        .describe_volume_status()
        .volume_ids(DATA_VOLUME_ID)
        .max_results(5)
        .send()
        .await;
    assert_eq!(code(err), "InvalidParameterCombination");
    let err = lab
        .ec2
        .describe_volume_status()
        .filters(Filter::builder().name("size").values("1").build())
        .send()
        .await;
    assert_eq!(code(err), "InvalidParameterValue");
}
