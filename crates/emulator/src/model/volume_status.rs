//! DescribeVolumeStatus: a volume's status checks, and — for a volume
//! restored from a snapshot — how far its initialization (lazy loading) has got.

use crate::model::filter::Filterable;
use crate::model::volume::Volume;

/// DescribeVolumeStatus's filters (EC2 API reference).
pub const FILTERS: &[&str] = &[
    "action.code",
    "action.description",
    "action.event-id",
    "availability-zone",
    "event.description",
    "event.event-id",
    "event.event-type",
    "event.not-after",
    "event.not-before",
    "volume-status.details-name",
    "volume-status.details-status",
    "volume-status.status",
];

/// One volume as DescribeVolumeStatus lists it.
#[derive(Debug, Clone, Copy)]
pub struct VolumeStatus<'a> {
    pub volume: &'a Volume,
}

impl VolumeStatus<'_> {
    /// `volumeStatus.details`: (name, status). The emulator's volumes are
    /// always healthy; `initialization-state` is listed for a restored
    /// volume (its values `initializing` / `completed` are assumed: AWS's
    /// reference names the detail but not its values).
    pub fn details(&self) -> Vec<(&'static str, &'static str)> {
        let mut details = vec![("io-enabled", "passed"), ("io-performance", "not-applicable")];
        if let Some(init) = &self.volume.initialization {
            details.push((
                "initialization-state",
                if init.is_complete() {
                    "completed"
                } else {
                    "initializing"
                },
            ));
        }
        details
    }
}

impl Filterable for VolumeStatus<'_> {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        let details = self.details();
        match name {
            "availability-zone" => Some(vec![self.volume.zone.clone()]),
            "volume-status.status" => Some(vec!["ok".to_string()]),
            "volume-status.details-name" => Some(details.iter().map(|d| d.0.to_string()).collect()),
            "volume-status.details-status" => Some(details.iter().map(|d| d.1.to_string()).collect()),
            // No scheduled events or actions: nothing matches them.
            n if FILTERS.contains(&n) => Some(Vec::new()),
            _ => None,
        }
    }
}
