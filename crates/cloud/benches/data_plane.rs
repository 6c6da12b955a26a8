//! The data plane side by side in one run, over real HTTP on loopback:
//!   1. write throughput (64 KiB writes) and SecureCart orders/s, each with and
//!      without a pending snapshot of the volume, in alternating 2 s windows;
//!   2. CreateSnapshot latency over HTTP after 16 MiB vs 1 GiB were written.
//!
//! Prints medians and ratios (Markdown). Run: cargo bench -p snaplab-cloud --bench data_plane
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use snaplab_cloud::EmulatorDisk;
use snaplab_emulator::seed::DATA_VOLUME_ID;
use snaplab_emulator::{Emulator, EmulatorConfig, Pace};
use snaplab_workload::{system_clock, BlockDevice, OrderWriter, StoreOptions};

const GIB: u64 = 1 << 30;
const WINDOW: Duration = Duration::from_secs(2);
const ROUNDS: usize = 8;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// One EC2 Query call; returns how long it took and the reply.
fn ec2(endpoint: &str, form: &str) -> (Duration, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let started = Instant::now();
    let mut r = agent
        .post(endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0",
        )
        .send(format!("Version=2016-11-15&{form}"))
        .unwrap();
    let took = started.elapsed();
    (took, r.body_mut().read_to_string().unwrap())
}

fn field<'a>(xml: &'a str, name: &str) -> &'a str {
    xml.split(&format!("<{name}>"))
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_default()
}

/// CreateSnapshot of the data volume: its latency, state and id.
fn create_snapshot(endpoint: &str) -> (Duration, String, String) {
    let (took, xml) = ec2(endpoint, &format!("Action=CreateSnapshot&VolumeId={DATA_VOLUME_ID}"));
    (
        took,
        field(&xml, "status").to_string(),
        field(&xml, "snapshotId").to_string(),
    )
}

fn wait_completed(endpoint: &str, snapshot_id: &str) {
    loop {
        let (_, xml) = ec2(
            endpoint,
            &format!("Action=DescribeSnapshots&SnapshotId.1={snapshot_id}"),
        );
        if field(&xml, "status") == "completed" {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// MB/s of sequential 64 KiB writes during one window.
fn write_rate(disk: &mut EmulatorDisk, cursor: &mut u64) -> f64 {
    let chunk = vec![0x5au8; 64 * 1024];
    let started = Instant::now();
    let mut bytes = 0u64;
    while started.elapsed() < WINDOW {
        disk.write_at(*cursor, &chunk).unwrap();
        *cursor = (*cursor + chunk.len() as u64) % (4 * GIB);
        bytes += chunk.len() as u64;
    }
    bytes as f64 / started.elapsed().as_secs_f64() / 1e6
}

fn order_rate(writer: &mut OrderWriter<EmulatorDisk>) -> f64 {
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < WINDOW {
        writer.place_order().unwrap();
        n += 1;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// Windows without and with a pending snapshot, in alternating order so that
/// neither always comes first; returns the medians.
fn with_and_without(endpoint: &str, mut measure: impl FnMut() -> f64) -> (f64, f64) {
    let (mut free, mut pending) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            free.push(measure());
        }
        let (_, state, id) = create_snapshot(endpoint);
        assert_eq!(state, "pending");
        pending.push(measure());
        let (_, xml) = ec2(endpoint, &format!("Action=DescribeSnapshots&SnapshotId.1={id}"));
        assert_eq!(field(&xml, "status"), "pending", "the whole window ran while pending");
        wait_completed(endpoint, &id);
        if round % 2 == 1 {
            free.push(measure());
        }
    }
    (median(free), median(pending))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let start = |pace| {
        rt.block_on(Emulator::start(EmulatorConfig {
            pace,
            ..Default::default()
        }))
        .unwrap()
    };

    let demo = start(Pace::Demo);
    let endpoint = demo.endpoint().to_string();
    let mut disk = EmulatorDisk::new(&endpoint, DATA_VOLUME_ID, 8 * GIB);
    let mut cursor = 0u64;
    let (w_free, w_pending) = with_and_without(&endpoint, || write_rate(&mut disk, &mut cursor));
    let store = StoreOptions::default();
    let mut writer = OrderWriter::create(
        EmulatorDisk::new(&endpoint, DATA_VOLUME_ID, 8 * GIB),
        &store,
        system_clock(),
        1,
    )
    .unwrap();
    let (o_free, o_pending) = with_and_without(&endpoint, || order_rate(&mut writer));
    rt.block_on(demo.stop());

    let mut latencies = std::collections::BTreeMap::<u64, Vec<f64>>::new();
    for _ in 0..3 {
        for written in [16u64 << 20, GIB] {
            let e = start(Pace::Instant);
            let mut disk = EmulatorDisk::new(e.endpoint(), DATA_VOLUME_ID, 8 * GIB);
            let block = vec![0xabu8; 64 << 20];
            for i in 0..written.div_ceil(block.len() as u64) {
                let n = (written - i * block.len() as u64).min(block.len() as u64) as usize;
                disk.write_at(i * block.len() as u64, &block[..n]).unwrap();
            }
            let (took, state, _) = create_snapshot(e.endpoint());
            assert_eq!(state, "pending");
            latencies.entry(written).or_default().push(took.as_secs_f64() * 1e6);
            rt.block_on(e.stop());
        }
    }
    let small = median(latencies[&(16 << 20)].clone());
    let large = median(latencies[&GIB].clone());

    println!("| measure | without pending snapshot | with pending snapshot | kept |");
    println!("|---|---|---|---|");
    println!(
        "| 64 KiB writes through the data plane (median of {ROUNDS} windows of {}s each) | {w_free:.0} MB/s | {w_pending:.0} MB/s | {:.0}% |",
        WINDOW.as_secs(),
        100.0 * w_pending / w_free
    );
    println!(
        "| SecureCart orders (512 B record + stock row), one writer | {o_free:.0} orders/s | {o_pending:.0} orders/s | {:.0}% |",
        100.0 * o_pending / o_free
    );
    println!();
    println!("| CreateSnapshot over HTTP (median of 3) | 16 MiB changed | 1 GiB changed | ratio |");
    println!("|---|---|---|---|");
    println!("| latency | {small:.0} µs | {large:.0} µs | {:.2} |", large / small);
    println!();
    println!("raw CreateSnapshot latencies µs: {latencies:?}");
}
