//! Regions, accounts, encryption, copies, sharing and Multi-Attach, judged
//! by aws-sdk-ec2: a request acts in the region it is signed for and the
//! account its access key names (12 digits, LocalStack's rule).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_ec2::types::{
    CreateVolumePermission, CreateVolumePermissionModifications, Filter, InstanceType, OperationType, Placement,
    ResourceType, SnapshotAttributeName, SnapshotState, Tag, TagSpecification, VolumeType,
};
use aws_sdk_ec2::Client;
use snaplab_emulator::blocks::BLOCK_SIZE;
use snaplab_emulator::Pace;
use snaplab_testkit::*;

const OTHER_ACCOUNT: &str = "111122223333";
const THIRD_ACCOUNT: &str = "444455556666";

async fn snapshot_ids(ec2: &Client, owner: Option<&str>, restorable: Option<&str>) -> Vec<String> {
    let mut call = ec2.describe_snapshots();
    if let Some(o) = owner {
        call = call.owner_ids(o);
    }
    if let Some(r) = restorable {
        call = call.restorable_by_user_ids(r);
    }
    let out = call.send().await.unwrap();
    out.snapshots()
        .iter()
        .map(|s| s.snapshot_id().unwrap().to_string())
        .collect()
}

/// ModifySnapshotAttribute `add`, the aws CLI's way: `who` is an account
/// id, or `all` (public).
async fn share(ec2: &Client, snapshot: &str, who: &str) -> Result<(), String> {
    let call = ec2
        .modify_snapshot_attribute()
        .snapshot_id(snapshot)
        .operation_type(OperationType::Add);
    let call = if who == "all" {
        call.group_names(who)
    } else {
        call.user_ids(who)
    };
    call.send().await.map(drop).map_err(|e| {
        use aws_sdk_ec2::error::ProvideErrorMetadata;
        e.code().unwrap_or("no code").to_string()
    })
}

async fn volume_ids(ec2: &Client) -> Vec<String> {
    let out = ec2.describe_volumes().send().await.unwrap();
    out.volumes()
        .iter()
        .map(|v| v.volume_id().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_request_acts_in_the_region_it_is_signed_for() {
    let lab = Lab::start(Pace::Instant).await;
    let eu = client_in(lab.endpoint(), "eu-west-1", "test");
    let zones = eu.describe_availability_zones().send().await.unwrap();
    let names: Vec<&str> = zones
        .availability_zones()
        .iter()
        .filter_map(|z| z.zone_name())
        .collect();
    assert_eq!(names, ["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    assert_eq!(
        zones.availability_zones()[0].group_long_name(),
        Some("Europe (Ireland) 1")
    );
    let west = client_in(lab.endpoint(), "us-west-1", "test");
    let two = west.describe_availability_zones().send().await.unwrap();
    assert_eq!(two.availability_zones().len(), 2, "us-west-1 has two zones");

    // Another region's zone is refused as AWS refuses it.
    let wrong_zone = eu.create_volume().availability_zone("us-east-1a").size(1).send().await;
    assert_eq!(code(wrong_zone), "InvalidZone.NotFound");

    // The seeded SecureCart lives in the home region only.
    assert!(volume_ids(&eu).await.is_empty());
    let made = eu
        .create_volume()
        .availability_zone("eu-west-1b")
        .size(1)
        .send()
        .await
        .unwrap();
    let id = made.volume_id().unwrap().to_string();
    assert_eq!(volume_ids(&eu).await, [id.as_str()]);
    assert!(!volume_ids(&lab.ec2).await.contains(&id));
    assert!(volume_ids(&lab.ec2).await.contains(&DATA_VOLUME_ID.to_string()));
    assert_eq!(
        code(eu.describe_volumes().volume_ids(DATA_VOLUME_ID).send().await),
        "InvalidVolume.NotFound"
    );

    // A region AWS does not have.
    let nowhere = client_in(lab.endpoint(), "us-nowhere-1", "test");
    let (code, message) = failure(nowhere.describe_volumes().send().await);
    assert_eq!(code, "AuthFailure");
    assert!(message.contains("us-nowhere-1"), "{message}");
}

#[tokio::test]
async fn accounts_see_only_their_own_until_a_snapshot_is_shared() {
    let lab = Lab::start(Pace::Instant).await;
    let other = client_in(lab.endpoint(), "us-east-1", OTHER_ACCOUNT);
    let third = client_in(lab.endpoint(), "us-east-1", THIRD_ACCOUNT);
    let own = volume_ids(&other).await;
    assert!(
        own.len() == 2 && !own.iter().any(|v| v == DATA_VOLUME_ID || v == ROOT_VOLUME_ID),
        "every account has a SecureCart of its own, not the default account's: {own:?}"
    );
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.wait_completed(&snap).await;

    assert!(snapshot_ids(&other, None, None).await.is_empty());
    assert_eq!(
        code(other.describe_snapshots().snapshot_ids(&snap).send().await),
        "InvalidSnapshot.NotFound"
    );
    let restore = || {
        other
            .create_volume()
            .availability_zone("us-east-1a")
            .snapshot_id(&snap)
            .send()
    };
    assert_eq!(code(restore().await), "InvalidSnapshot.NotFound");

    // Shared with one account (the structured form).
    lab.ec2
        .modify_snapshot_attribute()
        .snapshot_id(&snap)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .create_volume_permission(
            CreateVolumePermissionModifications::builder()
                .add(CreateVolumePermission::builder().user_id(OTHER_ACCOUNT).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let attr = lab
        .ec2
        .describe_snapshot_attribute()
        .snapshot_id(&snap)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .unwrap();
    let users: Vec<&str> = attr
        .create_volume_permissions()
        .iter()
        .filter_map(|p| p.user_id())
        .collect();
    assert_eq!(users, [OTHER_ACCOUNT]);

    assert_eq!(snapshot_ids(&other, None, None).await, [snap.as_str()]);
    assert!(snapshot_ids(&other, Some("self"), None).await.is_empty());
    assert_eq!(snapshot_ids(&other, None, Some("self")).await, [snap.as_str()]);
    assert_eq!(snapshot_ids(&other, Some("000000000000"), None).await, [snap.as_str()]);
    let seen = other.describe_snapshots().snapshot_ids(&snap).send().await.unwrap();
    assert_eq!(seen.snapshots()[0].owner_id(), Some("000000000000"));
    let restored = restore().await.unwrap();
    assert_eq!(restored.snapshot_id(), Some(snap.as_str()));
    let mut expected = [own, vec![restored.volume_id().unwrap().to_string()]].concat();
    expected.sort();
    let mut now_seen = volume_ids(&other).await;
    now_seen.sort();
    assert_eq!(now_seen, expected);
    assert!(
        snapshot_ids(&third, None, None).await.is_empty(),
        "shared with one account, not all"
    );

    // Public (the aws CLI's shorthand), then private again.
    share(&lab.ec2, &snap, "all").await.unwrap();
    assert_eq!(snapshot_ids(&third, None, Some("all")).await, [snap.as_str()]);
    lab.ec2
        .reset_snapshot_attribute()
        .snapshot_id(&snap)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .unwrap();
    assert!(snapshot_ids(&third, None, None).await.is_empty());
    assert!(snapshot_ids(&other, None, None).await.is_empty());
    let attr = lab
        .ec2
        .describe_snapshot_attribute()
        .snapshot_id(&snap)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .unwrap();
    assert!(attr.create_volume_permissions().is_empty());

    // Bad requests.
    let both = lab
        .ec2
        .modify_snapshot_attribute()
        .snapshot_id(&snap)
        .create_volume_permission(
            CreateVolumePermissionModifications::builder()
                .add(CreateVolumePermission::builder().user_id(OTHER_ACCOUNT).build())
                .remove(CreateVolumePermission::builder().user_id(THIRD_ACCOUNT).build())
                .build(),
        )
        .send()
        .await;
    assert_eq!(code(both), "InvalidParameterCombination");
    let not_account = share(&lab.ec2, &snap, "12345").await;
    assert_eq!(not_account.unwrap_err(), "InvalidParameterValue");
    let product_codes = lab
        .ec2
        .reset_snapshot_attribute()
        .snapshot_id(&snap)
        .attribute(SnapshotAttributeName::ProductCodes)
        .send()
        .await;
    assert_eq!(code(product_codes), "InvalidParameterCombination");
    // Someone else's snapshot cannot be changed by its non-owner.
    let not_owner = share(&other, &snap, "all").await;
    assert_eq!(not_owner.unwrap_err(), "InvalidSnapshot.NotFound");
}

#[tokio::test]
async fn encryption_by_default_and_keys_as_aws_has_them() {
    let lab = Lab::start(Pace::Instant).await;
    let ec2 = &lab.ec2;
    let by_default = || async {
        ec2.get_ebs_encryption_by_default()
            .send()
            .await
            .unwrap()
            .ebs_encryption_by_default()
    };
    assert_eq!(by_default().await, Some(false));
    let named = ec2.get_ebs_default_kms_key_id().send().await.unwrap();
    assert_eq!(named.kms_key_id(), Some("alias/aws/ebs"), "no key chosen: AWS's alias");

    // Asked for: the default key; a key without Encrypted is refused.
    let asked = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .encrypted(true)
        .send()
        .await
        .unwrap();
    assert_eq!(asked.encrypted(), Some(true));
    // A volume reports the AWS managed key's ARN.
    let managed = asked.kms_key_id().unwrap().to_string();
    assert!(
        managed.starts_with("arn:aws:kms:us-east-1:000000000000:key/"),
        "{managed}"
    );
    let key_only = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .kms_key_id("alias/lab")
        .send()
        .await;
    assert_eq!(code(key_only), "InvalidParameterDependency");
    let bad_key = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .encrypted(true)
        .kms_key_id("not a key")
        .send()
        .await;
    assert_eq!(code(bad_key), "InvalidParameterValue");
    let key_id = "1234abcd-12ab-34cd-56ef-1234567890ab";
    let chosen = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .encrypted(true)
        .kms_key_id(key_id)
        .send()
        .await
        .unwrap();
    let chosen_arn = format!("arn:aws:kms:us-east-1:000000000000:key/{key_id}");
    assert_eq!(chosen.kms_key_id(), Some(chosen_arn.as_str()));

    // By default: every new volume, whatever Encrypted says; per region.
    let on = ec2.enable_ebs_encryption_by_default().send().await.unwrap();
    assert_eq!(on.ebs_encryption_by_default(), Some(true));
    assert_eq!(by_default().await, Some(true));
    let eu = client_in(lab.endpoint(), "eu-west-1", "test");
    let eu_default = eu.get_ebs_encryption_by_default().send().await.unwrap();
    assert_eq!(eu_default.ebs_encryption_by_default(), Some(false));
    let plain = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .encrypted(false)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.encrypted(), Some(true));
    let modified = ec2
        .modify_ebs_default_kms_key_id()
        .kms_key_id(key_id)
        .send()
        .await
        .unwrap();
    assert_eq!(modified.kms_key_id(), Some(chosen_arn.as_str()));
    let with_new_default = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .send()
        .await
        .unwrap();
    assert_eq!(with_new_default.kms_key_id(), Some(chosen_arn.as_str()));
    let reset = ec2.reset_ebs_default_kms_key_id().send().await.unwrap();
    assert_eq!(reset.kms_key_id(), Some("alias/aws/ebs"));
    let off = ec2.disable_ebs_encryption_by_default().send().await.unwrap();
    assert_eq!(off.ebs_encryption_by_default(), Some(false));

    // A snapshot of an encrypted volume is encrypted with its key; so is a restore.
    let vol = chosen.volume_id().unwrap();
    lab.wait_available(vol).await;
    let snap = lab.create_snapshot(vol).await;
    lab.wait_completed(&snap).await;
    let s = lab.snapshot(&snap).await;
    assert_eq!(s.encrypted(), Some(true));
    assert_eq!(s.kms_key_id(), Some(chosen_arn.as_str()));
    let restored = ec2
        .create_volume()
        .availability_zone("us-east-1b")
        .snapshot_id(&snap)
        .send()
        .await
        .unwrap();
    assert_eq!(restored.kms_key_id(), Some(chosen_arn.as_str()));

    // Encrypted snapshots are never public; the AWS managed key's are never shared.
    let public = share(ec2, &snap, "all").await;
    assert_eq!(public.unwrap_err(), "UnsupportedOperation");
    share(ec2, &snap, OTHER_ACCOUNT).await.unwrap();
    let managed_vol = asked.volume_id().unwrap();
    lab.wait_available(managed_vol).await;
    let managed_snap = lab.create_snapshot(managed_vol).await;
    let shared = share(ec2, &managed_snap, OTHER_ACCOUNT).await;
    assert_eq!(shared.unwrap_err(), "InvalidParameter");
}

#[tokio::test]
async fn copies_within_and_across_regions() {
    let lab = Lab::manual(Pace::Demo).await;
    for block in [0, 3, 9] {
        lab.write(DATA_VOLUME_ID, block * BLOCK_SIZE, b"order").await;
    }
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    let copy = |ec2: &Client| ec2.copy_snapshot().source_region("us-east-1").source_snapshot_id(&snap);
    assert_eq!(
        code(copy(&lab.ec2).send().await),
        "IncorrectState",
        "a pending snapshot"
    );
    lab.advance(Duration::from_secs(3600));
    assert_eq!(lab.snapshot(&snap).await.state(), Some(&SnapshotState::Completed));

    let tagged = TagSpecification::builder()
        .resource_type(ResourceType::Snapshot)
        .tags(Tag::builder().key("purpose").value("dr").build())
        .build();
    let here = copy(&lab.ec2).tag_specifications(tagged).send().await.unwrap();
    assert_eq!(here.tags().len(), 1);
    let c = lab.snapshot(here.snapshot_id().unwrap()).await;
    assert_eq!(c.volume_id(), Some("vol-ffffffff"));
    assert_eq!(
        c.description(),
        Some(format!("[Copied {snap} from us-east-1]").as_str())
    );
    assert_eq!(
        c.state(),
        Some(&SnapshotState::Pending),
        "a copy takes time like any snapshot"
    );
    assert_eq!(c.tags().len(), 1, "tags from the request only, not the source's");

    // Across regions: signed for the destination.
    let eu = client_in(lab.endpoint(), "eu-west-1", "test");
    let there = copy(&eu).description("DR copy").encrypted(true).send().await.unwrap();
    let there_id = there.snapshot_id().unwrap().to_string();
    assert!(snapshot_ids(&lab.ec2, Some("self"), None)
        .await
        .iter()
        .all(|s| *s != there_id));
    lab.advance(Duration::from_secs(3600));
    let in_eu = eu.describe_snapshots().snapshot_ids(&there_id).send().await.unwrap();
    let s = &in_eu.snapshots()[0];
    assert_eq!(s.state(), Some(&SnapshotState::Completed));
    assert_eq!(s.description(), Some("DR copy"));
    assert_eq!(s.encrypted(), Some(true));
    assert!(s.kms_key_id().unwrap().starts_with("arn:aws:kms:eu-west-1:"), "{s:?}");
    assert_eq!(s.volume_size(), Some(8));

    // The copy's blocks are the source's, read through EBS direct in its region.
    let ebs = ebs_client_in(lab.endpoint(), "eu-west-1");
    let blocks = ebs.list_snapshot_blocks().snapshot_id(&there_id).send().await.unwrap();
    let indexes: Vec<i32> = blocks.blocks().iter().filter_map(|b| b.block_index()).collect();
    assert_eq!(indexes, [0, 3, 9]);
    let restored = eu
        .create_volume()
        .availability_zone("eu-west-1a")
        .snapshot_id(&there_id)
        .send()
        .await
        .unwrap();
    assert_eq!(restored.encrypted(), Some(true));

    // Bad requests, in AWS's order: required parameters, then values.
    let missing = eu.copy_snapshot().source_snapshot_id(&snap).send().await;
    assert_eq!(code(missing), "MissingParameter");
    let key_only = copy(&eu).kms_key_id("alias/dr").send().await;
    assert_eq!(code(key_only), "InvalidParameterDependency");
    let nowhere = eu
        .copy_snapshot()
        .source_region("us-nowhere-1")
        .source_snapshot_id(&snap)
        .send()
        .await;
    assert_eq!(code(nowhere), "InvalidParameterValue");
    let unknown = eu
        .copy_snapshot()
        .source_region("us-east-1")
        .source_snapshot_id("snap-0123456789abcdef0")
        .send()
        .await;
    assert_eq!(code(unknown), "InvalidSnapshot.NotFound");
    let wrong_region = eu
        .copy_snapshot()
        .source_region("us-west-2")
        .source_snapshot_id(&snap)
        .send()
        .await;
    assert_eq!(code(wrong_region), "InvalidSnapshot.NotFound");
}

#[tokio::test]
async fn multi_attach_io2_volumes_attach_to_several_instances() {
    let lab = Lab::start(Pace::Instant).await;
    let ec2 = &lab.ec2;
    let refused = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(4)
        .volume_type(VolumeType::Gp3)
        .multi_attach_enabled(true)
        .send()
        .await;
    assert_eq!(code(refused), "InvalidParameterCombination");

    let shared = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(4)
        .volume_type(VolumeType::Io2)
        .iops(1000)
        .multi_attach_enabled(true)
        .send()
        .await
        .unwrap();
    assert_eq!(shared.multi_attach_enabled(), Some(true));
    let vol = shared.volume_id().unwrap().to_string();
    lab.wait_available(&vol).await;
    let launched = ec2
        .run_instances()
        .image_id("ami-0a17023c0ffee8601")
        .instance_type(InstanceType::T3Micro)
        .min_count(2)
        .max_count(2)
        .placement(Placement::builder().availability_zone("us-east-1a").build())
        .send()
        .await
        .unwrap();
    let instances: Vec<String> = launched
        .instances()
        .iter()
        .map(|i| i.instance_id().unwrap().to_string())
        .collect();
    let attach = |vol: &str, instance: &str, device: &str| {
        ec2.attach_volume()
            .volume_id(vol)
            .instance_id(instance)
            .device(device)
            .send()
    };
    for i in &instances {
        attach(&vol, i, "/dev/sdf").await.unwrap();
    }
    let again = attach(&vol, &instances[0], "/dev/sdg").await;
    assert_eq!(code(again), "VolumeInUse", "once per instance");
    let v = lab.volume(&vol).await;
    let attached_to: Vec<&str> = v.attachments().iter().filter_map(|a| a.instance_id()).collect();
    assert_eq!(attached_to.len(), 2);
    assert!(instances.iter().all(|i| attached_to.contains(&i.as_str())));
    let multi = ec2
        .describe_volumes()
        .filters(Filter::builder().name("multi-attach-enabled").values("true").build())
        .send()
        .await
        .unwrap();
    assert_eq!(multi.volumes().len(), 1);

    assert_eq!(
        code(ec2.detach_volume().volume_id(&vol).send().await),
        "MissingParameter"
    );
    ec2.detach_volume()
        .volume_id(&vol)
        .instance_id(&instances[1])
        .send()
        .await
        .unwrap();
    let v = lab.volume(&vol).await;
    let left: Vec<&str> = v.attachments().iter().filter_map(|a| a.instance_id()).collect();
    assert_eq!(left, [instances[0].as_str()]);

    // A volume without Multi-Attach still attaches once.
    let single = lab.new_volume("us-east-1a", 1).await;
    attach(&single, &instances[0], "/dev/sdh").await.unwrap();
    let second = attach(&single, &instances[1], "/dev/sdh").await;
    assert_eq!(code(second), "VolumeInUse");
}

#[tokio::test]
async fn instance_profiles_are_global_an_instance_launches_with_one_in_any_region() {
    use aws_sdk_ec2::types::IamInstanceProfileSpecification;
    let lab = Lab::start(Pace::Instant).await;
    let eu = client_in(lab.endpoint(), "eu-west-1", "test");
    // The seeded SSM instance profile, made in the home region, is the account's.
    let launched = eu
        .run_instances()
        .image_id("ami-0a17023c0ffee8601")
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .iam_instance_profile(IamInstanceProfileSpecification::builder().name("snaplab-ssm").build())
        .send()
        .await
        .unwrap();
    let i = &launched.instances()[0];
    assert!(
        i.iam_instance_profile()
            .and_then(|p| p.arn())
            .is_some_and(|a| a.ends_with("instance-profile/snaplab-ssm")),
        "{i:?}"
    );
    assert_eq!(
        i.placement().and_then(|p| p.availability_zone()).map(|z| &z[..9]),
        Some("eu-west-1")
    );
}
