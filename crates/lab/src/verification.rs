//! The verify step's finding: the restored volume judged against the shop's log.

use chrono::{DateTime, Utc};
use snaplab_cloud::DataSource;
use snaplab_workload::PointInTime;

use crate::context::Consistency;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageSummary {
    /// Highest order number found on the restored volume.
    pub last_seq: u64,
    pub committed: u64,
    pub torn_seqs: Vec<u64>,
    pub corrupt: u64,
    pub missing_positions: u64,
    pub intact: bool,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Verification {
    pub snapshot_id: String,
    pub restored_volume_id: String,
    pub snapshot_started_at: DateTime<Utc>,
    pub consistency: Consistency,
    /// The emulator's data plane, or a shadow disk on this computer.
    pub read_from: DataSource,
    /// Orders acknowledged before the snapshot, present, missing, after it, torn…
    #[serde(flatten)]
    pub point_in_time: PointInTime,
    pub image: ImageSummary,
    /// Torn orders completed by replaying the journal on the restored volume.
    pub replayed: Vec<u64>,
    /// Torn orders left after the replay (none when recovery works).
    pub torn_after_replay: u64,
    /// What it means, in sentences for the learner.
    pub explanation: Vec<String>,
    /// The same volume verified on the instance it is attached to (real
    /// AWS: SecureCart's own verifier, through SSM), when there is one.
    #[serde(default)]
    pub on_instance: Option<crate::site::InstanceVerdict>,
    /// The multi-volume lab: the restored inventory volume, read with the
    /// restored orders volume as one store.
    #[serde(default)]
    pub pair: Option<PairFinding>,
}

/// How a restored pair of volumes (orders, inventory) agrees.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PairFinding {
    pub inventory_snapshot_id: String,
    pub restored_inventory_volume_id: String,
    pub inventory_snapshot_started_at: DateTime<Utc>,
    /// How long after the orders snapshot the inventory one began (0: one
    /// CreateSnapshots call, one instant).
    pub apart_ms: i64,
    /// Orders whose stock change is on the restored inventory volume but
    /// whose record is not on the restored orders volume: sales of orders
    /// that do not exist, which journal replay cannot mend.
    pub stock_without_order: Vec<u64>,
    /// Products whose stock does not add up to the journal's orders.
    pub products_mismatched: u64,
}

impl PairFinding {
    /// Both volumes tell one story: no stock change without its order.
    pub fn agrees(&self) -> bool {
        self.stock_without_order.is_empty() && self.products_mismatched == 0
    }
}

impl Verification {
    /// Every acknowledged order present, nothing from after the snapshot —
    /// and, verified on the instance too, the two readings agree.
    pub fn holds(&self) -> bool {
        self.point_in_time.holds() && self.image.intact && self.readings_agree()
    }

    /// Whether the instance's verifier saw what the lab's did (true when there was none).
    pub fn readings_agree(&self) -> bool {
        self.on_instance.as_ref().is_none_or(|v| {
            v.last_seq == self.image.last_seq
                && v.committed == self.image.committed
                && v.torn == self.image.torn_seqs
                && v.intact == self.image.intact
        })
    }
}
