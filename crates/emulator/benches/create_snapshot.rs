//! CreateSnapshot cost against how much the volume changed since its last
//! snapshot: 16 MiB vs 1 GiB. A snapshot freezes a layer (moves a map); it
//! never copies blocks, so the two should cost about the same.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use snaplab_emulator::blocks::BLOCK_SIZE;
use snaplab_emulator::model::Cloud;
use snaplab_emulator::seed::{self, DATA_VOLUME_ID};
use snaplab_emulator::Pace;

fn cloud_with_written(bytes: u64) -> Cloud {
    let now = Utc::now();
    let mut cloud = Cloud::new(snaplab_emulator::model::ACCOUNT_ID, "us-east-1", Pace::Demo, Some(1));
    seed::securecart(&mut cloud, now);
    let block = vec![0xabu8; BLOCK_SIZE as usize];
    for i in 0..bytes / BLOCK_SIZE {
        cloud.write_volume(DATA_VOLUME_ID, i * BLOCK_SIZE, &block).unwrap();
    }
    cloud
}

fn create_snapshot(c: &mut Criterion) {
    let mut group = c.benchmark_group("create_snapshot");
    for (name, bytes) in [("16MiB_changed", 16u64 << 20), ("1GiB_changed", 1u64 << 30)] {
        let base = cloud_with_written(bytes);
        group.bench_function(name, |b| {
            b.iter_batched(
                || base.clone(),
                |mut cloud| {
                    let id = cloud
                        .create_snapshot(DATA_VOLUME_ID, "bench", &[], Utc::now(), false)
                        .unwrap();
                    black_box(id);
                    cloud
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, create_snapshot);
criterion_main!(benches);
