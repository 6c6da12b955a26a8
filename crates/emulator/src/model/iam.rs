//! The IAM the real-AWS path looks at: roles with their attached managed
//! policies, and instance profiles holding a role. (IAM is global; the
//! emulator keeps it beside its one region.)

use crate::clock::Timestamp;

/// The managed policy an instance needs to be managed by SSM.
pub const SSM_CORE_POLICY_ARN: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub id: String,
    pub create_date: Timestamp,
    pub assume_role_policy: String,
    pub attached_policies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceProfile {
    pub name: String,
    pub id: String,
    pub create_date: Timestamp,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Iam {
    pub roles: Vec<Role>,
    pub instance_profiles: Vec<InstanceProfile>,
}

impl Iam {
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    pub fn instance_profile(&self, name: &str) -> Option<&InstanceProfile> {
        self.instance_profiles.iter().find(|p| p.name == name)
    }

    /// The instance profile an ARN (`arn:aws:iam::<acct>:instance-profile/<path/>name`) names.
    pub fn instance_profile_by_arn(&self, arn: &str) -> Option<&InstanceProfile> {
        let name = arn.strip_prefix("arn:aws:iam::")?.split_once(":instance-profile/")?.1;
        self.instance_profile(name.rsplit('/').next().unwrap_or(name))
    }
}

pub fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

pub fn instance_profile_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:instance-profile/{name}")
}

/// The trust policy that lets EC2 instances take a role.
pub const EC2_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

impl crate::model::Cloud {
    /// Whether SSM can manage the instance: launched with an instance profile
    /// whose role has the SSM core policy.
    pub fn ssm_capable(&self, instance: &crate::model::Instance) -> bool {
        let Some(profile) = instance
            .iam_instance_profile
            .as_deref()
            .and_then(|arn| self.iam.instance_profile_by_arn(arn))
        else {
            return false;
        };
        profile
            .roles
            .iter()
            .filter_map(|r| self.iam.role(r))
            .any(|r| r.attached_policies.iter().any(|p| p == SSM_CORE_POLICY_ARN))
    }

    /// Whether the instance's SSM agent has registered by `now` (PingStatus Online):
    /// running, SSM-capable, and running for the registration time.
    pub fn ssm_online(&self, instance: &crate::model::Instance, now: Timestamp) -> bool {
        let registered_at =
            instance.settles_at + chrono::Duration::from_std(self.timings().ssm_registration).unwrap_or_default();
        instance.state.is_running() && now >= registered_at && self.ssm_capable(instance)
    }
}
