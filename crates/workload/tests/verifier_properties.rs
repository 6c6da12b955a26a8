//! Properties of the verifier over random histories: whatever is written,
//! cut or damaged, every position gets exactly one verdict, and replay always
//! leaves an intact image with no torn order.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use proptest::prelude::*;
use snaplab_workload::*;

fn clock() -> Clock {
    let t = Arc::new(AtomicI64::new(1));
    Arc::new(move || t.fetch_add(1, Ordering::SeqCst))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_position_gets_one_verdict_and_replay_heals_a_cut(
        orders in 1usize..120,
        record_kb in prop::sample::select(vec![1u32, 2, 4]),
        torn_at_end in any::<bool>(),
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 1u8..=255), 0..4),
    ) {
        let options = StoreOptions { record_size: record_kb * 512, product_count: 8, ..StoreOptions::default() };
        let mut w = OrderWriter::create(MemoryDevice::new(8 << 20), &options, clock(), 9).unwrap();
        for _ in 0..orders {
            w.place_order().unwrap();
        }
        if torn_at_end {
            let _cut = w.begin_order().unwrap();
        }
        let layout = *w.layout();
        let (mut image, log) = w.into_parts();
        let clean = verify(&image, &VerifyOptions::default()).unwrap();
        prop_assert!(clean.is_intact());
        prop_assert_eq!(clean.torn.len(), usize::from(torn_at_end));
        prop_assert_eq!(clean.committed as usize, orders);

        for (which, at, xor) in &damage {
            let seq = which.index(log.entries().len()) as u64 + 1;
            let offset = layout.record_offset(seq) + at.index(layout.record_size as usize) as u64;
            let mut b = [0u8; 1];
            image.read_at(offset, &mut b).unwrap();
            image.write_at(offset, &[b[0] ^ xor]).unwrap();
        }
        let r = verify(&image, &VerifyOptions::default()).unwrap();
        let counted = r.committed + (r.torn.len() + r.corrupt.len() + r.missing.len()) as u64;
        prop_assert_eq!(counted, r.positions_judged(), "each judged position has exactly one verdict");
        prop_assert!(r.positions_judged() >= r.last_seq && r.positions_judged() <= log.last_seq());
        for seq in 1..=log.last_seq() {
            let state = r.state_of(seq);
            prop_assert!(state != OrderState::Absent || seq > r.last_seq);
        }
        if damage.is_empty() {
            prop_assert!(r.is_intact());
        }
        let replayed = replay(&mut image, &clock()).unwrap();
        let after = verify(&image, &VerifyOptions::default()).unwrap();
        prop_assert!(after.torn.is_empty(), "{:?} left torn after replaying {:?}", after.torn, replayed);
        if damage.is_empty() {
            prop_assert!(after.is_intact());
            prop_assert_eq!(after.committed as u64, log.last_seq());
        }
    }
}
