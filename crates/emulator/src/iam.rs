//! IAM, as far as the real-AWS path goes: whether the instance profile it
//! launches with exists, whether its role has the SSM core policy, and
//! creating them (`snaplab preflight --create-instance-profile`). IAM
//! changes are not kept across a restart of a `--state-dir` emulator.

use crate::clock::{iso8601, Timestamp};
use crate::error::{ServiceError, ServiceErrorCode, ServiceResult};
use crate::model::iam::{instance_profile_arn, role_arn, InstanceProfile, Role};
use crate::model::Cloud;
use crate::service_error;
use crate::sts::unknown_action;
use crate::wire::query::QueryParams;
use crate::wire::xml::XmlWriter;

pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

type Handler = fn(&mut Cloud, &QueryParams, Timestamp) -> ServiceResult<XmlWriter>;

/// Every IAM action answered here.
pub const ACTIONS: &[(&str, Handler)] = &[
    ("GetInstanceProfile", get_instance_profile),
    ("GetRole", get_role),
    ("ListAttachedRolePolicies", list_attached_role_policies),
    ("CreateRole", create_role),
    ("AttachRolePolicy", attach_role_policy),
    ("CreateInstanceProfile", create_instance_profile),
    ("AddRoleToInstanceProfile", add_role_to_instance_profile),
];

pub fn handle(cloud: &mut Cloud, params: &QueryParams, now: Timestamp, request_id: &str) -> ServiceResult<String> {
    let action = params.str("Action").unwrap_or_default();
    let Some((name, handler)) = ACTIONS.iter().find(|(n, _)| *n == action) else {
        let names: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
        return Err(unknown_action("iam", action, &names));
    };
    Ok(handler(cloud, params, now)?.finish_query(name, request_id))
}

fn required<'a>(params: &'a QueryParams, name: &str) -> ServiceResult<&'a str> {
    params
        .str(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ServiceError::missing(ServiceErrorCode::ValidationError, name))
}

fn role<'a>(cloud: &'a Cloud, name: &str) -> ServiceResult<&'a Role> {
    cloud
        .iam
        .role(name)
        .ok_or_else(|| service_error!(NoSuchEntity, "The role with name {name} cannot be found."))
}

fn role_fields(w: &mut XmlWriter, cloud: &Cloud, r: &Role) {
    w.leaf("Path", "/")
        .leaf("RoleName", &r.name)
        .leaf("RoleId", &r.id)
        .leaf("Arn", role_arn(cloud.account_id(), &r.name))
        .leaf("CreateDate", iso8601(&r.create_date))
        .leaf("AssumeRolePolicyDocument", urlencode(&r.assume_role_policy));
}

/// IAM returns policy documents URL-encoded.
fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn get_instance_profile(cloud: &mut Cloud, params: &QueryParams, _now: Timestamp) -> ServiceResult<XmlWriter> {
    let name = required(params, "InstanceProfileName")?;
    let profile = cloud
        .iam
        .instance_profile(name)
        .ok_or_else(|| service_error!(NoSuchEntity, "Instance Profile {name} cannot be found."))?;
    let mut w = XmlWriter::query_response("GetInstanceProfile", NAMESPACE);
    profile_fields(&mut w, cloud, profile);
    Ok(w)
}

/// The `InstanceProfile` shape, its roles in full.
fn profile_fields(w: &mut XmlWriter, cloud: &Cloud, profile: &InstanceProfile) {
    w.open("InstanceProfile")
        .leaf("Path", "/")
        .leaf("InstanceProfileName", &profile.name)
        .leaf("InstanceProfileId", &profile.id)
        .leaf("Arn", instance_profile_arn(cloud.account_id(), &profile.name))
        .leaf("CreateDate", iso8601(&profile.create_date));
    w.open("Roles");
    for r in profile.roles.iter().filter_map(|n| cloud.iam.role(n)) {
        w.open("member");
        role_fields(w, cloud, r);
        w.close("member");
    }
    w.close("Roles").close("InstanceProfile");
}

fn get_role(cloud: &mut Cloud, params: &QueryParams, _now: Timestamp) -> ServiceResult<XmlWriter> {
    let r = role(cloud, required(params, "RoleName")?)?;
    let mut w = XmlWriter::query_response("GetRole", NAMESPACE);
    w.open("Role");
    role_fields(&mut w, cloud, r);
    w.close("Role");
    Ok(w)
}

fn list_attached_role_policies(cloud: &mut Cloud, params: &QueryParams, _now: Timestamp) -> ServiceResult<XmlWriter> {
    let r = role(cloud, required(params, "RoleName")?)?;
    let mut w = XmlWriter::query_response("ListAttachedRolePolicies", NAMESPACE);
    w.open("AttachedPolicies");
    for arn in &r.attached_policies {
        w.open("member")
            .leaf("PolicyName", arn.rsplit('/').next().unwrap_or(arn))
            .leaf("PolicyArn", arn)
            .close("member");
    }
    w.close("AttachedPolicies").leaf("IsTruncated", false);
    Ok(w)
}

/// IAM's ids: a four-letter prefix and 17 characters from the name.
fn iam_id(prefix: &str, name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{prefix}{h:017X}")
}

fn create_role(cloud: &mut Cloud, params: &QueryParams, now: Timestamp) -> ServiceResult<XmlWriter> {
    let name = required(params, "RoleName")?.to_string();
    let policy = required(params, "AssumeRolePolicyDocument")?.to_string();
    if cloud.iam.role(&name).is_some() {
        return Err(service_error!(
            EntityAlreadyExists,
            "Role with name {name} already exists."
        ));
    }
    let role = Role {
        id: iam_id("AROA", &name),
        name,
        create_date: now,
        assume_role_policy: policy,
        attached_policies: Vec::new(),
    };
    let mut w = XmlWriter::query_response("CreateRole", NAMESPACE);
    w.open("Role");
    role_fields(&mut w, cloud, &role);
    w.close("Role");
    cloud.iam.roles.push(role);
    Ok(w)
}

/// The managed policies the emulator knows (attaching any other is NoSuchEntity).
const MANAGED_POLICIES: &[&str] = &[crate::model::iam::SSM_CORE_POLICY_ARN];

fn attach_role_policy(cloud: &mut Cloud, params: &QueryParams, _now: Timestamp) -> ServiceResult<XmlWriter> {
    let name = required(params, "RoleName")?.to_string();
    let arn = required(params, "PolicyArn")?.to_string();
    role(cloud, &name)?;
    if !MANAGED_POLICIES.contains(&arn.as_str()) {
        return Err(service_error!(
            NoSuchEntity,
            "Policy {arn} does not exist or is not attachable."
        ));
    }
    if let Some(r) = cloud.iam.roles.iter_mut().find(|r| r.name == name) {
        if !r.attached_policies.contains(&arn) {
            r.attached_policies.push(arn);
        }
    }
    Ok(XmlWriter::query_response("AttachRolePolicy", NAMESPACE))
}

fn create_instance_profile(cloud: &mut Cloud, params: &QueryParams, now: Timestamp) -> ServiceResult<XmlWriter> {
    let name = required(params, "InstanceProfileName")?.to_string();
    if cloud.iam.instance_profile(&name).is_some() {
        return Err(service_error!(
            EntityAlreadyExists,
            "Instance Profile {name} already exists."
        ));
    }
    let profile = InstanceProfile {
        id: iam_id("AIPA", &name),
        name,
        create_date: now,
        roles: Vec::new(),
    };
    let mut w = XmlWriter::query_response("CreateInstanceProfile", NAMESPACE);
    profile_fields(&mut w, cloud, &profile);
    cloud.iam.instance_profiles.push(profile);
    Ok(w)
}

fn add_role_to_instance_profile(cloud: &mut Cloud, params: &QueryParams, _now: Timestamp) -> ServiceResult<XmlWriter> {
    let name = required(params, "InstanceProfileName")?.to_string();
    let role_name = required(params, "RoleName")?.to_string();
    role(cloud, &role_name)?;
    let profile = cloud
        .iam
        .instance_profiles
        .iter_mut()
        .find(|p| p.name == name)
        .ok_or_else(|| service_error!(NoSuchEntity, "Instance Profile {name} cannot be found."))?;
    if !profile.roles.is_empty() {
        return Err(service_error!(
            LimitExceeded,
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"
        ));
    }
    profile.roles.push(role_name);
    Ok(XmlWriter::query_response("AddRoleToInstanceProfile", NAMESPACE))
}
