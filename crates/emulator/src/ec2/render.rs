//! Resources as EC2 XML, element names from botocore's output shapes.

use crate::clock::{iso8601, Timestamp};
use crate::model::instance::{Instance, InstanceState};
use crate::model::modification::Modification;
use crate::model::network::{Subnet, Vpc};
use crate::model::volume_status::VolumeStatus;
use crate::model::zone;
use crate::model::{Attachment, Cloud, Snapshot, Tag, Volume, Zone};
use crate::wire::xml::XmlWriter;

pub fn tag_set(w: &mut XmlWriter, tags: &[Tag]) {
    if tags.is_empty() {
        return;
    }
    w.set("tagSet", tags, |w, t| {
        w.leaf("key", &t.key).leaf("value", &t.value);
    });
}

/// The `Snapshot` shape (DescribeSnapshots items and the CreateSnapshot reply).
pub fn snapshot_fields(w: &mut XmlWriter, s: &Snapshot, now: Timestamp) {
    w.leaf("snapshotId", &s.id)
        .leaf("volumeId", &s.volume_id)
        .leaf("status", s.state.as_str())
        .opt_leaf("statusMessage", s.state_message())
        .leaf("startTime", iso8601(&s.start_time))
        .leaf("progress", format!("{}%", s.progress(now)))
        .leaf("ownerId", &s.owner_id)
        .leaf("volumeSize", s.volume_size_gib)
        .leaf("description", &s.description)
        .leaf("encrypted", s.encrypted)
        .opt_leaf("kmsKeyId", s.kms_key_id.as_deref())
        .leaf("storageTier", "standard");
    if let Some(done) = s.completion_time() {
        w.leaf("completionTime", iso8601(&done));
    }
    tag_set(w, s.tags.as_slice());
}

/// The `SnapshotInfo` shape of CreateSnapshots (note `state`, not `status`).
pub fn snapshot_info_fields(w: &mut XmlWriter, s: &Snapshot, now: Timestamp) {
    w.leaf("snapshotId", &s.id)
        .leaf("volumeId", &s.volume_id)
        .leaf("state", s.state.as_str())
        .leaf("startTime", iso8601(&s.start_time))
        .leaf("progress", format!("{}%", s.progress(now)))
        .leaf("ownerId", &s.owner_id)
        .leaf("volumeSize", s.volume_size_gib)
        .leaf("description", &s.description)
        .leaf("encrypted", s.encrypted);
    tag_set(w, s.tags.as_slice());
}

/// The `VolumeAttachment` shape.
pub fn attachment_fields(w: &mut XmlWriter, volume_id: &str, a: &Attachment) {
    w.leaf("volumeId", volume_id)
        .leaf("instanceId", &a.instance_id)
        .leaf("device", &a.device)
        .leaf("status", a.state.as_str())
        .leaf("attachTime", iso8601(&a.attach_time))
        .leaf("deleteOnTermination", a.delete_on_termination);
}

/// The `Volume` shape (DescribeVolumes items and the CreateVolume reply).
pub fn volume_status_fields(w: &mut XmlWriter, s: &VolumeStatus<'_>, cloud: &Cloud) {
    let v = s.volume;
    w.leaf("volumeId", &v.id).leaf("availabilityZone", &v.zone);
    if let Some(z) = cloud.zones.iter().find(|z| z.name == v.zone) {
        w.leaf("availabilityZoneId", &z.zone_id);
    }
    w.open("volumeStatus").leaf("status", "ok");
    w.set("details", &s.details(), |w, (name, status)| {
        w.leaf("name", name).leaf("status", status);
    });
    w.close("volumeStatus");
    w.set::<()>("eventsSet", &[], |_, _| {});
    w.set::<()>("actionsSet", &[], |_, _| {});
    if let Some(init) = &v.initialization {
        w.open("initializationStatusDetails")
            .leaf("initializationType", "default")
            .leaf("progress", init.progress())
            .close("initializationStatusDetails");
    }
}

pub fn volume_fields(w: &mut XmlWriter, v: &Volume, cloud: &Cloud) {
    w.leaf("volumeId", &v.id)
        .leaf("size", v.size_gib)
        .leaf("snapshotId", v.snapshot_id.as_deref().unwrap_or_default())
        .leaf("availabilityZone", &v.zone);
    if let Some(z) = cloud.zones.iter().find(|z| z.name == v.zone) {
        w.leaf("availabilityZoneId", &z.zone_id);
    }
    w.leaf("status", v.state().as_str())
        .leaf("createTime", iso8601(&v.create_time));
    let attachments: Vec<&Attachment> = v.attachments.iter().collect();
    w.set("attachmentSet", &attachments, |w, a| attachment_fields(w, &v.id, a));
    tag_set(w, v.tags.as_slice());
    w.leaf("volumeType", v.volume_type.as_str())
        .opt_leaf("iops", v.effective_iops())
        .opt_leaf("throughput", v.effective_throughput())
        .leaf("encrypted", v.encrypted)
        .opt_leaf("kmsKeyId", v.kms_key_id.as_deref())
        .leaf("multiAttachEnabled", v.multi_attach)
        .leaf("fastRestored", false);
}

/// A VolumeModification's fields (ModifyVolume, DescribeVolumesModifications).
pub fn modification_fields(w: &mut XmlWriter, m: &Modification, now: Timestamp) {
    w.leaf("volumeId", &m.volume_id)
        .leaf("modificationState", m.state(now).as_str())
        .leaf("targetSize", m.target.size_gib)
        .opt_leaf("targetIops", m.target.iops)
        .leaf("targetVolumeType", m.target.volume_type)
        .opt_leaf("targetThroughput", m.target.throughput)
        .leaf("targetMultiAttachEnabled", false)
        .leaf("originalSize", m.original.size_gib)
        .opt_leaf("originalIops", m.original.iops)
        .leaf("originalVolumeType", m.original.volume_type)
        .opt_leaf("originalThroughput", m.original.throughput)
        .leaf("originalMultiAttachEnabled", false)
        .leaf("progress", m.progress(now))
        .leaf("startTime", iso8601(&m.start_time))
        .opt_leaf("endTime", m.end_time(now).map(|t| iso8601(&t)));
}

pub fn zone_fields(w: &mut XmlWriter, z: &Zone) {
    w.leaf("zoneName", &z.name)
        .leaf("zoneId", &z.zone_id)
        .leaf("zoneState", "available")
        .leaf("regionName", &z.region)
        .leaf("groupName", zone::group_name(&z.region))
        .opt_leaf("groupLongName", zone::group_long_name(&z.region))
        .leaf("networkBorderGroup", &z.region)
        .leaf("zoneType", "availability-zone")
        .leaf("optInStatus", "opt-in-not-required");
    w.open("messageSet").close("messageSet");
}

/// One reservation holding one instance, with its volumes as block devices.
pub fn reservation(w: &mut XmlWriter, i: &Instance, cloud: &Cloud) {
    reservation_of(w, &i.reservation_id, &[i], cloud);
}

/// A reservation's fields (the DescribeInstances item, or RunInstances' reply body).
pub fn reservation_of(w: &mut XmlWriter, reservation_id: &str, instances: &[&Instance], cloud: &Cloud) {
    w.leaf("reservationId", reservation_id)
        .leaf("ownerId", cloud.account_id());
    w.open("groupSet").close("groupSet");
    w.set("instancesSet", instances, |w, i| instance_fields(w, i, cloud));
}

/// The `Instance` shape.
pub fn instance_fields(w: &mut XmlWriter, i: &Instance, cloud: &Cloud) {
    w.leaf("instanceId", &i.id).leaf("imageId", &i.image_id);
    instance_state(w, "instanceState", i.state);
    w.leaf("privateDnsName", i.private_dns_name(&cloud.region))
        .leaf("dnsName", "")
        .leaf("reason", "")
        .leaf("amiLaunchIndex", 0)
        .leaf("instanceType", &i.instance_type)
        .leaf("launchTime", iso8601(&i.launch_time));
    w.open("placement")
        .leaf("availabilityZone", &i.zone)
        .leaf("groupName", "")
        .leaf("tenancy", "default")
        .close("placement");
    w.open("monitoring").leaf("state", "disabled").close("monitoring");
    w.leaf("subnetId", &i.subnet_id)
        .leaf("vpcId", &i.vpc_id)
        .leaf("privateIpAddress", &i.private_ip)
        .leaf("sourceDestCheck", true)
        .leaf("architecture", i.architecture)
        .leaf("rootDeviceType", "ebs")
        .leaf("rootDeviceName", &i.root_device_name);
    let volumes: Vec<&Volume> = cloud.attached_to(&i.id).collect();
    w.set("blockDeviceMapping", &volumes, |w, v| {
        let Some(a) = v.attachment_to(&i.id) else { return };
        w.leaf("deviceName", &a.device);
        w.open("ebs")
            .leaf("volumeId", &v.id)
            .leaf("status", a.state.as_str())
            .leaf("attachTime", iso8601(&a.attach_time))
            .leaf("deleteOnTermination", a.delete_on_termination)
            .close("ebs");
    });
    w.leaf("virtualizationType", "hvm")
        .leaf("hypervisor", "xen")
        .leaf("ebsOptimized", false)
        .leaf("enaSupport", true);
    if let Some(arn) = &i.iam_instance_profile {
        w.open("iamInstanceProfile").leaf("arn", arn);
        w.opt_leaf("id", cloud.iam.instance_profile_by_arn(arn).map(|p| &p.id));
        w.close("iamInstanceProfile");
    }
    w.open("metadataOptions")
        .leaf("state", "applied")
        .leaf("httpTokens", i.http_tokens)
        .leaf("httpPutResponseHopLimit", 2)
        .leaf("httpEndpoint", "enabled")
        .close("metadataOptions");
    tag_set(w, i.tags.as_slice());
}

/// `<name><code>…</code><name>…</name></name>`: an InstanceState.
pub fn instance_state(w: &mut XmlWriter, name: &str, state: InstanceState) {
    w.open(name)
        .leaf("code", state.code())
        .leaf("name", state.as_str())
        .close(name);
}

pub fn vpc_fields(w: &mut XmlWriter, v: &Vpc, account: &str) {
    w.leaf("vpcId", &v.id)
        .leaf("ownerId", account)
        .leaf("state", "available")
        .leaf("cidrBlock", &v.cidr)
        .leaf("dhcpOptionsId", "dopt-0de7a017c0ffee001")
        .leaf("instanceTenancy", "default")
        .leaf("isDefault", v.is_default);
    w.set("cidrBlockAssociationSet", &[v], |w, v| {
        w.leaf("associationId", "vpc-cidr-assoc-0de7a017c0ffee001")
            .leaf("cidrBlock", &v.cidr);
        w.open("cidrBlockState")
            .leaf("state", "associated")
            .close("cidrBlockState");
    });
}

pub fn subnet_fields(w: &mut XmlWriter, s: &Subnet, cloud: &Cloud) {
    w.leaf("subnetId", &s.id)
        .leaf(
            "subnetArn",
            format!("arn:aws:ec2:{}:{}:subnet/{}", cloud.region, cloud.account, s.id),
        )
        .leaf("ownerId", cloud.account_id())
        .leaf("state", "available")
        .leaf("vpcId", &s.vpc_id)
        .leaf("cidrBlock", &s.cidr)
        .leaf("availableIpAddressCount", 4091)
        .leaf("availabilityZone", &s.zone)
        .leaf("availabilityZoneId", &s.zone_id)
        .leaf("defaultForAz", s.default_for_az)
        .leaf("mapPublicIpOnLaunch", s.default_for_az)
        .leaf("assignIpv6AddressOnCreation", false);
}
