//! CreateVolume, DeleteVolume, AttachVolume, DetachVolume, DescribeVolumes,
//! DescribeVolumeStatus, ModifyVolume, DescribeVolumesModifications.

use super::{check_filters, lookup_all, render, Call, Selection};
use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::model::encryption::EncryptionRequest;
use crate::model::modification::{self, ModificationAt, ModifyVolume};
use crate::model::paging::PageLimits;
use crate::model::volume::{self, CreateVolume};
use crate::model::volume_status::{self, VolumeStatus};

pub fn describe_volumes(call: &mut Call<'_>) -> Ec2Result<String> {
    let ids = call.params.list("VolumeId");
    let filters = call.params.filters()?;
    check_filters(&filters, volume::FILTERS, true)?;
    let selection = Selection {
        filters: &filters,
        page: call.page_request(!ids.is_empty(), "volumeSet")?,
        limits: PageLimits { min: 5, max: 500 },
    };
    let cloud = &*call.cloud;
    let page = selection.run(
        lookup_all(&ids, |id| cloud.volume(id)),
        cloud.volumes.values(),
        |v| &v.id,
        |v| v,
    )?;
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let mut w = call.reply();
    w.set("volumeSet", &page.items, |w, v| render::volume_fields(w, v, cloud));
    w.opt_leaf("nextToken", page.next_token);
    Ok(w.finish(call.action))
}

pub fn describe_volume_status(call: &mut Call<'_>) -> Ec2Result<String> {
    let ids = call.params.list("VolumeId");
    let filters = call.params.filters()?;
    check_filters(&filters, volume_status::FILTERS, false)?;
    let selection = Selection {
        filters: &filters,
        page: call.page_request(!ids.is_empty(), "volumeStatusSet")?,
        limits: PageLimits { min: 5, max: 1000 },
    };
    let cloud = &*call.cloud;
    let page = selection.run(
        lookup_all(&ids, |id| cloud.volume(id)),
        cloud.volumes.values(),
        |v| &v.id,
        |volume| VolumeStatus { volume },
    )?;
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let mut w = call.reply();
    w.set("volumeStatusSet", &page.items, |w, volume| {
        render::volume_status_fields(w, &VolumeStatus { volume }, cloud)
    });
    w.opt_leaf("nextToken", page.next_token);
    Ok(w.finish(call.action))
}

pub fn create_volume(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let kms_key_id = p.str("KmsKeyId").filter(|k| !k.is_empty());
    // A key only means something for an encrypted volume: AWS refuses it before anything else.
    EncryptionRequest {
        encrypted: p.bool("Encrypted")?,
        kms_key_id,
    }
    .check()?;
    let snapshot_id = p.str("SnapshotId").filter(|s| !s.is_empty());
    let shared_snapshot = snapshot_id.and_then(|id| {
        call.world
            .shared_snapshot(id, &call.cloud.account, &call.cloud.region)
            .cloned()
    });
    let req = CreateVolume {
        zone: p.str("AvailabilityZone").filter(|s| !s.is_empty()).map(String::from),
        zone_id: p.str("AvailabilityZoneId").filter(|s| !s.is_empty()).map(String::from),
        size_gib: p.int("Size")?,
        snapshot_id: snapshot_id.map(String::from),
        volume_type: p.str("VolumeType").map(String::from),
        iops: p.int("Iops")?,
        throughput: p.int("Throughput")?,
        encrypted: p.bool("Encrypted")?,
        kms_key_id: kms_key_id.map(String::from),
        shared_snapshot,
        multi_attach: p.flag("MultiAttachEnabled")?,
        tag_specs: call.tag_specs()?,
    };
    let id = call.cloud.create_volume(req, call.now, call.dry_run)?;
    let cloud = &*call.cloud;
    let v = cloud.volume(&id)?;
    let mut w = call.reply();
    render::volume_fields(&mut w, v, cloud);
    Ok(w.finish(call.action))
}

pub fn delete_volume(call: &mut Call<'_>) -> Ec2Result<String> {
    let id = call.params.required("VolumeId")?;
    call.cloud.delete_volume(id, call.now, call.dry_run)?;
    Ok(call.ok_reply())
}

pub fn attach_volume(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let (volume_id, instance_id, device) = (
        p.required("VolumeId")?,
        p.required("InstanceId")?,
        p.required("Device")?,
    );
    let a = call
        .cloud
        .attach_volume(volume_id, instance_id, device, call.now, call.dry_run)?;
    let mut w = call.reply();
    render::attachment_fields(&mut w, volume_id, &a);
    Ok(w.finish(call.action))
}

pub fn detach_volume(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let volume_id = p.required("VolumeId")?;
    let instance_id = p.str("InstanceId").filter(|s| !s.is_empty());
    let device = p.str("Device").filter(|s| !s.is_empty());
    p.flag("Force")?;
    let a = call
        .cloud
        .detach_volume(volume_id, instance_id, device, call.now, call.dry_run)?;
    let mut w = call.reply();
    render::attachment_fields(&mut w, volume_id, &a);
    Ok(w.finish(call.action))
}

pub fn modify_volume(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let req = ModifyVolume {
        volume_id: p.required("VolumeId")?.to_string(),
        size_gib: p.int("Size")?,
        volume_type: p.str("VolumeType").map(String::from),
        iops: p.int("Iops")?,
        throughput: p.int("Throughput")?,
    };
    if p.flag("MultiAttachEnabled")? {
        return Err(ec2_error!(
            UnsupportedOperation,
            "snaplab does not change Multi-Attach with ModifyVolume yet: create an io1 or io2 volume with --multi-attach-enabled instead."
        ));
    }
    let m = call.cloud.modify_volume(req, call.now, call.dry_run)?;
    let mut w = call.reply();
    w.open("volumeModification");
    render::modification_fields(&mut w, &m, call.now);
    w.close("volumeModification");
    Ok(w.finish(call.action))
}

pub fn describe_volumes_modifications(call: &mut Call<'_>) -> Ec2Result<String> {
    let ids = call.params.list("VolumeId");
    let filters = call.params.filters()?;
    check_filters(&filters, modification::FILTERS, false)?;
    let selection = Selection {
        filters: &filters,
        page: call.page_request(false, "volumeModificationSet")?,
        limits: PageLimits { min: 5, max: 500 },
    };
    let cloud = &*call.cloud;
    let now = call.now;
    let page = selection.run(
        lookup_all(&ids, |id| cloud.latest_modification(id)),
        cloud.latest_modifications().into_iter(),
        |m| &m.volume_id,
        |m| ModificationAt { modification: m, now },
    )?;
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let mut w = call.reply();
    w.set("volumeModificationSet", &page.items, |w, m| {
        render::modification_fields(w, m, now)
    });
    w.opt_leaf("nextToken", page.next_token);
    Ok(w.finish(call.action))
}
