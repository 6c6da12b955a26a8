//! Resources as EC2 XML, element names from botocore's output shapes.

use crate::clock::{iso8601, Timestamp};
use crate::model::instance::Instance;
use crate::model::{Attachment, Cloud, Snapshot, Tag, Volume, Zone, ACCOUNT_ID};
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
        .leaf("startTime", iso8601(&s.start_time))
        .leaf("progress", format!("{}%", s.progress(now)))
        .leaf("ownerId", ACCOUNT_ID)
        .leaf("volumeSize", s.volume_size_gib)
        .leaf("description", &s.description)
        .leaf("encrypted", s.encrypted)
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
        .leaf("ownerId", ACCOUNT_ID)
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
    let attachments: Vec<&Attachment> = v.attachment.iter().collect();
    w.set("attachmentSet", &attachments, |w, a| attachment_fields(w, &v.id, a));
    tag_set(w, v.tags.as_slice());
    w.leaf("volumeType", v.volume_type.as_str())
        .opt_leaf("iops", v.effective_iops())
        .opt_leaf("throughput", v.effective_throughput())
        .leaf("encrypted", v.encrypted)
        .leaf("multiAttachEnabled", false)
        .leaf("fastRestored", false);
}

pub fn zone_fields(w: &mut XmlWriter, z: &Zone) {
    w.leaf("zoneName", &z.name)
        .leaf("zoneId", &z.zone_id)
        .leaf("zoneState", "available")
        .leaf("regionName", &z.region)
        .leaf("groupName", &z.region)
        .leaf("networkBorderGroup", &z.region)
        .leaf("zoneType", "availability-zone")
        .leaf("optInStatus", "opt-in-not-required");
    w.open("messageSet").close("messageSet");
}

/// One reservation holding one instance, with its volumes as block devices.
pub fn reservation(w: &mut XmlWriter, i: &Instance, cloud: &Cloud) {
    w.leaf("reservationId", &i.reservation_id).leaf("ownerId", ACCOUNT_ID);
    w.open("groupSet").close("groupSet");
    w.open("instancesSet").open("item");
    w.leaf("instanceId", &i.id).leaf("imageId", &i.image_id);
    w.open("instanceState")
        .leaf("code", i.state.code())
        .leaf("name", i.state.as_str())
        .close("instanceState");
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
        .leaf("architecture", "x86_64")
        .leaf("rootDeviceType", "ebs")
        .leaf("rootDeviceName", &i.root_device_name);
    let volumes: Vec<&Volume> = cloud.attached_to(&i.id).collect();
    w.set("blockDeviceMapping", &volumes, |w, v| {
        let Some(a) = &v.attachment else { return };
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
    tag_set(w, i.tags.as_slice());
    w.close("item").close("instancesSet");
}
