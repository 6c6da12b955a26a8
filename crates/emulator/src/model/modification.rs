//! Elastic Volumes: ModifyVolume and the `modifying` → `optimizing` →
//! `completed` lifecycle DescribeVolumesModifications reports.
//!
//! What AWS does (EBS User Guide, "Modify a volume using Amazon EBS Elastic
//! Volumes"): size only grows; type, IOPS and throughput change within each
//! type's limits; the volume stays usable throughout and its new size can be
//! used from `optimizing` (the file system still has to be extended). Since
//! January 2026 a volume takes up to four modifications in any rolling 24
//! hours, each once the previous one has completed (it was one per six hours).
//! The volume reports its target attributes from the request on.

use std::time::Duration;

use crate::clock::{after, iso8601, Timestamp};
use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::model::filter::Filterable;
use crate::model::volume::{check_performance, VolumeState, VolumeType};
use crate::model::Cloud;

/// Modifications a volume takes in any rolling 24 hours.
pub const MODIFICATIONS_PER_DAY: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModificationState {
    Modifying,
    Optimizing,
    Completed,
}

impl ModificationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Modifying => "modifying",
            Self::Optimizing => "optimizing",
            Self::Completed => "completed",
        }
    }
}

/// The attributes a modification changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub size_gib: i64,
    pub volume_type: VolumeType,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modification {
    pub volume_id: String,
    pub original: Shape,
    pub target: Shape,
    pub start_time: Timestamp,
    /// When `modifying` becomes `optimizing`.
    pub optimizing_at: Timestamp,
    /// When `optimizing` becomes `completed`.
    pub completes_at: Timestamp,
}

impl Modification {
    pub fn state(&self, now: Timestamp) -> ModificationState {
        if now >= self.completes_at {
            ModificationState::Completed
        } else if now >= self.optimizing_at {
            ModificationState::Optimizing
        } else {
            ModificationState::Modifying
        }
    }

    /// Percent done over the whole modification (100 only once completed).
    pub fn progress(&self, now: Timestamp) -> u8 {
        if self.state(now) == ModificationState::Completed {
            return 100;
        }
        let total = (self.completes_at - self.start_time).num_milliseconds().max(1);
        let done = (now - self.start_time).num_milliseconds().clamp(0, total);
        u8::try_from(done * 100 / total).unwrap_or(99).min(99)
    }

    pub fn end_time(&self, now: Timestamp) -> Option<Timestamp> {
        (self.state(now) == ModificationState::Completed).then_some(self.completes_at)
    }
}

/// ModifyVolume's parameters (each optional: what is left out stays).
#[derive(Debug, Clone, Default)]
pub struct ModifyVolume {
    pub volume_id: String,
    pub size_gib: Option<i64>,
    pub volume_type: Option<String>,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
}

/// A modification as filters see it at one moment.
pub struct ModificationAt<'a> {
    pub modification: &'a Modification,
    pub now: Timestamp,
}

pub const FILTERS: &[&str] = &[
    "volume-id",
    "modification-state",
    "original-size",
    "original-iops",
    "original-volume-type",
    "original-throughput",
    "target-size",
    "target-iops",
    "target-volume-type",
    "target-throughput",
    "start-time",
];

impl Filterable for ModificationAt<'_> {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        let m = self.modification;
        let opt = |v: Option<i64>| Some(v.map(|v| v.to_string()).into_iter().collect());
        let v = match name {
            "volume-id" => m.volume_id.clone(),
            "modification-state" => m.state(self.now).as_str().to_string(),
            "original-size" => m.original.size_gib.to_string(),
            "original-volume-type" => m.original.volume_type.to_string(),
            "original-iops" => return opt(m.original.iops),
            "original-throughput" => return opt(m.original.throughput),
            "target-size" => m.target.size_gib.to_string(),
            "target-volume-type" => m.target.volume_type.to_string(),
            "target-iops" => return opt(m.target.iops),
            "target-throughput" => return opt(m.target.throughput),
            "start-time" => iso8601(&m.start_time),
            _ => return None,
        };
        Some(vec![v])
    }
}

impl Cloud {
    /// The latest modification of each volume that has one (what
    /// DescribeVolumesModifications reports), in volume order.
    pub fn latest_modifications(&self) -> Vec<&Modification> {
        self.volumes.values().filter_map(|v| v.modifications.last()).collect()
    }

    pub fn latest_modification(&self, volume_id: &str) -> Ec2Result<&Modification> {
        self.volume(volume_id)?.modifications.last().ok_or_else(|| {
            ec2_error!(
                InvalidVolumeModificationNotFound,
                "Modification for volume '{volume_id}' does not exist."
            )
        })
    }

    pub fn modify_volume(&mut self, req: ModifyVolume, now: Timestamp, dry_run: bool) -> Ec2Result<Modification> {
        let id = req.volume_id.as_str();
        let volume = self.volume(id)?;
        if req.size_gib.is_none() && req.volume_type.is_none() && req.iops.is_none() && req.throughput.is_none() {
            return Err(ec2_error!(
                MissingParameter,
                "The request must contain at least one of the parameters size, volumeType, iops or throughput."
            ));
        }
        let volume_type: VolumeType = match &req.volume_type {
            Some(t) => t.parse()?,
            None => volume.volume_type,
        };
        let original = Shape {
            size_gib: volume.size_gib,
            volume_type: volume.volume_type,
            iops: volume.effective_iops(),
            throughput: volume.effective_throughput(),
        };
        let size = req.size_gib.unwrap_or(volume.size_gib);
        if size < volume.size_gib {
            return Err(Ec2Error::invalid_value(
                "size",
                &size.to_string(),
                &format!(
                    "A volume cannot shrink: {id} is {} GiB, so its new size must be at least that.",
                    volume.size_gib
                ),
            ));
        }
        volume_type.check_size(size)?;
        // What is not asked for carries over where the new type has it.
        let same_family = |a: VolumeType, b: VolumeType| a == b || (a.is_provisioned_iops() && b.is_provisioned_iops());
        let iops = req.iops.or_else(|| {
            same_family(volume.volume_type, volume_type)
                .then_some(volume.iops)
                .flatten()
        });
        let throughput = req.throughput.or_else(|| {
            (volume.volume_type == volume_type)
                .then_some(volume.throughput)
                .flatten()
        });
        check_performance(volume_type, iops, throughput)?;
        if matches!(volume.state(), VolumeState::Creating | VolumeState::Deleting) {
            return Err(ec2_error!(
                IncorrectState,
                "Volume '{id}' is '{}'; it can be modified once it is available or in-use.",
                volume.state().as_str()
            ));
        }
        if let Some(last) = volume.modifications.last() {
            if last.state(now) != ModificationState::Completed {
                return Err(ec2_error!(
                    IncorrectModificationState,
                    "Volume '{id}' is already being modified (its modification is '{}'); a new one can start once it is 'completed'.",
                    last.state(now).as_str()
                ));
            }
        }
        let day_ago = now - chrono::Duration::hours(24);
        if volume.modifications.iter().filter(|m| m.start_time > day_ago).count() >= MODIFICATIONS_PER_DAY {
            return Err(ec2_error!(
                VolumeModificationRateExceeded,
                "You've reached the maximum modification rate per volume limit: {MODIFICATIONS_PER_DAY} modifications of {id} in 24 hours. Wait until the oldest is 24 hours old."
            ));
        }
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        let timings = self.timings();
        let optimizing_at = after(now, timings.modify);
        // Optimizing takes longer on a bigger volume (AWS: minutes to hours).
        let optimize = timings.optimize_floor + timings.optimize_per_gib * u32::try_from(size).unwrap_or(u32::MAX);
        let v = self.volume_mut(id)?;
        v.size_gib = size;
        v.volume_type = volume_type;
        v.iops = iops;
        v.throughput = throughput;
        let modification = Modification {
            volume_id: id.to_string(),
            original,
            // As the volume now reports them (a type's defaults filled in).
            target: Shape {
                size_gib: size,
                volume_type,
                iops: v.effective_iops(),
                throughput: v.effective_throughput(),
            },
            start_time: now,
            optimizing_at,
            completes_at: after(optimizing_at, optimize.min(Duration::from_secs(24 * 3600))),
        };
        v.modifications.push(modification.clone());
        Ok(modification)
    }
}
