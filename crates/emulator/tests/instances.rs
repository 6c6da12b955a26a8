//! RunInstances and TerminateInstances as the real-AWS path uses them,
//! judged by aws-sdk-ec2, on a clock the test moves: launch into the default
//! subnet of a zone with tags, an instance profile and IMDSv2; `pending` →
//! `running`; terminated, its root volume goes and a data volume is detached.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_ec2::types::{
    Filter, HttpTokensState, IamInstanceProfileSpecification, InstanceMetadataOptionsRequest, InstanceStateName,
    InstanceType, Placement, ResourceType, Tag, TagSpecification, VolumeState,
};
use snaplab_emulator::Pace;
use snaplab_testkit::*;

const AL2023: &str = "ami-0a17023c0ffee8601";

fn run_tag(kind: ResourceType) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key("snaplab:run").value("run-1").build())
        .build()
}

async fn launch(lab: &Lab, zone: &str) -> String {
    let out = lab
        .ec2
        .run_instances()
        .image_id(AL2023)
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .placement(Placement::builder().availability_zone(zone).build())
        .iam_instance_profile(IamInstanceProfileSpecification::builder().name("snaplab-ssm").build())
        .metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .http_tokens(HttpTokensState::Required)
                .build(),
        )
        .tag_specifications(run_tag(ResourceType::Instance))
        .tag_specifications(run_tag(ResourceType::Volume))
        .send()
        .await
        .unwrap();
    let i = &out.instances()[0];
    assert_eq!(i.state().and_then(|s| s.name()), Some(&InstanceStateName::Pending));
    i.instance_id().unwrap().to_string()
}

async fn instance(lab: &Lab, id: &str) -> aws_sdk_ec2::types::Instance {
    let out = lab.ec2.describe_instances().instance_ids(id).send().await.unwrap();
    out.reservations()[0].instances()[0].clone()
}

#[tokio::test]
async fn a_launched_instance_is_pending_then_running_in_the_zone_it_was_asked_for() {
    let lab = Lab::manual(Pace::Demo).await;
    let id = launch(&lab, "us-east-1b").await;
    let i = instance(&lab, &id).await;
    assert_eq!(i.state().and_then(|s| s.name()), Some(&InstanceStateName::Pending));
    assert_eq!(i.placement().and_then(|p| p.availability_zone()), Some("us-east-1b"));
    assert_eq!(
        i.subnet_id(),
        Some("subnet-0de7a017c0ffee0b1"),
        "the zone's default subnet"
    );
    assert_eq!(i.vpc_id(), Some("vpc-0de7a017c0ffee001"));
    assert_eq!(
        i.iam_instance_profile().and_then(|p| p.arn()),
        Some("arn:aws:iam::000000000000:instance-profile/snaplab-ssm")
    );
    assert_eq!(
        i.metadata_options().and_then(|m| m.http_tokens()),
        Some(&HttpTokensState::Required)
    );
    assert_eq!(i.tags()[0].key(), Some("snaplab:run"));
    let root = i.block_device_mappings()[0]
        .ebs()
        .and_then(|e| e.volume_id())
        .unwrap()
        .to_string();
    assert_eq!(
        lab.volume(&root).await.tags()[0].value(),
        Some("run-1"),
        "volume tags at launch"
    );

    lab.advance(Duration::from_secs(3));
    let i = instance(&lab, &id).await;
    assert_eq!(i.state().and_then(|s| s.name()), Some(&InstanceStateName::Running));
}

#[tokio::test]
async fn terminating_deletes_the_root_volume_and_detaches_the_others() {
    let lab = Lab::manual(Pace::Demo).await;
    let id = launch(&lab, "us-east-1a").await;
    lab.advance(Duration::from_secs(3));
    let data = lab.new_volume("us-east-1a", 1).await;
    lab.ec2
        .attach_volume()
        .volume_id(&data)
        .instance_id(&id)
        .device("/dev/sdf")
        .send()
        .await
        .unwrap();
    lab.advance(Duration::from_secs(1));
    let root = instance(&lab, &id)
        .await
        .block_device_mappings()
        .iter()
        .find(|m| m.device_name() == Some("/dev/xvda"))
        .and_then(|m| m.ebs()?.volume_id())
        .unwrap()
        .to_string();

    let out = lab.ec2.terminate_instances().instance_ids(&id).send().await.unwrap();
    let change = &out.terminating_instances()[0];
    assert_eq!(
        change.previous_state().and_then(|s| s.name()),
        Some(&InstanceStateName::Running)
    );
    assert_eq!(
        change.current_state().and_then(|s| s.name()),
        Some(&InstanceStateName::ShuttingDown)
    );
    lab.advance(Duration::from_secs(2));
    let i = instance(&lab, &id).await;
    assert_eq!(i.state().and_then(|s| s.name()), Some(&InstanceStateName::Terminated));
    assert_eq!(
        code(lab.ec2.describe_volumes().volume_ids(&root).send().await),
        "InvalidVolume.NotFound"
    );
    assert_eq!(lab.volume(&data).await.state(), Some(&VolumeState::Available));

    // Still listed for a while, then gone, as AWS does.
    let running = lab
        .ec2
        .describe_instances()
        .filters(Filter::builder().name("instance-state-name").values("running").build())
        .send()
        .await
        .unwrap();
    assert!(running
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .all(|i| i.instance_id() != Some(id.as_str())));
    lab.advance(Duration::from_secs(3601));
    assert_eq!(
        code(lab.ec2.describe_instances().instance_ids(&id).send().await),
        "InvalidInstanceID.NotFound"
    );
}

#[tokio::test]
async fn run_instances_checks_everything_before_launching_and_dry_run_launches_nothing() {
    let lab = Lab::manual(Pace::Instant).await;
    let base = || {
        lab.ec2
            .run_instances()
            .image_id(AL2023)
            .instance_type(InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
    };
    assert_eq!(code(base().dry_run(true).send().await), "DryRunOperation");
    assert_eq!(
        code(base().image_id("ami-0a17023c0ffee8609").send().await),
        "InvalidAMIID.NotFound"
    );
    assert_eq!(code(base().image_id("ami-xyz").send().await), "InvalidAMIID.Malformed");
    assert_eq!(
        code(base().instance_type(InstanceType::T4gNano).send().await),
        "InvalidParameterValue",
        "an arm64 type with an x86_64 image"
    );
    assert_eq!(
        code(
            base()
                .iam_instance_profile(IamInstanceProfileSpecification::builder().name("missing").build())
                .send()
                .await
        ),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(base().subnet_id("subnet-0de7a017c0ffee991").send().await),
        "InvalidSubnetID.NotFound"
    );
    assert_eq!(
        code(
            base()
                .placement(Placement::builder().availability_zone("us-east-1z").build())
                .send()
                .await
        ),
        "InvalidZone.NotFound"
    );
    assert_eq!(
        code(base().min_count(21).max_count(21).send().await),
        "InstanceLimitExceeded"
    );
    let all = lab.ec2.describe_instances().send().await.unwrap();
    let count: usize = all.reservations().iter().map(|r| r.instances().len()).sum();
    assert_eq!(count, 1, "only the seeded SecureCart server: nothing was launched");
}

#[tokio::test]
async fn the_default_vpc_has_a_default_subnet_in_every_zone() {
    let lab = Lab::manual(Pace::Instant).await;
    let vpcs = lab
        .ec2
        .describe_vpcs()
        .filters(Filter::builder().name("is-default").values("true").build())
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1);
    assert_eq!(vpcs.vpcs()[0].is_default(), Some(true));
    let subnets = lab
        .ec2
        .describe_subnets()
        .filters(Filter::builder().name("default-for-az").values("true").build())
        .filters(Filter::builder().name("availability-zone").values("us-east-1c").build())
        .send()
        .await
        .unwrap();
    assert_eq!(subnets.subnets().len(), 1);
    assert_eq!(subnets.subnets()[0].cidr_block(), Some("172.31.32.0/20"));
    assert_eq!(
        code(
            lab.ec2
                .describe_subnets()
                .subnet_ids("subnet-0de7a017c0ffee991")
                .send()
                .await
        ),
        "InvalidSubnetID.NotFound"
    );
}

#[tokio::test]
async fn every_type_it_launches_is_offered_in_every_zone() {
    let lab = Lab::manual(Pace::Instant).await;
    let out = lab
        .ec2
        .describe_instance_type_offerings()
        .location_type(aws_sdk_ec2::types::LocationType::AvailabilityZone)
        .filters(Filter::builder().name("instance-type").values("t4g.*").build())
        .send()
        .await
        .unwrap();
    let offered: Vec<(String, String)> = out
        .instance_type_offerings()
        .iter()
        .map(|o| {
            (
                o.instance_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                o.location().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        offered.contains(&("t4g.nano".into(), "us-east-1c".into())),
        "{offered:?}"
    );
    assert!(offered.iter().all(|(t, _)| t.starts_with("t4g.")));
    assert_eq!(
        code(
            lab.ec2
                .describe_instance_type_offerings()
                .location_type("galaxy".into())
                .send()
                .await
        ),
        "InvalidParameterValue"
    );
}
