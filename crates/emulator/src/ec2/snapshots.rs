//! CreateSnapshot, CreateSnapshots, DescribeSnapshots, DeleteSnapshot.

use super::{check_filters, lookup_all, render, Call, Selection};
use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::model::paging::PageLimits;
use crate::model::snapshot::{self, CreateSnapshots, SnapshotAt};
use crate::model::{Snapshot, ACCOUNT_ID};

pub fn create_snapshot(call: &mut Call<'_>) -> Ec2Result<String> {
    let volume_id = call.params.required("VolumeId")?;
    let description = call.params.str("Description").unwrap_or_default();
    let specs = call.tag_specs()?;
    let id = call
        .cloud
        .create_snapshot(volume_id, description, &specs, call.now, call.dry_run)?;
    let s = call.cloud.snapshot(&id)?;
    let mut w = call.reply();
    render::snapshot_fields(&mut w, s, call.now);
    Ok(w.finish(call.action))
}

pub fn create_snapshots(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let spec = p.nested("InstanceSpecification");
    let copy_tags = match p.str("CopyTagsFromSource") {
        None => false,
        Some("volume") => true,
        Some(other) => {
            return Err(Ec2Error::invalid_value(
                "CopyTagsFromSource",
                other,
                "The only accepted value is 'volume'.",
            ))
        }
    };
    let req = CreateSnapshots {
        instance_id: spec
            .required("InstanceId")
            .map_err(|_| Ec2Error::missing("InstanceSpecification.InstanceId"))?
            .to_string(),
        exclude_boot_volume: spec.flag("ExcludeBootVolume")?,
        exclude_data_volume_ids: spec.list("ExcludeDataVolumeId").into_iter().map(String::from).collect(),
        copy_tags_from_volume: copy_tags,
        description: p.str("Description").unwrap_or_default().to_string(),
        tag_specs: call.tag_specs()?,
    };
    let ids = call.cloud.create_snapshots(req, call.now, call.dry_run)?;
    let snaps: Vec<&Snapshot> = ids.iter().filter_map(|id| call.cloud.snapshots.get(id)).collect();
    let mut w = call.reply();
    w.set("snapshotSet", &snaps, |w, s| {
        render::snapshot_info_fields(w, s, call.now)
    });
    Ok(w.finish(call.action))
}

pub fn describe_snapshots(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let ids = p.list("SnapshotId");
    let filters = p.filters()?;
    check_filters(&filters, snapshot::FILTERS, true)?;
    let selection = Selection {
        filters: &filters,
        page: call.page_request(!ids.is_empty(), "snapshotSet")?,
        limits: PageLimits { min: 5, max: 1000 },
    };
    // Owner.N and RestorableBy.N: every snapshot here is owned by the one
    // emulated account and is private, so they select all or nothing.
    let owners = p.list("Owner");
    let owner_ok = owners.is_empty() || owners.iter().any(|o| *o == "self" || *o == ACCOUNT_ID);
    let restorable = p.list("RestorableBy");
    let restorable_ok = restorable.is_empty() || restorable.iter().any(|r| *r == "self" || *r == ACCOUNT_ID);
    for o in &owners {
        let is_account = o.len() == 12 && o.bytes().all(|b| b.is_ascii_digit());
        if !is_account && !matches!(*o, "self" | "amazon" | "aws-marketplace" | "aws-backup-vault") {
            return Err(ec2_error!(
                InvalidParameterValue,
                "Value ({o}) for parameter owners is invalid. Use self, amazon, aws-marketplace or a 12-digit account id."
            ));
        }
    }
    let cloud = &*call.cloud;
    let now = call.now;
    let visible = owner_ok && restorable_ok;
    let page = selection.run(
        lookup_all(&ids, |id| cloud.snapshot(id)),
        cloud.snapshots.values().filter(|_| visible),
        |s| &s.id,
        |s| SnapshotAt { snapshot: s, now },
    )?;
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let items: Vec<&Snapshot> = if visible { page.items } else { Vec::new() };
    let mut w = call.reply();
    w.set("snapshotSet", &items, |w, s| render::snapshot_fields(w, s, now));
    w.opt_leaf("nextToken", page.next_token);
    Ok(w.finish(call.action))
}

pub fn delete_snapshot(call: &mut Call<'_>) -> Ec2Result<String> {
    let id = call.params.required("SnapshotId")?;
    call.cloud.delete_snapshot(id, call.dry_run)?;
    Ok(call.ok_reply())
}
