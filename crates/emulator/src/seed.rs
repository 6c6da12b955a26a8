//! The seeded SecureCart scenario (DESIGN.md): the app server with its root and
//! data volumes. In the default account their ids are fixed, so the lab's
//! aws CLI commands run verbatim; every other account gets its own copy
//! with ids derived from the account (ids are unique across accounts, as
//! on AWS, and the same account always gets the same ones).

use chrono::Duration;

use crate::blocks::VolumeData;
use crate::clock::Timestamp;
use crate::model::iam::{InstanceProfile, Role, EC2_TRUST_POLICY, SSM_CORE_POLICY_ARN};
use crate::model::image::SECURECART_IMAGE_ID;
use crate::model::instance::InstanceState;
use crate::model::volume::Lifecycle;
use crate::model::{Attachment, AttachmentState, Cloud, Instance, Tag, TagSet, Volume, VolumeType};

pub const INSTANCE_ID: &str = "i-0a1b2c3d4e5f60789";
pub const DATA_VOLUME_ID: &str = "vol-0123456789abcdef0";
pub const ROOT_VOLUME_ID: &str = "vol-0f1e2d3c4b5a69788";
pub const DATA_DEVICE: &str = "/dev/sdf";
pub const ROOT_DEVICE: &str = "/dev/xvda";

/// The ids of one account's SecureCart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioIds {
    pub instance_id: String,
    pub reservation_id: String,
    pub data_volume_id: String,
    pub root_volume_id: String,
}

impl ScenarioIds {
    /// The default account's fixed ids, or ids derived from `account`.
    pub fn of(account: &str) -> Self {
        if account == crate::model::ACCOUNT_ID {
            return Self {
                instance_id: INSTANCE_ID.to_string(),
                reservation_id: "r-0c0ffee0c0ffee001".to_string(),
                data_volume_id: DATA_VOLUME_ID.to_string(),
                root_volume_id: ROOT_VOLUME_ID.to_string(),
            };
        }
        let derived =
            |prefix: &str, what: &str| crate::ids::derived_id(prefix, &format!("securecart/{account}/{what}"));
        Self {
            instance_id: derived("i", "instance"),
            reservation_id: derived("r", "reservation"),
            data_volume_id: derived("vol", "data"),
            root_volume_id: derived("vol", "root"),
        }
    }
}

fn tags(pairs: &[(&str, &str)]) -> TagSet {
    TagSet::from_tags(pairs.iter().map(|(k, v)| Tag {
        key: (*k).to_string(),
        value: (*v).to_string(),
    }))
}

/// Adds the SecureCart app instance and its two volumes to `cloud`, with
/// its account's ids ([`ScenarioIds::of`]).
pub fn securecart(cloud: &mut Cloud, now: Timestamp) {
    let ids = ScenarioIds::of(&cloud.account);
    let zone = format!("{}a", cloud.region);
    let launched = now - Duration::days(3);
    let Some(subnet) = cloud.network.default_subnet(&zone).cloned() else {
        return;
    };
    cloud.instances.insert(
        ids.instance_id.clone(),
        Instance {
            id: ids.instance_id.clone(),
            reservation_id: ids.reservation_id.clone(),
            image_id: SECURECART_IMAGE_ID.to_string(),
            instance_type: "t3.medium".to_string(),
            zone: zone.clone(),
            state: InstanceState::Running,
            launch_time: launched,
            root_device_name: ROOT_DEVICE.to_string(),
            private_ip: subnet.address(15),
            subnet_id: subnet.id.clone(),
            vpc_id: subnet.vpc_id.clone(),
            tags: tags(&[("Name", "securecart-app"), ("App", "SecureCart")]),
            architecture: "x86_64",
            iam_instance_profile: None,
            http_tokens: "required",
            settles_at: launched,
        },
    );
    let volume = |id: &str, device: &str, name: &str, root: bool| Volume {
        id: id.to_string(),
        size_gib: 8,
        volume_type: VolumeType::Gp3,
        iops: None,
        throughput: None,
        zone: zone.clone(),
        snapshot_id: None,
        create_time: launched,
        lifecycle: Lifecycle::Ready,
        multi_attach: false,
        attachments: vec![Attachment {
            instance_id: ids.instance_id.clone(),
            device: device.to_string(),
            state: AttachmentState::Attached,
            attach_time: launched,
            settles_at: launched,
            delete_on_termination: root,
        }],
        encrypted: false,
        kms_key_id: None,
        tags: tags(&[("Name", name), ("App", "SecureCart")]),
        last_snapshot_at: None,
        modifications: Vec::new(),
        initialization: None,
        fail_next_snapshot: None,
        data: VolumeData::default(),
    };
    for v in [
        volume(&ids.root_volume_id, ROOT_DEVICE, "securecart-root", true),
        volume(&ids.data_volume_id, DATA_DEVICE, "securecart-data", false),
    ] {
        cloud.volumes.insert(v.id.clone(), v);
    }
}

/// The instance profile the real-AWS path launches its instance with
/// (docs/real-aws.md): a role EC2 can take, with the SSM core policy.
pub const SSM_INSTANCE_PROFILE: &str = "snaplab-ssm";

/// Adds the account's SSM instance profile and its role.
pub fn ssm_instance_profile(cloud: &mut Cloud, now: Timestamp) {
    let created = now - Duration::days(30);
    cloud.iam.roles.push(Role {
        name: SSM_INSTANCE_PROFILE.to_string(),
        id: "AROA5NAPLAB0SSM000001".to_string(),
        create_date: created,
        assume_role_policy: EC2_TRUST_POLICY.to_string(),
        attached_policies: vec![SSM_CORE_POLICY_ARN.to_string()],
    });
    cloud.iam.instance_profiles.push(InstanceProfile {
        name: SSM_INSTANCE_PROFILE.to_string(),
        id: "AIPA5NAPLAB0SSM000001".to_string(),
        create_date: created,
        roles: vec![SSM_INSTANCE_PROFILE.to_string()],
    });
}
