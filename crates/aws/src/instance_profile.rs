//! Creating the instance profile a run launches its instance with, when the
//! learner asks (`snaplab preflight --create-instance-profile`, or yes to
//! the offer before a run): a role EC2 can take, the SSM core policy
//! attached, an instance profile holding it. What already exists is kept.

use crate::account::Account;
use crate::error::AwsError;
use crate::plan::SSM_CORE_POLICY_ARN;

/// The trust policy that lets EC2 instances take the role.
const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Already there: fine, it is what we wanted.
fn unless_exists<T>(result: Result<T, AwsError>) -> Result<bool, AwsError> {
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("EntityAlreadyExists") || e.code() == Some("LimitExceeded") => Ok(false),
        Err(e) => Err(e),
    }
}

/// Creates role and instance profile `name` (each part only if missing);
/// returns one line per thing created.
pub async fn create(account: &Account, name: &str) -> Result<Vec<String>, AwsError> {
    let iam = account.iam();
    let mut done = Vec::new();
    let role = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(EC2_TRUST)
        .description("Lets snaplab's lab instances be managed by SSM (snaplab preflight --create-instance-profile)")
        .send()
        .await
        .map_err(|e| account.classify("iam:CreateRole", e));
    if unless_exists(role)? {
        done.push(format!("created role {name}, which EC2 instances can take"));
    }
    iam.attach_role_policy()
        .role_name(name)
        .policy_arn(SSM_CORE_POLICY_ARN)
        .send()
        .await
        .map_err(|e| account.classify("iam:AttachRolePolicy", e))?;
    done.push(format!("attached AmazonSSMManagedInstanceCore to {name}"));
    let profile = iam
        .create_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .map_err(|e| account.classify("iam:CreateInstanceProfile", e));
    if unless_exists(profile)? {
        done.push(format!("created instance profile {name}"));
    }
    // A profile holds at most one role: LimitExceeded means it holds one already.
    let added = iam
        .add_role_to_instance_profile()
        .instance_profile_name(name)
        .role_name(name)
        .send()
        .await
        .map_err(|e| account.classify("iam:AddRoleToInstanceProfile", e));
    if unless_exists(added)? {
        done.push(format!("put role {name} in instance profile {name}"));
    }
    Ok(done)
}
