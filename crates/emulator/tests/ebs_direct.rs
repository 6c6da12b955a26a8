//! The EBS direct read APIs through the real aws-sdk-ebs: listing, paging,
//! tokens, and the errors for what cannot be read.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use snaplab_emulator::blocks::BLOCK_SIZE;
use snaplab_emulator::Pace;
use snaplab_testkit::*;

/// A completed snapshot of the data volume with one byte in each of `blocks`.
async fn snapshot_with_blocks(lab: &Lab, blocks: impl IntoIterator<Item = u64>) -> String {
    for b in blocks {
        lab.write(DATA_VOLUME_ID, b * BLOCK_SIZE, &[1]).await;
    }
    let id = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.wait_completed(&id).await;
    id
}

#[tokio::test]
async fn blocks_list_ascending_in_pages_of_at_least_100() {
    let lab = Lab::start(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    let snap = snapshot_with_blocks(&lab, (0..250).map(|i| i * 3)).await;

    let first = ebs
        .list_snapshot_blocks()
        .snapshot_id(&snap)
        .max_results(10)
        .send()
        .await
        .unwrap();
    assert_eq!(first.blocks().len(), 100, "MaxResults under 100 still returns 100");
    assert_eq!(first.volume_size(), Some(8));
    assert_eq!(first.block_size(), Some(BLOCK_SIZE as i32));
    assert!(first.expiry_time().is_some());
    assert!(first.next_token().is_some());

    let mut all = Vec::new();
    let mut pages = ebs
        .list_snapshot_blocks()
        .snapshot_id(&snap)
        .max_results(100)
        .into_paginator()
        .send();
    let mut count = 0;
    while let Some(page) = pages.next().await {
        count += 1;
        all.extend(page.unwrap().blocks().iter().map(|b| b.block_index().unwrap()));
    }
    assert_eq!(count, 3);
    assert_eq!(all, (0..250).map(|i| i * 3).collect::<Vec<i32>>());

    let later = ebs
        .list_snapshot_blocks()
        .snapshot_id(&snap)
        .starting_block_index(700)
        .send()
        .await
        .unwrap();
    assert_eq!(later.blocks()[0].block_index(), Some(702));
}

#[tokio::test]
async fn changed_blocks_without_a_first_snapshot_are_all_its_blocks() {
    let lab = Lab::start(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    let snap = snapshot_with_blocks(&lab, [1, 5, 9]).await;
    let out = ebs
        .list_changed_blocks()
        .second_snapshot_id(&snap)
        .send()
        .await
        .unwrap();
    let idx: Vec<i32> = out.changed_blocks().iter().map(|b| b.block_index().unwrap()).collect();
    assert_eq!(idx, [1, 5, 9]);
    assert!(out
        .changed_blocks()
        .iter()
        .all(|b| b.first_block_token().is_none() && b.second_block_token().is_some()));
}

#[tokio::test]
async fn changed_blocks_carry_a_first_token_where_the_first_snapshot_had_data() {
    let lab = Lab::start(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    let first = snapshot_with_blocks(&lab, [1, 2]).await;
    let second = snapshot_with_blocks(&lab, [2, 7]).await;
    let out = ebs
        .list_changed_blocks()
        .first_snapshot_id(&first)
        .second_snapshot_id(&second)
        .send()
        .await
        .unwrap();
    let got: Vec<(i32, bool)> = out
        .changed_blocks()
        .iter()
        .map(|b| (b.block_index().unwrap(), b.first_block_token().is_some()))
        .collect();
    assert_eq!(got, [(2, true), (7, false)]);
}

#[tokio::test]
async fn a_pending_snapshot_cannot_be_read() {
    let lab = Lab::manual(Pace::Demo).await;
    let ebs = ebs_client(lab.endpoint());
    lab.write(DATA_VOLUME_ID, 0, b"x").await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    let r = ebs.list_snapshot_blocks().snapshot_id(&snap).send().await;
    let m = message(ebs.list_snapshot_blocks().snapshot_id(&snap).send().await);
    assert_eq!(code(r), "ValidationException");
    assert!(m.contains("pending") && m.contains("wait snapshot-completed"), "{m}");
    lab.advance(Duration::from_secs(60));
    assert_eq!(
        ebs.list_snapshot_blocks()
            .snapshot_id(&snap)
            .send()
            .await
            .unwrap()
            .blocks()
            .len(),
        1
    );
}

#[tokio::test]
async fn unknown_and_malformed_snapshots_and_bad_tokens_are_refused() {
    let lab = Lab::start(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    let snap = snapshot_with_blocks(&lab, [0, 4]).await;
    assert_eq!(
        code(
            ebs.list_snapshot_blocks()
                .snapshot_id("snap-0123456789abcdef0")
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(ebs.list_snapshot_blocks().snapshot_id("snap-xyz").send().await),
        "ValidationException"
    );
    assert_eq!(
        code(
            ebs.list_snapshot_blocks()
                .snapshot_id(&snap)
                .next_token("bm9wZQ==")
                .send()
                .await
        ),
        "ValidationException"
    );

    let listed = ebs.list_snapshot_blocks().snapshot_id(&snap).send().await.unwrap();
    let token_of_0 = listed.blocks()[0].block_token().unwrap().to_string();
    let wrong_block = ebs
        .get_snapshot_block()
        .snapshot_id(&snap)
        .block_index(4)
        .block_token(&token_of_0)
        .send()
        .await;
    assert_eq!(code(wrong_block), "ValidationException");
    let forged = ebs
        .get_snapshot_block()
        .snapshot_id(&snap)
        .block_index(0)
        .block_token("Zm9yZ2Vk")
        .send()
        .await;
    assert_eq!(code(forged), "ValidationException");
}

#[tokio::test]
async fn block_tokens_expire_after_seven_days() {
    let lab = Lab::manual(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    lab.write(DATA_VOLUME_ID, 0, b"x").await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    let listed = ebs.list_snapshot_blocks().snapshot_id(&snap).send().await.unwrap();
    let token = listed.blocks()[0].block_token().unwrap().to_string();
    let get = || {
        ebs.get_snapshot_block()
            .snapshot_id(&snap)
            .block_index(0)
            .block_token(&token)
            .send()
    };
    assert!(get().await.is_ok());
    lab.advance(Duration::from_secs(8 * 24 * 3600));
    assert_eq!(code(get().await), "ValidationException");
}

#[tokio::test]
async fn snapshots_of_different_volumes_are_unrelated() {
    let lab = Lab::start(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    let data = snapshot_with_blocks(&lab, [0]).await;
    lab.write(ROOT_VOLUME_ID, 0, b"boot").await;
    let root = lab.create_snapshot(ROOT_VOLUME_ID).await;
    let r = ebs
        .list_changed_blocks()
        .first_snapshot_id(&root)
        .second_snapshot_id(&data)
        .send()
        .await;
    assert_eq!(code(r), "ValidationException");
    let newer_first = snapshot_with_blocks(&lab, [3]).await;
    let r = ebs
        .list_changed_blocks()
        .first_snapshot_id(&newer_first)
        .second_snapshot_id(&data)
        .send()
        .await;
    assert_eq!(
        code(r),
        "ValidationException",
        "the first snapshot must be the older one"
    );
}

#[tokio::test]
async fn a_route_that_is_no_ebs_api_answers_a_clear_unsupported_error() {
    let lab = Lab::start(Pace::Instant).await;
    let r = reqwest::Client::new()
        .delete(format!("{}/snapshots/snap-0123456789abcdef0", lab.endpoint()))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/ebs/aws4_request, SignedHeaders=host, Signature=0",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        r.headers().get("x-amzn-errortype").and_then(|v| v.to_str().ok()),
        Some("UnsupportedOperation")
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("not an EBS direct API"),
        "{body}"
    );
}
