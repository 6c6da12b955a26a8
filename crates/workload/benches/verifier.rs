//! Verifier throughput over an in-memory image (MB/s of journal scanned).
//! Also writes the scanned bytes to target/bench/verifier-image-<size>.bin so
//! scripts/bench-data.sh can time `sha256sum` on the very same bytes.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use snaplab_workload::*;

const MIB: u64 = 1024 * 1024;
const JOURNAL: u64 = 128 * MIB;

fn image(record_size: u32) -> MemoryDevice {
    let options = StoreOptions {
        record_size,
        ..StoreOptions::default()
    };
    // Room for the journal plus one empty read after it, where the scan stops.
    let size = MIB + JOURNAL + 16 * MIB;
    let mut w = OrderWriter::create(MemoryDevice::new(size), &options, system_clock(), 1).unwrap();
    for _ in 0..JOURNAL / u64::from(record_size) {
        w.place_order().unwrap();
    }
    w.into_parts().0
}

fn dump(device: &MemoryDevice, bytes: u64, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let mut buf = vec![0u8; bytes as usize];
    device.read_at(MIB, &mut buf).unwrap();
    std::fs::write(dir.join(name), buf).unwrap();
}

fn verifier(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    group.sample_size(20);
    for record_size in [512u32, 4096] {
        let device = image(record_size);
        let scanned = verify(&device, &VerifyOptions::default()).unwrap().bytes_scanned;
        dump(&device, scanned, &format!("verifier-image-{record_size}.bin"));
        group.throughput(Throughput::Bytes(scanned));
        group.bench_function(format!("128MiB_journal_{record_size}B_records"), |b| {
            b.iter(|| {
                let report = verify(black_box(&device), &VerifyOptions::default()).unwrap();
                assert_eq!(report.committed, JOURNAL / u64::from(record_size));
                report
            })
        });
    }
    group.finish();
}

criterion_group!(benches, verifier);
criterion_main!(benches);
