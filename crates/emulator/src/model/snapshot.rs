//! EBS snapshots: CreateSnapshot, CreateSnapshots, DeleteSnapshot and the
//! `pending` → `completed` lifecycle with a rising Progress; and snapshots
//! written block by block through the EBS direct APIs ([`DirectWrite`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use crate::blocks::{Layer, VolumeData};

use chrono::{DateTime, Utc};

use crate::clock::{after, iso8601, Timestamp};
use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::ids::{self, IdKind};
use crate::model::encryption::EncryptionRequest;
use crate::model::filter::{tag_filter_values, Filterable};
use crate::model::volume::VolumeState;
use crate::model::{tags_for, Cloud, Tag, TagSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotState {
    Pending,
    Completed,
    Error,
}

impl SnapshotState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Completed => "completed",
            Self::Error => "error",
        }
    }
}

/// Who besides its owner may create volumes from a snapshot
/// (`createVolumePermission`): named accounts, or everyone (group `all`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumePermission {
    pub public: bool,
    pub accounts: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub id: String,
    /// The account that owns it.
    pub owner_id: String,
    /// The source volume; AWS's placeholder `vol-ffffffff` for a copy.
    pub volume_id: String,
    pub volume_size_gib: i64,
    pub description: String,
    pub start_time: Timestamp,
    /// When this snapshot's own blocks are copied: start + the pace's copy time.
    pub copied_at: Timestamp,
    /// When `pending` turns `completed`: `copied_at`, or for a snapshot of a
    /// multi-volume set, when the whole set is copied (AWS: a set "may sit
    /// at 99% until all of it completes").
    pub completes_at: Timestamp,
    pub state: SnapshotState,
    pub encrypted: bool,
    /// The KMS key's ARN, for an encrypted snapshot.
    pub kms_key_id: Option<String>,
    pub permission: VolumePermission,
    pub tags: TagSet,
    /// Bytes this snapshot copies: blocks changed since the volume's previous snapshot.
    pub bytes_to_copy: u64,
    /// The volume's blocks as they were at `start_time`.
    pub data: Arc<Layer>,
    /// Fast Snapshot Restore, per zone it was enabled in.
    pub fast_restores: Vec<crate::model::fast_restore::FastRestore>,
    /// Set for a snapshot started with the EBS direct StartSnapshot.
    pub direct: Option<Box<DirectWrite>>,
    /// It goes to `error` instead of `completed`, with this `StateMessage`
    /// (a volume asked to fail its next snapshot: `PUT /_snaplab/volumes/{id}/fail-next-snapshot`).
    pub fails_with: Option<String>,
    /// How it was made: the event it finishes with.
    pub origin: crate::model::notify::Origin,
}

/// The `StateMessage` of a direct write cancelled by its timeout (assumed wording).
pub const DIRECT_TIMEOUT_MESSAGE: &str =
    "The snapshot was not completed before its timeout: StartSnapshot's timeout passed without a block written or CompleteSnapshot.";

/// The volume id EC2 shows for a snapshot not taken of a volume (a copy,
/// or one written through EBS direct): AWS's "arbitrary volume ID that
/// should not be used for any purpose" (CopySnapshot reference).
pub const NO_VOLUME_ID: &str = "vol-ffffffff";

/// A snapshot written block by block (StartSnapshot, PutSnapshotBlock,
/// CompleteSnapshot). While it is open its blocks collect in `blocks`, over
/// its parent's; CompleteSnapshot seals them into the snapshot's layer.
#[derive(Debug, Clone)]
pub struct DirectWrite {
    pub parent_id: Option<String>,
    pub client_token: Option<String>,
    /// StartSnapshot's parameters, normalized: a retry with the same client
    /// token must ask for the same thing.
    pub request_fingerprint: String,
    pub kms_key_arn: Option<String>,
    /// Cancelled (`error`) if nothing is written, or it is not completed,
    /// this long after StartSnapshot or the last block written.
    pub timeout: Duration,
    pub last_activity: Timestamp,
    /// The latest `x-amz-Progress` a writer reported, in percent.
    pub reported_progress: u8,
    pub blocks: VolumeData,
    /// SHA-256 of each block written here (not the parent's), for the
    /// aggregated checksum and ChangedBlocksCount.
    pub digests: BTreeMap<u64, [u8; 32]>,
    /// When CompleteSnapshot sealed it; no block may be written after.
    pub sealed_at: Option<Timestamp>,
}

impl DirectWrite {
    fn expires_at(&self) -> Timestamp {
        after(self.last_activity, self.timeout)
    }
}

/// What StartSnapshot makes: the snapshot's own fields.
#[derive(Debug, Clone)]
pub struct DirectStart {
    pub id: String,
    pub owner_id: String,
    pub volume_size_gib: i64,
    pub description: String,
    pub encrypted: bool,
    pub tags: TagSet,
    /// The parent's id and layer: its blocks are the new snapshot's until overwritten.
    pub parent: Option<(String, Arc<Layer>)>,
    pub client_token: Option<String>,
    pub request_fingerprint: String,
    /// The key's ARN, when encrypted.
    pub kms_key_arn: Option<String>,
    pub timeout: Duration,
}

impl Snapshot {
    /// True when `account`, not the owner, may restore it (shared or public).
    pub fn restorable_by(&self, account: &str) -> bool {
        self.permission.public || self.permission.accounts.contains(account)
    }

    /// A `pending` snapshot that blocks are written to until CompleteSnapshot.
    pub fn started_direct(start: DirectStart, now: Timestamp) -> Self {
        let (parent_id, blocks) = match start.parent {
            Some((id, layer)) => (Some(id), VolumeData::restored_from(layer)),
            None => (None, VolumeData::default()),
        };
        Self {
            id: start.id,
            owner_id: start.owner_id,
            volume_id: NO_VOLUME_ID.to_string(),
            volume_size_gib: start.volume_size_gib,
            description: start.description,
            start_time: now,
            // Not before it is sealed: CompleteSnapshot sets both.
            copied_at: DateTime::<Utc>::MAX_UTC,
            completes_at: DateTime::<Utc>::MAX_UTC,
            state: SnapshotState::Pending,
            encrypted: start.encrypted,
            kms_key_id: start.kms_key_arn.clone(),
            permission: VolumePermission::default(),
            tags: start.tags,
            bytes_to_copy: 0,
            data: Arc::new(Layer::default()),
            fast_restores: Vec::new(),
            direct: Some(Box::new(DirectWrite {
                parent_id,
                client_token: start.client_token,
                request_fingerprint: start.request_fingerprint,
                kms_key_arn: start.kms_key_arn,
                timeout: start.timeout,
                last_activity: now,
                reported_progress: 0,
                blocks,
                digests: BTreeMap::new(),
                sealed_at: None,
            })),
            fails_with: None,
            origin: crate::model::notify::Origin::Direct,
        }
    }

    /// The open direct write, if blocks may still be written to this snapshot.
    pub fn open_direct_mut(&mut self) -> Option<&mut DirectWrite> {
        if self.state != SnapshotState::Pending {
            return None;
        }
        self.direct.as_deref_mut().filter(|d| d.sealed_at.is_none())
    }

    /// CompleteSnapshot: the written blocks become the snapshot's layer, which
    /// is then copied like any snapshot's (`duration`, from the pace).
    pub fn seal_direct(&mut self, now: Timestamp, duration: impl FnOnce(u64) -> Duration) {
        let Some(d) = self.open_direct_mut() else { return };
        d.sealed_at = Some(now);
        let bytes = d.blocks.changed_bytes();
        let layer = d.blocks.freeze();
        self.data = layer;
        self.bytes_to_copy = bytes;
        self.copied_at = after(now, duration(bytes));
        self.completes_at = self.copied_at;
        self.settle(now);
    }

    pub(crate) fn settle(&mut self, now: Timestamp) {
        if self.state != SnapshotState::Pending {
            return;
        }
        let open = self.direct.as_deref().filter(|d| d.sealed_at.is_none());
        if open.is_some_and(|d| now >= d.expires_at()) {
            self.state = SnapshotState::Error;
            self.fails_with = Some(DIRECT_TIMEOUT_MESSAGE.to_string());
        } else if now >= self.completes_at {
            self.state = match self.fails_with {
                Some(_) => SnapshotState::Error,
                None => SnapshotState::Completed,
            };
        }
    }

    /// AWS's `StateMessage`: why a snapshot is in `error` (none otherwise).
    pub fn state_message(&self) -> Option<&str> {
        match self.state {
            SnapshotState::Error => self.fails_with.as_deref(),
            _ => None,
        }
    }

    /// Progress in percent: elapsed share of its own copy time while
    /// `pending` (never 100 until `completed`: 99 while the rest of its set
    /// copies), 100 once `completed`.
    pub fn progress(&self, now: Timestamp) -> u8 {
        match self.state {
            SnapshotState::Completed => 100,
            SnapshotState::Error => 0,
            SnapshotState::Pending => {
                // A direct write reports its own progress until it is sealed; then it copies.
                let copy_start = match self.direct.as_deref() {
                    Some(d) => match d.sealed_at {
                        None => return d.reported_progress.min(99),
                        Some(sealed) => sealed,
                    },
                    None => self.start_time,
                };
                let total = (self.copied_at - copy_start).num_milliseconds().max(1);
                let done = (now - copy_start).num_milliseconds().clamp(0, total);
                u8::try_from(done * 100 / total).unwrap_or(99).min(99)
            }
        }
    }

    pub fn completion_time(&self) -> Option<Timestamp> {
        (self.state == SnapshotState::Completed).then_some(self.completes_at)
    }
}

pub const FILTERS: &[&str] = &[
    "description",
    "encrypted",
    "owner-alias",
    "owner-id",
    "progress",
    "snapshot-id",
    "start-time",
    "status",
    "storage-tier",
    "volume-id",
    "volume-size",
];

/// Filterable view of a snapshot at one instant (Progress depends on time).
pub struct SnapshotAt<'a> {
    pub snapshot: &'a Snapshot,
    pub now: Timestamp,
}

impl Filterable for SnapshotAt<'_> {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        let s = self.snapshot;
        let v = match name {
            "description" => s.description.clone(),
            "encrypted" => s.encrypted.to_string(),
            "owner-alias" => return Some(vec![]),
            "owner-id" => s.owner_id.clone(),
            "progress" => format!("{}%", s.progress(self.now)),
            "snapshot-id" => s.id.clone(),
            "start-time" => iso8601(&s.start_time),
            "status" => s.state.as_str().to_string(),
            "storage-tier" => "standard".to_string(),
            "volume-id" => s.volume_id.clone(),
            "volume-size" => s.volume_size_gib.to_string(),
            _ => return tag_filter_values(&s.tags, name),
        };
        Some(vec![v])
    }
}

/// CreateSnapshots' parameters.
#[derive(Debug, Clone, Default)]
pub struct CreateSnapshots {
    pub instance_id: String,
    pub exclude_boot_volume: bool,
    pub exclude_data_volume_ids: Vec<String>,
    pub copy_tags_from_volume: bool,
    pub description: String,
    pub tag_specs: Vec<(String, Vec<Tag>)>,
}

/// CopySnapshot's parameters, the source already found (here, in another
/// region, or shared by another account).
#[derive(Debug, Clone)]
pub struct CopySnapshot<'a> {
    pub source: &'a Snapshot,
    pub source_region: &'a str,
    pub description: Option<&'a str>,
    pub encryption: EncryptionRequest<'a>,
    pub tag_specs: Vec<(String, Vec<Tag>)>,
}

/// What a new `pending` snapshot is made of.
struct Pending {
    volume_id: String,
    size_gib: i64,
    description: String,
    kms_key_id: Option<String>,
    tags: Vec<Tag>,
    bytes_to_copy: u64,
    data: Arc<Layer>,
    fails_with: Option<String>,
    origin: crate::model::notify::Origin,
}

impl Cloud {
    /// A copy of a completed snapshot: a full copy of its blocks, paced like
    /// any snapshot. Its tags come from the request only; its description,
    /// when none is given, is AWS's `[Copied snap-… from region]`.
    pub fn copy_snapshot(&mut self, req: CopySnapshot<'_>, now: Timestamp, dry_run: bool) -> Ec2Result<String> {
        let source = req.source;
        if source.state != SnapshotState::Completed {
            return Err(ec2_error!(
                IncorrectState,
                "Snapshot '{}' is not in a completed state; only completed snapshots can be copied.",
                source.id
            )
            .hint(format!(
                "Wait with: aws ec2 wait snapshot-completed --snapshot-ids {}",
                source.id
            )));
        }
        let tags = tags_for("snapshot", &req.tag_specs)?;
        // A key stays with its region: a copy elsewhere takes the destination's default.
        let same_region = req.source_region == self.region;
        let source_key = source
            .kms_key_id
            .as_ref()
            .map(|k| if same_region { k.clone() } else { self.default_kms_key() });
        let kms_key_id = self.key_for_new(&req.encryption, source_key.as_deref())?;
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        let description = req.description.map_or_else(
            || format!("[Copied {} from {}]", source.id, req.source_region),
            str::to_string,
        );
        // A copy is whole: every block the source holds is copied.
        let id = self.record_pending(
            Pending {
                volume_id: NO_VOLUME_ID.to_string(),
                size_gib: source.volume_size_gib,
                description,
                kms_key_id,
                tags,
                bytes_to_copy: source.data.written().len() as u64 * crate::blocks::BLOCK_SIZE,
                data: source.data.clone(),
                fails_with: None,
                origin: crate::model::notify::Origin::Copy {
                    source_snapshot_id: source.id.clone(),
                    source_region: req.source_region.to_string(),
                },
            },
            now,
        );
        Ok(id)
    }

    pub fn create_snapshot(
        &mut self,
        volume_id: &str,
        description: &str,
        tag_specs: &[(String, Vec<Tag>)],
        now: Timestamp,
        dry_run: bool,
    ) -> Ec2Result<String> {
        self.check_snapshot_allowed(volume_id, now)?;
        let tags = tags_for("snapshot", tag_specs)?;
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        Ok(self.take_snapshot(volume_id, description, tags, now))
    }

    /// Crash-consistent snapshots of an instance's volumes, all at one instant.
    pub fn create_snapshots(&mut self, req: CreateSnapshots, now: Timestamp, dry_run: bool) -> Ec2Result<Vec<String>> {
        let instance = self.instance(&req.instance_id)?.clone();
        for id in &req.exclude_data_volume_ids {
            ids::check(IdKind::Volume, id)?;
            if self
                .volume(id)
                .ok()
                .and_then(|v| v.attachment_to(&instance.id))
                .is_none()
            {
                return Err(ec2_error!(
                    InvalidParameterValue,
                    "Volume '{id}' in ExcludeDataVolumeIds is not attached to instance '{}'.",
                    instance.id
                ));
            }
        }
        let mut chosen = Vec::new();
        for v in self.attached_to(&instance.id) {
            let Some(a) = v.attachment_to(&instance.id) else {
                continue;
            };
            let is_root = a.device == instance.root_device_name;
            if is_root && req.exclude_data_volume_ids.contains(&v.id) {
                return Err(ec2_error!(
                    InvalidParameterValue,
                    "The root volume '{}' cannot be excluded with ExcludeDataVolumeIds; use ExcludeBootVolume=true.",
                    v.id
                ));
            }
            if (is_root && req.exclude_boot_volume) || req.exclude_data_volume_ids.contains(&v.id) {
                continue;
            }
            chosen.push((v.id.clone(), v.tags.clone()));
        }
        if chosen.is_empty() {
            return Err(ec2_error!(
                InvalidParameterValue,
                "Instance '{}' has no volumes left to snapshot after the exclusions.",
                instance.id
            ));
        }
        for (id, _) in &chosen {
            self.check_snapshot_allowed(id, now)?;
        }
        let spec_tags = tags_for("snapshot", &req.tag_specs)?;
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        let ids = chosen
            .into_iter()
            .map(|(id, volume_tags)| {
                let mut tags = TagSet::default();
                if req.copy_tags_from_volume {
                    volume_tags.iter().cloned().for_each(|t| tags.upsert(t));
                }
                spec_tags.iter().cloned().for_each(|t| tags.upsert(t));
                self.take_snapshot(&id, &req.description, tags.as_slice().to_vec(), now)
            })
            .collect::<Vec<_>>();
        // One set: none of it is completed before all of it is copied, and
        // if one snapshot fails the others go to `error` too (EC2 API
        // reference, CreateSnapshots).
        let set_done = ids
            .iter()
            .filter_map(|id| self.snapshots.get(id).map(|s| s.copied_at))
            .max();
        let set_fails = ids
            .iter()
            .find_map(|id| self.snapshots.get(id).and_then(|s| s.fails_with.clone()));
        let set_key = ids.first().cloned().unwrap_or_default();
        for id in &ids {
            if let (Some(s), Some(done)) = (self.snapshots.get_mut(id), set_done) {
                s.completes_at = done;
                s.origin = crate::model::notify::Origin::Set(set_key.clone());
                if s.fails_with.is_none() {
                    s.fails_with = set_fails
                        .as_ref()
                        .map(|m| format!("Another snapshot of its multi-volume set failed: {m}"));
                }
            }
        }
        Ok(ids)
    }

    pub fn delete_snapshot(&mut self, id: &str, dry_run: bool) -> Ec2Result<()> {
        self.snapshot(id)?;
        // Its Fast Snapshot Restore goes with it: AWS disables FSR when a
        // snapshot you own is deleted (EBS User Guide, "Configure fast snapshot restore").
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        self.snapshots.remove(id);
        Ok(())
    }

    pub fn pending_snapshots_of(&self, volume_id: &str) -> usize {
        self.snapshots
            .values()
            .filter(|s| s.volume_id == volume_id && s.state == SnapshotState::Pending)
            .count()
    }

    fn check_snapshot_allowed(&self, volume_id: &str, now: Timestamp) -> Ec2Result<()> {
        let volume = self.volume(volume_id)?;
        if matches!(volume.state(), VolumeState::Creating | VolumeState::Deleting) {
            return Err(ec2_error!(
                IncorrectState,
                "Volume '{volume_id}' is '{}'; snapshots can be taken of available or in-use volumes.",
                volume.state().as_str()
            ));
        }
        let limit = volume.volume_type.concurrent_snapshot_limit();
        if self.pending_snapshots_of(volume_id) >= limit {
            return Err(ec2_error!(
                ConcurrentSnapshotLimitExceeded,
                "Maximum number of active snapshots per volume reached: {volume_id} ({}) already has {limit} pending.",
                volume.volume_type
            )
            .hint("Wait until one completes."));
        }
        if let (Some(min_gap), Some(last)) = (self.timings().snapshot_rate_limit, volume.last_snapshot_at) {
            let since = (now - last).to_std().unwrap_or(Duration::ZERO);
            if since < min_gap {
                return Err(ec2_error!(
                    SnapshotCreationPerVolumeRateExceeded,
                    "The maximum per volume CreateSnapshot request rate has been exceeded for {volume_id}. Wait at least {} seconds between snapshots of one volume.",
                    min_gap.as_secs()
                ));
            }
        }
        Ok(())
    }

    /// A new `pending` snapshot of `data`, done once the pace has copied
    /// `bytes_to_copy`: its id.
    fn record_pending(&mut self, p: Pending, now: Timestamp) -> String {
        let id = self.new_id(IdKind::Snapshot);
        let done = after(now, self.timings().snapshot_duration(p.bytes_to_copy));
        let snapshot = Snapshot {
            id: id.clone(),
            owner_id: self.account.clone(),
            volume_id: p.volume_id,
            volume_size_gib: p.size_gib,
            description: p.description,
            start_time: now,
            copied_at: done,
            completes_at: done,
            state: SnapshotState::Pending,
            encrypted: p.kms_key_id.is_some(),
            kms_key_id: p.kms_key_id,
            permission: VolumePermission::default(),
            tags: TagSet::from_tags(p.tags),
            bytes_to_copy: p.bytes_to_copy,
            data: p.data,
            fast_restores: Vec::new(),
            direct: None,
            fails_with: p.fails_with,
            origin: p.origin,
        };
        self.snapshots.insert(id.clone(), snapshot);
        id
    }

    /// Records the snapshot: the point in time is `now`, whatever is written later.
    fn take_snapshot(&mut self, volume_id: &str, description: &str, tags: Vec<Tag>, now: Timestamp) -> String {
        let (size, kms_key_id, bytes_to_copy, data, fails_with) = match self.volumes.get_mut(volume_id) {
            Some(v) => {
                v.last_snapshot_at = Some(now);
                let changed = v.data.changed_bytes();
                let fails_with = v.fail_next_snapshot.take();
                (v.size_gib, v.kms_key_id.clone(), changed, v.data.freeze(), fails_with)
            }
            None => (0, None, 0, Arc::new(Layer::default()), None),
        };
        self.record_pending(
            Pending {
                volume_id: volume_id.to_string(),
                size_gib: size,
                description: description.to_string(),
                kms_key_id,
                tags,
                bytes_to_copy,
                data,
                fails_with,
                origin: crate::model::notify::Origin::Single,
            },
            now,
        )
    }
}
