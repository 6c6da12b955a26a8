//! EC2 instances. The lab does not launch instances; the seeded scenario brings
//! the SecureCart app server, and DescribeInstances shows its volumes.

use crate::clock::{iso8601, Timestamp};
use crate::model::filter::{tag_filter_values, Filterable};
use crate::model::{Cloud, TagSet, Volume};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceState {
    Running,
    Stopped,
}

impl InstanceState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Stopped => "stopped",
        }
    }

    /// EC2's numeric state code.
    pub fn code(self) -> u8 {
        match self {
            Self::Running => 16,
            Self::Stopped => 80,
        }
    }

    pub fn is_running(self) -> bool {
        self == Self::Running
    }
}

#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub reservation_id: String,
    pub image_id: String,
    pub instance_type: String,
    pub zone: String,
    pub state: InstanceState,
    pub launch_time: Timestamp,
    pub root_device_name: String,
    pub private_ip: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub tags: TagSet,
}

impl Instance {
    pub fn private_dns_name(&self, region: &str) -> String {
        let dashed = self.private_ip.replace('.', "-");
        if region == "us-east-1" {
            format!("ip-{dashed}.ec2.internal")
        } else {
            format!("ip-{dashed}.{region}.compute.internal")
        }
    }
}

pub const FILTERS: &[&str] = &[
    "instance-id",
    "instance-state-name",
    "instance-state-code",
    "instance-type",
    "availability-zone",
    "image-id",
    "root-device-name",
    "private-ip-address",
    "subnet-id",
    "vpc-id",
    "launch-time",
    "block-device-mapping.volume-id",
    "block-device-mapping.device-name",
    "block-device-mapping.status",
];

/// Filterable view of an instance with its volumes (for block-device filters).
pub struct InstanceWithVolumes<'a> {
    pub instance: &'a Instance,
    pub volumes: Vec<&'a Volume>,
}

impl InstanceWithVolumes<'_> {
    pub fn of<'a>(cloud: &'a Cloud, instance: &'a Instance) -> InstanceWithVolumes<'a> {
        InstanceWithVolumes {
            instance,
            volumes: cloud.attached_to(&instance.id).collect(),
        }
    }
}

impl Filterable for InstanceWithVolumes<'_> {
    fn filter_values(&self, name: &str) -> Option<Vec<String>> {
        let i = self.instance;
        let attachments = self
            .volumes
            .iter()
            .filter_map(|v| v.attachment.as_ref().map(|a| (v, a)));
        let v = match name {
            "instance-id" => i.id.clone(),
            "instance-state-name" => i.state.as_str().into(),
            "instance-state-code" => i.state.code().to_string(),
            "instance-type" => i.instance_type.clone(),
            "availability-zone" => i.zone.clone(),
            "image-id" => i.image_id.clone(),
            "root-device-name" => i.root_device_name.clone(),
            "private-ip-address" => i.private_ip.clone(),
            "subnet-id" => i.subnet_id.clone(),
            "vpc-id" => i.vpc_id.clone(),
            "launch-time" => iso8601(&i.launch_time),
            "block-device-mapping.volume-id" => return Some(attachments.map(|(v, _)| v.id.clone()).collect()),
            "block-device-mapping.device-name" => return Some(attachments.map(|(_, a)| a.device.clone()).collect()),
            "block-device-mapping.status" => {
                return Some(attachments.map(|(_, a)| a.state.as_str().to_string()).collect())
            }
            _ => return tag_filter_values(&i.tags, name),
        };
        Some(vec![v])
    }
}
