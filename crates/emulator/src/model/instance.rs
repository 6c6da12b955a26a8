//! EC2 instances: the seeded SecureCart app server, and instances launched
//! with RunInstances (the real-AWS path's), which go `pending` → `running`
//! and, terminated, `shutting-down` → `terminated` — deleting the volumes
//! marked delete-on-termination and detaching the others — then stay
//! visible for an hour, as AWS keeps them.

use chrono::Duration;

use crate::clock::{iso8601, Timestamp};
use crate::model::filter::{tag_filter_values, Filterable};
use crate::model::{Cloud, TagSet, Volume};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceState {
    Pending,
    Running,
    ShuttingDown,
    Terminated,
    Stopped,
}

impl InstanceState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::ShuttingDown => "shutting-down",
            Self::Terminated => "terminated",
            Self::Stopped => "stopped",
        }
    }

    /// EC2's numeric state code.
    pub fn code(self) -> u8 {
        match self {
            Self::Pending => 0,
            Self::Running => 16,
            Self::ShuttingDown => 32,
            Self::Terminated => 48,
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
    pub architecture: &'static str,
    /// The instance profile's ARN, when launched with one.
    pub iam_instance_profile: Option<String>,
    /// IMDS: `required` (IMDSv2 only) or `optional`.
    pub http_tokens: &'static str,
    /// When the state in progress (`pending`, `shutting-down`) ends, or a
    /// `terminated` instance disappears.
    pub settles_at: Timestamp,
}

/// How long a terminated instance stays visible.
pub const TERMINATED_VISIBLE_FOR: Duration = Duration::hours(1);

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
    "architecture",
    "reservation-id",
    "iam-instance-profile.arn",
    "metadata-options.http-tokens",
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
            .filter_map(|v| v.attachment_to(&i.id).map(|a| (v, a)));
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
            "architecture" => i.architecture.to_string(),
            "reservation-id" => i.reservation_id.clone(),
            "metadata-options.http-tokens" => i.http_tokens.to_string(),
            "iam-instance-profile.arn" => return Some(i.iam_instance_profile.iter().cloned().collect()),
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
