//! EBS volumes and their attachments: CreateVolume, DeleteVolume, AttachVolume,
//! DetachVolume and the state machines behind them.

use std::fmt;
use std::str::FromStr;

use crate::blocks::VolumeData;
use crate::clock::{after, Timestamp};
use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::ids::IdKind;
use crate::model::encryption::EncryptionRequest;
use crate::model::filter::{tag_filter_values, Filterable};
use crate::model::initialization::Initialization;
use crate::model::{tags_for, Cloud, Tag, TagSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeType {
    Standard,
    Gp2,
    Gp3,
    Io1,
    Io2,
    St1,
    Sc1,
}

impl VolumeType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Gp2 => "gp2",
            Self::Gp3 => "gp3",
            Self::Io1 => "io1",
            Self::Io2 => "io2",
            Self::St1 => "st1",
            Self::Sc1 => "sc1",
        }
    }

    /// io1 and io2: IOPS provisioned, and kept across a change between them.
    pub fn is_provisioned_iops(self) -> bool {
        matches!(self, Self::Io1 | Self::Io2)
    }

    /// A size (GiB) the type takes, else AWS's InvalidParameterValue.
    pub(crate) fn check_size(self, size: i64) -> Ec2Result<()> {
        let (min, max) = self.size_range();
        if (min..=max).contains(&size) {
            return Ok(());
        }
        Err(Ec2Error::invalid_value(
            "size",
            &size.to_string(),
            &format!("A {self} volume is {min} to {max} GiB."),
        ))
    }

    /// Sizes (GiB) AWS accepts for the type.
    fn size_range(self) -> (i64, i64) {
        match self {
            Self::Standard => (1, 1024),
            Self::Gp2 => (1, 16384),
            // Raised from 16,384 GiB (EBS-FACTS: gp3 is 1–65,536 GiB).
            Self::Gp3 => (1, 65536),
            Self::Io1 => (4, 16384),
            Self::Io2 => (4, 65536),
            Self::St1 | Self::Sc1 => (125, 16384),
        }
    }

    /// Pending snapshots allowed at once per volume (EBS-FACTS: 5, or 1 for HDD).
    pub fn concurrent_snapshot_limit(self) -> usize {
        match self {
            Self::St1 | Self::Sc1 => 1,
            _ => 5,
        }
    }
}

impl fmt::Display for VolumeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VolumeType {
    type Err = Ec2Error;
    fn from_str(s: &str) -> Ec2Result<Self> {
        Ok(match s {
            "standard" => Self::Standard,
            "gp2" => Self::Gp2,
            "gp3" => Self::Gp3,
            "io1" => Self::Io1,
            "io2" => Self::Io2,
            "st1" => Self::St1,
            "sc1" => Self::Sc1,
            _ => {
                return Err(Ec2Error::invalid_value(
                    "volumeType",
                    s,
                    "Use one of standard, gp2, gp3, io1, io2, st1, sc1.",
                ))
            }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeState {
    Creating,
    Available,
    InUse,
    Deleting,
}

impl VolumeState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Available => "available",
            Self::InUse => "in-use",
            Self::Deleting => "deleting",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentState {
    Attaching,
    Attached,
    Detaching,
}

impl AttachmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attaching => "attaching",
            Self::Attached => "attached",
            Self::Detaching => "detaching",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub instance_id: String,
    pub device: String,
    pub state: AttachmentState,
    pub attach_time: Timestamp,
    /// When `attaching` becomes `attached`, or `detaching` ends.
    pub settles_at: Timestamp,
    pub delete_on_termination: bool,
}

/// Where a volume is in its life, apart from attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Creating { until: Timestamp },
    Ready,
    Deleting { until: Timestamp },
}

#[derive(Debug, Clone)]
pub struct Volume {
    pub id: String,
    pub size_gib: i64,
    pub volume_type: VolumeType,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub zone: String,
    pub snapshot_id: Option<String>,
    pub create_time: Timestamp,
    pub lifecycle: Lifecycle,
    /// Its attachments: at most one, or up to [`MAX_MULTI_ATTACH`] with Multi-Attach.
    pub attachments: Vec<Attachment>,
    /// Multi-Attach (io1/io2 only): attachable to several instances in its zone.
    pub multi_attach: bool,
    pub encrypted: bool,
    /// The KMS key's ARN, for an encrypted volume.
    pub kms_key_id: Option<String>,
    pub tags: TagSet,
    /// When CreateSnapshot last accepted this volume (for the rate limit).
    pub last_snapshot_at: Option<Timestamp>,
    /// The volume's bytes, shared copy-on-write with its snapshots.
    pub data: VolumeData,
    /// Its Elastic Volumes modifications, oldest first.
    pub modifications: Vec<crate::model::modification::Modification>,
    /// How far a volume restored from a snapshot has loaded its blocks
    /// (`None` for a volume created empty).
    pub initialization: Option<crate::model::initialization::Initialization>,
    /// The `StateMessage` its next snapshot fails with (`PUT /_snaplab/volumes/{id}/fail-next-snapshot`).
    pub fail_next_snapshot: Option<String>,
}

impl Volume {
    /// The state DescribeVolumes reports: `in-use` from the moment an attach is
    /// accepted until its detach finishes.
    pub fn state(&self) -> VolumeState {
        match self.lifecycle {
            Lifecycle::Creating { .. } => VolumeState::Creating,
            Lifecycle::Deleting { .. } => VolumeState::Deleting,
            Lifecycle::Ready if !self.attachments.is_empty() => VolumeState::InUse,
            Lifecycle::Ready => VolumeState::Available,
        }
    }

    pub(crate) fn settle(&mut self, now: Timestamp) {
        if let Lifecycle::Creating { until } = self.lifecycle {
            if now >= until {
                self.lifecycle = Lifecycle::Ready;
            }
        }
        for a in &mut self.attachments {
            if now >= a.settles_at && a.state == AttachmentState::Attaching {
                a.state = AttachmentState::Attached;
            }
        }
        self.attachments
            .retain(|a| !(now >= a.settles_at && a.state == AttachmentState::Detaching));
    }

    /// Its first attachment (the only one unless Multi-Attach is on).
    pub fn attachment(&self) -> Option<&Attachment> {
        self.attachments.first()
    }

    /// Its attachment to one instance.
    pub fn attachment_to(&self, instance_id: &str) -> Option<&Attachment> {
        self.attachments.iter().find(|a| a.instance_id == instance_id)
    }

    pub(crate) fn is_gone(&self, now: Timestamp) -> bool {
        matches!(self.lifecycle, Lifecycle::Deleting { until } if now >= until)
    }

    /// Baseline IOPS AWS reports for the type when none were provisioned.
    pub fn effective_iops(&self) -> Option<i64> {
        match self.volume_type {
            VolumeType::Gp2 => Some((self.size_gib * 3).clamp(100, 16000)),
            VolumeType::Gp3 => Some(self.iops.unwrap_or(3000)),
            VolumeType::Io1 | VolumeType::Io2 => self.iops,
            _ => None,
        }
    }

    pub fn effective_throughput(&self) -> Option<i64> {
        match self.volume_type {
            VolumeType::Gp3 => Some(self.throughput.unwrap_or(125)),
            _ => None,
        }
    }
}

pub const FILTERS: &[&str] = &[
    "attachment.attach-time",
    "attachment.delete-on-termination",
    "attachment.device",
    "attachment.instance-id",
    "attachment.status",
    "availability-zone",
    "create-time",
    "encrypted",
    "multi-attach-enabled",
    "size",
    "snapshot-id",
    "status",
    "volume-id",
    "volume-type",
    "iops",
    "throughput",
];

impl Filterable for Volume {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        let att = self.attachments.iter();
        let one = |v: String| Some(vec![v]);
        match name {
            "attachment.attach-time" => Some(att.map(|a| crate::clock::iso8601(&a.attach_time)).collect()),
            "attachment.delete-on-termination" => Some(att.map(|a| a.delete_on_termination.to_string()).collect()),
            "attachment.device" => Some(att.map(|a| a.device.clone()).collect()),
            "attachment.instance-id" => Some(att.map(|a| a.instance_id.clone()).collect()),
            "attachment.status" => Some(att.map(|a| a.state.as_str().to_string()).collect()),
            "availability-zone" => one(self.zone.clone()),
            "create-time" => one(crate::clock::iso8601(&self.create_time)),
            "encrypted" => one(self.encrypted.to_string()),
            "multi-attach-enabled" => one(self.multi_attach.to_string()),
            "size" => one(self.size_gib.to_string()),
            "snapshot-id" => Some(self.snapshot_id.clone().into_iter().collect()),
            "status" => one(self.state().as_str().into()),
            "volume-id" => one(self.id.clone()),
            "volume-type" => one(self.volume_type.as_str().into()),
            "iops" => Some(self.effective_iops().map(|i| i.to_string()).into_iter().collect()),
            "throughput" => Some(self.effective_throughput().map(|i| i.to_string()).into_iter().collect()),
            _ => tag_filter_values(&self.tags, name),
        }
    }
}

/// Most instances a Multi-Attach volume attaches to at once (EBS User
/// Guide, "Attach a volume to multiple instances with Multi-Attach").
pub const MAX_MULTI_ATTACH: usize = 16;

/// CreateVolume's parameters, parsed but not yet judged.
#[derive(Debug, Clone, Default)]
pub struct CreateVolume {
    pub zone: Option<String>,
    pub zone_id: Option<String>,
    pub size_gib: Option<i64>,
    pub snapshot_id: Option<String>,
    pub volume_type: Option<String>,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub multi_attach: bool,
    /// The snapshot to restore when another account shares it (the world
    /// finds it; the cloud knows only its own).
    pub shared_snapshot: Option<crate::model::Snapshot>,
    pub tag_specs: Vec<(String, Vec<Tag>)>,
}

/// A device name a Linux instance accepts: `/dev/sd[a-z]`, `/dev/xvd[a-z]{1,2}`
/// (with an optional partition digit for sd), as in "Device names on Linux instances".
pub fn is_valid_device(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("/dev/") else {
        return false;
    };
    let (letters, digits) = if let Some(r) = rest.strip_prefix("xvd") {
        (r, "")
    } else if let Some(r) = rest.strip_prefix("sd") {
        let split = r.find(|c: char| c.is_ascii_digit()).unwrap_or(r.len());
        r.split_at(split)
    } else {
        return false;
    };
    let letters_ok = (1..=2).contains(&letters.len()) && letters.bytes().all(|b| b.is_ascii_lowercase());
    let digits_ok = digits.is_empty()
        || (digits.bytes().all(|b| b.is_ascii_digit()) && digits.parse::<u8>().is_ok_and(|n| (1..=15).contains(&n)));
    letters_ok && digits_ok
}

fn missing_size() -> Ec2Error {
    ec2_error!(MissingParameter, "The request must contain the parameter size/snapshot")
        .hint("Give --size in GiB, or --snapshot-id to restore a snapshot.")
}

impl Cloud {
    pub fn create_volume(&mut self, req: CreateVolume, now: Timestamp, dry_run: bool) -> Ec2Result<String> {
        // Required parameters first, as AWS checks them: before any value or state.
        if req.size_gib.is_none() && req.snapshot_id.is_none() {
            return Err(missing_size());
        }
        let zone = match (&req.zone, &req.zone_id) {
            (Some(name), _) => self.zone(name)?.name.clone(),
            (None, Some(zone_id)) => self
                .zones
                .iter()
                .find(|z| &z.zone_id == zone_id)
                .map(|z| z.name.clone())
                .ok_or_else(|| ec2_error!(InvalidZoneNotFound, "The zone ID '{zone_id}' does not exist."))?,
            (None, None) => {
                return Err(ec2_error!(
                    MissingParameter,
                    "The request must contain the parameter AvailabilityZone, e.g. --availability-zone {}a.",
                    self.region
                ))
            }
        };
        let volume_type: VolumeType = req.volume_type.as_deref().unwrap_or("gp2").parse()?;

        let source = match &req.snapshot_id {
            Some(id) => {
                let snap = match self.snapshot(id) {
                    Err(e) => req.shared_snapshot.as_ref().filter(|s| s.id == *id).ok_or(e)?,
                    own => own?,
                };
                if snap.state != crate::model::SnapshotState::Completed {
                    return Err(ec2_error!(
                        IncorrectState,
                        "Snapshot '{id}' is in state '{}'; a volume can be restored only from a completed snapshot.",
                        snap.state.as_str()
                    )
                    .hint(format!(
                        "Wait with: aws ec2 wait snapshot-completed --snapshot-ids {id}"
                    )));
                }
                // FSR on and enabled in this zone: the volume is initialized at creation.
                let fast = snap
                    .fast_restores
                    .iter()
                    .any(|f| f.zone == zone && f.state(now) == crate::model::fast_restore::FastRestoreState::Enabled);
                Some((
                    snap.id.clone(),
                    snap.volume_size_gib,
                    snap.kms_key_id.clone(),
                    snap.data.clone(),
                    fast,
                ))
            }
            None => None,
        };
        let size = match (req.size_gib, &source) {
            (Some(size), Some((snap_id, snap_size, ..))) if size < *snap_size => {
                return Err(ec2_error!(
                    InvalidParameterValue,
                    "Volume of {size}GiB is smaller than snapshot '{snap_id}', expect size >= {snap_size}GiB."
                ))
            }
            (Some(size), _) => size,
            (None, Some((_, snap_size, ..))) => *snap_size,
            (None, None) => return Err(missing_size()),
        };
        volume_type.check_size(size)?;
        check_performance(volume_type, req.iops, req.throughput)?;
        if req.multi_attach && !volume_type.is_provisioned_iops() {
            return Err(ec2_error!(
                InvalidParameterCombination,
                "Multi-Attach is supported only on io1 and io2 volumes."
            )
            .hint("Create it with --volume-type io2 --iops 1000, or without --multi-attach-enabled."));
        }
        let tags = tags_for("volume", &req.tag_specs)?;
        let encryption = EncryptionRequest {
            encrypted: req.encrypted,
            kms_key_id: req.kms_key_id.as_deref(),
        };
        let kms_key_id = self.key_for_new(&encryption, source.as_ref().and_then(|s| s.2.as_deref()))?;
        if dry_run {
            return Err(Ec2Error::dry_run());
        }

        let id = self.new_id(IdKind::Volume);
        let (snapshot_id, data, initialization) = match source {
            Some((id, _, _, layer, fast)) => {
                let blocks = layer.written();
                let data = VolumeData::restored_from(layer);
                let init = if fast {
                    Initialization::fast_restored(blocks.len() as u64)
                } else {
                    Initialization::lazy(blocks)
                };
                (Some(id), data, Some(init))
            }
            None => (None, VolumeData::default(), None),
        };
        let volume = Volume {
            id: id.clone(),
            size_gib: size,
            volume_type,
            iops: req.iops,
            throughput: req.throughput,
            zone,
            snapshot_id,
            create_time: now,
            lifecycle: Lifecycle::Creating {
                until: after(now, self.timings().volume_create),
            },
            attachments: Vec::new(),
            multi_attach: req.multi_attach,
            encrypted: kms_key_id.is_some(),
            kms_key_id,
            tags: TagSet::from_tags(tags),
            last_snapshot_at: None,
            modifications: Vec::new(),
            data,
            initialization,
            fail_next_snapshot: None,
        };
        self.volumes.insert(id.clone(), volume);
        Ok(id)
    }

    pub fn delete_volume(&mut self, id: &str, now: Timestamp, dry_run: bool) -> Ec2Result<()> {
        let volume = self.volume(id)?;
        match volume.state() {
            VolumeState::InUse => {
                let a = volume.attachment();
                return Err(ec2_error!(
                    VolumeInUse,
                    "Volume {id} is currently attached to {}",
                    a.map(|a| a.instance_id.as_str()).unwrap_or("an instance")
                )
                .hint(format!("Detach it first: aws ec2 detach-volume --volume-id {id}")));
            }
            VolumeState::Deleting => {
                return Err(ec2_error!(
                    IncorrectState,
                    "The volume '{id}' is already being deleted."
                ))
            }
            VolumeState::Creating | VolumeState::Available => {}
        }
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        let until = after(now, self.timings().volume_delete);
        if let Some(v) = self.volumes.get_mut(id) {
            v.lifecycle = Lifecycle::Deleting { until };
        }
        self.settle(now);
        Ok(())
    }

    pub fn attach_volume(
        &mut self,
        volume_id: &str,
        instance_id: &str,
        device: &str,
        now: Timestamp,
        dry_run: bool,
    ) -> Ec2Result<Attachment> {
        let volume = self.volume(volume_id)?;
        let instance = self.instance(instance_id)?;
        // AWS's words, as reported from real calls (ansible-collections/amazon.aws#1558).
        if let Some(m) = volume.modifications.last() {
            if m.state(now) == crate::model::modification::ModificationState::Modifying {
                return Err(ec2_error!(
                    OperationNotPermitted,
                    "Cannot attach volume {volume_id} when it is in modification state: MODIFYING"
                ));
            }
        }
        match volume.state() {
            VolumeState::Available => {}
            VolumeState::InUse if volume.multi_attach && volume.attachment_to(instance_id).is_none() => {
                if volume.attachments.len() >= MAX_MULTI_ATTACH {
                    return Err(ec2_error!(
                        VolumeInUse,
                        "{volume_id} is already attached to {MAX_MULTI_ATTACH} instances, the most a Multi-Attach volume can be."
                    ));
                }
            }
            VolumeState::InUse => {
                let other = volume.attachment().map(|a| a.instance_id.as_str()).unwrap_or("?");
                return Err(
                    ec2_error!(VolumeInUse, "{volume_id} is already attached to an instance").hint(format!(
                        "It is attached to {other}: detach it first, or attach a different volume."
                    )),
                );
            }
            state => {
                return Err(ec2_error!(
                    IncorrectState,
                    "Volume '{volume_id}' is in the '{}' state.",
                    state.as_str()
                )
                .hint(format!(
                    "It can be attached once it is 'available': aws ec2 wait volume-available --volume-ids {volume_id}"
                )))
            }
        }
        if volume.zone != instance.zone {
            return Err(ec2_error!(
                InvalidVolumeZoneMismatch,
                "The volume '{volume_id}' is not in the same availability zone as instance '{instance_id}'"
            )
            .hint(format!(
                "The volume is in {}, the instance in {}: restore the snapshot into {} instead.",
                volume.zone, instance.zone, instance.zone
            )));
        }
        if !is_valid_device(device) {
            return Err(ec2_error!(
                InvalidParameterValue,
                "Value ({device}) for parameter device is invalid. {device} is not a valid EBS device name; use e.g. /dev/sdg (/dev/sd[f-p] is recommended for data volumes)."
            ));
        }
        if let Some(user) = self
            .attached_to(instance_id)
            .find(|v| v.attachment_to(instance_id).is_some_and(|a| a.device == device))
        {
            return Err(ec2_error!(
                InvalidParameterValue,
                "Invalid value '{device}' for unixDevice. Attachment point {device} is already in use"
            )
            .hint(format!(
                "{} is attached there: choose another device, e.g. /dev/sdg.",
                user.id
            )));
        }
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        let attachment = Attachment {
            instance_id: instance_id.to_string(),
            device: device.to_string(),
            state: AttachmentState::Attaching,
            attach_time: now,
            settles_at: after(now, self.timings().attach),
            delete_on_termination: false,
        };
        let reply = attachment.clone();
        if let Some(v) = self.volumes.get_mut(volume_id) {
            v.attachments.push(attachment);
        }
        self.settle(now);
        Ok(reply)
    }

    /// DetachVolume. Allowed while a snapshot of the volume is pending (AWS
    /// allows it; the scenario text we started from claimed otherwise).
    pub fn detach_volume(
        &mut self,
        volume_id: &str,
        instance_id: Option<&str>,
        device: Option<&str>,
        now: Timestamp,
        dry_run: bool,
    ) -> Ec2Result<Attachment> {
        let volume = self.volume(volume_id)?;
        if let Some(i) = instance_id {
            self.instance(i)?;
        }
        // The DetachVolume reference: a Multi-Attach volume's detach names the instance.
        if volume.multi_attach && !volume.attachments.is_empty() && instance_id.is_none() {
            return Err(
                ec2_error!(MissingParameter, "The request must contain the parameter InstanceId").hint(format!(
                    "{volume_id} is attached to several instances (Multi-Attach): name the one to detach it from."
                )),
            );
        }
        let chosen = match instance_id {
            Some(i) if volume.multi_attach => volume.attachment_to(i).or(volume.attachment()),
            _ => volume.attachment(),
        };
        let Some(attachment) = chosen else {
            return Err(ec2_error!(
                InvalidAttachmentNotFound,
                "Volume '{volume_id}' is not attached to any instance (it is '{}').",
                volume.state().as_str()
            ));
        };
        let mismatch =
            instance_id.is_some_and(|i| i != attachment.instance_id) || device.is_some_and(|d| d != attachment.device);
        if mismatch {
            return Err(ec2_error!(
                InvalidAttachmentNotFound,
                "Attachment point {} of instance {} does not hold volume {volume_id}; it is attached to {} at {}.",
                device.unwrap_or(&attachment.device),
                instance_id.unwrap_or(&attachment.instance_id),
                attachment.instance_id,
                attachment.device
            ));
        }
        match attachment.state {
            AttachmentState::Attached => {}
            AttachmentState::Attaching => {
                return Err(ec2_error!(
                    IncorrectState,
                    "Volume '{volume_id}' is still attaching; detach it once it is attached."
                ))
            }
            AttachmentState::Detaching => {
                return Err(ec2_error!(IncorrectState, "Volume '{volume_id}' is already detaching."))
            }
        }
        let instance = self.instance(&attachment.instance_id)?;
        if instance.root_device_name == attachment.device && instance.state.is_running() {
            // AWS's code and words (EBS-FACTS): IncorrectState, not OperationNotPermitted.
            return Err(ec2_error!(
                IncorrectState,
                "Unable to detach root volume '{volume_id}' from instance '{}'",
                instance.id
            ));
        }
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        let settles_at = after(now, self.timings().detach);
        let mut reply = attachment.clone();
        let from = attachment.instance_id.clone();
        let held = self
            .volumes
            .get_mut(volume_id)
            .and_then(|v| v.attachments.iter_mut().find(|a| a.instance_id == from));
        if let Some(a) = held {
            a.state = AttachmentState::Detaching;
            a.settles_at = settles_at;
            reply = a.clone();
        }
        self.settle(now);
        Ok(reply)
    }
}

pub(crate) fn check_performance(t: VolumeType, iops: Option<i64>, throughput: Option<i64>) -> Ec2Result<()> {
    let iops_range = match t {
        VolumeType::Gp3 => Some((3000, 80000)),
        VolumeType::Io1 => Some((100, 64000)),
        VolumeType::Io2 => Some((100, 256000)),
        _ => None,
    };
    match (iops, iops_range) {
        (Some(_), None) => {
            return Err(ec2_error!(
                InvalidParameterCombination,
                "The parameter iops is not supported for {t} volumes."
            ))
        }
        (Some(i), Some((lo, hi))) if !(lo..=hi).contains(&i) => {
            return Err(Ec2Error::invalid_value(
                "iops",
                &i.to_string(),
                &format!("A {t} volume takes {lo} to {hi} IOPS."),
            ))
        }
        (None, Some(_)) if matches!(t, VolumeType::Io1 | VolumeType::Io2) => {
            return Err(ec2_error!(
                MissingParameter,
                "The request must contain the parameter iops for {t} volumes."
            ))
        }
        _ => {}
    }
    match (throughput, t) {
        (Some(tp), VolumeType::Gp3) if !(125..=2000).contains(&tp) => Err(Ec2Error::invalid_value(
            "throughput",
            &tp.to_string(),
            "A gp3 volume takes 125 to 2000 MiB/s.",
        )),
        (Some(_), VolumeType::Gp3) | (None, _) => Ok(()),
        (Some(_), _) => Err(ec2_error!(
            InvalidParameterCombination,
            "The parameter throughput is only supported for gp3 volumes."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_follow_linux_rules() {
        for ok in [
            "/dev/sdf",
            "/dev/sdg",
            "/dev/xvdf",
            "/dev/xvdba",
            "/dev/sda1",
            "/dev/xvda",
        ] {
            assert!(is_valid_device(ok), "{ok}");
        }
        for bad in [
            "sdf",
            "/dev/sd",
            "/dev/nvme1n1",
            "/dev/sdF",
            "/dev/sdf99",
            "/dev/hdz",
            "/dev/sdabc",
        ] {
            assert!(!is_valid_device(bad), "{bad}");
        }
    }
}
