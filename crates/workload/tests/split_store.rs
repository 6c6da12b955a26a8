//! A store on two volumes (journal on one, stock table on the other) copied
//! at two instants disagrees in a way replay cannot mend; copied at one
//! instant it agrees — the multi-volume lab's lesson, on in-memory devices.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use snaplab_workload::*;

fn ticking_clock() -> Clock {
    let t = Arc::new(AtomicI64::new(1_700_000_000_000_000));
    Arc::new(move || t.fetch_add(10, Ordering::SeqCst))
}

type Pair = SplitDevice<MemoryDevice, MemoryDevice>;

fn shop() -> OrderWriter<Pair> {
    let pair = SplitDevice::inventory_on(MemoryDevice::new(64 << 20), MemoryDevice::new(1 << 30)).unwrap();
    OrderWriter::create(pair, &StoreOptions::default(), ticking_clock(), 11).unwrap()
}

fn copy_of(orders: &MemoryDevice, inventory: &MemoryDevice) -> Pair {
    SplitDevice::inventory_on(orders.clone(), inventory.clone()).unwrap()
}

#[test]
fn copied_apart_the_stock_table_sells_for_orders_the_journal_lacks() {
    let mut w = shop();
    for _ in 0..40 {
        w.place_order().unwrap();
    }
    let orders = w.device().volumes().0.clone();
    for _ in 0..9 {
        w.place_order().unwrap();
    }
    let inventory = w.device().volumes().1.clone();
    let pair = copy_of(&orders, &inventory);
    let report = verify(&pair, &VerifyOptions::default()).unwrap();
    assert_eq!(report.last_seq, 40, "the journal is the first instant's");
    assert!(report.torn.is_empty());
    assert_eq!(report.stock_without_order(w.log()), (41..=49).collect::<Vec<_>>());
    assert!(
        !report.inventory_mismatches.is_empty(),
        "stock sold that no order accounts for"
    );
    assert!(!report.is_intact());
    // Replay completes torn orders only: these have no record to replay.
    let mut pair = pair;
    assert!(replay(&mut pair, &ticking_clock()).unwrap().replayed.is_empty());
    let again = verify(&pair, &VerifyOptions::default()).unwrap();
    assert_eq!(again.stock_without_order(w.log()).len(), 9);
}

#[test]
fn copied_the_other_way_round_orders_lack_their_stock_change_and_replay_completes_them() {
    let mut w = shop();
    for _ in 0..40 {
        w.place_order().unwrap();
    }
    let inventory = w.device().volumes().1.clone();
    for _ in 0..6 {
        w.place_order().unwrap();
    }
    let orders = w.device().volumes().0.clone();
    let mut pair = copy_of(&orders, &inventory);
    let report = verify(&pair, &VerifyOptions::default()).unwrap();
    assert!(report.stock_without_order(w.log()).is_empty());
    assert!(
        !report.torn.is_empty(),
        "orders whose stock change is missing read as torn"
    );
    let replayed = replay(&mut pair, &ticking_clock()).unwrap().replayed;
    assert!(!replayed.is_empty());
    assert!(verify(&pair, &VerifyOptions::default()).unwrap().is_intact());
}

#[test]
fn copied_at_one_instant_the_pair_agrees() {
    let mut w = shop();
    for _ in 0..40 {
        w.place_order().unwrap();
    }
    let (orders, inventory) = w.device().volumes();
    let pair = copy_of(orders, inventory);
    for _ in 0..9 {
        w.place_order().unwrap();
    }
    let report = verify(&pair, &VerifyOptions::default()).unwrap();
    assert_eq!(report.last_seq, 40);
    assert!(report.stock_without_order(w.log()).is_empty());
    assert!(report.is_intact(), "{report:?}");
}
