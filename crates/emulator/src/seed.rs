//! The seeded SecureCart scenario (DESIGN.md): the app server with its root and
//! data volumes, with fixed ids so the lab's aws CLI commands run verbatim.

use chrono::Duration;

use crate::blocks::VolumeData;
use crate::clock::Timestamp;
use crate::model::instance::InstanceState;
use crate::model::volume::Lifecycle;
use crate::model::{Attachment, AttachmentState, Cloud, Instance, Tag, TagSet, Volume, VolumeType};

pub const INSTANCE_ID: &str = "i-0a1b2c3d4e5f60789";
pub const DATA_VOLUME_ID: &str = "vol-0123456789abcdef0";
pub const ROOT_VOLUME_ID: &str = "vol-0f1e2d3c4b5a69788";
pub const DATA_DEVICE: &str = "/dev/sdf";
pub const ROOT_DEVICE: &str = "/dev/xvda";

fn tags(pairs: &[(&str, &str)]) -> TagSet {
    TagSet::from_tags(pairs.iter().map(|(k, v)| Tag {
        key: (*k).to_string(),
        value: (*v).to_string(),
    }))
}

/// Adds the SecureCart app instance and its two volumes to `cloud`.
pub fn securecart(cloud: &mut Cloud, now: Timestamp) {
    let zone = format!("{}a", cloud.region);
    let launched = now - Duration::days(3);
    cloud.instances.insert(
        INSTANCE_ID.to_string(),
        Instance {
            id: INSTANCE_ID.to_string(),
            reservation_id: "r-0c0ffee0c0ffee001".to_string(),
            image_id: "ami-0a5c3558529277641".to_string(),
            instance_type: "t3.medium".to_string(),
            zone: zone.clone(),
            state: InstanceState::Running,
            launch_time: launched,
            root_device_name: ROOT_DEVICE.to_string(),
            private_ip: "10.0.1.25".to_string(),
            subnet_id: "subnet-0123456789abcdef0".to_string(),
            vpc_id: "vpc-0123456789abcdef0".to_string(),
            tags: tags(&[("Name", "securecart-app"), ("App", "SecureCart")]),
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
        attachment: Some(Attachment {
            instance_id: INSTANCE_ID.to_string(),
            device: device.to_string(),
            state: AttachmentState::Attached,
            attach_time: launched,
            settles_at: launched,
            delete_on_termination: root,
        }),
        encrypted: false,
        tags: tags(&[("Name", name), ("App", "SecureCart")]),
        last_snapshot_at: None,
        data: VolumeData::default(),
    };
    for v in [
        volume(ROOT_VOLUME_ID, ROOT_DEVICE, "securecart-root", true),
        volume(DATA_VOLUME_ID, DATA_DEVICE, "securecart-data", false),
    ] {
        cloud.volumes.insert(v.id.clone(), v);
    }
}
