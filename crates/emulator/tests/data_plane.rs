//! The data-plane routes: what the instance's OS does to an attached volume,
//! and the clear errors for everything else, with nothing half-written.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use snaplab_emulator::blocks::BLOCK_SIZE;
use snaplab_emulator::Pace;
use snaplab_testkit::*;

fn url(lab: &Lab, volume: &str, query: &str) -> String {
    format!("{}/_snaplab/volumes/{volume}/data?{query}", lab.endpoint())
}

async fn put(lab: &Lab, volume: &str, offset: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .put(url(lab, volume, &format!("offset={offset}")))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

async fn get(lab: &Lab, volume: &str, query: &str) -> (u16, Vec<u8>) {
    let r = reqwest::get(url(lab, volume, query)).await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

#[tokio::test]
async fn an_attached_volume_reads_back_what_was_written_and_zeros_elsewhere() {
    let lab = Lab::start(Pace::Instant).await;
    let data: Vec<u8> = (0..3000u32).map(|i| (i % 253) as u8).collect();
    let at = BLOCK_SIZE - 1000; // spans two blocks
    let (status, body) = put(&lab, DATA_VOLUME_ID, &at.to_string(), data.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["written"], 3000);
    let (status, back) = get(&lab, DATA_VOLUME_ID, &format!("offset={at}&length=3000")).await;
    assert_eq!(status, 200);
    assert_eq!(back, data);
    let (_, zeros) = get(&lab, DATA_VOLUME_ID, "offset=4294967296&length=16").await;
    assert_eq!(zeros, vec![0u8; 16]);
}

#[tokio::test]
async fn a_detached_or_unknown_volume_is_refused_with_what_to_do() {
    let lab = Lab::start(Pace::Instant).await;
    let spare = lab.new_volume("us-east-1a", 1).await;
    let (status, body) = put(&lab, &spare, "0", b"x".to_vec()).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"], "VolumeNotAttached");
    assert!(body["message"].as_str().unwrap().contains("attach-volume"), "{body}");
    let (status, body) = get(&lab, &spare, "offset=0&length=1").await;
    assert_eq!(status, 409);
    assert_eq!(json(&body)["error"], "VolumeNotAttached");

    let (status, body) = put(&lab, "vol-0123456789abcdef9", "0", b"x".to_vec()).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("InvalidVolume.NotFound")));
    let (status, body) = put(&lab, "vol-12", "0", b"x".to_vec()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("InvalidVolumeID.Malformed"))
    );
}

#[tokio::test]
async fn a_volume_being_detached_is_not_writable() {
    let lab = Lab::manual(Pace::Demo).await;
    lab.ec2.detach_volume().volume_id(DATA_VOLUME_ID).send().await.unwrap();
    let (status, body) = put(&lab, DATA_VOLUME_ID, "0", b"x".to_vec()).await;
    assert_eq!(status, 409);
    assert!(body["message"].as_str().unwrap().contains("detaching"), "{body}");
    lab.advance(Duration::from_secs(5));
    let (status, _) = put(&lab, DATA_VOLUME_ID, "0", b"x".to_vec()).await;
    assert_eq!(status, 409, "detached");
}

#[tokio::test]
async fn out_of_range_and_bad_parameters_are_400s_and_write_nothing() {
    let lab = Lab::start(Pace::Instant).await;
    let end = 8 * 1024 * 1024 * 1024u64;
    let (status, body) = put(&lab, DATA_VOLUME_ID, &(end - 2).to_string(), b"abcd".to_vec()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("OutOfRange")));
    // Nothing of the refused write landed, not even the bytes that fit.
    let (_, tail) = get(&lab, DATA_VOLUME_ID, &format!("offset={}&length=2", end - 2)).await;
    assert_eq!(tail, vec![0, 0]);

    let (status, body) = put(&lab, DATA_VOLUME_ID, "minus-one", b"x".to_vec()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("InvalidParameterValue")));
    let (status, body) = get(&lab, DATA_VOLUME_ID, "offset=0").await;
    assert_eq!((status, json(&body)["error"].as_str()), (400, Some("MissingParameter")));
    let (status, body) = get(&lab, DATA_VOLUME_ID, "offset=18446744073709551615&length=2").await;
    assert_eq!((status, json(&body)["error"].as_str()), (400, Some("OutOfRange")));
    let (status, body) = get(&lab, DATA_VOLUME_ID, "offset=0&length=1000000000").await;
    assert_eq!((status, json(&body)["error"].as_str()), (413, Some("RequestTooLarge")));
}

#[tokio::test]
async fn an_oversized_body_is_a_json_413_and_writes_nothing() {
    let lab = Lab::start(Pace::Instant).await;
    let (status, body) = put(&lab, DATA_VOLUME_ID, "0", vec![7u8; 66 * 1024 * 1024]).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"], "RequestTooLarge");
    let (_, head) = get(&lab, DATA_VOLUME_ID, "offset=0&length=4").await;
    assert_eq!(head, vec![0; 4]);
}

#[tokio::test]
async fn memory_grows_with_data_written_not_with_volume_size() {
    let lab = Lab::start(Pace::Instant).await;
    for gib in 0..8u64 {
        put(&lab, DATA_VOLUME_ID, &(gib << 30).to_string(), b"x".to_vec()).await;
    }
    let held = lab
        .emulator
        .inspect(|cloud| cloud.volumes.values().map(|v| v.data.own_blocks()).sum::<usize>());
    assert_eq!(held, 8, "8 one-byte writes across 8 GiB hold 8 blocks of 512 KiB");
}

#[tokio::test]
async fn a_snapshot_captures_the_volume_at_its_instant_and_restores_it() {
    let lab = Lab::start(Pace::Instant).await;
    put(&lab, DATA_VOLUME_ID, "100", b"before".to_vec()).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    put(&lab, DATA_VOLUME_ID, "100", b"after!".to_vec()).await;
    let restored = lab.restore_and_attach(&snap, "/dev/sdg").await;
    let (_, back) = get(&lab, &restored, "offset=100&length=6").await;
    assert_eq!(back, b"before");
    // The restored volume is its own: writing it leaves the original alone.
    put(&lab, &restored, "100", b"mine!!".to_vec()).await;
    let (_, original) = get(&lab, DATA_VOLUME_ID, "offset=100&length=6").await;
    assert_eq!(original, b"after!");
}

#[tokio::test]
async fn deleting_a_snapshot_keeps_what_later_snapshots_need() {
    let lab = Lab::start(Pace::Instant).await;
    put(&lab, DATA_VOLUME_ID, "0", b"first".to_vec()).await;
    let first = lab.create_snapshot(DATA_VOLUME_ID).await;
    put(&lab, DATA_VOLUME_ID, &(10 * BLOCK_SIZE).to_string(), b"second".to_vec()).await;
    let second = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.ec2.delete_snapshot().snapshot_id(&first).send().await.unwrap();
    let restored = lab.restore_and_attach(&second, "/dev/sdg").await;
    let (_, a) = get(&lab, &restored, "offset=0&length=5").await;
    let (_, b) = get(&lab, &restored, &format!("offset={}&length=6", 10 * BLOCK_SIZE)).await;
    assert_eq!((a.as_slice(), b.as_slice()), (&b"first"[..], &b"second"[..]));
}

#[tokio::test]
async fn a_snapshot_copies_only_blocks_changed_since_the_previous_one() {
    let lab = Lab::manual(Pace::Demo).await;
    // 64 MiB written: at demo's 32 MiB/s the first snapshot copies for 2 s more.
    for i in 0..128u64 {
        put(&lab, DATA_VOLUME_ID, &(i * BLOCK_SIZE).to_string(), vec![1u8; 16]).await;
    }
    let first = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.advance(Duration::from_secs(7));
    assert_eq!(
        lab.snapshot(&first).await.progress(),
        Some("87%"),
        "6 s floor + 2 s of copying"
    );
    lab.advance(Duration::from_secs(2));
    assert_eq!(lab.snapshot(&first).await.progress(), Some("100%"));
    // One block changed since: the next snapshot is incremental.
    put(&lab, DATA_VOLUME_ID, "0", vec![2u8; 16]).await;
    let second = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.advance(Duration::from_millis(6100));
    assert_eq!(lab.snapshot(&second).await.progress(), Some("100%"));
    let copied = lab
        .emulator
        .inspect(|c| (c.snapshots[&first].bytes_to_copy, c.snapshots[&second].bytes_to_copy));
    assert_eq!(copied, (128 * BLOCK_SIZE, BLOCK_SIZE));
}

#[tokio::test]
async fn the_metrics_route_times_every_request_by_kind() {
    let lab = Lab::start(Pace::Instant).await;
    let (status, _) = put(&lab, DATA_VOLUME_ID, "0", vec![7u8; 4096]).await;
    assert_eq!(status, 200);
    let (status, _) = get(&lab, DATA_VOLUME_ID, "offset=0&length=4096").await;
    assert_eq!(status, 200);
    lab.volume(DATA_VOLUME_ID).await;
    let (status, _) = get(&lab, "vol-0000000000000dead", "offset=0&length=1").await;
    assert_eq!(status, 404);
    let m: serde_json::Value = reqwest::get(format!("{}/_snaplab/metrics", lab.endpoint()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["data_plane"]["count"], 3, "{m}");
    assert!(m["aws"]["count"].as_u64().unwrap() >= 1, "{m}");
    let p99 = m["data_plane"]["p99_us"].as_u64().unwrap();
    assert!(p99 > 0 && p99 <= m["data_plane"]["max_us"].as_u64().unwrap(), "{m}");
    assert_eq!(m["server_errors"], 0, "a 404 is not a server error");
    // The metrics route does not count itself.
    let again: serde_json::Value = reqwest::get(format!("{}/_snaplab/metrics", lab.endpoint()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["aws"]["count"], m["aws"]["count"]);
}
