//! Preflight: before a real-AWS run creates anything, who the learner is,
//! where the run would go, whether every call it makes is allowed, and what
//! it would cost. EC2 calls are made with `DryRun` and the run's own
//! parameters and tags (`DryRunOperation`: allowed; `UnauthorizedOperation`:
//! denied). Calls on resources that do not exist yet use placeholder ids;
//! services without DryRun (SSM SendCommand, the EBS direct APIs) are asked
//! about placeholders too: AWS authorises a request before it looks for its
//! resource, so "no such resource" means "not denied". Nothing is created.

use aws_sdk_ec2::types::{
    Filter, HttpTokensState, IamInstanceProfileSpecification, InstanceMetadataOptionsRequest, InstanceType, Placement,
    ResourceType, Tag, TagSpecification, VolumeType,
};

use crate::account::{Account, Identity};
use crate::error::AwsError;
use crate::plan::{RunPlan, LAB_TAG, RUN_TAG, SSM_CORE_POLICY_ARN};
use crate::policy;
use crate::prices::{self, Cost};

const PLACEHOLDER_INSTANCE: &str = "i-00000000000000000";
const PLACEHOLDER_VOLUME: &str = "vol-00000000000000000";
const PLACEHOLDER_SNAPSHOT: &str = "snap-00000000000000000";
const PLACEHOLDER_COMMAND: &str = "00000000-0000-0000-0000-000000000000";
/// The tag value preflight's DryRuns carry (nothing is created with it).
const PREFLIGHT_RUN: &str = "preflight";

/// "No such resource" answers to a placeholder: the request got past authorisation.
const PLACEHOLDER_ABSENT: &[&str] = &[
    "InvalidVolume.NotFound",
    "InvalidSnapshot.NotFound",
    "InvalidInstanceID.NotFound",
    "InvalidAttachment.NotFound",
    "InvalidInstanceId",
    "InvocationDoesNotExist",
    "InvalidCommandId",
    "ResourceNotFoundException",
];

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Check {
    /// `service:Action`.
    pub action: String,
    /// true: allowed (or the prerequisite is there); false: denied (or missing); null: could not tell.
    pub allowed: Option<bool>,
    pub detail: String,
    /// For a denied action: the policy statements that would allow it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Preflight {
    pub account: String,
    pub arn: String,
    pub region: String,
    pub zone: Option<String>,
    /// Where calls went when not to AWS itself (`null`: AWS).
    pub endpoint: Option<String>,
    pub checks: Vec<Check>,
    pub estimated_cost_usd: f64,
    pub cost: Cost,
    pub plan: RunPlan,
    pub prices_checked: String,
}

impl Preflight {
    /// Everything the run needs is allowed and there.
    pub fn ready(&self) -> bool {
        self.checks.iter().all(|c| c.allowed == Some(true))
    }

    /// The one thing wrong is the instance profile (everything else
    /// allowed): creating it is all the learner has to do.
    pub fn only_instance_profile_missing(&self) -> bool {
        let failing: Vec<&str> = self
            .checks
            .iter()
            .filter(|c| c.allowed != Some(true))
            .map(|c| c.action.as_str())
            .collect();
        failing.first() == Some(&"iam:GetInstanceProfile") && failing.iter().skip(1).all(|a| *a == "ec2:RunInstances")
    }

    /// What the learner agrees to before anything is created: the
    /// resources, where, how they are tagged and deleted, the cost (the CLI
    /// asks it on the terminal, the app in its dialog).
    pub fn consent_text(&self) -> String {
        let mut out = format!(
            "snaplab will create, in AWS account {} ({}), region {}, zone {}:\n",
            self.account,
            self.arn,
            self.region,
            self.zone.as_deref().unwrap_or("?")
        );
        for r in self.plan.resources() {
            out.push_str(&format!("  - {r}\n"));
        }
        out.push_str(&format!(
            "Everything is tagged {RUN_TAG}=<run id> and {LAB_TAG}={} at creation and deleted when the run ends, \
             also if it fails or is stopped (else `snaplab cleanup --aws` finds it by its tags).\n\
             Estimated cost: ${:.4} for about {} minutes.\n",
            self.plan.lab_id, self.estimated_cost_usd, self.plan.expected_minutes
        ));
        if let Some(endpoint) = &self.endpoint {
            out.push_str(&format!("Calls go to {endpoint}, not to AWS itself.\n"));
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightOptions {
    pub lab_id: String,
    pub instance_profile: String,
}

/// What an answer says: what is there (`Ok`), or what is missing for the
/// run although the call was allowed (`Err`: the check fails with it).
type Finding = Result<String, String>;

/// A check from a call's result: allowed (reading the answer with `read`),
/// denied (with the statements that would allow it), or could not tell.
fn judged<T>(action: &str, result: Result<T, AwsError>, read: impl FnOnce(T) -> Finding) -> Check {
    let check = |allowed, detail| Check {
        action: action.to_string(),
        allowed,
        detail,
        statements: Vec::new(),
    };
    match result {
        Ok(v) => match read(v) {
            Ok(found) => check(Some(true), found),
            Err(missing) => check(Some(false), missing),
        },
        Err(e) => match e.code() {
            Some("DryRunOperation") => check(Some(true), "allowed (DryRun)".to_string()),
            Some(c) if PLACEHOLDER_ABSENT.contains(&c) => check(
                Some(true),
                format!("not denied: AWS looked for the placeholder resource ({c})"),
            ),
            Some(c) if e.is_denied() => Check {
                statements: policy::statements_for(action),
                ..check(Some(false), format!("denied ({c}): {}", e.message()))
            },
            _ => check(None, format!("could not tell: {e}")),
        },
    }
}

/// Sends a request and judges the answer as allowed or not (its content unread).
macro_rules! probe {
    ($account:expr, $action:literal, $req:expr) => {
        judged(
            $action,
            $req.send().await.map(drop).map_err(|e| $account.classify($action, e)),
            |()| Ok("allowed".to_string()),
        )
    };
}

fn tags(kind: ResourceType, plan: &RunPlan) -> TagSpecification {
    plan.tags(PREFLIGHT_RUN)
        .iter()
        .fold(TagSpecification::builder().resource_type(kind), |b, (k, v)| {
            b.tags(Tag::builder().key(*k).value(*v).build())
        })
        .build()
}

/// Checks everything a run of `options.lab_id` needs in `account`. Errors
/// only when nothing can be checked (no credentials, nothing answers).
pub async fn preflight(account: &Account, options: &PreflightOptions) -> Result<Preflight, AwsError> {
    let Identity { account: id, arn } = account.identity().await?;
    let table = prices::table().map_err(|e| AwsError::Other {
        action: "pricing".into(),
        detail: e.to_string(),
    })?;
    let (prices, region_priced) = table.for_region(&account.region);
    let (instance_type, hourly) = prices.cheapest_instance().unwrap_or(("t3.micro", 0.0104));
    let mut plan = RunPlan {
        instance_type_reason: format!(
            "the cheapest type in snaplab's price table (${hourly}/h{}); it runs Amazon Linux 2023, the SSM agent and SecureCart's Python writer in its 0.5 GiB",
            if region_priced { "" } else { " in us-east-1" }
        ),
        ..RunPlan::new(&options.lab_id, &account.region, instance_type, &options.instance_profile)
    };
    let architecture = plan.architecture;
    let mut checks = Vec::new();

    let ec2 = account.ec2();
    let subnets = ec2
        .describe_subnets()
        .filters(Filter::builder().name("default-for-az").values("true").build())
        .send()
        .await
        .map_err(|e| account.classify("ec2:DescribeSubnets", e));
    let mut defaults: Vec<(String, String)> = Vec::new();
    checks.push(judged("ec2:DescribeSubnets", subnets, |out| {
        defaults = out
            .subnets()
            .iter()
            .filter_map(|s| Some((s.availability_zone()?.to_string(), s.subnet_id()?.to_string())))
            .collect();
        defaults.sort();
        match defaults.len() {
            0 => Err(format!(
                "no default VPC in {}: create one with `aws ec2 create-default-vpc --region {}`, or choose another region",
                account.region, account.region
            )),
            n => Ok(format!("default subnets in {n} zone(s)")),
        }
    }));
    checks.push(zone_check(account, &ec2, &mut plan, &defaults).await);

    let ssm = account.ssm();
    let parameter = ssm
        .get_parameter()
        .name(plan.image_parameter)
        .send()
        .await
        .map_err(|e| account.classify("ssm:GetParameter", e));
    checks.push(judged("ssm:GetParameter", parameter, |out| {
        plan.image_id = out.parameter().and_then(|p| p.value()).map(String::from);
        Ok(format!(
            "Amazon Linux 2023 ({architecture}) is {}",
            plan.image_id.as_deref().unwrap_or("unknown")
        ))
    }));

    checks.push(instance_profile_check(account, &options.instance_profile).await);
    checks.extend(ec2_checks(account, &ec2, &plan).await);
    checks.extend(ssm_and_ebs_checks(account).await);

    let cost = prices::cost(prices, region_priced, &plan.usage());
    Ok(Preflight {
        account: id,
        arn,
        region: account.region.clone(),
        zone: plan.zone.clone(),
        endpoint: account.endpoint().map(String::from),
        checks,
        estimated_cost_usd: (cost.total_usd * 10_000.0).ceil() / 10_000.0,
        cost,
        plan,
        prices_checked: table.checked.clone(),
    })
}

/// The zone: the first with a default subnet where the instance type is offered.
async fn zone_check(
    account: &Account,
    ec2: &aws_sdk_ec2::Client,
    plan: &mut RunPlan,
    defaults: &[(String, String)],
) -> Check {
    let action = "ec2:DescribeInstanceTypeOfferings";
    let offered = ec2
        .describe_instance_type_offerings()
        .location_type(aws_sdk_ec2::types::LocationType::AvailabilityZone)
        .filters(
            Filter::builder()
                .name("instance-type")
                .values(&plan.instance_type)
                .build(),
        )
        .send()
        .await
        .map_err(|e| account.classify(action, e));
    judged(action, offered, |out| {
        let zones: Vec<&str> = out
            .instance_type_offerings()
            .iter()
            .filter_map(|o| o.location())
            .collect();
        let usable: Vec<&(String, String)> = defaults.iter().filter(|(z, _)| zones.contains(&z.as_str())).collect();
        let Some((zone, subnet)) = usable.first() else {
            return Err(format!(
                "{} is not offered in any zone of {} with a default subnet: choose another region",
                plan.instance_type, plan.region
            ));
        };
        plan.zone = Some(zone.clone());
        plan.subnet_id = Some(subnet.clone());
        Ok(format!(
            "{} is offered in {} of the {} zone(s) with a default subnet; the run uses {zone} ({subnet})",
            plan.instance_type,
            usable.len(),
            defaults.len()
        ))
    })
}

/// The instance profile exists and its role carries the SSM core policy.
async fn instance_profile_check(account: &Account, name: &str) -> Check {
    let iam = account.iam();
    let action = "iam:GetInstanceProfile";
    let found = iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .map_err(|e| account.classify(action, e));
    let missing = format!(
        "there is no instance profile named {name}: create it as docs/real-aws.md shows (a role EC2 can take, with {SSM_CORE_POLICY_ARN})"
    );
    let profile = match found {
        Ok(p) => p,
        Err(e) if e.code() == Some("NoSuchEntity") => return judged(action, Ok(()), |()| Err(missing)),
        Err(e) => return judged(action, Err::<(), _>(e), |()| Ok(String::new())),
    };
    let role = profile
        .instance_profile()
        .and_then(|p| p.roles().first())
        .map(|r| r.role_name().to_string());
    let Some(role) = role else {
        return judged(action, Ok(()), |()| {
            Err(format!(
                "instance profile {name} holds no role: add one with `aws iam add-role-to-instance-profile`"
            ))
        });
    };
    let attached = iam
        .list_attached_role_policies()
        .role_name(&role)
        .send()
        .await
        .map_err(|e| account.classify("iam:ListAttachedRolePolicies", e));
    // Judged as the call it was (a denial names its statements), shown as the profile check.
    let check = judged("iam:ListAttachedRolePolicies", attached, |out| {
        let has = out
            .attached_policies()
            .iter()
            .any(|p| p.policy_arn() == Some(SSM_CORE_POLICY_ARN));
        match has {
            true => Ok(format!("instance profile {name} (role {role}) has AmazonSSMManagedInstanceCore")),
            false => Err(format!(
                "role {role} lacks AmazonSSMManagedInstanceCore: `aws iam attach-role-policy --role-name {role} --policy-arn {SSM_CORE_POLICY_ARN}`"
            )),
        }
    });
    Check {
        action: action.into(),
        ..check
    }
}

/// Every EC2 call a run makes, with DryRun.
async fn ec2_checks(account: &Account, ec2: &aws_sdk_ec2::Client, plan: &RunPlan) -> Vec<Check> {
    let zone = plan.zone.clone().unwrap_or_else(|| format!("{}a", plan.region));
    let run_instances = match &plan.image_id {
        Some(image) => probe!(
            account,
            "ec2:RunInstances",
            ec2.run_instances()
                .dry_run(true)
                .image_id(image)
                .instance_type(InstanceType::from(plan.instance_type.as_str()))
                .min_count(1)
                .max_count(1)
                .placement(Placement::builder().availability_zone(&zone).build())
                .iam_instance_profile(
                    IamInstanceProfileSpecification::builder()
                        .name(&plan.instance_profile)
                        .build()
                )
                .metadata_options(
                    InstanceMetadataOptionsRequest::builder()
                        .http_tokens(HttpTokensState::Required)
                        .build()
                )
                .tag_specifications(tags(ResourceType::Instance, plan))
                .tag_specifications(tags(ResourceType::Volume, plan))
        ),
        None => Check {
            action: "ec2:RunInstances".into(),
            allowed: None,
            detail: "could not tell: the image to launch is unknown (see ssm:GetParameter)".into(),
            statements: Vec::new(),
        },
    };
    vec![
        run_instances,
        probe!(
            account,
            "ec2:CreateVolume",
            ec2.create_volume()
                .dry_run(true)
                .availability_zone(&zone)
                .size(plan.data_gib)
                .volume_type(VolumeType::Gp3)
                .tag_specifications(tags(ResourceType::Volume, plan))
        ),
        probe!(
            account,
            "ec2:CreateSnapshot",
            ec2.create_snapshot()
                .dry_run(true)
                .volume_id(PLACEHOLDER_VOLUME)
                .tag_specifications(tags(ResourceType::Snapshot, plan))
        ),
        probe!(
            account,
            "ec2:AttachVolume",
            ec2.attach_volume()
                .dry_run(true)
                .volume_id(PLACEHOLDER_VOLUME)
                .instance_id(PLACEHOLDER_INSTANCE)
                .device("/dev/sdf")
        ),
        probe!(
            account,
            "ec2:DetachVolume",
            ec2.detach_volume().dry_run(true).volume_id(PLACEHOLDER_VOLUME)
        ),
        probe!(
            account,
            "ec2:DeleteVolume",
            ec2.delete_volume().dry_run(true).volume_id(PLACEHOLDER_VOLUME)
        ),
        probe!(
            account,
            "ec2:DeleteSnapshot",
            ec2.delete_snapshot().dry_run(true).snapshot_id(PLACEHOLDER_SNAPSHOT)
        ),
        probe!(
            account,
            "ec2:TerminateInstances",
            ec2.terminate_instances()
                .dry_run(true)
                .instance_ids(PLACEHOLDER_INSTANCE)
        ),
        probe!(account, "ec2:DescribeInstances", ec2.describe_instances().dry_run(true)),
        probe!(account, "ec2:DescribeVolumes", ec2.describe_volumes().dry_run(true)),
        probe!(
            account,
            "ec2:DescribeSnapshots",
            ec2.describe_snapshots().dry_run(true).owner_ids("self")
        ),
    ]
}

/// SSM Run Command and the EBS direct reads: no DryRun, so placeholders.
async fn ssm_and_ebs_checks(account: &Account) -> Vec<Check> {
    let ssm = account.ssm();
    let ebs = account.ebs();
    vec![
        probe!(
            account,
            "ssm:DescribeInstanceInformation",
            ssm.describe_instance_information()
        ),
        probe!(
            account,
            "ssm:SendCommand",
            ssm.send_command()
                .instance_ids(PLACEHOLDER_INSTANCE)
                .document_name("AWS-RunShellScript")
                .parameters("commands", vec!["true".to_string()])
        ),
        probe!(
            account,
            "ssm:GetCommandInvocation",
            ssm.get_command_invocation()
                .command_id(PLACEHOLDER_COMMAND)
                .instance_id(PLACEHOLDER_INSTANCE)
        ),
        probe!(
            account,
            "ebs:ListSnapshotBlocks",
            ebs.list_snapshot_blocks().snapshot_id(PLACEHOLDER_SNAPSHOT)
        ),
        // The incremental lab compares its two snapshots.
        probe!(
            account,
            "ebs:ListChangedBlocks",
            ebs.list_changed_blocks().second_snapshot_id(PLACEHOLDER_SNAPSHOT)
        ),
    ]
}
