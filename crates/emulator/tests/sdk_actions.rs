//! Every emulated action, driven through the real aws-sdk-ec2: the SDK's own
//! parser judges each reply's shape.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_ec2::types::{
    CopyTagsFromSource, Filter, InstanceSpecification, ResourceType, SnapshotState, Tag, TagSpecification, VolumeState,
    VolumeType,
};
use snaplab_emulator::Pace;
use snaplab_testkit::*;

fn filter(name: &str, values: &[&str]) -> Filter {
    let mut f = Filter::builder().name(name);
    for v in values {
        f = f.values(*v);
    }
    f.build()
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

fn tag_spec(kind: ResourceType, tags: &[(&str, &str)]) -> TagSpecification {
    let mut s = TagSpecification::builder().resource_type(kind);
    for (k, v) in tags {
        s = s.tags(tag(k, v));
    }
    s.build()
}

#[tokio::test]
async fn describe_availability_zones_lists_the_regions_zones() {
    let lab = Lab::start(Pace::Instant).await;
    let out = lab.ec2.describe_availability_zones().send().await.unwrap();
    let names: Vec<&str> = out.availability_zones().iter().filter_map(|z| z.zone_name()).collect();
    assert_eq!(
        names,
        [
            "us-east-1a",
            "us-east-1b",
            "us-east-1c",
            "us-east-1d",
            "us-east-1e",
            "us-east-1f"
        ]
    );
    let z = &out.availability_zones()[0];
    assert_eq!(z.zone_id(), Some("use1-az1"));
    assert_eq!(z.region_name(), Some("us-east-1"));
    assert_eq!(z.state().map(|s| s.as_str()), Some("available"));
    assert_eq!(z.group_name(), Some("us-east-1-zg-1"));
    assert_eq!(z.group_long_name(), Some("US East (N. Virginia) 1"));
    assert_eq!(z.network_border_group(), Some("us-east-1"));

    let one = lab
        .ec2
        .describe_availability_zones()
        .filters(filter("zone-name", &["us-east-1b"]))
        .send()
        .await
        .unwrap();
    assert_eq!(one.availability_zones().len(), 1);
    let group = lab
        .ec2
        .describe_availability_zones()
        .filters(filter("group-name", &["us-east-1-zg-1"]))
        .send()
        .await
        .unwrap();
    assert_eq!(group.availability_zones().len(), 6, "the region's zones are one group");
    let by_name = lab
        .ec2
        .describe_availability_zones()
        .zone_names("us-east-1c")
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.availability_zones()[0].zone_name(), Some("us-east-1c"));
}

#[tokio::test]
async fn describe_instances_shows_the_securecart_app_with_its_volumes() {
    let lab = Lab::start(Pace::Instant).await;
    let out = lab
        .ec2
        .describe_instances()
        .filters(filter("tag:Name", &["securecart-app"]))
        .filters(filter("instance-state-name", &["running"]))
        .send()
        .await
        .unwrap();
    let instances: Vec<_> = out.reservations().iter().flat_map(|r| r.instances()).collect();
    assert_eq!(instances.len(), 1);
    let i = instances[0];
    assert_eq!(i.instance_id(), Some(INSTANCE_ID));
    assert_eq!(i.state().and_then(|s| s.name()).map(|n| n.as_str()), Some("running"));
    assert_eq!(i.state().and_then(|s| s.code()), Some(16));
    assert_eq!(i.placement().and_then(|p| p.availability_zone()), Some("us-east-1a"));
    assert_eq!(i.root_device_name(), Some("/dev/xvda"));
    let devices: Vec<(&str, &str)> = i
        .block_device_mappings()
        .iter()
        .map(|m| (m.device_name().unwrap(), m.ebs().and_then(|e| e.volume_id()).unwrap()))
        .collect();
    assert!(devices.contains(&("/dev/sdf", DATA_VOLUME_ID)));
    assert!(devices.contains(&("/dev/xvda", ROOT_VOLUME_ID)));

    let by_id = lab
        .ec2
        .describe_instances()
        .instance_ids(INSTANCE_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.reservations().len(), 1);
    let none = lab
        .ec2
        .describe_instances()
        .filters(filter("instance-state-name", &["stopped"]))
        .send()
        .await
        .unwrap();
    assert!(none.reservations().is_empty());
}

#[tokio::test]
async fn seeded_data_volume_is_8_gib_gp3_attached_at_sdf() {
    let lab = Lab::start(Pace::Instant).await;
    let v = lab.volume(DATA_VOLUME_ID).await;
    assert_eq!(v.size(), Some(8));
    assert_eq!(v.volume_type(), Some(&VolumeType::Gp3));
    assert_eq!(v.state(), Some(&VolumeState::InUse));
    assert_eq!(v.availability_zone(), Some("us-east-1a"));
    assert_eq!(v.iops(), Some(3000));
    assert_eq!(v.throughput(), Some(125));
    let a = &v.attachments()[0];
    assert_eq!(a.device(), Some(DATA_DEVICE));
    assert_eq!(a.instance_id(), Some(INSTANCE_ID));
    assert_eq!(a.state(), Some(&aws_sdk_ec2::types::VolumeAttachmentState::Attached));
    assert!(v
        .tags()
        .iter()
        .any(|t| t.key() == Some("Name") && t.value() == Some("securecart-data")));
}

#[tokio::test]
async fn describe_volumes_filters_by_attachment_zone_status_and_tag() {
    let lab = Lab::start(Pace::Instant).await;
    let extra = lab.new_volume("us-east-1b", 4).await;
    let ids = |out: aws_sdk_ec2::operation::describe_volumes::DescribeVolumesOutput| -> Vec<String> {
        let mut v: Vec<String> = out
            .volumes()
            .iter()
            .filter_map(|v| v.volume_id().map(String::from))
            .collect();
        v.sort();
        v
    };
    let attached = lab
        .ec2
        .describe_volumes()
        .filters(filter("attachment.instance-id", &[INSTANCE_ID]))
        .send()
        .await
        .unwrap();
    let mut expected = vec![DATA_VOLUME_ID.to_string(), ROOT_VOLUME_ID.to_string()];
    expected.sort();
    assert_eq!(ids(attached), expected);

    let by_device = lab
        .ec2
        .describe_volumes()
        .filters(filter("attachment.device", &["/dev/sdf"]))
        .send()
        .await
        .unwrap();
    assert_eq!(ids(by_device), vec![DATA_VOLUME_ID.to_string()]);

    let available_in_b = lab
        .ec2
        .describe_volumes()
        .filters(filter("status", &["available"]))
        .filters(filter("availability-zone", &["us-east-1b"]))
        .send()
        .await
        .unwrap();
    assert_eq!(ids(available_in_b), vec![extra.clone()]);

    let tagged = lab
        .ec2
        .describe_volumes()
        .filters(filter("tag:Name", &["securecart-*"]))
        .send()
        .await
        .unwrap();
    assert_eq!(ids(tagged), expected);

    let by_id = lab
        .ec2
        .describe_volumes()
        .filters(filter("volume-id", &[&extra]))
        .send()
        .await
        .unwrap();
    assert_eq!(ids(by_id), vec![extra]);
}

#[tokio::test]
async fn create_snapshot_with_tags_reports_pending_then_completed() {
    let lab = Lab::start(Pace::Instant).await;
    let out = lab
        .ec2
        .create_snapshot()
        .volume_id(DATA_VOLUME_ID)
        .description("Nightly backup")
        .tag_specifications(tag_spec(ResourceType::Snapshot, &[("Name", "SecureCartBackup")]))
        .send()
        .await
        .unwrap();
    assert_eq!(out.state(), Some(&SnapshotState::Pending));
    assert_eq!(out.volume_id(), Some(DATA_VOLUME_ID));
    assert_eq!(out.volume_size(), Some(8));
    assert_eq!(out.description(), Some("Nightly backup"));
    assert_eq!(out.owner_id(), Some("000000000000"));
    assert!(out.start_time().is_some());
    assert_eq!(out.tags()[0].value(), Some("SecureCartBackup"));
    let id = out.snapshot_id().unwrap().to_string();

    let s = lab.snapshot(&id).await;
    assert_eq!(s.state(), Some(&SnapshotState::Completed));
    assert_eq!(s.progress(), Some("100%"));
    assert_eq!(s.encrypted(), Some(false));
    assert_eq!(s.storage_tier().map(|t| t.as_str()), Some("standard"));
    assert!(s.completion_time().is_some());
    assert_eq!(s.tags().len(), 1);
}

#[tokio::test]
async fn describe_snapshots_filters_and_owner_self() {
    let lab = Lab::start(Pace::Instant).await;
    let tagged = lab
        .ec2
        .create_snapshot()
        .volume_id(DATA_VOLUME_ID)
        .description("Nightly backup")
        .tag_specifications(tag_spec(ResourceType::Snapshot, &[("Name", "SecureCartBackup")]))
        .send()
        .await
        .unwrap()
        .snapshot_id()
        .unwrap()
        .to_string();
    let root = lab.create_snapshot(ROOT_VOLUME_ID).await;

    let find = |filters: Vec<Filter>| {
        let req = lab.ec2.describe_snapshots().set_filters(Some(filters));
        async move {
            let mut ids: Vec<String> = req
                .send()
                .await
                .unwrap()
                .snapshots()
                .iter()
                .filter_map(|s| s.snapshot_id().map(String::from))
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(
        find(vec![filter("tag:Name", &["SecureCartBackup"])]).await,
        vec![tagged.clone()]
    );
    assert_eq!(
        find(vec![filter("volume-id", &[ROOT_VOLUME_ID])]).await,
        vec![root.clone()]
    );
    assert_eq!(
        find(vec![filter("description", &["Nightly*"])]).await,
        vec![tagged.clone()]
    );
    assert_eq!(find(vec![filter("status", &["completed"])]).await.len(), 2);
    assert_eq!(find(vec![filter("status", &["pending"])]).await.len(), 0);
    assert_eq!(find(vec![filter("owner-id", &["000000000000"])]).await.len(), 2);
    assert_eq!(find(vec![filter("tag-key", &["Name"])]).await, vec![tagged.clone()]);

    let mine = lab.ec2.describe_snapshots().owner_ids("self").send().await.unwrap();
    assert_eq!(mine.snapshots().len(), 2);
    let amazons = lab.ec2.describe_snapshots().owner_ids("amazon").send().await.unwrap();
    assert!(amazons.snapshots().is_empty());
}

#[tokio::test]
async fn describe_snapshots_paginates_with_max_results_and_next_token() {
    let lab = Lab::start(Pace::Instant).await;
    let mut created = Vec::new();
    for _ in 0..12 {
        created.push(lab.create_snapshot(DATA_VOLUME_ID).await);
    }
    let first = lab.ec2.describe_snapshots().max_results(5).send().await.unwrap();
    assert_eq!(first.snapshots().len(), 5);
    assert!(first.next_token().is_some());

    let mut seen: Vec<String> = Vec::new();
    let mut pages = lab.ec2.describe_snapshots().max_results(5).into_paginator().send();
    let mut page_count = 0;
    while let Some(page) = pages.next().await {
        page_count += 1;
        seen.extend(
            page.unwrap()
                .snapshots()
                .iter()
                .filter_map(|s| s.snapshot_id().map(String::from)),
        );
    }
    assert_eq!(page_count, 3);
    seen.sort();
    created.sort();
    assert_eq!(seen, created);
}

#[tokio::test]
async fn create_volume_from_snapshot_takes_its_size_and_id() {
    let lab = Lab::start(Pace::Instant).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    let out = lab
        .ec2
        .create_volume()
        .snapshot_id(&snap)
        .availability_zone("us-east-1a")
        .tag_specifications(tag_spec(ResourceType::Volume, &[("Name", "securecart-restore")]))
        .send()
        .await
        .unwrap();
    assert_eq!(out.state(), Some(&VolumeState::Creating));
    assert_eq!(out.size(), Some(8));
    assert_eq!(out.snapshot_id(), Some(snap.as_str()));
    assert_eq!(out.volume_type(), Some(&VolumeType::Gp2));
    let id = out.volume_id().unwrap();
    let v = lab.volume(id).await;
    assert_eq!(v.state(), Some(&VolumeState::Available));
    assert_eq!(v.tags()[0].value(), Some("securecart-restore"));

    let bigger = lab
        .ec2
        .create_volume()
        .snapshot_id(&snap)
        .size(20)
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap();
    assert_eq!(bigger.size(), Some(20));
}

#[tokio::test]
async fn attach_and_detach_a_restored_volume() {
    let lab = Lab::start(Pace::Instant).await;
    let vol = lab.new_volume("us-east-1a", 8).await;
    let a = lab
        .ec2
        .attach_volume()
        .volume_id(&vol)
        .instance_id(INSTANCE_ID)
        .device("/dev/sdg")
        .send()
        .await
        .unwrap();
    // AttachVolume answers `attaching`, as AWS does; describe shows the result.
    assert_eq!(a.state(), Some(&aws_sdk_ec2::types::VolumeAttachmentState::Attaching));
    assert_eq!(a.device(), Some("/dev/sdg"));
    assert_eq!(a.instance_id(), Some(INSTANCE_ID));
    let v = lab.volume(&vol).await;
    assert_eq!(v.state(), Some(&VolumeState::InUse));
    assert_eq!(
        v.attachments()[0].state(),
        Some(&aws_sdk_ec2::types::VolumeAttachmentState::Attached)
    );

    let i = lab
        .ec2
        .describe_instances()
        .instance_ids(INSTANCE_ID)
        .send()
        .await
        .unwrap();
    let mappings = i.reservations()[0].instances()[0].block_device_mappings();
    assert!(mappings.iter().any(|m| m.device_name() == Some("/dev/sdg")));

    let d = lab.ec2.detach_volume().volume_id(&vol).send().await.unwrap();
    assert_eq!(d.volume_id(), Some(vol.as_str()));
    assert_eq!(d.state(), Some(&aws_sdk_ec2::types::VolumeAttachmentState::Detaching));
    assert_eq!(lab.volume(&vol).await.state(), Some(&VolumeState::Available));
    assert!(lab.volume(&vol).await.attachments().is_empty());
}

#[tokio::test]
async fn create_snapshots_takes_every_data_volume_at_one_instant() {
    let lab = Lab::start(Pace::Instant).await;
    let out = lab
        .ec2
        .create_snapshots()
        .instance_specification(
            InstanceSpecification::builder()
                .instance_id(INSTANCE_ID)
                .exclude_boot_volume(true)
                .build(),
        )
        .copy_tags_from_source(CopyTagsFromSource::Volume)
        .description("SecureCart consistent set")
        .tag_specifications(tag_spec(ResourceType::Snapshot, &[("Set", "nightly")]))
        .send()
        .await
        .unwrap();
    let snaps = out.snapshots();
    assert_eq!(snaps.len(), 1, "boot volume excluded");
    let s = &snaps[0];
    assert_eq!(s.volume_id(), Some(DATA_VOLUME_ID));
    assert_eq!(s.state(), Some(&SnapshotState::Pending));
    let keys: Vec<&str> = s.tags().iter().filter_map(|t| t.key()).collect();
    assert!(keys.contains(&"Name") && keys.contains(&"Set"), "{keys:?}");

    let both = lab
        .ec2
        .create_snapshots()
        .instance_specification(InstanceSpecification::builder().instance_id(INSTANCE_ID).build())
        .send()
        .await
        .unwrap();
    assert_eq!(both.snapshots().len(), 2);
    let starts: Vec<_> = both.snapshots().iter().map(|s| s.start_time().cloned()).collect();
    assert_eq!(starts[0], starts[1], "one point in time for the set");

    let without_data = lab
        .ec2
        .create_snapshots()
        .instance_specification(
            InstanceSpecification::builder()
                .instance_id(INSTANCE_ID)
                .exclude_data_volume_ids(DATA_VOLUME_ID)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(without_data.snapshots().len(), 1);
    assert_eq!(without_data.snapshots()[0].volume_id(), Some(ROOT_VOLUME_ID));
}

#[tokio::test]
async fn a_multi_volume_set_completes_together_its_quicker_snapshot_waiting_at_99() {
    let lab = Lab::manual(Pace::Demo).await;
    // Only the data volume has blocks to copy: its snapshot takes longer than the root's.
    lab.write(DATA_VOLUME_ID, 0, &vec![7u8; 64 * 1024 * 1024]).await;
    let out = lab
        .ec2
        .create_snapshots()
        .instance_specification(InstanceSpecification::builder().instance_id(INSTANCE_ID).build())
        .send()
        .await
        .unwrap();
    let ids: Vec<String> = out
        .snapshots()
        .iter()
        .map(|s| s.snapshot_id().unwrap().to_string())
        .collect();
    let (root, data) = match out.snapshots()[0].volume_id() {
        Some(v) if v == ROOT_VOLUME_ID => (ids[0].clone(), ids[1].clone()),
        _ => (ids[1].clone(), ids[0].clone()),
    };
    // Past the root's own copy time (the pace's floor), before the data volume's.
    lab.advance(Duration::from_millis(6050));
    let r = lab.snapshot(&root).await;
    let d = lab.snapshot(&data).await;
    assert_eq!(r.state(), Some(&SnapshotState::Pending), "the set is not done");
    assert_eq!(r.progress(), Some("99%"), "copied, waiting for the rest of its set");
    assert_eq!(d.state(), Some(&SnapshotState::Pending));
    lab.advance(Duration::from_secs(60));
    for id in [&root, &data] {
        let s = lab.snapshot(id).await;
        assert_eq!(
            (s.state(), s.progress()),
            (Some(&SnapshotState::Completed), Some("100%"))
        );
    }
    let (r, d) = (lab.snapshot(&root).await, lab.snapshot(&data).await);
    assert_eq!(r.start_time(), d.start_time(), "one point in time");
}

#[tokio::test]
async fn delete_snapshot_and_delete_volume_remove_them() {
    let lab = Lab::start(Pace::Instant).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.ec2.delete_snapshot().snapshot_id(&snap).send().await.unwrap();
    assert_eq!(
        code(lab.ec2.describe_snapshots().snapshot_ids(&snap).send().await),
        "InvalidSnapshot.NotFound"
    );
    let vol = lab.new_volume("us-east-1a", 1).await;
    lab.ec2.delete_volume().volume_id(&vol).send().await.unwrap();
    assert_eq!(
        code(lab.ec2.describe_volumes().volume_ids(&vol).send().await),
        "InvalidVolume.NotFound"
    );
}

#[tokio::test]
async fn tags_can_be_created_described_and_deleted() {
    let lab = Lab::start(Pace::Instant).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    lab.ec2
        .create_tags()
        .resources(&snap)
        .resources(DATA_VOLUME_ID)
        .tags(tag("Run", "r-42"))
        .tags(tag("Owner", "learner"))
        .send()
        .await
        .unwrap();
    let out = lab
        .ec2
        .describe_tags()
        .filters(filter("key", &["Run"]))
        .send()
        .await
        .unwrap();
    let mut tagged: Vec<(String, String)> = out
        .tags()
        .iter()
        .map(|t| {
            (
                t.resource_id().unwrap().to_string(),
                t.resource_type().unwrap().as_str().to_string(),
            )
        })
        .collect();
    tagged.sort();
    let mut expected = vec![
        (snap.clone(), "snapshot".to_string()),
        (DATA_VOLUME_ID.to_string(), "volume".to_string()),
    ];
    expected.sort();
    assert_eq!(tagged, expected);

    let of_snapshot = lab
        .ec2
        .describe_tags()
        .filters(filter("resource-id", &[&snap]))
        .send()
        .await
        .unwrap();
    assert_eq!(of_snapshot.tags().len(), 2);

    // A value that does not match leaves the tag; no value removes it.
    lab.ec2
        .delete_tags()
        .resources(&snap)
        .tags(Tag::builder().key("Run").value("other").build())
        .send()
        .await
        .unwrap();
    assert_eq!(lab.snapshot(&snap).await.tags().len(), 2);
    lab.ec2
        .delete_tags()
        .resources(&snap)
        .tags(Tag::builder().key("Run").build())
        .send()
        .await
        .unwrap();
    let left: Vec<String> = lab
        .snapshot(&snap)
        .await
        .tags()
        .iter()
        .filter_map(|t| t.key().map(String::from))
        .collect();
    assert_eq!(left, vec!["Owner".to_string()]);
}

#[tokio::test]
async fn dry_run_on_every_mutating_action_answers_412_and_changes_nothing() {
    let lab = Lab::start(Pace::Instant).await;
    let spare = lab.new_volume("us-east-1a", 2).await;
    let snap = lab.create_snapshot(DATA_VOLUME_ID).await;
    let before_snaps = lab.ec2.describe_snapshots().send().await.unwrap().snapshots().len();
    let before_vols = lab.ec2.describe_volumes().send().await.unwrap().volumes().len();

    let e = &lab.ec2;
    let codes = [
        code(e.create_snapshot().volume_id(DATA_VOLUME_ID).dry_run(true).send().await),
        code(
            e.create_snapshots()
                .instance_specification(InstanceSpecification::builder().instance_id(INSTANCE_ID).build())
                .dry_run(true)
                .send()
                .await,
        ),
        code(
            e.create_volume()
                .availability_zone("us-east-1a")
                .size(1)
                .dry_run(true)
                .send()
                .await,
        ),
        code(
            e.attach_volume()
                .volume_id(&spare)
                .instance_id(INSTANCE_ID)
                .device("/dev/sdh")
                .dry_run(true)
                .send()
                .await,
        ),
        code(e.detach_volume().volume_id(DATA_VOLUME_ID).dry_run(true).send().await),
        code(e.delete_volume().volume_id(&spare).dry_run(true).send().await),
        code(e.delete_snapshot().snapshot_id(&snap).dry_run(true).send().await),
        code(
            e.create_tags()
                .resources(&snap)
                .tags(tag("a", "b"))
                .dry_run(true)
                .send()
                .await,
        ),
        code(e.delete_tags().resources(&snap).dry_run(true).send().await),
        code(e.describe_volumes().dry_run(true).send().await),
        code(e.describe_snapshots().dry_run(true).send().await),
        code(e.describe_instances().dry_run(true).send().await),
        code(e.describe_availability_zones().dry_run(true).send().await),
        code(e.describe_tags().dry_run(true).send().await),
    ];
    for c in &codes {
        assert_eq!(c, "DryRunOperation");
    }
    assert_eq!(
        e.describe_snapshots().send().await.unwrap().snapshots().len(),
        before_snaps
    );
    assert_eq!(e.describe_volumes().send().await.unwrap().volumes().len(), before_vols);
    assert_eq!(lab.volume(&spare).await.state(), Some(&VolumeState::Available));
    assert_eq!(lab.volume(DATA_VOLUME_ID).await.state(), Some(&VolumeState::InUse));
    assert!(lab.snapshot(&snap).await.tags().is_empty());

    // A DryRun that would fail reports the real error, not DryRunOperation.
    assert_eq!(
        code(
            e.attach_volume()
                .volume_id(DATA_VOLUME_ID)
                .instance_id(INSTANCE_ID)
                .device("/dev/sdh")
                .dry_run(true)
                .send()
                .await
        ),
        "VolumeInUse"
    );
}
