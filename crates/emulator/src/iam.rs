//! IAM, as far as the real-AWS path looks: whether the instance profile it
//! launches with exists, and whether its role has the SSM core policy.

use crate::clock::iso8601;
use crate::error::{ServiceError, ServiceErrorCode, ServiceResult};
use crate::model::iam::{instance_profile_arn, role_arn, Role};
use crate::model::Cloud;
use crate::service_error;
use crate::sts::unknown_action;
use crate::wire::query::QueryParams;
use crate::wire::xml::XmlWriter;

pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

type Handler = fn(&Cloud, &QueryParams) -> ServiceResult<XmlWriter>;

/// Every IAM action answered here (all read-only).
pub const ACTIONS: &[(&str, Handler)] = &[
    ("GetInstanceProfile", get_instance_profile),
    ("GetRole", get_role),
    ("ListAttachedRolePolicies", list_attached_role_policies),
];

pub fn handle(cloud: &Cloud, params: &QueryParams, request_id: &str) -> ServiceResult<String> {
    let action = params.str("Action").unwrap_or_default();
    let Some((name, handler)) = ACTIONS.iter().find(|(n, _)| *n == action) else {
        let names: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
        return Err(unknown_action("iam", action, &names));
    };
    Ok(handler(cloud, params)?.finish_query(name, request_id))
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

fn get_instance_profile(cloud: &Cloud, params: &QueryParams) -> ServiceResult<XmlWriter> {
    let name = required(params, "InstanceProfileName")?;
    let profile = cloud
        .iam
        .instance_profile(name)
        .ok_or_else(|| service_error!(NoSuchEntity, "Instance Profile {name} cannot be found."))?;
    let mut w = XmlWriter::query_response("GetInstanceProfile", NAMESPACE);
    w.open("InstanceProfile")
        .leaf("Path", "/")
        .leaf("InstanceProfileName", &profile.name)
        .leaf("InstanceProfileId", &profile.id)
        .leaf("Arn", instance_profile_arn(cloud.account_id(), &profile.name))
        .leaf("CreateDate", iso8601(&profile.create_date));
    w.open("Roles");
    for r in profile.roles.iter().filter_map(|n| cloud.iam.role(n)) {
        w.open("member");
        role_fields(&mut w, cloud, r);
        w.close("member");
    }
    w.close("Roles").close("InstanceProfile");
    Ok(w)
}

fn get_role(cloud: &Cloud, params: &QueryParams) -> ServiceResult<XmlWriter> {
    let r = role(cloud, required(params, "RoleName")?)?;
    let mut w = XmlWriter::query_response("GetRole", NAMESPACE);
    w.open("Role");
    role_fields(&mut w, cloud, r);
    w.close("Role");
    Ok(w)
}

fn list_attached_role_policies(cloud: &Cloud, params: &QueryParams) -> ServiceResult<XmlWriter> {
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
