//! An emulator with a state directory picks up where it stopped: the same
//! resources, ids, bytes and tokens, whatever the flags of the new start.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use snaplab_emulator::{Emulator, EmulatorConfig, Pace};
use snaplab_testkit::*;

fn state_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("snaplab-restart-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn start(dir: &std::path::Path, pace: Pace) -> Emulator {
    Emulator::start(EmulatorConfig {
        pace,
        state_dir: Some(dir.to_path_buf()),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn put(endpoint: &str, volume: &str, offset: u64, data: &[u8]) {
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/_snaplab/volumes/{volume}/data?offset={offset}"))
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

async fn get(endpoint: &str, volume: &str, offset: u64, len: usize) -> Vec<u8> {
    reqwest::get(format!(
        "{endpoint}/_snaplab/volumes/{volume}/data?offset={offset}&length={len}"
    ))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap()
    .to_vec()
}

#[tokio::test]
async fn resources_bytes_and_tokens_survive_a_restart() {
    let dir = state_dir("all");
    let first = start(&dir, Pace::Instant).await;
    let ec2 = client(first.endpoint());
    put(first.endpoint(), DATA_VOLUME_ID, 100, b"order 1").await;
    let snap = ec2.create_snapshot().volume_id(DATA_VOLUME_ID).send().await.unwrap();
    let snap = snap.snapshot_id().unwrap().to_string();
    put(first.endpoint(), DATA_VOLUME_ID, 100, b"order 2").await;
    let restored = ec2
        .create_volume()
        .snapshot_id(&snap)
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap()
        .volume_id()
        .unwrap()
        .to_string();
    ec2.attach_volume()
        .volume_id(&restored)
        .instance_id(INSTANCE_ID)
        .device("/dev/sdg")
        .send()
        .await
        .unwrap();
    let ebs = ebs_client(first.endpoint());
    let token = ebs
        .list_snapshot_blocks()
        .snapshot_id(&snap)
        .send()
        .await
        .unwrap()
        .blocks()[0]
        .block_token()
        .unwrap()
        .to_string();
    drop(first); // as if killed: no orderly stop

    // A different pace on the command line: the directory's own pace wins.
    let second = start(&dir, Pace::Realistic).await;
    assert_eq!(second.pace(), Pace::Instant);
    let ec2 = client(second.endpoint());
    let s = ec2.describe_snapshots().snapshot_ids(&snap).send().await.unwrap();
    assert_eq!(s.snapshots()[0].state().map(|s| s.as_str()), Some("completed"));
    assert_eq!(get(second.endpoint(), DATA_VOLUME_ID, 100, 7).await, b"order 2");
    assert_eq!(get(second.endpoint(), &restored, 100, 7).await, b"order 1");
    let v = ec2.describe_volumes().volume_ids(&restored).send().await.unwrap();
    assert_eq!(v.volumes()[0].attachments()[0].device(), Some("/dev/sdg"));
    let block = ebs_client(second.endpoint())
        .get_snapshot_block()
        .snapshot_id(&snap)
        .block_index(0)
        .block_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        block.data_length(),
        Some(524_288),
        "tokens from before the restart still work"
    );

    // New ids continue the same sequence: no clash with the replayed ones.
    let next = ec2.create_snapshot().volume_id(DATA_VOLUME_ID).send().await.unwrap();
    assert_ne!(next.snapshot_id(), Some(snap.as_str()));
    second.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_pending_snapshot_completes_on_time_across_a_restart() {
    let dir = state_dir("pending");
    let first = start(&dir, Pace::Demo).await;
    let ec2 = client(first.endpoint());
    let snap = ec2.create_snapshot().volume_id(DATA_VOLUME_ID).send().await.unwrap();
    let snap = snap.snapshot_id().unwrap().to_string();
    first.stop().await;
    let second = start(&dir, Pace::Demo).await;
    let lab_ec2 = client(second.endpoint());
    let s = lab_ec2.describe_snapshots().snapshot_ids(&snap).send().await.unwrap();
    assert_eq!(s.snapshots()[0].state().map(|s| s.as_str()), Some("pending"));
    use aws_sdk_ec2::client::Waiters;
    lab_ec2
        .wait_until_snapshot_completed()
        .snapshot_ids(&snap)
        .wait(std::time::Duration::from_secs(60))
        .await
        .unwrap();
    second.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn every_region_and_account_survives_a_restart() {
    let dir = state_dir("scopes");
    let first = start(&dir, Pace::Instant).await;
    let home = client(first.endpoint());
    let eu = client_in(first.endpoint(), "eu-west-1", "test");
    let other = "111122223333";
    let eu_volume = eu
        .create_volume()
        .availability_zone("eu-west-1c")
        .size(2)
        .send()
        .await
        .unwrap();
    let eu_volume = eu_volume.volume_id().unwrap().to_string();
    eu.enable_ebs_encryption_by_default().send().await.unwrap();
    let snap = home.create_snapshot().volume_id(DATA_VOLUME_ID).send().await.unwrap();
    let snap = snap.snapshot_id().unwrap().to_string();
    home.modify_snapshot_attribute()
        .snapshot_id(&snap)
        .operation_type(aws_sdk_ec2::types::OperationType::Add)
        .user_ids(other)
        .send()
        .await
        .unwrap();
    let copy = eu
        .copy_snapshot()
        .source_region("us-east-1")
        .source_snapshot_id(&snap)
        .send()
        .await
        .unwrap();
    let copy = copy.snapshot_id().unwrap().to_string();
    first.stop().await;

    let second = start(&dir, Pace::Instant).await;
    let eu = client_in(second.endpoint(), "eu-west-1", "test");
    let vols = eu.describe_volumes().send().await.unwrap();
    let ids: Vec<&str> = vols.volumes().iter().filter_map(|v| v.volume_id()).collect();
    assert_eq!(ids, [eu_volume.as_str()], "the same volume, in its own region only");
    let on = eu.get_ebs_encryption_by_default().send().await.unwrap();
    assert_eq!(on.ebs_encryption_by_default(), Some(true));
    let copied = eu.describe_snapshots().snapshot_ids(&copy).send().await.unwrap();
    assert_eq!(
        copied.snapshots()[0].encrypted(),
        Some(true),
        "copied after encryption by default"
    );
    let shared = client_in(second.endpoint(), "us-east-1", other)
        .describe_snapshots()
        .restorable_by_user_ids("self")
        .send()
        .await
        .unwrap();
    assert_eq!(shared.snapshots()[0].snapshot_id(), Some(snap.as_str()));
    second.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_learners_own_securecart_and_its_orders_survive_a_restart() {
    let dir = state_dir("learner");
    let first = start(&dir, Pace::Instant).await;
    let key = "AKIASNAPLABADA";
    let ada = client_in(first.endpoint(), "us-east-1", key);
    let volume_of = |out: aws_sdk_ec2::operation::describe_volumes::DescribeVolumesOutput| {
        out.volumes()
            .iter()
            .find(|v| v.tags().iter().any(|t| t.value() == Some("securecart-data")))
            .and_then(|v| v.volume_id())
            .unwrap()
            .to_string()
    };
    let volume = volume_of(ada.describe_volumes().send().await.unwrap());
    assert_ne!(volume, DATA_VOLUME_ID);
    // Her orders are the first change her account sees (nothing journaled for it before).
    let data = |endpoint: &str| format!("{endpoint}/_snaplab/volumes/{volume}/data?access_key={key}&offset=0");
    let http = reqwest::Client::new();
    let put = http
        .put(data(first.endpoint()))
        .body(b"ada's order".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    let snap = ada.create_snapshot().volume_id(&volume).send().await.unwrap();
    let snap = snap.snapshot_id().unwrap().to_string();
    first.stop().await;

    let second = start(&dir, Pace::Instant).await;
    let ada = client_in(second.endpoint(), "us-east-1", key);
    assert_eq!(volume_of(ada.describe_volumes().send().await.unwrap()), volume);
    let read = http
        .get(format!("{}&length=11", data(second.endpoint())))
        .send()
        .await
        .unwrap();
    assert_eq!(read.bytes().await.unwrap().as_ref(), b"ada's order");
    let found = ada.describe_snapshots().snapshot_ids(&snap).send().await.unwrap();
    assert_eq!(found.snapshots()[0].volume_id(), Some(volume.as_str()));
    // And the default account never saw any of it.
    assert_eq!(get(second.endpoint(), DATA_VOLUME_ID, 0, 11).await, vec![0u8; 11]);
    second.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
