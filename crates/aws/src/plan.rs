//! What a real-AWS run of a lab creates, decided before anything is: the
//! zone, the instance type (the cheapest in the price table, and why), the
//! image, the volumes, the tags every resource carries from creation — and
//! so what the learner is told before consenting, and what it costs.

use crate::prices::Usage;

pub use snaplab_lab::{LAB_TAG, RUN_TAG};

/// The instance profile a run launches its instance with (docs/real-aws.md).
pub const DEFAULT_INSTANCE_PROFILE: &str = "snaplab-ssm";
/// The managed policy the profile's role needs for SSM Run Command.
pub const SSM_CORE_POLICY_ARN: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

/// The public SSM parameter naming the latest Amazon Linux 2023 image for an architecture.
pub fn image_parameter(architecture: &str) -> &'static str {
    if architecture == "arm64" {
        "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    } else {
        "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    }
}

/// The architecture of an instance type: Graviton families (a `g` after the
/// generation digit, e.g. t4g, m7g, c7gn) are arm64.
pub fn architecture_of(instance_type: &str) -> &'static str {
    let family = instance_type.split('.').next().unwrap_or_default();
    let after_digit = family.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = after_digit.trim_start_matches(|c: char| c.is_ascii_digit());
    if suffix.starts_with('g') {
        "arm64"
    } else {
        "x86_64"
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunPlan {
    pub lab_id: String,
    pub region: String,
    pub zone: Option<String>,
    pub subnet_id: Option<String>,
    pub instance_type: String,
    /// Why this type, in a sentence.
    pub instance_type_reason: String,
    pub architecture: &'static str,
    pub image_parameter: &'static str,
    pub image_id: Option<String>,
    pub instance_profile: String,
    pub root_gib: i32,
    pub data_gib: i32,
    /// How long the resources are expected to live, for the estimate.
    pub expected_minutes: u32,
}

impl RunPlan {
    /// A plan for `instance_type` (its architecture and image parameter
    /// follow); zone and image are found by the preflight.
    pub fn new(lab_id: &str, region: &str, instance_type: &str, instance_profile: &str) -> Self {
        let architecture = architecture_of(instance_type);
        Self {
            lab_id: lab_id.to_string(),
            region: region.to_string(),
            zone: None,
            subnet_id: None,
            instance_type: instance_type.to_string(),
            instance_type_reason: String::new(),
            architecture,
            image_parameter: image_parameter(architecture),
            image_id: None,
            instance_profile: instance_profile.to_string(),
            root_gib: 8,
            data_gib: 1,
            expected_minutes: 45,
        }
    }

    /// The plan of a recorded run, which launched what it needed already
    /// (it has no zone or image to launch anything with).
    pub fn recorded(region: &str) -> Self {
        Self {
            expected_minutes: 0,
            ..Self::new("", region, "", DEFAULT_INSTANCE_PROFILE)
        }
    }

    /// The tags of a run's resources.
    pub fn tags<'a>(&'a self, run_id: &'a str) -> [(&'static str, &'a str); 2] {
        [(RUN_TAG, run_id), (LAB_TAG, self.lab_id.as_str())]
    }

    /// What the run uses if its resources live `expected_minutes`: the
    /// instance and its root volume throughout, the data volume too, the
    /// restored volume and the snapshot (at most the data volume's size)
    /// for the second half; every block of the snapshot read once.
    pub fn usage(&self) -> Usage {
        let hours = f64::from(self.expected_minutes) / 60.0;
        let data = f64::from(self.data_gib);
        let blocks = u64::try_from(self.data_gib).unwrap_or(0) * 2048;
        Usage {
            instance_type: self.instance_type.clone(),
            instance_hours: hours,
            gp3_gib_hours: (f64::from(self.root_gib) + data) * hours + data * hours / 2.0,
            snapshot_gib_hours: data * hours / 2.0,
            ebs_direct_blocks: blocks,
            ebs_direct_list_requests: blocks.div_ceil(100).max(1),
        }
    }

    /// What will be created, one line each, for the consent.
    pub fn resources(&self) -> Vec<String> {
        let zone = self.zone.as_deref().unwrap_or("a zone with a default subnet");
        vec![
            format!(
                "an EC2 instance, {} ({}), Amazon Linux 2023 ({}), in {zone}: no inbound ports, no key pair, IMDSv2 only, instance profile {}",
                self.instance_type,
                self.architecture,
                self.image_id.as_deref().unwrap_or("latest"),
                self.instance_profile
            ),
            format!("its root volume, {} GiB gp3 (deleted with the instance)", self.root_gib),
            format!("a {} GiB gp3 data volume, attached at /dev/sdf", self.data_gib),
            "a snapshot of the data volume".to_string(),
            format!("a {} GiB gp3 volume restored from the snapshot, attached at /dev/sdg", self.data_gib),
        ]
    }
}
