//! The SecureCart journal end to end on in-memory devices: writing, judging
//! images, torn orders and replay, corruption, and the writer thread.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use snaplab_workload::*;

const MIB: u64 = 1024 * 1024;

/// A clock that moves 10 µs per reading: deterministic times.
fn ticking_clock() -> Clock {
    let t = Arc::new(AtomicI64::new(1_700_000_000_000_000));
    Arc::new(move || t.fetch_add(10, Ordering::SeqCst))
}

fn new_store(size: u64, options: &StoreOptions) -> OrderWriter<MemoryDevice> {
    OrderWriter::create(MemoryDevice::new(size), options, ticking_clock(), 7).unwrap()
}

#[test]
fn orders_written_whole_verify_as_committed_with_inventory_matching() {
    let mut w = new_store(64 * MIB, &StoreOptions::default());
    for _ in 0..500 {
        w.place_order().unwrap();
    }
    let report = verify(w.device(), &VerifyOptions::default()).unwrap();
    assert_eq!(report.last_seq, 500);
    assert_eq!(report.committed, 500);
    assert!(report.torn.is_empty());
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.state_of(1), OrderState::Committed);
    assert_eq!(report.state_of(501), OrderState::Absent);
}

#[test]
fn an_image_taken_between_an_orders_two_writes_holds_exactly_that_torn_order() {
    let mut w = new_store(64 * MIB, &StoreOptions::default());
    for _ in 0..10 {
        w.place_order().unwrap();
    }
    let pending = w.begin_order().unwrap();
    let image = w.device().clone(); // the snapshot, between the two writes
    let torn_seq = pending.seq();
    w.commit(pending).unwrap();

    let report = verify(&image, &VerifyOptions::default()).unwrap();
    assert_eq!(report.committed, 10);
    assert_eq!(report.torn.len(), 1);
    assert_eq!(report.torn[0].seq, torn_seq);
    assert_eq!(report.state_of(torn_seq), OrderState::Torn);
    assert!(report.is_intact(), "a torn order is not damage: {report:?}");

    let mut restored = image;
    let replayed = replay(&mut restored, &ticking_clock()).unwrap();
    assert_eq!(replayed.replayed, vec![torn_seq]);
    let after = verify(&restored, &VerifyOptions::default()).unwrap();
    assert!(after.torn.is_empty());
    assert_eq!(after.committed, 11);
    assert!(after.is_intact());
}

#[test]
fn damaged_and_missing_records_are_named() {
    let mut w = new_store(64 * MIB, &StoreOptions::default());
    for _ in 0..20 {
        w.place_order().unwrap();
    }
    let layout = *w.layout();
    let mut image = w.device().clone();
    // Flip a byte in record 5, zero record 9.
    let mut b = [0u8; 1];
    image.read_at(layout.record_offset(5) + 100, &mut b).unwrap();
    image.write_at(layout.record_offset(5) + 100, &[b[0] ^ 0xff]).unwrap();
    image
        .write_at(layout.record_offset(9), &vec![0u8; layout.record_size as usize])
        .unwrap();

    let report = verify(&image, &VerifyOptions::default()).unwrap();
    assert_eq!(report.state_of(5), OrderState::Corrupt);
    assert_eq!(report.corrupt[0].seq, 5);
    assert_eq!(
        report.corrupt[0].problem,
        snaplab_workload::format::Corruption::BadChecksum
    );
    assert_eq!(report.missing, vec![9]);
    assert_eq!(report.state_of(9), OrderState::Missing);
    assert!(!report.is_intact());
    assert!(
        !report.inventory_mismatches.is_empty(),
        "the rows count orders 5 and 9 the journal lost"
    );
}

#[test]
fn a_volume_without_a_store_says_so() {
    let blank = MemoryDevice::new(8 * MIB);
    let err = verify(&blank, &VerifyOptions::default()).unwrap_err();
    assert!(matches!(err, WorkloadError::NotFormatted(_)), "{err}");
    assert!(err.to_string().contains("SCARTJNL"), "{err}");
}

#[test]
fn judging_against_the_log_counts_before_after_and_in_flight() {
    let mut w = new_store(64 * MIB, &StoreOptions::default());
    for _ in 0..30 {
        w.place_order().unwrap();
    }
    // The snapshot's instant: after order 30 was acknowledged, before 31 begins.
    let t_snapshot = w.log().entries()[29].acked_at_us.unwrap() + 1;
    let image = w.device().clone();
    for _ in 0..20 {
        w.place_order().unwrap();
    }
    let report = verify(&image, &VerifyOptions::default()).unwrap();
    let v = judge(&report, w.log(), t_snapshot, 0);
    assert_eq!(v.acknowledged_before_snapshot, 30);
    assert_eq!(v.present_in_restore, 30);
    assert_eq!(v.missing, 0);
    assert_eq!(v.begun_after_snapshot, 20);
    assert_eq!(v.after_snapshot_present, 0);
    assert!(v.holds());

    // The same image judged as if the snapshot were later: orders the log
    // acknowledged before that time are missing from the image.
    let later = w.log().entries()[39].acked_at_us.unwrap() + 1;
    let wrong = judge(&report, w.log(), later, 0);
    assert_eq!(wrong.missing, 10);
    assert!(!wrong.holds());

    // And as if earlier: orders begun after that time are present.
    let earlier = w.log().entries()[9].begun_at_us - 1;
    let wrong = judge(&report, w.log(), earlier, 0);
    assert_eq!(wrong.after_snapshot_present, 21);
    assert!(!wrong.holds());
}

#[test]
fn reopening_a_store_replays_torn_orders_and_continues_the_sequence() {
    let mut w = new_store(64 * MIB, &StoreOptions::default());
    for _ in 0..5 {
        w.place_order().unwrap();
    }
    let _crashed = w.begin_order().unwrap(); // power lost before the row write
    let (device, _) = w.into_parts();
    let (mut reopened, recovery) = OrderWriter::open(device, ticking_clock(), 8).unwrap();
    assert_eq!(recovery.replayed, vec![6]);
    assert_eq!(recovery.last_seq, 6);
    assert_eq!(reopened.place_order().unwrap().seq, 7);
    let report = verify(reopened.device(), &VerifyOptions::default()).unwrap();
    assert_eq!(report.committed, 7);
    assert!(report.is_intact(), "{report:?}");
}

#[test]
fn large_records_and_a_full_journal() {
    let options = StoreOptions {
        record_size: 64 * 1024,
        ..StoreOptions::default()
    };
    // 1 MiB header area + 4 records of 64 KiB.
    let mut w = new_store(MIB + 4 * 64 * 1024, &options);
    for _ in 0..4 {
        w.place_order().unwrap();
    }
    assert!(matches!(
        w.place_order(),
        Err(WorkloadError::JournalFull { capacity: 4 })
    ));
    let report = verify(w.device(), &VerifyOptions::default()).unwrap();
    assert_eq!(report.committed, 4);
    assert!(report.is_intact());
}

#[test]
fn bad_options_are_refused_with_a_reason() {
    for options in [
        StoreOptions {
            record_size: 100,
            ..StoreOptions::default()
        },
        StoreOptions {
            record_size: 128 * 1024,
            ..StoreOptions::default()
        },
        StoreOptions {
            product_count: 0,
            ..StoreOptions::default()
        },
        StoreOptions {
            product_count: 100_000,
            ..StoreOptions::default()
        },
    ] {
        let err = OrderWriter::create(MemoryDevice::new(64 * MIB), &options, ticking_clock(), 1).unwrap_err();
        assert!(matches!(err, WorkloadError::InvalidOptions(_)), "{err}");
    }
    let tiny = OrderWriter::create(MemoryDevice::new(4096), &StoreOptions::default(), ticking_clock(), 1);
    assert!(matches!(tiny, Err(WorkloadError::InvalidOptions(_))));
}

/// A device the test can copy at any instant while the writer thread writes.
#[derive(Clone)]
struct SharedDevice(Arc<Mutex<MemoryDevice>>);

impl BlockDevice for SharedDevice {
    fn size(&self) -> u64 {
        self.0.lock().unwrap().size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        self.0.lock().unwrap().read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        self.0.lock().unwrap().write_at(offset, data)
    }
}

#[test]
fn snapshots_under_load_are_point_in_time_and_quiesced_ones_have_no_torn_orders() {
    let disk = SharedDevice(Arc::new(Mutex::new(MemoryDevice::new(256 * MIB))));
    let writer = OrderWriter::create(disk.clone(), &StoreOptions::default(), system_clock(), 3).unwrap();
    let workload = Workload::start(writer, WorkloadConfig { orders_per_sec: None });
    let clock = system_clock();
    while workload.stats().acknowledged < 2000 {
        std::thread::yield_now();
    }
    // Crash-consistent: copy the disk while orders flow.
    let (crash_image, crash_time) = {
        let guard = disk.0.lock().unwrap();
        (guard.clone(), clock())
    };
    // Application-consistent: quiesce, copy, resume.
    let q = workload.quiesce().unwrap();
    let app_image = disk.0.lock().unwrap().clone();
    let app_time = clock();
    workload.resume();
    while workload.stats().acknowledged < q.acknowledged + 500 {
        std::thread::yield_now();
    }
    let writer = workload.stop().unwrap();
    let log = writer.log();

    let crash = verify(&crash_image, &VerifyOptions::default()).unwrap();
    let v = judge(&crash, log, crash_time, 0);
    assert!(v.holds(), "{v:?}");
    assert!(v.acknowledged_before_snapshot >= 2000);
    assert!(crash.torn.len() <= 1);

    let app = verify(&app_image, &VerifyOptions::default()).unwrap();
    assert!(app.torn.is_empty(), "quiesced: no order half-written");
    assert_eq!(app.last_seq, q.last_seq);
    let v = judge(&app, log, app_time, 0);
    assert!(v.holds(), "{v:?}");
    assert!(v.begun_after_snapshot >= 500);
}

/// A clock in microseconds since `base`: the same monotonic time the rate
/// limiter paces by, so the log's times can be compared with its schedule.
fn monotonic_clock(base: std::time::Instant) -> Clock {
    Arc::new(move || i64::try_from(base.elapsed().as_micros()).unwrap())
}

#[test]
fn a_rate_limited_writer_keeps_its_pace() {
    use std::time::{Duration, Instant};
    const RATE: f64 = 200.0;
    // The pacer's interval, computed as the driver computes it (5 ms).
    let interval_ns = Duration::from_secs_f64(1.0 / RATE).as_nanos();
    // Read before the writer thread exists, so the pacer's own start is later.
    let base = Instant::now();
    let writer = OrderWriter::create(
        MemoryDevice::new(64 * MIB),
        &StoreOptions::default(),
        monotonic_clock(base),
        4,
    )
    .unwrap();
    let workload = Workload::start(
        writer,
        WorkloadConfig {
            orders_per_sec: Some(RATE),
        },
    );
    // Never ahead of the schedule, however late this thread wakes: order k+1
    // is not begun before k intervals have passed since the pacer started
    // (which is after `base`), so at any instant t at most t/interval + 1
    // orders have been acknowledged. The bound comes from the time measured
    // after each read, so a reader that wakes late gets a larger allowance.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut n = 0;
    while n < 40 {
        assert!(Instant::now() < deadline, "only {n} orders acknowledged in 120 s");
        std::thread::sleep(Duration::from_millis(20));
        n = workload.stats().acknowledged;
        let elapsed = base.elapsed();
        let ceiling = elapsed.as_nanos() / interval_ns + 1;
        assert!(
            u128::from(n) <= ceiling,
            "{n} orders acknowledged {elapsed:?} after the start at {RATE}/s: at most {ceiling} are due"
        );
    }
    let writer = workload.stop().unwrap();

    // The same promise order by order, from the writer's own log on the pacer's
    // clock: no burst, at any speed.
    let entries = writer.log().entries();
    assert!(entries.len() >= 40, "{} orders", entries.len());
    for (k, e) in entries.iter().enumerate() {
        // Order k+1 (0-based k) is due k intervals after the pacer started.
        let due_us = i64::try_from(k as u128 * interval_ns / 1000).unwrap();
        assert!(
            e.begun_at_us >= due_us,
            "order {} began at {} µs, before its slot at {due_us} µs",
            e.seq,
            e.begun_at_us
        );
    }
}

#[test]
fn a_failing_device_stops_the_writer_with_its_reason() {
    struct Failing(MemoryDevice, u32);
    impl BlockDevice for Failing {
        fn size(&self) -> u64 {
            self.0.size()
        }
        fn read_at(&self, o: u64, b: &mut [u8]) -> Result<(), DeviceError> {
            self.0.read_at(o, b)
        }
        fn write_at(&mut self, o: u64, d: &[u8]) -> Result<(), DeviceError> {
            self.1 += 1;
            if self.1 > 40 {
                return Err(DeviceError::Unavailable("volume detached: attach it again".into()));
            }
            self.0.write_at(o, d)
        }
    }
    let writer = OrderWriter::create(
        Failing(MemoryDevice::new(64 * MIB), 0),
        &StoreOptions::default(),
        system_clock(),
        5,
    )
    .unwrap();
    let workload = Workload::start(writer, WorkloadConfig { orders_per_sec: None });
    let started = std::time::Instant::now();
    while workload.stats().failed.is_none() {
        assert!(started.elapsed().as_secs() < 10, "the writer never noticed the failure");
        std::thread::yield_now();
    }
    assert_eq!(
        workload.stats().acknowledged,
        19,
        "orders before the failure were acknowledged"
    );
    let err = workload.quiesce().unwrap_err();
    assert!(err.to_string().contains("attach it again"), "{err}");
    assert!(workload.stop().is_ok());
}

#[test]
fn an_order_held_half_written_is_torn_in_a_copy_made_then_and_completed_after() {
    let disk = SharedDevice(Arc::new(Mutex::new(MemoryDevice::new(64 * MIB))));
    let writer = OrderWriter::create(disk.clone(), &StoreOptions::default(), system_clock(), 5).unwrap();
    let workload = Workload::start(writer, WorkloadConfig { orders_per_sec: None });
    while workload.stats().acknowledged < 100 {
        std::thread::yield_now();
    }
    let held = workload.hold_mid_order().unwrap();
    assert_eq!(workload.stats().held_mid_order, Some(held));
    // A snapshot taken now: the held order's journal record, not its stock row.
    let image = disk.0.lock().unwrap().clone();
    let acknowledged_while_held = workload.stats().acknowledged;
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(
        workload.stats().acknowledged,
        acknowledged_while_held,
        "nothing is written while held"
    );
    workload.resume();
    while workload.stats().acknowledged < acknowledged_while_held + 50 {
        std::thread::yield_now();
    }
    assert_eq!(workload.stats().held_mid_order, None);
    let writer = workload.stop().unwrap();
    let torn = verify(&image, &VerifyOptions::default()).unwrap();
    assert_eq!(torn.torn.iter().map(|t| t.seq).collect::<Vec<_>>(), [held], "{torn:?}");
    let entry = writer.log().entries().iter().find(|e| e.seq == held).unwrap();
    assert!(
        entry.acked_at_us.is_some(),
        "the held order was completed and acknowledged after"
    );
    let now = verify(&disk.0.lock().unwrap().clone(), &VerifyOptions::default()).unwrap();
    assert!(now.torn.is_empty() && now.is_intact(), "{now:?}");
}
