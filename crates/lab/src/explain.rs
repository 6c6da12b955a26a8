//! The verification in sentences, for the learner.

use snaplab_cloud::DataSource;

use crate::context::Consistency;
use crate::verification::Verification;

pub fn explain(v: &Verification, tolerance_us: i64) -> Vec<String> {
    let p = &v.point_in_time;
    let at = v.snapshot_started_at.format("%H:%M:%S%.3f UTC");
    let mut out = Vec::new();
    out.push(if p.missing == 0 {
        format!(
            "{} orders were acknowledged before the snapshot began at {at}; all {} are on the restored volume.",
            p.acknowledged_before_snapshot, p.present_in_restore
        )
    } else {
        format!(
            "{} orders were acknowledged before the snapshot began at {at}; {} of them are missing: {:?}.",
            p.acknowledged_before_snapshot, p.missing, p.missing_seqs
        )
    });
    out.push(if p.after_snapshot_present == 0 {
        format!(
            "{} orders began after it; none of them is on the restored volume.",
            p.begun_after_snapshot
        )
    } else {
        format!(
            "{} orders began after it, and {} of them are on the restored volume: {:?}.",
            p.begun_after_snapshot, p.after_snapshot_present, p.after_snapshot_seqs
        )
    });
    if p.in_flight > 0 {
        out.push(format!(
            "{} order(s) were under way within {} ms of that instant (StartTime is known to that precision); {} of them made it onto the volume — either is correct.",
            p.in_flight,
            tolerance_us / 1000,
            p.in_flight_present
        ));
    }
    match (v.consistency, v.image.torn_seqs.as_slice()) {
        (Consistency::App, []) => out.push(
            "No order is torn: writes were paused (the order in flight finished, the volume flushed) while the snapshot was created — an application-consistent snapshot.".into(),
        ),
        (_, []) => out.push(
            "No order is torn this time: the snapshot did not fall between the two writes of an order. It can — that is what crash-consistent means.".into(),
        ),
        (_, torn) => out.push(format!(
            "Order {torn:?} is torn: its journal record was written but its stock row was not — the snapshot began between its two writes. It was never acknowledged, so nothing promised was lost; replaying the journal completed it ({} torn left).",
            v.torn_after_replay
        )),
    }
    if let Some(pair) = &v.pair {
        out.push(pair_sentence(pair));
    }
    match v.read_from {
        DataSource::ShadowDisk => out.push(
            "The cloud keeps no volume data, so snaplab read its shadow disk as it was at the snapshot's StartTime."
                .into(),
        ),
        DataSource::EbsDirect => out.push(
            "snaplab read the snapshot's blocks from this computer through the EBS direct APIs (ListSnapshotBlocks, GetSnapshotBlock): no instance was needed for that reading."
                .into(),
        ),
        DataSource::Emulator => {}
    }
    if let Some(i) = &v.on_instance {
        out.push(if v.readings_agree() {
            format!(
                "SecureCart's own verifier, run on the instance against the restored volume at {}, found the same: {} orders committed, last order {}.",
                i.device, i.committed, i.last_seq
            )
        } else {
            format!(
                "SecureCart's verifier on the instance ({}) disagrees: {} committed, last order {}, torn {:?} — against {} committed, last order {}, torn {:?} read through the EBS direct APIs.",
                i.device, i.committed, i.last_seq, i.torn, v.image.committed, v.image.last_seq, v.image.torn_seqs
            )
        });
    }
    out
}

/// How the restored pair of volumes agrees, in one sentence.
fn pair_sentence(p: &crate::verification::PairFinding) -> String {
    let (n, first, last) = (
        p.stock_without_order.len(),
        p.stock_without_order.first().copied().unwrap_or(0),
        p.stock_without_order.last().copied().unwrap_or(0),
    );
    match (p.apart_ms, n) {
        (0, 0) => "The orders and inventory snapshots began at one instant (one CreateSnapshots call): every stock change on the inventory volume belongs to an order on the orders volume.".into(),
        (ms, 0) => format!("The inventory snapshot began {ms} ms after the orders one, yet no stock change lacks its order: no order was taken in between."),
        (ms, n) => format!(
            "The inventory snapshot began {ms} ms after the orders one: it holds the stock changes of {n} order(s) (orders {first} to {last}) that are not on the orders volume — stock sold for orders that do not exist, in {} product(s). Journal replay cannot mend it: there is no record to replay.",
            p.products_mismatched
        ),
    }
}

/// Bytes in the unit a learner reads them in.
fn size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= 1024 * MIB {
        format!("{:.1} GiB", bytes as f64 / (1024 * MIB) as f64)
    } else {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    }
}

/// The comparison of two snapshots in one sentence.
pub fn comparison_line(c: &snaplab_cloud::BlockComparison) -> String {
    format!(
        "Between {} and {}, {} of the {} blocks {} holds changed ({} of {}); the volume itself is {} ({} blocks of {} KiB). The second snapshot adds only the changed blocks.",
        c.first_snapshot_id,
        c.second_snapshot_id,
        c.changed.len(),
        c.held.len(),
        c.second_snapshot_id,
        size(c.changed_bytes()),
        size(c.held_bytes()),
        size(c.volume_size_bytes),
        c.volume_blocks(),
        c.block_size / 1024
    )
}
