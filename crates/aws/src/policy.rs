//! The least IAM policy a real-AWS run needs, statement by statement —
//! scoped by the `snaplab:run` tag where AWS supports it (request tags on
//! creation, resource tags on everything after), `*` where it must be
//! (`Describe*`). docs/real-aws.md prints it from here (a test keeps them
//! equal), and a denied preflight check shows the statement that allows it.

use serde_json::{json, Value};

/// One statement and the actions it allows.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: &'static str,
    pub actions: &'static [&'static str],
    pub resources: &'static [&'static str],
    pub condition: Option<fn() -> Value>,
}

fn run_tag_requested() -> Value {
    json!({ "Null": { "aws:RequestTag/snaplab:run": "false" } })
}

fn run_tag_present() -> Value {
    json!({ "Null": { "aws:ResourceTag/snaplab:run": "false" } })
}

fn tagging_on_create() -> Value {
    json!({ "StringEquals": { "ec2:CreateAction": ["RunInstances", "CreateVolume", "CreateSnapshot"] } })
}

fn passed_to_ec2() -> Value {
    json!({ "StringEquals": { "iam:PassedToService": "ec2.amazonaws.com" } })
}

fn ssm_run_tag() -> Value {
    json!({ "Null": { "ssm:resourceTag/snaplab:run": "false" } })
}

pub const STATEMENTS: &[Statement] = &[
    Statement {
        sid: "SeeWhatIsThere",
        actions: &[
            "ec2:DescribeInstances",
            "ec2:DescribeVolumes",
            "ec2:DescribeSnapshots",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "ec2:DescribeInstanceTypeOfferings",
            "ec2:DescribeAvailabilityZones",
            "ssm:DescribeInstanceInformation",
            "ssm:GetCommandInvocation",
        ],
        resources: &["*"],
        condition: None,
    },
    Statement {
        sid: "LaunchFromPublicImagesIntoDefaultSubnets",
        actions: &["ec2:RunInstances"],
        resources: &[
            "arn:aws:ec2:*::image/*",
            "arn:aws:ec2:*:*:subnet/*",
            "arn:aws:ec2:*:*:network-interface/*",
            "arn:aws:ec2:*:*:security-group/*",
        ],
        condition: None,
    },
    Statement {
        sid: "CreateOnlyTaggedResources",
        actions: &["ec2:RunInstances", "ec2:CreateVolume", "ec2:CreateSnapshot"],
        resources: &[
            "arn:aws:ec2:*:*:instance/*",
            "arn:aws:ec2:*:*:volume/*",
            "arn:aws:ec2:*::snapshot/*",
        ],
        condition: Some(run_tag_requested),
    },
    Statement {
        sid: "TagOnlyWhileCreating",
        actions: &["ec2:CreateTags"],
        resources: &[
            "arn:aws:ec2:*:*:instance/*",
            "arn:aws:ec2:*:*:volume/*",
            "arn:aws:ec2:*::snapshot/*",
        ],
        condition: Some(tagging_on_create),
    },
    Statement {
        sid: "ChangeOnlyTheRunsOwnResources",
        actions: &[
            "ec2:AttachVolume",
            "ec2:DetachVolume",
            "ec2:CreateSnapshot",
            "ec2:DeleteVolume",
            "ec2:DeleteSnapshot",
            "ec2:TerminateInstances",
        ],
        resources: &[
            "arn:aws:ec2:*:*:instance/*",
            "arn:aws:ec2:*:*:volume/*",
            "arn:aws:ec2:*::snapshot/*",
        ],
        condition: Some(run_tag_present),
    },
    Statement {
        sid: "LaunchWithTheSsmInstanceProfile",
        actions: &["iam:PassRole"],
        resources: &["arn:aws:iam::*:role/snaplab-ssm"],
        condition: Some(passed_to_ec2),
    },
    Statement {
        sid: "CheckTheSsmInstanceProfile",
        actions: &["iam:GetInstanceProfile", "iam:ListAttachedRolePolicies"],
        resources: &[
            "arn:aws:iam::*:instance-profile/snaplab-ssm",
            "arn:aws:iam::*:role/snaplab-ssm",
        ],
        condition: None,
    },
    Statement {
        sid: "CreateTheSsmInstanceProfileOnce",
        actions: &[
            "iam:CreateRole",
            "iam:AttachRolePolicy",
            "iam:CreateInstanceProfile",
            "iam:AddRoleToInstanceProfile",
        ],
        resources: &[
            "arn:aws:iam::*:instance-profile/snaplab-ssm",
            "arn:aws:iam::*:role/snaplab-ssm",
        ],
        condition: None,
    },
    Statement {
        sid: "FindTheLatestAmazonLinux",
        actions: &["ssm:GetParameter"],
        resources: &["arn:aws:ssm:*::parameter/aws/service/ami-amazon-linux-latest/*"],
        condition: None,
    },
    Statement {
        sid: "RunShellCommandsOnTheRunsInstance",
        actions: &["ssm:SendCommand"],
        resources: &["arn:aws:ec2:*:*:instance/*"],
        condition: Some(ssm_run_tag),
    },
    Statement {
        sid: "RunShellCommandsWithTheStandardDocument",
        actions: &["ssm:SendCommand"],
        resources: &["arn:aws:ssm:*::document/AWS-RunShellScript"],
        condition: None,
    },
    Statement {
        sid: "ReadTheRunsSnapshotBlocks",
        actions: &[
            "ebs:ListSnapshotBlocks",
            "ebs:GetSnapshotBlock",
            "ebs:ListChangedBlocks",
        ],
        resources: &["arn:aws:ec2:*::snapshot/*"],
        condition: Some(run_tag_present),
    },
];

impl Statement {
    pub fn to_json(&self) -> Value {
        let mut s = json!({
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": self.actions,
            "Resource": self.resources,
        });
        if let (Some(c), Some(obj)) = (self.condition, s.as_object_mut()) {
            obj.insert("Condition".to_string(), c());
        }
        s
    }
}

/// The whole policy document.
pub fn document() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": STATEMENTS.iter().map(Statement::to_json).collect::<Vec<_>>(),
    })
}

/// The statements that allow `action` (e.g. `ec2:RunInstances`).
pub fn statements_for(action: &str) -> Vec<Value> {
    STATEMENTS
        .iter()
        .filter(|s| s.actions.contains(&action))
        .map(Statement::to_json)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mutating_action_is_scoped_by_the_run_tag() {
        for action in [
            "ec2:CreateVolume",
            "ec2:AttachVolume",
            "ec2:DeleteVolume",
            "ec2:TerminateInstances",
            "ebs:GetSnapshotBlock",
        ] {
            let found = statements_for(action);
            assert!(!found.is_empty(), "{action} is allowed somewhere");
            for s in found {
                let text = s["Condition"].to_string();
                assert!(text.contains("snaplab:run"), "{action}: {s}");
            }
        }
        assert!(
            statements_for("ec2:DeleteTags").is_empty(),
            "never needed, never allowed"
        );
    }

    #[test]
    fn run_instances_needs_both_its_statements() {
        let sids: Vec<String> = statements_for("ec2:RunInstances")
            .iter()
            .map(|s| s["Sid"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(
            sids,
            ["LaunchFromPublicImagesIntoDefaultSubnets", "CreateOnlyTaggedResources"]
        );
    }
}
