//! RunInstances and TerminateInstances, and the instance lifecycles they
//! start (settled by [`Cloud::settle`] like every other transition).

use chrono::Duration;

use crate::blocks::VolumeData;
use crate::clock::Timestamp;
use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::ids::{self, IdKind};
use crate::model::iam::instance_profile_arn;
use crate::model::instance::{InstanceState, TERMINATED_VISIBLE_FOR};
use crate::model::volume::Lifecycle;
use crate::model::{Attachment, AttachmentState, Cloud, Instance, Tag, TagSet, Volume, VolumeType};

/// Most instances one RunInstances launches here (AWS's limit is the account's vCPU quota).
pub const MAX_COUNT: i64 = 20;
/// Root volume of a launched instance (Amazon Linux 2023's default).
const ROOT_GIB: i64 = 8;
const ROOT_DEVICE: &str = "/dev/xvda";

/// The instance types the emulator launches: the small general-purpose
/// families a lab uses, with their architecture.
const INSTANCE_FAMILIES: &[(&str, &str)] = &[
    ("t2", "x86_64"),
    ("t3", "x86_64"),
    ("t3a", "x86_64"),
    ("t4g", "arm64"),
    ("m5", "x86_64"),
    ("m6i", "x86_64"),
    ("m7g", "arm64"),
    ("c5", "x86_64"),
    ("c7g", "arm64"),
];
const INSTANCE_SIZES: &[&str] = &["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"];

/// Every instance type the emulator launches (offered in every zone).
pub fn instance_types() -> Vec<String> {
    INSTANCE_FAMILIES
        .iter()
        .flat_map(|(f, _)| INSTANCE_SIZES.iter().map(move |s| format!("{f}.{s}")))
        .collect()
}

/// The architecture of an instance type the emulator knows.
pub fn architecture_of(instance_type: &str) -> Option<&'static str> {
    let (family, size) = instance_type.split_once('.')?;
    let arch = INSTANCE_FAMILIES.iter().find(|(f, _)| *f == family)?.1;
    INSTANCE_SIZES.contains(&size).then_some(arch)
}

/// A RunInstances request, parsed.
#[derive(Debug, Clone, Default)]
pub struct RunInstances {
    pub image_id: String,
    pub instance_type: String,
    pub min_count: i64,
    pub max_count: i64,
    pub zone: Option<String>,
    pub subnet_id: Option<String>,
    /// `IamInstanceProfile.Name` or `.Arn`.
    pub profile_name: Option<String>,
    pub profile_arn: Option<String>,
    pub http_tokens: Option<String>,
    pub instance_tags: Vec<Tag>,
    pub volume_tags: Vec<Tag>,
}

impl Cloud {
    /// Launches instances (checked whole first); returns their ids.
    pub fn run_instances(&mut self, req: RunInstances, now: Timestamp, dry_run: bool) -> Ec2Result<Vec<String>> {
        if req.min_count < 1 || req.max_count < req.min_count {
            return Err(ec2_error!(
                InvalidParameterValue,
                "Invalid value for MinCount/MaxCount: MinCount must be at least 1 and no more than MaxCount."
            ));
        }
        if req.min_count > MAX_COUNT {
            return Err(ec2_error!(
                InstanceLimitExceeded,
                "You have requested more instances ({}) than your current instance limit of {MAX_COUNT} allows for the specified instance type.",
                req.min_count
            ));
        }
        let Some(arch) = architecture_of(&req.instance_type) else {
            return Err(ec2_error!(
                InvalidParameterValue,
                "Invalid value '{}' for InstanceType.",
                req.instance_type
            ));
        };
        if !ids::is_well_formed(IdKind::Image, &req.image_id) {
            return Err(ec2_error!(
                InvalidAmiIdMalformed,
                "Invalid id: \"{}\" (expecting \"ami-...\")",
                req.image_id
            ));
        }
        let image = self
            .images
            .iter()
            .find(|i| i.id == req.image_id)
            .ok_or_else(|| ec2_error!(InvalidAmiIdNotFound, "The image id '[{}]' does not exist", req.image_id))?;
        if image.architecture != arch {
            return Err(ec2_error!(
                InvalidParameterValue,
                "The architecture '{arch}' of the specified instance type does not match the architecture '{}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.",
                image.architecture
            ));
        }
        let subnet = match (&req.subnet_id, &req.zone) {
            (Some(id), zone) => {
                let s = self
                    .network
                    .subnet(id)
                    .ok_or_else(|| ec2_error!(InvalidSubnetIdNotFound, "The subnet ID '{id}' does not exist"))?;
                if zone.as_ref().is_some_and(|z| *z != s.zone) {
                    return Err(ec2_error!(
                        InvalidParameterValue,
                        "Value ({}) for parameter availabilityZone is invalid. Subnet '{id}' is in the availability zone {}",
                        zone.as_deref().unwrap_or_default(),
                        s.zone
                    ));
                }
                s.clone()
            }
            (None, Some(zone)) => {
                self.zone(zone)?;
                self.network
                    .default_subnet(zone)
                    .cloned()
                    .ok_or_else(|| ec2_error!(MissingInput, "No default subnet for availability zone: '{zone}'."))?
            }
            (None, None) => self
                .network
                .subnets
                .iter()
                .find(|s| s.default_for_az)
                .cloned()
                .ok_or_else(|| ec2_error!(VpcIdNotSpecified, "No default VPC for this user."))?,
        };
        let profile = match (&req.profile_name, &req.profile_arn) {
            (Some(name), _) => Some(self.iam.instance_profile(name).ok_or_else(|| {
                ec2_error!(
                    InvalidParameterValue,
                    "Value ({name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
                )
            })?),
            (None, Some(arn)) => Some(self.iam.instance_profile_by_arn(arn).ok_or_else(|| {
                ec2_error!(
                    InvalidParameterValue,
                    "Value ({arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"
                )
            })?),
            (None, None) => None,
        };
        let profile_arn = profile.map(|p| instance_profile_arn(self.account_id(), &p.name));
        // Encryption by default covers the root volume a launch makes too.
        let root_key = self.encryption.by_default.then(|| self.default_kms_key());
        let http_tokens = match req.http_tokens.as_deref() {
            None | Some("optional") => "optional",
            Some("required") => "required",
            Some(other) => {
                return Err(ec2_error!(
                    InvalidParameterValue,
                    "Value ({other}) for parameter HttpTokens is invalid. Use required or optional."
                ))
            }
        };
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        let reservation_id = self.new_id(IdKind::Reservation);
        let running_at = now + Duration::from_std(self.timings().instance_launch).unwrap_or_default();
        let mut launched = Vec::new();
        for _ in 0..req.max_count.min(MAX_COUNT) {
            let id = self.new_id(IdKind::Instance);
            let root_id = self.new_id(IdKind::Volume);
            let address = subnet.address(self.instances.len());
            self.instances.insert(
                id.clone(),
                Instance {
                    id: id.clone(),
                    reservation_id: reservation_id.clone(),
                    image_id: req.image_id.clone(),
                    instance_type: req.instance_type.clone(),
                    zone: subnet.zone.clone(),
                    state: InstanceState::Pending,
                    launch_time: now,
                    root_device_name: ROOT_DEVICE.to_string(),
                    private_ip: address,
                    subnet_id: subnet.id.clone(),
                    vpc_id: subnet.vpc_id.clone(),
                    tags: TagSet::from_tags(req.instance_tags.clone()),
                    architecture: arch,
                    iam_instance_profile: profile_arn.clone(),
                    http_tokens,
                    settles_at: running_at,
                },
            );
            self.volumes.insert(
                root_id.clone(),
                Volume {
                    id: root_id,
                    size_gib: ROOT_GIB,
                    volume_type: VolumeType::Gp3,
                    iops: None,
                    throughput: None,
                    zone: subnet.zone.clone(),
                    snapshot_id: None,
                    create_time: now,
                    lifecycle: Lifecycle::Ready,
                    multi_attach: false,
                    attachments: vec![Attachment {
                        instance_id: id.clone(),
                        device: ROOT_DEVICE.to_string(),
                        state: AttachmentState::Attached,
                        attach_time: now,
                        settles_at: now,
                        delete_on_termination: true,
                    }],
                    encrypted: root_key.is_some(),
                    kms_key_id: root_key.clone(),
                    tags: TagSet::from_tags(req.volume_tags.clone()),
                    last_snapshot_at: None,
                    modifications: Vec::new(),
                    initialization: None,
                    fail_next_snapshot: None,
                    data: VolumeData::default(),
                },
            );
            launched.push(id);
        }
        Ok(launched)
    }

    /// Starts terminating instances (all checked first); returns each one's
    /// (id, previous state, current state).
    pub fn terminate_instances(
        &mut self,
        ids: &[&str],
        now: Timestamp,
        dry_run: bool,
    ) -> Ec2Result<Vec<(String, InstanceState, InstanceState)>> {
        for id in ids {
            self.instance(id)?;
        }
        if dry_run {
            return Err(Ec2Error::dry_run());
        }
        let ends_at = now + Duration::from_std(self.timings().instance_terminate).unwrap_or_default();
        let mut changed = Vec::new();
        for id in ids {
            let Some(i) = self.instances.get_mut(*id) else { continue };
            let before = i.state;
            if !matches!(before, InstanceState::ShuttingDown | InstanceState::Terminated) {
                i.state = InstanceState::ShuttingDown;
                i.settles_at = ends_at;
            }
            changed.push((i.id.clone(), before, i.state));
        }
        self.settle_instances(now);
        // A settled termination reports `terminated` at once (pace instant).
        for c in &mut changed {
            if let Some(i) = self.instances.get(&c.0) {
                c.2 = i.state;
            }
        }
        Ok(changed)
    }

    /// Moves instances whose transition has ended; a terminated instance's
    /// volumes go (delete-on-termination) or are detached.
    pub(crate) fn settle_instances(&mut self, now: Timestamp) {
        let mut ended = Vec::new();
        for i in self.instances.values_mut() {
            if now < i.settles_at {
                continue;
            }
            match i.state {
                InstanceState::Pending => i.state = InstanceState::Running,
                InstanceState::ShuttingDown => {
                    i.state = InstanceState::Terminated;
                    i.settles_at += TERMINATED_VISIBLE_FOR;
                    ended.push(i.id.clone());
                }
                _ => {}
            }
        }
        for id in &ended {
            self.volumes
                .retain(|_, v| !v.attachment_to(id).is_some_and(|a| a.delete_on_termination));
            for v in self.volumes.values_mut() {
                v.attachments.retain(|a| a.instance_id != *id);
            }
        }
        self.instances
            .retain(|_, i| !(i.state == InstanceState::Terminated && now >= i.settles_at));
    }
}
