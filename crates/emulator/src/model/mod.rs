//! The emulated cloud: zones, instances, volumes and snapshots, and the rules
//! AWS applies to them. No HTTP here: operations take typed requests and
//! return typed results or an [`Ec2Error`](crate::error::Ec2Error).
//!
//! Time-based transitions (a volume becoming `available`, a snapshot reaching
//! `completed`) are stored as deadlines and applied by [`Cloud::settle`], which
//! every request calls first with the injected clock's "now". Nothing runs in
//! the background, so tests with a manual clock are deterministic.

pub mod data;
pub mod encryption;
pub mod fast_restore;
pub mod filter;
pub mod iam;
pub mod image;
pub mod initialization;
pub mod instance;
pub mod launch;
pub mod modification;
pub mod network;
pub mod notify;
pub mod paging;
pub mod sharing;
pub mod snapshot;
pub mod tags;
pub mod volume;
pub mod volume_status;
pub mod world;
pub mod zone;

use std::collections::BTreeMap;

use crate::clock::Timestamp;
use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::ids::{self, IdKind, IdSource};
use crate::pace::{Pace, Timings};

pub use iam::Iam;
pub use image::Image;
pub use instance::Instance;
pub use network::Network;
pub use snapshot::{Snapshot, SnapshotState};
pub use tags::{Tag, TagSet};
pub use volume::{Attachment, AttachmentState, Volume, VolumeState, VolumeType};
pub use world::{Scope, World};
pub use zone::Zone;

/// The account a caller is in unless its access key is a 12-digit account
/// id (LocalStack uses the same default and the same rule).
pub const ACCOUNT_ID: &str = "000000000000";

#[derive(Debug, Clone)]
pub struct Cloud {
    pub account: String,
    pub region: String,
    pub zones: Vec<Zone>,
    pub instances: BTreeMap<String, Instance>,
    pub volumes: BTreeMap<String, Volume>,
    pub snapshots: BTreeMap<String, Snapshot>,
    pub network: Network,
    pub images: Vec<Image>,
    pub iam: Iam,
    pub encryption: encryption::EncryptionSettings,
    /// EventBridge rules, SNS topics, and what they delivered.
    pub notifications: notify::Notifications,
    pace: Pace,
    timings: Timings,
    ids: IdSource,
}

impl Cloud {
    /// An account's empty region with the region's Availability Zones, a
    /// default VPC and the public images. (A region AWS does not have gets
    /// no zones; [`World`] never makes one.)
    pub fn new(account: &str, region: &str, pace: Pace, id_seed: Option<u64>) -> Self {
        let zones = zone::zones_of(region).unwrap_or_default();
        Self {
            account: account.to_string(),
            region: region.to_string(),
            network: Network::default_for(&zones, account, region),
            images: image::catalogue(),
            iam: Iam::default(),
            encryption: encryption::EncryptionSettings::default(),
            notifications: notify::Notifications::default(),
            zones,
            instances: BTreeMap::new(),
            volumes: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            pace,
            timings: pace.timings(),
            ids: IdSource::new(id_seed),
        }
    }

    pub fn pace(&self) -> Pace {
        self.pace
    }

    pub fn timings(&self) -> &Timings {
        &self.timings
    }

    pub fn account_id(&self) -> &str {
        &self.account
    }

    pub(crate) fn new_id(&mut self, kind: IdKind) -> String {
        loop {
            let id = self.ids.next(kind);
            let taken =
                self.volumes.contains_key(&id) || self.snapshots.contains_key(&id) || self.instances.contains_key(&id);
            if !taken {
                return id;
            }
        }
    }

    /// Applies every transition whose deadline has passed.
    pub fn settle(&mut self, now: Timestamp) {
        self.settle_instances(now);
        self.volumes.retain(|_, v| !v.is_gone(now));
        for v in self.volumes.values_mut() {
            v.settle(now);
        }
        let mut finished: Vec<String> = Vec::new();
        for s in self.snapshots.values_mut() {
            let was_pending = s.state == SnapshotState::Pending;
            s.settle(now);
            if was_pending && s.state != SnapshotState::Pending {
                finished.push(s.id.clone());
            }
        }
        self.notify_finished(&finished);
    }

    /// Sends the `EBS Snapshot Notification` of each snapshot (or whole set)
    /// that just finished, stamped with the moment it finished.
    fn notify_finished(&mut self, finished: &[String]) {
        let mut groups: Vec<(notify::Origin, Vec<&Snapshot>)> = Vec::new();
        for s in finished.iter().filter_map(|id| self.snapshots.get(id)) {
            match groups
                .iter_mut()
                .find(|(o, _)| matches!(o, notify::Origin::Set(_)) && *o == s.origin)
            {
                Some((_, members)) => members.push(s),
                None => groups.push((s.origin.clone(), vec![s])),
            }
        }
        let events: Vec<_> = groups
            .iter()
            .filter_map(|(_, members)| {
                let end = members.iter().map(|s| s.completes_at).max()?;
                notify::snapshot_event(&self.account, &self.region, members, end).map(|e| (e, end))
            })
            .collect();
        for (event, end) in events {
            self.notifications.send(event, end);
        }
    }

    pub fn zone(&self, name: &str) -> Ec2Result<&Zone> {
        self.zones.iter().find(|z| z.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.zones.iter().map(|z| z.name.as_str()).collect();
            ec2_error!(InvalidZoneNotFound, "The zone '{name}' does not exist.").hint(format!(
                "Zones in {}: {}.",
                self.region,
                known.join(", ")
            ))
        })
    }

    pub fn volume(&self, id: &str) -> Ec2Result<&Volume> {
        ids::check(IdKind::Volume, id)?;
        self.volumes.get(id).ok_or_else(|| volume_not_found(id))
    }

    pub fn volume_mut(&mut self, id: &str) -> Ec2Result<&mut Volume> {
        ids::check(IdKind::Volume, id)?;
        self.volumes.get_mut(id).ok_or_else(|| volume_not_found(id))
    }

    pub fn snapshot(&self, id: &str) -> Ec2Result<&Snapshot> {
        ids::check(IdKind::Snapshot, id)?;
        self.snapshots.get(id).ok_or_else(|| snapshot_not_found(id))
    }

    pub fn snapshot_mut(&mut self, id: &str) -> Ec2Result<&mut Snapshot> {
        ids::check(IdKind::Snapshot, id)?;
        self.snapshots.get_mut(id).ok_or_else(|| snapshot_not_found(id))
    }

    pub fn instance(&self, id: &str) -> Ec2Result<&Instance> {
        ids::check(IdKind::Instance, id)?;
        self.instances.get(id).ok_or_else(|| instance_not_found(id))
    }

    /// The tags of any taggable resource (Malformed / NotFound / InvalidID otherwise).
    pub fn tags_of(&self, id: &str) -> Ec2Result<&TagSet> {
        match IdKind::of(id) {
            Some(IdKind::Volume) => Ok(&self.volume(id)?.tags),
            Some(IdKind::Snapshot) => Ok(&self.snapshot(id)?.tags),
            Some(IdKind::Instance) => Ok(&self.instance(id)?.tags),
            _ => Err(ids::invalid_resource_id(id)),
        }
    }

    fn tags_mut(&mut self, id: &str) -> Option<&mut TagSet> {
        match IdKind::of(id)? {
            IdKind::Volume => self.volumes.get_mut(id).map(|v| &mut v.tags),
            IdKind::Snapshot => self.snapshots.get_mut(id).map(|s| &mut s.tags),
            IdKind::Instance => self.instances.get_mut(id).map(|i| &mut i.tags),
            _ => None,
        }
    }

    /// CreateTags: every resource is checked before any is changed.
    pub fn create_tags(&mut self, resources: &[&str], tags: &[Tag], dry_run: bool) -> Ec2Result<()> {
        for id in resources {
            self.tags_of(id)?.check_room_for(tags, id)?;
        }
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        for id in resources {
            if let Some(set) = self.tags_mut(id) {
                tags.iter().cloned().for_each(|t| set.upsert(t));
            }
        }
        Ok(())
    }

    /// DeleteTags: `(key, None)` removes the key, `(key, Some(v))` only if it
    /// has value `v`; no keys at all removes every tag.
    pub fn delete_tags(
        &mut self,
        resources: &[&str],
        keys: &[(String, Option<String>)],
        dry_run: bool,
    ) -> Ec2Result<()> {
        for id in resources {
            self.tags_of(id)?;
        }
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        for id in resources {
            let Some(set) = self.tags_mut(id) else { continue };
            if keys.is_empty() {
                *set = TagSet::default();
            }
            for (key, value) in keys {
                set.remove(key, value.as_deref());
            }
        }
        Ok(())
    }

    /// Volumes attached (or attaching) to an instance, ordered by device name.
    pub fn attached_to<'a>(&'a self, instance_id: &'a str) -> impl Iterator<Item = &'a Volume> + 'a {
        let mut vols: Vec<&Volume> = self
            .volumes
            .values()
            .filter(|v| v.attachment_to(instance_id).is_some())
            .collect();
        vols.sort_by(|a, b| {
            let dev = |v: &Volume| v.attachment_to(instance_id).map(|a| a.device.clone());
            dev(a).cmp(&dev(b))
        });
        vols.into_iter()
    }
}

pub fn volume_not_found(id: &str) -> Ec2Error {
    ec2_error!(InvalidVolumeNotFound, "The volume '{id}' does not exist.")
        .hint("List volumes with aws ec2 describe-volumes.")
}

pub fn snapshot_not_found(id: &str) -> Ec2Error {
    ec2_error!(InvalidSnapshotNotFound, "The snapshot '{id}' does not exist.")
        .hint("List yours with aws ec2 describe-snapshots --owner-ids self.")
}

pub fn instance_not_found(id: &str) -> Ec2Error {
    ec2_error!(InvalidInstanceIdNotFound, "The instance ID '{id}' does not exist.")
        .hint("List instances with aws ec2 describe-instances.")
}

/// Validates that a TagSpecification targets the resource type an action creates.
pub fn tags_for(resource_type: &str, specs: &[(String, Vec<Tag>)]) -> Ec2Result<Vec<Tag>> {
    let mut tags = Vec::new();
    for (kind, spec_tags) in specs {
        if kind.is_empty() {
            return Err(ec2_error!(
                InvalidParameterValue,
                "A TagSpecification needs a ResourceType; use ResourceType={resource_type}."
            ));
        }
        if kind != resource_type {
            return Err(ec2_error!(
                InvalidParameterValue,
                "'{kind}' is not a valid taggable resource type for this operation; use ResourceType={resource_type}."
            ));
        }
        tags.extend(spec_tags.iter().cloned());
    }
    if TagSet::from_tags(tags.clone()).as_slice().len() > tags::MAX_TAGS_PER_RESOURCE {
        return Err(ec2_error!(
            TagLimitExceeded,
            "At most {} tags fit on one resource.",
            tags::MAX_TAGS_PER_RESOURCE
        ));
    }
    Ok(tags)
}
