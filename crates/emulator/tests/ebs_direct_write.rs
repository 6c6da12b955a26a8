//! The EBS direct write APIs through the real aws-sdk-ebs: StartSnapshot,
//! PutSnapshotBlock and CompleteSnapshot make an ordinary snapshot that EC2
//! describes and restores and the read APIs read; every refusal has AWS's
//! error type, status and Reason; a restart keeps what was written.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_ebs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ebs::operation::put_snapshot_block::PutSnapshotBlockError;
use aws_sdk_ebs::primitives::ByteStream;
use aws_sdk_ebs::types::{ChecksumAggregationMethod, ChecksumAlgorithm, Tag, ValidationExceptionReason};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use snaplab_emulator::blocks::BLOCK_SIZE;
use snaplab_emulator::deny::DenyList;
use snaplab_emulator::{Emulator, EmulatorConfig, Pace};
use snaplab_testkit::*;

type HttpResponse = aws_sdk_ebs::config::http::HttpResponse;

const BLOCK: usize = BLOCK_SIZE as usize;

/// A block whose bytes say which block and fill they are.
fn block(index: u64, fill: u8) -> Vec<u8> {
    let mut data = vec![fill; BLOCK];
    data[..8].copy_from_slice(&index.to_le_bytes());
    data
}

fn checksum(data: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(data))
}

/// The LINEAR aggregated checksum of blocks given in ascending index order.
fn linear(blocks: &[&[u8]]) -> String {
    let mut all = Sha256::new();
    for b in blocks {
        all.update(Sha256::digest(b));
    }
    STANDARD.encode(all.finalize())
}

/// A refusal as the client sees it: error type, HTTP status, Reason, message.
#[derive(Debug)]
struct Refusal {
    code: String,
    status: u16,
    reason: Option<String>,
    message: String,
}

fn refusal<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Refusal {
    let err = result.expect_err("the call should fail");
    let raw = err.raw_response().expect("a reply from the emulator");
    let body: serde_json::Value = raw
        .body()
        .bytes()
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or_default();
    Refusal {
        code: err.code().unwrap_or_default().to_string(),
        status: raw.status().as_u16(),
        reason: body["Reason"].as_str().map(str::to_string),
        message: err.message().unwrap_or_default().to_string(),
    }
}

fn assert_refused(r: &Refusal, code: &str, status: u16, reason: Option<&str>) {
    assert_eq!(
        (r.code.as_str(), r.status, r.reason.as_deref()),
        (code, status, reason),
        "{r:?}"
    );
    assert!(!r.message.is_empty(), "{r:?}");
}

fn invalid(r: &Refusal, reason: &str) {
    assert_refused(r, "ValidationException", 400, Some(reason));
}

async fn start(ebs: &aws_sdk_ebs::Client, size_gib: i64, parent: Option<&str>) -> String {
    let out = ebs
        .start_snapshot()
        .volume_size(size_gib)
        .set_parent_snapshot_id(parent.map(str::to_string))
        .send()
        .await
        .unwrap();
    out.snapshot_id().unwrap().to_string()
}

fn put(
    ebs: &aws_sdk_ebs::Client,
    snapshot: &str,
    index: i32,
    data: &[u8],
) -> aws_sdk_ebs::operation::put_snapshot_block::builders::PutSnapshotBlockFluentBuilder {
    ebs.put_snapshot_block()
        .snapshot_id(snapshot)
        .block_index(index)
        .block_data(ByteStream::from(data.to_vec()))
        .data_length(i32::try_from(data.len()).unwrap())
        .checksum(checksum(data))
        .checksum_algorithm(ChecksumAlgorithm::ChecksumAlgorithmSha256)
}

fn complete(
    ebs: &aws_sdk_ebs::Client,
    snapshot: &str,
    count: i32,
) -> aws_sdk_ebs::operation::complete_snapshot::builders::CompleteSnapshotFluentBuilder {
    ebs.complete_snapshot()
        .snapshot_id(snapshot)
        .changed_blocks_count(count)
}

async fn listed_blocks(ebs: &aws_sdk_ebs::Client, snapshot: &str) -> Vec<i32> {
    let out = ebs.list_snapshot_blocks().snapshot_id(snapshot).send().await.unwrap();
    out.blocks().iter().map(|b| b.block_index().unwrap()).collect()
}

/// GetSnapshotBlock of `index`, through a token from ListSnapshotBlocks.
async fn read_block(ebs: &aws_sdk_ebs::Client, snapshot: &str, index: i32) -> Vec<u8> {
    let out = ebs.list_snapshot_blocks().snapshot_id(snapshot).send().await.unwrap();
    let token = out
        .blocks()
        .iter()
        .find(|b| b.block_index() == Some(index))
        .and_then(|b| b.block_token())
        .unwrap()
        .to_string();
    let got = ebs
        .get_snapshot_block()
        .snapshot_id(snapshot)
        .block_index(index)
        .block_token(token)
        .send()
        .await
        .unwrap();
    let checksum_header = got.checksum().unwrap().to_string();
    let data = got.block_data.collect().await.unwrap().into_bytes().to_vec();
    assert_eq!(checksum_header, checksum(&data));
    data
}

/// Reads a volume's bytes through the data plane (the instance's OS view).
async fn read_volume(endpoint: &str, volume: &str, offset: u64, len: usize) -> Vec<u8> {
    let r = reqwest::get(format!(
        "{endpoint}/_snaplab/volumes/{volume}/data?offset={offset}&length={len}"
    ))
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_written_snapshot_completes_and_reads_back_everywhere() {
    let lab = Lab::start(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    let started = ebs
        .start_snapshot()
        .volume_size(1)
        .description("uploaded disk")
        .tags(Tag::builder().key("app").value("securecart").build())
        .timeout(30)
        .send()
        .await
        .unwrap();
    let snap = started.snapshot_id().unwrap().to_string();
    assert_eq!(started.status().map(|s| s.as_str()), Some("pending"));
    assert_eq!(started.volume_size(), Some(1));
    assert_eq!(started.block_size(), Some(524_288));
    assert_eq!(started.owner_id(), Some("000000000000"));
    assert_eq!(started.description(), Some("uploaded disk"));
    assert_eq!(started.tags().len(), 1);
    assert!(started.start_time().is_some());

    let last = 2047; // 1 GiB holds blocks 0..2048
    let written = [(0, block(0, 0xa1)), (5, block(5, 0xb2)), (last, block(2047, 0xc3))];
    for (i, (index, data)) in written.iter().enumerate() {
        let progress = i32::try_from((i + 1) * 33).unwrap();
        let out = put(&ebs, &snap, *index, data).progress(progress).send().await.unwrap();
        assert_eq!(out.checksum(), Some(checksum(data).as_str()));
        assert_eq!(out.checksum_algorithm().map(|a| a.as_str()), Some("SHA256"));
        if i == 1 {
            let s = lab.snapshot(&snap).await;
            assert_eq!(s.state().map(|s| s.as_str()), Some("pending"));
            assert_eq!(s.progress(), Some("66%"), "the writer's reported progress");
            assert_eq!(s.volume_id(), Some("vol-ffffffff"));
        }
    }
    let all: Vec<&[u8]> = written.iter().map(|(_, d)| d.as_slice()).collect();
    let done = complete(&ebs, &snap, 3)
        .checksum(linear(&all))
        .checksum_algorithm(ChecksumAlgorithm::ChecksumAlgorithmSha256)
        .checksum_aggregation_method(ChecksumAggregationMethod::ChecksumAggregationLinear)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status().map(|s| s.as_str()), Some("completed"));

    let s = lab.snapshot(&snap).await;
    assert_eq!(s.state().map(|s| s.as_str()), Some("completed"));
    assert_eq!(s.progress(), Some("100%"));
    assert_eq!(s.volume_size(), Some(1));
    assert_eq!(s.description(), Some("uploaded disk"));
    assert_eq!(s.tags()[0].key(), Some("app"));

    assert_eq!(listed_blocks(&ebs, &snap).await, [0, 5, last]);
    assert_eq!(read_block(&ebs, &snap, 5).await, written[1].1);

    let volume = lab.restore_and_attach(&snap, "/dev/sdh").await;
    for (index, data) in &written {
        let at = u64::try_from(*index).unwrap() * BLOCK_SIZE;
        assert_eq!(&read_volume(lab.endpoint(), &volume, at, BLOCK).await, data);
    }
    assert_eq!(
        read_volume(lab.endpoint(), &volume, BLOCK_SIZE, 16).await,
        [0; 16],
        "unwritten blocks read as zeros"
    );
}

#[tokio::test]
async fn a_child_inherits_its_parents_blocks_and_changes_only_what_it_wrote() {
    let lab = Lab::start(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    // The lineage starts at an ordinary snapshot of the data volume.
    lab.write(DATA_VOLUME_ID, 0, b"shop").await;
    lab.write(DATA_VOLUME_ID, 3 * BLOCK_SIZE, b"stock").await;
    let base = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.wait_completed(&base).await;
    let base_block_3 = read_block(&ebs, &base, 3).await;

    let child = start(&ebs, 8, Some(&base)).await;
    let new_0 = block(0, 0x11);
    let new_9 = block(9, 0x22);
    put(&ebs, &child, 0, &new_0).send().await.unwrap();
    put(&ebs, &child, 9, &new_9).send().await.unwrap();
    complete(&ebs, &child, 2).send().await.unwrap();

    assert_eq!(listed_blocks(&ebs, &child).await, [0, 3, 9]);
    assert_eq!(read_block(&ebs, &child, 3).await, base_block_3, "inherited");
    assert_eq!(read_block(&ebs, &child, 0).await, new_0, "overwritten");
    let changed = ebs
        .list_changed_blocks()
        .first_snapshot_id(&base)
        .second_snapshot_id(&child)
        .send()
        .await
        .unwrap();
    let got: Vec<(i32, bool)> = changed
        .changed_blocks()
        .iter()
        .map(|b| (b.block_index().unwrap(), b.first_block_token().is_some()))
        .collect();
    assert_eq!(got, [(0, true), (9, false)]);

    // A grandchild that writes nothing is its parent's image.
    let grandchild = start(&ebs, 8, Some(&child)).await;
    complete(&ebs, &grandchild, 0).send().await.unwrap();
    let none = ebs
        .list_changed_blocks()
        .first_snapshot_id(&child)
        .second_snapshot_id(&grandchild)
        .send()
        .await
        .unwrap();
    assert!(none.changed_blocks().is_empty());
    let volume = lab.restore_and_attach(&grandchild, "/dev/sdh").await;
    assert_eq!(read_volume(lab.endpoint(), &volume, 3 * BLOCK_SIZE, 5).await, b"stock");
    assert_eq!(read_volume(lab.endpoint(), &volume, 9 * BLOCK_SIZE, BLOCK).await, new_9);
}

#[tokio::test]
async fn a_client_token_makes_start_snapshot_idempotent() {
    let lab = Lab::start(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    let start_with = |size: i64| {
        ebs.start_snapshot()
            .volume_size(size)
            .client_token("550e8400-e29b-41d4-a716-446655440000")
            .send()
    };
    let first = start_with(8).await.unwrap();
    let again = start_with(8).await.unwrap();
    assert_eq!(first.snapshot_id(), again.snapshot_id());
    let ids = lab
        .emulator
        .inspect(|cloud| cloud.snapshots.values().filter(|s| s.direct.is_some()).count());
    assert_eq!(ids, 1, "a retry makes no second snapshot");
    assert_refused(&refusal(start_with(16).await), "ConflictException", 409, None);

    let other = ebs.start_snapshot().volume_size(8).send().await.unwrap();
    assert_ne!(
        other.snapshot_id(),
        first.snapshot_id(),
        "the SDK's own token differs per call"
    );
}

#[tokio::test]
async fn start_snapshot_refuses_bad_sizes_timeouts_and_parents() {
    let lab = Lab::start(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    let size = |s: Option<i64>| ebs.start_snapshot().set_volume_size(s).send();
    invalid(&refusal(size(None).await), "INVALID_VOLUME_SIZE");
    invalid(&refusal(size(Some(0)).await), "INVALID_VOLUME_SIZE");
    invalid(&refusal(size(Some(65_537)).await), "INVALID_VOLUME_SIZE");
    assert!(size(Some(65_536)).await.is_ok(), "64 TiB is the largest");

    let timeout = |t: i32| ebs.start_snapshot().volume_size(1).timeout(t).send();
    invalid(&refusal(timeout(9).await), "INVALID_PARAMETER_VALUE");
    invalid(&refusal(timeout(4321).await), "INVALID_PARAMETER_VALUE");
    assert!(timeout(10).await.is_ok() && timeout(4320).await.is_ok());

    let parent = |p: &str| ebs.start_snapshot().volume_size(8).parent_snapshot_id(p).send();
    assert_refused(
        &refusal(parent("snap-0123456789abcdef9").await),
        "ResourceNotFoundException",
        404,
        Some("SNAPSHOT_NOT_FOUND"),
    );
    invalid(&refusal(parent("snap-xyz").await), "INVALID_SNAPSHOT_ID");
    let open = start(&ebs, 8, None).await;
    let r = refusal(parent(&open).await);
    invalid(&r, "INVALID_SNAPSHOT_ID");
    assert!(r.message.contains("pending"), "{r:?}");

    complete(&ebs, &open, 0).send().await.unwrap();
    let smaller = ebs
        .start_snapshot()
        .volume_size(4)
        .parent_snapshot_id(&open)
        .send()
        .await;
    invalid(&refusal(smaller), "INVALID_VOLUME_SIZE");
    let both = ebs
        .start_snapshot()
        .volume_size(8)
        .parent_snapshot_id(&open)
        .encrypted(true)
        .send()
        .await;
    invalid(&refusal(both), "INVALID_PARAMETER_VALUE");
    let long_key = ebs
        .start_snapshot()
        .volume_size(8)
        .tags(Tag::builder().key("k".repeat(128)).value("v").build())
        .send()
        .await;
    invalid(&refusal(long_key), "INVALID_TAG");
}

#[tokio::test]
async fn put_snapshot_block_refuses_what_it_cannot_store() {
    let lab = Lab::start(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    let snap = start(&ebs, 1, None).await;
    let data = block(1, 7);

    let wrong_sum = put(&ebs, &snap, 1, &data)
        .checksum(checksum(b"other bytes"))
        .send()
        .await;
    let r = refusal(wrong_sum);
    invalid(&r, "INVALID_PARAMETER_VALUE");
    assert!(r.message.contains("does not match"), "{r:?}");
    let not_base64 = put(&ebs, &snap, 1, &data).checksum("not-base64!").send().await;
    invalid(&refusal(not_base64), "INVALID_PARAMETER_VALUE");

    let short = vec![7u8; 4096];
    let small_block = put(&ebs, &snap, 1, &short).send().await;
    invalid(&refusal(small_block), "INVALID_PARAMETER_VALUE");
    let lying_length = put(&ebs, &snap, 1, &short).data_length(524_288).send().await;
    let r = refusal(lying_length);
    invalid(&r, "INVALID_PARAMETER_VALUE");
    assert!(r.message.contains("Failed to read block data"), "{r:?}");

    let out_of_range = put(&ebs, &snap, 2048, &data).send().await;
    let err = out_of_range.expect_err("index 2048 of a 1 GiB snapshot");
    match err.into_service_error() {
        PutSnapshotBlockError::ValidationException(e) => {
            assert_eq!(
                e.reason(),
                Some(&ValidationExceptionReason::InvalidBlock),
                "the SDK reads the Reason"
            );
        }
        other => panic!("not a ValidationException: {other:?}"),
    }
    invalid(&refusal(put(&ebs, &snap, -1, &data).send().await), "INVALID_BLOCK");
    invalid(
        &refusal(put(&ebs, &snap, 1, &data).progress(101).send().await),
        "INVALID_PARAMETER_VALUE",
    );
    invalid(
        &refusal(
            put(&ebs, &snap, 1, &data)
                .checksum_algorithm(ChecksumAlgorithm::from("MD5"))
                .send()
                .await,
        ),
        "INVALID_PARAMETER_VALUE",
    );

    assert_refused(
        &refusal(put(&ebs, "snap-0123456789abcdef9", 1, &data).send().await),
        "ResourceNotFoundException",
        404,
        Some("SNAPSHOT_NOT_FOUND"),
    );
    invalid(
        &refusal(put(&ebs, "snap-nope", 1, &data).send().await),
        "INVALID_SNAPSHOT_ID",
    );

    // Nothing refused was stored: the snapshot completes with no blocks.
    complete(&ebs, &snap, 0).send().await.unwrap();
    let after = refusal(put(&ebs, &snap, 1, &data).send().await);
    invalid(&after, "INVALID_SNAPSHOT_ID");
    assert!(after.message.contains("CompleteSnapshot"), "{after:?}");
    assert!(listed_blocks(&ebs, &snap).await.is_empty());

    // A snapshot taken with EC2 CreateSnapshot is not written block by block.
    let ec2_made = lab.create_snapshot(DATA_VOLUME_ID).await;
    invalid(
        &refusal(put(&ebs, &ec2_made, 0, &data).send().await),
        "INVALID_SNAPSHOT_ID",
    );
}

#[tokio::test]
async fn complete_snapshot_checks_the_count_and_the_aggregated_checksum() {
    let lab = Lab::start(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    let snap = start(&ebs, 1, None).await;
    let (a, b) = (block(2, 1), block(7, 2));
    put(&ebs, &snap, 7, &b).send().await.unwrap();
    put(&ebs, &snap, 2, &a).send().await.unwrap();
    put(&ebs, &snap, 2, &a).send().await.unwrap(); // a rewrite counts once

    let r = refusal(complete(&ebs, &snap, 3).send().await);
    invalid(&r, "INVALID_PARAMETER_VALUE");
    assert!(r.message.contains("2 blocks were written"), "{r:?}");
    let with_sum = |sum: String| {
        complete(&ebs, &snap, 2)
            .checksum(sum)
            .checksum_algorithm(ChecksumAlgorithm::ChecksumAlgorithmSha256)
            .checksum_aggregation_method(ChecksumAggregationMethod::ChecksumAggregationLinear)
            .send()
    };
    let wrong_order = linear(&[&b, &a]);
    invalid(&refusal(with_sum(wrong_order).await), "INVALID_PARAMETER_VALUE");
    assert_refused(
        &refusal(complete(&ebs, "snap-0123456789abcdef9", 0).send().await),
        "ResourceNotFoundException",
        404,
        Some("SNAPSHOT_NOT_FOUND"),
    );

    // Refusals leave it open: the right values complete it.
    let done = with_sum(linear(&[&a, &b])).await.unwrap();
    assert_eq!(done.status().map(|s| s.as_str()), Some("completed"));
    invalid(&refusal(complete(&ebs, &snap, 2).send().await), "INVALID_SNAPSHOT_ID");
    assert_eq!(listed_blocks(&ebs, &snap).await, [2, 7]);
}

#[tokio::test]
async fn at_a_slow_pace_a_completed_write_copies_before_it_is_completed() {
    let lab = Lab::manual(Pace::Demo).await;
    let ebs = ebs_client(lab.endpoint());
    let snap = start(&ebs, 1, None).await;
    put(&ebs, &snap, 0, &block(0, 1)).progress(100).send().await.unwrap();
    assert_eq!(
        lab.snapshot(&snap).await.progress(),
        Some("99%"),
        "never 100 while pending"
    );
    let done = complete(&ebs, &snap, 1).send().await.unwrap();
    assert_eq!(done.status().map(|s| s.as_str()), Some("pending"));
    assert_eq!(lab.snapshot(&snap).await.progress(), Some("0%"), "the copy begins");
    lab.advance(Duration::from_secs(120));
    let s = lab.snapshot(&snap).await;
    assert_eq!(s.state().map(|s| s.as_str()), Some("completed"));
}

#[tokio::test]
async fn an_idle_snapshot_times_out_into_the_error_state() {
    let lab = Lab::manual(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    let out = ebs.start_snapshot().volume_size(1).timeout(10).send().await.unwrap();
    let snap = out.snapshot_id().unwrap().to_string();
    lab.advance(Duration::from_secs(9 * 60));
    put(&ebs, &snap, 0, &block(0, 1)).send().await.unwrap();
    lab.advance(Duration::from_secs(9 * 60));
    assert_eq!(
        lab.snapshot(&snap).await.state().map(|s| s.as_str()),
        Some("pending"),
        "a block written restarts the Timeout"
    );
    lab.advance(Duration::from_secs(2 * 60));
    assert_eq!(lab.snapshot(&snap).await.state().map(|s| s.as_str()), Some("error"));
    invalid(
        &refusal(put(&ebs, &snap, 1, &block(1, 1)).send().await),
        "WRITE_REQUEST_TIMEOUT",
    );
    invalid(&refusal(complete(&ebs, &snap, 1).send().await), "WRITE_REQUEST_TIMEOUT");
}

#[tokio::test]
async fn denied_write_actions_are_refused_like_the_read_ones() {
    let emulator = Emulator::start(EmulatorConfig {
        pace: Pace::Instant,
        deny: DenyList::parse("ebs:PutSnapshotBlock,ebs:CompleteSnapshot").unwrap(),
        ..Default::default()
    })
    .await
    .unwrap();
    let ebs = ebs_client(emulator.endpoint());
    let snap = start(&ebs, 1, None).await;
    let r = refusal(put(&ebs, &snap, 0, &block(0, 1)).send().await);
    assert_refused(&r, "AccessDeniedException", 403, Some("UNAUTHORIZED_ACCOUNT"));
    assert!(r.message.contains("ebs:PutSnapshotBlock"), "{r:?}");
    let r = refusal(complete(&ebs, &snap, 0).send().await);
    assert_refused(&r, "AccessDeniedException", 403, Some("UNAUTHORIZED_ACCOUNT"));
}

fn state_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("snaplab-ebs-write-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn start_in(dir: &std::path::Path) -> Emulator {
    Emulator::start(EmulatorConfig {
        pace: Pace::Instant,
        state_dir: Some(dir.to_path_buf()),
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn written_snapshots_survive_a_restart_open_or_completed() {
    let dir = state_dir("restart");
    let first = start_in(&dir).await;
    let ebs = ebs_client(first.endpoint());
    let done = start(&ebs, 1, None).await;
    let (a, b) = (block(4, 0x44), block(6, 0x66));
    put(&ebs, &done, 4, &a).send().await.unwrap();
    complete(&ebs, &done, 1).send().await.unwrap();
    let open = start(&ebs, 1, Some(&done)).await;
    put(&ebs, &open, 6, &b).progress(50).send().await.unwrap();
    drop(first); // as if killed

    let second = start_in(&dir).await;
    let ebs = ebs_client(second.endpoint());
    let ec2 = client(second.endpoint());
    let described = ec2
        .describe_snapshots()
        .snapshot_ids(&done)
        .snapshot_ids(&open)
        .send()
        .await
        .unwrap();
    let state_of = |id: &str| {
        described
            .snapshots()
            .iter()
            .find(|s| s.snapshot_id() == Some(id))
            .map(|s| {
                (
                    s.state().unwrap().as_str().to_string(),
                    s.progress().unwrap().to_string(),
                )
            })
            .unwrap()
    };
    assert_eq!(state_of(&done), ("completed".to_string(), "100%".to_string()));
    assert_eq!(state_of(&open), ("pending".to_string(), "50%".to_string()));
    assert_eq!(read_block(&ebs, &done, 4).await, a);

    // The open one is still open, with its block: it completes now.
    complete(&ebs, &open, 1).send().await.unwrap();
    assert_eq!(listed_blocks(&ebs, &open).await, [4, 6]);
    assert_eq!(read_block(&ebs, &open, 6).await, b);
    let next = start(&ebs, 1, None).await;
    assert!(next != done && next != open, "ids continue the same sequence");
    second.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
