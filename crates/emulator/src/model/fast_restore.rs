//! Fast Snapshot Restore: Enable/Disable/DescribeFastSnapshotRestores and
//! each (snapshot, zone)'s `enabling` → `optimizing` → `enabled` lifecycle,
//! then `disabling` → `disabled`.
//!
//! What AWS does (EBS User Guide, "Amazon EBS fast snapshot restore"; the
//! EC2 API reference): FSR is enabled per snapshot and Availability Zone;
//! a request names up to 10 snapshots (more is `InvalidRequest`, seen in
//! AWS's replies); each (snapshot, zone) that cannot be enabled is listed
//! under `Unsuccessful` with its own error while the rest succeed; at most
//! 5 snapshots per Region have it on (the default quota); optimizing takes
//! about 60 minutes per TiB; a snapshot with FSR on in any zone cannot be
//! deleted (`InvalidSnapshot.InUse`, words as AWS's reply). Assumed (not
//! seen in a reply): the per-item codes for an unknown zone, a snapshot that
//! is not `completed`, and the quota — documented in docs/emulator.md.

use std::time::Duration;

use crate::clock::{after, Timestamp};
use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::model::filter::Filterable;
use crate::model::snapshot::SnapshotState;
use crate::model::Cloud;

/// Snapshots one request may name.
pub const SNAPSHOTS_PER_REQUEST: usize = 10;
/// Snapshots with FSR on (in any zone) per Region: AWS's default quota.
pub const SNAPSHOTS_PER_REGION: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastRestoreState {
    Enabling,
    Optimizing,
    Enabled,
    Disabling,
    Disabled,
}

impl FastRestoreState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabling => "enabling",
            Self::Optimizing => "optimizing",
            Self::Enabled => "enabled",
            Self::Disabling => "disabling",
            Self::Disabled => "disabled",
        }
    }

    /// On, or on its way: a volume created now is (or will be) fast.
    pub fn is_on(self) -> bool {
        matches!(self, Self::Enabling | Self::Optimizing | Self::Enabled)
    }
}

/// FSR for one snapshot in one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastRestore {
    pub zone: String,
    pub owner_id: String,
    pub enabling_time: Timestamp,
    pub optimizing_time: Timestamp,
    pub enabled_time: Timestamp,
    /// Set by DisableFastSnapshotRestores: (disabling, disabled) times.
    pub disabling: Option<(Timestamp, Timestamp)>,
}

impl FastRestore {
    pub fn state(&self, now: Timestamp) -> FastRestoreState {
        match self.disabling {
            Some((_, disabled)) if now >= disabled => FastRestoreState::Disabled,
            Some(_) => FastRestoreState::Disabling,
            None if now >= self.enabled_time => FastRestoreState::Enabled,
            None if now >= self.optimizing_time => FastRestoreState::Optimizing,
            None => FastRestoreState::Enabling,
        }
    }

    /// AWS's `StateTransitionReason`: the learner's call, or the lifecycle.
    pub fn transition_reason(&self, now: Timestamp) -> &'static str {
        match self.state(now) {
            FastRestoreState::Enabling | FastRestoreState::Disabling => "Client.UserInitiated",
            _ => "Client.UserInitiated - Lifecycle state transition",
        }
    }

    /// The times a state has reached, as AWS reports them (none in the future).
    pub fn times(&self, now: Timestamp) -> [(&'static str, Option<Timestamp>); 5] {
        let reached = |t: Timestamp| (now >= t).then_some(t);
        let (disabling, disabled) = match self.disabling {
            Some((a, b)) => (Some(a), reached(b)),
            None => (None, None),
        };
        let cut = |t: Timestamp| reached(t).filter(|t| disabling.is_none_or(|d| *t <= d));
        [
            ("enablingTime", Some(self.enabling_time)),
            ("optimizingTime", cut(self.optimizing_time)),
            ("enabledTime", cut(self.enabled_time)),
            ("disablingTime", disabling),
            ("disabledTime", disabled),
        ]
    }
}

/// One (snapshot, zone) as a reply lists it.
#[derive(Debug, Clone)]
pub struct FastRestoreAt {
    pub snapshot_id: String,
    pub restore: FastRestore,
    pub now: Timestamp,
}

/// One (snapshot, zone) that could not be changed, and why.
#[derive(Debug, Clone)]
pub struct FastRestoreError {
    pub snapshot_id: String,
    pub zone: String,
    pub error: Ec2Error,
}

/// What Enable/DisableFastSnapshotRestores did.
#[derive(Debug, Clone, Default)]
pub struct FastRestoreOutcome {
    pub successful: Vec<FastRestoreAt>,
    pub unsuccessful: Vec<FastRestoreError>,
}

pub const FILTERS: &[&str] = &["snapshot-id", "availability-zone", "owner-id", "state"];

impl Filterable for FastRestoreAt {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        let v = match name {
            "snapshot-id" => self.snapshot_id.clone(),
            "availability-zone" => self.restore.zone.clone(),
            "owner-id" => self.restore.owner_id.clone(),
            "state" => self.restore.state(self.now).as_str().to_string(),
            _ => return None,
        };
        Some(vec![v])
    }
}

fn check_request(snapshot_ids: &[String], zones: &[String]) -> Ec2Result<()> {
    if snapshot_ids.is_empty() {
        return Err(Ec2Error::missing("SourceSnapshotIds"));
    }
    if zones.is_empty() {
        return Err(Ec2Error::missing("AvailabilityZones"));
    }
    if snapshot_ids.len() > SNAPSHOTS_PER_REQUEST {
        return Err(ec2_error!(
            InvalidRequest,
            "Number of values of parameter SourceSnapshotIds must be less than or equal to {SNAPSHOTS_PER_REQUEST}."
        ));
    }
    Ok(())
}

impl Cloud {
    /// Snapshots with FSR on in some zone.
    fn snapshots_with_fast_restore(&self, now: Timestamp) -> usize {
        self.snapshots
            .values()
            .filter(|s| s.fast_restores.iter().any(|r| r.state(now).is_on()))
            .count()
    }

    /// Every (snapshot, zone) FSR this account has not seen disabled, in snapshot order.
    pub fn fast_restores(&self, now: Timestamp) -> Vec<FastRestoreAt> {
        self.snapshots
            .values()
            .flat_map(|s| {
                s.fast_restores
                    .iter()
                    .filter(move |r| r.state(now) != FastRestoreState::Disabled)
                    .map(move |r| FastRestoreAt {
                        snapshot_id: s.id.clone(),
                        restore: r.clone(),
                        now,
                    })
            })
            .collect()
    }

    pub fn enable_fast_restores(
        &mut self,
        snapshot_ids: &[String],
        zones: &[String],
        now: Timestamp,
        dry_run: bool,
    ) -> Ec2Result<FastRestoreOutcome> {
        check_request(snapshot_ids, zones)?;
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        let timings = *self.timings();
        Ok(self.for_each_item(snapshot_ids, zones, now, |cloud, id, zone| {
            cloud.enable_one(id, zone, now, &timings)
        }))
    }

    /// Runs `one` for each (snapshot, zone) of a request: what succeeds is
    /// listed as it stands now, what fails under its snapshot with its error.
    fn for_each_item(
        &mut self,
        snapshot_ids: &[String],
        zones: &[String],
        now: Timestamp,
        mut one: impl FnMut(&mut Self, &str, &str) -> Ec2Result<FastRestore>,
    ) -> FastRestoreOutcome {
        let mut out = FastRestoreOutcome::default();
        for id in snapshot_ids {
            for zone in zones {
                match one(self, id, zone) {
                    Ok(restore) => out.successful.push(FastRestoreAt {
                        snapshot_id: id.clone(),
                        restore,
                        now,
                    }),
                    Err(error) => out.unsuccessful.push(FastRestoreError {
                        snapshot_id: id.clone(),
                        zone: zone.clone(),
                        error,
                    }),
                }
            }
        }
        out
    }

    fn enable_one(
        &mut self,
        id: &str,
        zone: &str,
        now: Timestamp,
        timings: &crate::pace::Timings,
    ) -> Ec2Result<FastRestore> {
        self.zone(zone)?;
        let s = self.snapshot(id)?;
        if s.state != SnapshotState::Completed {
            return Err(ec2_error!(
                IncorrectState,
                "Snapshot '{id}' is '{}'; fast snapshot restore can be enabled once it is completed.",
                s.state.as_str()
            ));
        }
        // Already on in this zone: the request changes nothing.
        if let Some(r) = s.fast_restores.iter().find(|r| r.zone == zone && r.state(now).is_on()) {
            return Ok(r.clone());
        }
        let already_counted = s.fast_restores.iter().any(|r| r.state(now).is_on());
        if !already_counted && self.snapshots_with_fast_restore(now) >= SNAPSHOTS_PER_REGION {
            return Err(ec2_error!(
                ResourceLimitExceeded,
                "You have reached the maximum of {SNAPSHOTS_PER_REGION} snapshots with fast snapshot restore enabled in {}. Disable it on another snapshot first.",
                self.region
            ));
        }
        let optimizing_time = after(now, timings.fast_restore_enable);
        let optimize = timings.fast_restore_optimize_per_gib * u32::try_from(s.volume_size_gib).unwrap_or(u32::MAX);
        let restore = FastRestore {
            zone: zone.to_string(),
            owner_id: s.owner_id.clone(),
            enabling_time: now,
            optimizing_time,
            enabled_time: after(optimizing_time, optimize.min(Duration::from_secs(48 * 3600))),
            disabling: None,
        };
        let s = self.snapshot_mut(id)?;
        s.fast_restores.retain(|r| r.zone != zone);
        s.fast_restores.push(restore.clone());
        Ok(restore)
    }

    pub fn disable_fast_restores(
        &mut self,
        snapshot_ids: &[String],
        zones: &[String],
        now: Timestamp,
        dry_run: bool,
    ) -> Ec2Result<FastRestoreOutcome> {
        check_request(snapshot_ids, zones)?;
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        let disable = self.timings().fast_restore_disable;
        Ok(self.for_each_item(snapshot_ids, zones, now, |cloud, id, zone| {
            cloud.zone(zone)?;
            let s = cloud.snapshot_mut(id)?;
            Ok(match s.fast_restores.iter_mut().find(|r| r.zone == zone) {
                Some(r) => {
                    if r.state(now).is_on() {
                        r.disabling = Some((now, after(now, disable)));
                    }
                    r.clone()
                }
                // Never enabled here: reported as it stands, disabled.
                None => FastRestore {
                    zone: zone.to_string(),
                    owner_id: s.owner_id.clone(),
                    enabling_time: now,
                    optimizing_time: now,
                    enabled_time: now,
                    disabling: Some((now, now)),
                },
            })
        }))
    }
}
