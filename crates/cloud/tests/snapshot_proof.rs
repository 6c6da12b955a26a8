//! The lab's claims, proved with real bytes: the SecureCart workload writes
//! through the emulator's data plane, snapshots are taken with aws-sdk-ec2,
//! restored volumes are read back and judged, and aws-sdk-ebs reads blocks.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};
use snaplab_cloud::EmulatorDisk;
use snaplab_emulator::blocks::BLOCK_SIZE;
use snaplab_emulator::Pace;
use snaplab_testkit::*;
use snaplab_workload::*;

const GIB: u64 = 1024 * 1024 * 1024;
/// The emulator reports StartTime to the millisecond.
const START_TIME_PRECISION_US: i64 = 1000;

fn data_disk(lab: &Lab, volume_id: &str) -> EmulatorDisk {
    EmulatorDisk::new(lab.endpoint(), volume_id, 8 * GIB)
}

fn store_options() -> StoreOptions {
    StoreOptions {
        record_size: 1024,
        ..StoreOptions::default()
    }
}

async fn snapshot_now(lab: &Lab) -> aws_sdk_ec2::operation::create_snapshot::CreateSnapshotOutput {
    lab.ec2
        .create_snapshot()
        .volume_id(DATA_VOLUME_ID)
        .description("Nightly backup")
        .send()
        .await
        .unwrap()
}

fn start_us(out: &aws_sdk_ec2::operation::create_snapshot::CreateSnapshotOutput) -> i64 {
    let t = out.start_time().unwrap();
    t.secs() * 1_000_000 + i64::from(t.subsec_nanos() / 1000)
}

/// Runs a verification off the async runtime (the disk speaks blocking HTTP).
async fn verify_disk(disk: EmulatorDisk) -> ImageReport {
    tokio::task::spawn_blocking(move || verify(&disk, &VerifyOptions::default()))
        .await
        .unwrap()
        .unwrap()
}

/// Waits, off the async runtime's timers, until `done` holds; fails after a
/// deadline generous enough for any machine (a wait, not a speed claim).
async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}: not within 120 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// (a) The shop keeps writing while the snapshot is pending: orders are
/// acknowledged after CreateSnapshot has answered and before the snapshot
/// leaves `pending`, and none of them is lost. The emulator's clock is the
/// test's, so the snapshot stays pending for as long as the test needs,
/// whatever the machine's speed. (How fast writes go, with and without a
/// pending snapshot, is measured in benches/data_plane.rs: a timed assertion
/// here would judge the machine's load, not the emulator.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_continue_without_a_stall_while_a_snapshot_is_pending() {
    let lab = Lab::manual(Pace::Demo).await;
    let writer = OrderWriter::create(data_disk(&lab, DATA_VOLUME_ID), &store_options(), system_clock(), 1).unwrap();
    let workload = Workload::start(
        writer,
        WorkloadConfig {
            orders_per_sec: Some(100.0),
        },
    );
    wait_for("orders before the snapshot", || workload.stats().acknowledged >= 10).await;

    let snap = snapshot_now(&lab).await;
    let id = snap.snapshot_id().unwrap();
    assert_eq!(snap.state(), Some(&aws_sdk_ec2::types::SnapshotState::Pending));
    // Acknowledged by the time CreateSnapshot answered (at most one more in flight).
    let at_snapshot = workload.stats();
    assert!(at_snapshot.failed.is_none(), "{at_snapshot:?}");
    wait_for("orders acknowledged while the snapshot is pending", || {
        workload.stats().acknowledged >= at_snapshot.acknowledged + 20
    })
    .await;
    let state = lab.snapshot(id).await.state().cloned();
    assert_eq!(
        state,
        Some(aws_sdk_ec2::types::SnapshotState::Pending),
        "the emulator's clock has not moved: still pending"
    );
    let writer = workload.stop().unwrap();

    // Orders begun after CreateSnapshot answered were acknowledged while it was
    // pending: writes went on (no stall for the snapshot's whole pending time).
    let log = writer.log();
    let during: Vec<&LogEntry> = log
        .entries()
        .iter()
        .filter(|e| e.seq > at_snapshot.last_seq + 1)
        .filter(|e| e.acked_at_us.is_some())
        .collect();
    assert!(
        during.len() >= 19,
        "orders acknowledged while pending: {} of {:?}",
        during.len(),
        log.entries().len()
    );
    // None lost: the volume holds every order the shop acknowledged, whole.
    assert_eq!(
        log.acknowledged(),
        log.entries().len(),
        "stopped cleanly, nothing in flight"
    );
    let report = verify_disk(data_disk(&lab, DATA_VOLUME_ID)).await;
    assert_eq!(report.last_seq, log.last_seq(), "{report:#?}");
    assert_eq!(report.committed, log.last_seq(), "{report:#?}");
    for e in &during {
        assert_eq!(report.state_of(e.seq), OrderState::Committed, "order {}", e.seq);
    }
    assert!(report.torn.is_empty() && report.is_intact(), "{report:#?}");
    // The snapshot still completes once its time has passed.
    lab.advance(Duration::from_secs(3600));
    assert_eq!(
        lab.snapshot(id).await.state(),
        Some(&aws_sdk_ec2::types::SnapshotState::Completed)
    );
}

/// (b) Restored from a snapshot taken under continuous writes, the volume
/// holds every order acknowledged before the snapshot and none begun after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_under_continuous_writes_restores_as_a_point_in_time() {
    let lab = Lab::start(Pace::Demo).await;
    let writer = OrderWriter::create(data_disk(&lab, DATA_VOLUME_ID), &store_options(), system_clock(), 2).unwrap();
    let workload = Workload::start(writer, WorkloadConfig { orders_per_sec: None });
    // Enough orders before the snapshot, and then a pause longer than the 1 ms
    // StartTime is known to, so they are provably before it.
    wait_for("orders before the snapshot", || workload.stats().acknowledged >= 20).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let snap = snapshot_now(&lab).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    // Orders after `later` (bar the one in flight now) begin more than 1 ms after StartTime.
    let later = workload.stats().last_seq;
    wait_for("orders after the snapshot", || workload.stats().last_seq >= later + 51).await;
    let writer = workload.stop().unwrap();
    let log = writer.log().clone();

    let restored = lab.restore_and_attach(snap.snapshot_id().unwrap(), "/dev/sdg").await;
    let report = verify_disk(data_disk(&lab, &restored)).await;
    let v = judge(&report, &log, start_us(&snap), START_TIME_PRECISION_US);
    assert!(v.holds(), "{v:#?}");
    assert!(v.acknowledged_before_snapshot >= 20, "{v:#?}");
    assert_eq!(v.present_in_restore, v.acknowledged_before_snapshot);
    assert!(
        v.begun_after_snapshot >= 50,
        "orders kept flowing after the snapshot: {v:#?}"
    );
    assert_eq!(v.after_snapshot_present, 0);
    assert!(report.is_intact(), "{report:#?}");
    assert!(report.torn.len() <= 1, "at most the one order in flight is torn");
}

/// (c) A snapshot between an order's two writes holds exactly that torn
/// order; journal replay on the restored volume completes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_between_an_orders_two_writes_finds_it_torn_and_replay_recovers_it() {
    let lab = Lab::start(Pace::Instant).await;
    let mut writer = OrderWriter::create(data_disk(&lab, DATA_VOLUME_ID), &store_options(), system_clock(), 3).unwrap();
    for _ in 0..40 {
        writer.place_order().unwrap();
    }
    let pending = writer.begin_order().unwrap();
    let torn_seq = pending.seq();
    let snap = snapshot_now(&lab).await;
    writer.commit(pending).unwrap();

    let restored = lab.restore_and_attach(snap.snapshot_id().unwrap(), "/dev/sdg").await;
    let mut disk = data_disk(&lab, &restored);
    let report = verify(&disk, &VerifyOptions::default()).unwrap();
    assert_eq!(report.committed, 40);
    assert_eq!(report.torn.len(), 1);
    assert_eq!(report.torn[0].seq, torn_seq);
    let v = judge(&report, writer.log(), start_us(&snap), START_TIME_PRECISION_US);
    assert!(v.holds(), "the torn order was in flight, not acknowledged: {v:#?}");
    assert_eq!(v.torn, 1);

    let replayed = replay(&mut disk, &system_clock()).unwrap();
    assert_eq!(replayed.replayed, vec![torn_seq]);
    let after = verify(&disk, &VerifyOptions::default()).unwrap();
    assert!(after.torn.is_empty());
    assert_eq!(after.committed, 41);
    assert!(after.is_intact(), "{after:#?}");
}

/// (d) Quiesce, snapshot, resume once pending: no torn order at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiesce_snapshot_resume_yields_no_torn_orders() {
    let lab = Lab::start(Pace::Demo).await;
    let writer = OrderWriter::create(data_disk(&lab, DATA_VOLUME_ID), &store_options(), system_clock(), 4).unwrap();
    let workload = Workload::start(writer, WorkloadConfig { orders_per_sec: None });
    wait_for("orders before the quiesce", || workload.stats().acknowledged >= 20).await;
    let quiesced = workload.quiesce().unwrap();
    // StartTime is known to 1 ms: keep the pause wider than that on both sides,
    // so the last order before it and the first after it are provably outside.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let snap = snapshot_now(&lab).await;
    assert_eq!(snap.state(), Some(&aws_sdk_ec2::types::SnapshotState::Pending));
    tokio::time::sleep(Duration::from_millis(10)).await;
    workload.resume(); // AWS: resume once the snapshot is pending
    wait_for("writes resumed", || workload.stats().last_seq > quiesced.last_seq + 20).await;
    let writer = workload.stop().unwrap();
    assert!(writer.log().last_seq() > quiesced.last_seq, "writes resumed");

    let restored = lab.restore_and_attach(snap.snapshot_id().unwrap(), "/dev/sdg").await;
    let report = verify_disk(data_disk(&lab, &restored)).await;
    assert!(report.torn.is_empty(), "{:?}", report.torn);
    assert_eq!(report.last_seq, quiesced.last_seq);
    assert_eq!(report.committed, quiesced.last_seq);
    let v = judge(&report, writer.log(), start_us(&snap), START_TIME_PRECISION_US);
    assert!(v.holds(), "{v:#?}");
    assert_eq!(v.in_flight, 0, "nothing was in flight at a quiesced snapshot");
}

/// A disk that mirrors every write into memory and remembers the blocks touched.
struct Recording {
    disk: EmulatorDisk,
    mirror: Arc<Mutex<MemoryDevice>>,
    touched: Arc<Mutex<BTreeSet<u64>>>,
}

impl BlockDevice for Recording {
    fn size(&self) -> u64 {
        self.disk.size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        self.disk.read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        self.disk.write_at(offset, data)?;
        self.mirror.lock().unwrap().write_at(offset, data)?;
        let last = offset + data.len() as u64 - 1;
        self.touched
            .lock()
            .unwrap()
            .extend(offset / BLOCK_SIZE..=last / BLOCK_SIZE);
        Ok(())
    }
}

/// (e) ListChangedBlocks between two snapshots returns exactly the blocks
/// the workload changed in between; GetSnapshotBlock returns what was written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_blocks_are_exactly_what_the_workload_wrote_and_blocks_read_back() {
    let lab = Lab::start(Pace::Instant).await;
    let ebs = ebs_client(lab.endpoint());
    let mirror = Arc::new(Mutex::new(MemoryDevice::new(8 * GIB)));
    let touched = Arc::new(Mutex::new(BTreeSet::new()));
    let device = Recording {
        disk: data_disk(&lab, DATA_VOLUME_ID),
        mirror: mirror.clone(),
        touched: touched.clone(),
    };
    let options = StoreOptions {
        record_size: 4096,
        ..StoreOptions::default()
    };
    let mut writer = OrderWriter::create(device, &options, system_clock(), 5).unwrap();
    for _ in 0..200 {
        writer.place_order().unwrap();
    }
    let first = snapshot_now(&lab).await.snapshot_id().unwrap().to_string();
    let before_first = std::mem::take(&mut *touched.lock().unwrap());
    for _ in 0..300 {
        writer.place_order().unwrap();
    }
    let second = snapshot_now(&lab).await.snapshot_id().unwrap().to_string();
    let between = touched.lock().unwrap().clone();
    lab.wait_completed(&second).await;

    let mut changed = BTreeSet::new();
    let mut pages = ebs
        .list_changed_blocks()
        .first_snapshot_id(&first)
        .second_snapshot_id(&second)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        assert_eq!(page.block_size(), Some(BLOCK_SIZE as i32));
        for b in page.changed_blocks() {
            changed.insert(b.block_index().unwrap() as u64);
        }
    }
    assert_eq!(
        changed, between,
        "changed blocks are the blocks written between the snapshots"
    );
    assert!(changed.len() >= 3);

    let listed = ebs.list_snapshot_blocks().snapshot_id(&second).send().await.unwrap();
    let all: BTreeSet<u64> = listed
        .blocks()
        .iter()
        .map(|b| b.block_index().unwrap() as u64)
        .collect();
    let written: BTreeSet<u64> = before_first.union(&between).copied().collect();
    assert_eq!(all, written, "the snapshot lists every block ever written");

    for block in listed.blocks() {
        let index = block.block_index().unwrap();
        let got = ebs
            .get_snapshot_block()
            .snapshot_id(&second)
            .block_index(index)
            .block_token(block.block_token().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(got.data_length(), Some(BLOCK_SIZE as i32));
        assert_eq!(got.checksum_algorithm().map(|a| a.as_str()), Some("SHA256"));
        let checksum = got.checksum().unwrap().to_string();
        let bytes = got.block_data.collect().await.unwrap().into_bytes();
        let mut expected = vec![0u8; BLOCK_SIZE as usize];
        mirror
            .lock()
            .unwrap()
            .read_at(index as u64 * BLOCK_SIZE, &mut expected)
            .unwrap();
        assert!(
            bytes.as_ref() == expected.as_slice(),
            "block {index} matches what was written"
        );
        let ours = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
        assert_eq!(checksum, ours, "x-amz-Checksum is the block's SHA-256");
    }
}
