//! CreateSnapshot, CreateSnapshots, CopySnapshot, DescribeSnapshots,
//! DeleteSnapshot, and the snapshot attributes (sharing).

use super::{check_filters, lookup_all, render, Call, Selection};
use crate::ec2_error;
use crate::error::{Ec2Error, Ec2Result};
use crate::ids::{self, IdKind};
use crate::model::encryption::EncryptionRequest;
use crate::model::paging::PageLimits;
use crate::model::sharing::{Grant, Operation};
use crate::model::snapshot::{self, CopySnapshot, CreateSnapshots, SnapshotAt};
use crate::model::{self, zone, Scope, Snapshot};

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

/// Owner.N: `self`, an account id, or one of AWS's aliases (which own
/// nothing here).
fn owned_by(s: &Snapshot, owner: &str, me: &str) -> bool {
    match owner {
        "self" => s.owner_id == me,
        account => s.owner_id == account,
    }
}

/// RestorableBy.N: `self`, an account id, or `all` (public snapshots).
fn restorable_by(s: &Snapshot, who: &str, me: &str) -> bool {
    match who {
        "all" => s.permission.public,
        "self" => s.owner_id == me || s.restorable_by(me),
        account => s.owner_id == account || s.restorable_by(account),
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
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
    let owners = p.list("Owner");
    for o in &owners {
        if !is_account_id(o) && !matches!(*o, "self" | "amazon" | "aws-marketplace" | "aws-backup-vault") {
            return Err(ec2_error!(
                InvalidParameterValue,
                "Value ({o}) for parameter owners is invalid. Use self, amazon, aws-marketplace or a 12-digit account id."
            ));
        }
    }
    let restorable = p.list("RestorableBy");
    for r in &restorable {
        if !is_account_id(r) && !matches!(*r, "self" | "all") {
            return Err(ec2_error!(
                InvalidParameterValue,
                "Value ({r}) for parameter restorableBy is invalid. Use self, all or a 12-digit account id."
            ));
        }
    }
    let (cloud, world, now) = (&*call.cloud, call.world, call.now);
    let me = cloud.account.as_str();
    let selected = |s: &&Snapshot| {
        (owners.is_empty() || owners.iter().any(|o| owned_by(s, o, me)))
            && (restorable.is_empty() || restorable.iter().any(|r| restorable_by(s, r, me)))
    };
    // Yours, and what other accounts share with you or make public here.
    let visible = |id: &str| {
        cloud
            .snapshot(id)
            .or_else(|e| world.shared_snapshot(id, me, &cloud.region).ok_or(e))
    };
    let explicit = lookup_all(&ids, visible)?;
    let explicit: Vec<&Snapshot> = explicit.into_iter().filter(selected).collect();
    let none_left = !ids.is_empty() && explicit.is_empty();
    let all = cloud
        .snapshots
        .values()
        .chain(world.snapshots_shared_with(me, &cloud.region))
        .filter(selected);
    let page = selection.run(Ok(explicit), all, |s| &s.id, |s| SnapshotAt { snapshot: s, now })?;
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let items: Vec<&Snapshot> = if none_left { Vec::new() } else { page.items };
    let mut w = call.reply();
    w.set("snapshotSet", &items, |w, s| render::snapshot_fields(w, s, now));
    w.opt_leaf("nextToken", page.next_token);
    Ok(w.finish(call.action))
}

/// CopySnapshot: signed for the destination region, the source named by
/// `SourceRegion` and `SourceSnapshotId` (yours, or shared with you).
pub fn copy_snapshot(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let source_region = p.required("SourceRegion")?;
    let source_id = p.required("SourceSnapshotId")?;
    let encryption = EncryptionRequest {
        encrypted: p.bool("Encrypted")?,
        kms_key_id: p.str("KmsKeyId").filter(|k| !k.is_empty()),
    };
    encryption.check()?;
    if p.str("DestinationOutpostArn").is_some() {
        return Err(ec2_error!(
            UnsupportedOperation,
            "snaplab emulates no Outposts: leave out DestinationOutpostArn."
        ));
    }
    if !zone::is_region(source_region) {
        return Err(Ec2Error::invalid_value(
            "sourceRegion",
            source_region,
            "It is not an AWS region.",
        ));
    }
    ids::check(IdKind::Snapshot, source_id)?;
    // Values before state: the tags are judged before the source is looked up.
    let tag_specs = call.tag_specs()?;
    crate::model::tags_for("snapshot", &tag_specs)?;
    let (cloud, world) = (&*call.cloud, call.world);
    let account = cloud.account.clone();
    let source = if source_region == cloud.region {
        cloud.snapshot(source_id).ok()
    } else {
        world
            .cloud(&Scope::new(&account, source_region))
            .and_then(|c| c.snapshots.get(source_id))
    }
    .or_else(|| world.shared_snapshot(source_id, &account, source_region))
    .cloned()
    .ok_or_else(|| model::snapshot_not_found(source_id))?;
    let req = CopySnapshot {
        source: &source,
        source_region,
        description: p.str("Description"),
        encryption,
        tag_specs,
    };
    let id = call.cloud.copy_snapshot(req, call.now, call.dry_run)?;
    let copy = call.cloud.snapshot(&id)?;
    let mut w = call.reply();
    w.leaf("snapshotId", &copy.id);
    render::tag_set(&mut w, copy.tags.as_slice());
    Ok(w.finish(call.action))
}

/// The one attribute that can change (`productCodes` is read-only).
fn volume_permission_attribute(call: &Call<'_>, action: &str) -> Ec2Result<()> {
    match call.params.str("Attribute") {
        None | Some("createVolumePermission") => Ok(()),
        Some("productCodes") => Err(ec2_error!(
            InvalidParameterCombination,
            "The attribute productCodes cannot be {action}; only createVolumePermission can."
        )),
        Some(other) => Err(Ec2Error::invalid_value(
            "attribute",
            other,
            "Use createVolumePermission or productCodes.",
        )),
    }
}

pub fn describe_snapshot_attribute(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let attribute = p.required("Attribute")?;
    let id = p.required("SnapshotId")?;
    if !matches!(attribute, "createVolumePermission" | "productCodes") {
        return Err(Ec2Error::invalid_value(
            "attribute",
            attribute,
            "Use createVolumePermission or productCodes.",
        ));
    }
    let snap = call.cloud.snapshot(id)?;
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let mut w = call.reply();
    w.leaf("snapshotId", &snap.id);
    if attribute == "createVolumePermission" {
        let mut grants: Vec<Grant> = snap.permission.accounts.iter().cloned().map(Grant::Account).collect();
        if snap.permission.public {
            grants.insert(0, Grant::Everyone);
        }
        w.set("createVolumePermission", &grants, |w, g| match g {
            Grant::Everyone => {
                w.leaf("group", "all");
            }
            Grant::Account(a) => {
                w.leaf("userId", a);
            }
        });
    } else {
        w.open("productCodes").close("productCodes");
    }
    Ok(w.finish(call.action))
}

pub fn modify_snapshot_attribute(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let id = p.required("SnapshotId")?;
    volume_permission_attribute(call, "modified")?;
    // Either the structured CreateVolumePermission.Add/Remove, or
    // OperationType with UserId.N / UserGroup.N (the aws CLI's shorthand).
    let structured = p.nested("CreateVolumePermission");
    let parse_all = |items: Vec<crate::wire::query::QueryParams>| -> Ec2Result<Vec<Grant>> {
        items
            .iter()
            .map(|i| Grant::parse(i.str("UserId"), i.str("Group")))
            .collect()
    };
    let added = parse_all(structured.structs("Add"))?;
    let removed = parse_all(structured.structs("Remove"))?;
    let flat: Vec<Grant> = p
        .list("UserId")
        .into_iter()
        .map(|u| Grant::parse(Some(u), None))
        .chain(p.list("UserGroup").into_iter().map(|g| Grant::parse(None, Some(g))))
        .collect::<Ec2Result<_>>()?;
    let (operation, grants) = match (added.is_empty(), removed.is_empty(), flat.is_empty()) {
        (false, true, true) => (Operation::Add, added),
        (true, false, true) => (Operation::Remove, removed),
        (true, true, false) => {
            let operation = match p.str("OperationType") {
                Some("add") => Operation::Add,
                Some("remove") => Operation::Remove,
                Some(other) => return Err(Ec2Error::invalid_value("operationType", other, "Use add or remove.")),
                None => return Err(Ec2Error::missing("OperationType")),
            };
            (operation, flat)
        }
        (true, true, true) => {
            return Err(ec2_error!(
                MissingParameter,
                "The request must contain the parameter createVolumePermission or userId/userGroup"
            ))
        }
        _ => {
            return Err(ec2_error!(
                InvalidParameterCombination,
                "Accounts can be added or removed in one request, not both."
            ))
        }
    };
    call.cloud
        .modify_volume_permission(id, operation, &grants, call.dry_run)?;
    Ok(call.ok_reply())
}

pub fn reset_snapshot_attribute(call: &mut Call<'_>) -> Ec2Result<String> {
    let p = call.params;
    let id = p.required("SnapshotId")?;
    p.required("Attribute")?;
    volume_permission_attribute(call, "reset")?;
    call.cloud.reset_volume_permission(id, call.dry_run)?;
    Ok(call.ok_reply())
}

pub fn delete_snapshot(call: &mut Call<'_>) -> Ec2Result<String> {
    let id = call.params.required("SnapshotId")?;
    call.cloud.delete_snapshot(id, call.dry_run)?;
    Ok(call.ok_reply())
}
