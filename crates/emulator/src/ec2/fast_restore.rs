//! Enable/Disable/DescribeFastSnapshotRestores.

use super::{check_filters, Call, Selection};
use crate::clock::iso8601;
use crate::error::{Ec2Error, Ec2Result};
use crate::model::fast_restore::{self, FastRestoreAt, FastRestoreOutcome};
use crate::model::paging::PageLimits;
use crate::wire::xml::XmlWriter;

/// One (snapshot, zone)'s fields, as every FSR reply gives them.
fn fields(w: &mut XmlWriter, at: &FastRestoreAt) {
    let r = &at.restore;
    w.leaf("snapshotId", &at.snapshot_id)
        .leaf("availabilityZone", &r.zone)
        .leaf("state", r.state(at.now).as_str())
        .leaf("stateTransitionReason", r.transition_reason(at.now))
        .leaf("ownerId", &r.owner_id);
    for (name, time) in r.times(at.now) {
        w.opt_leaf(name, time.map(|t| iso8601(&t)));
    }
}

fn outcome_reply(call: &Call<'_>, out: &FastRestoreOutcome) -> String {
    let mut w = call.reply();
    w.set("successful", &out.successful, fields);
    // One item per snapshot, its failed zones inside.
    let mut failed: Vec<&str> = out.unsuccessful.iter().map(|e| e.snapshot_id.as_str()).collect();
    failed.dedup();
    w.set("unsuccessful", &failed, |w, id| {
        w.leaf("snapshotId", id);
        let errors: Vec<_> = out.unsuccessful.iter().filter(|e| e.snapshot_id == *id).collect();
        w.set("fastSnapshotRestoreStateErrorSet", &errors, |w, e| {
            w.leaf("availabilityZone", &e.zone);
            w.open("error")
                .leaf("code", e.error.code.as_str())
                .leaf("message", &e.error.message)
                .close("error");
        });
    });
    w.finish(call.action)
}

fn request(call: &Call<'_>) -> (Vec<String>, Vec<String>) {
    let own = |v: Vec<&str>| v.into_iter().map(String::from).collect();
    (
        own(call.params.list("SourceSnapshotId")),
        own(call.params.list("AvailabilityZone")),
    )
}

pub fn enable(call: &mut Call<'_>) -> Ec2Result<String> {
    let (snapshots, zones) = request(call);
    let out = call
        .cloud
        .enable_fast_restores(&snapshots, &zones, call.now, call.dry_run)?;
    Ok(outcome_reply(call, &out))
}

pub fn disable(call: &mut Call<'_>) -> Ec2Result<String> {
    let (snapshots, zones) = request(call);
    let out = call
        .cloud
        .disable_fast_restores(&snapshots, &zones, call.now, call.dry_run)?;
    Ok(outcome_reply(call, &out))
}

pub fn describe(call: &mut Call<'_>) -> Ec2Result<String> {
    let filters = call.params.filters()?;
    check_filters(&filters, fast_restore::FILTERS, false)?;
    let selection = Selection {
        filters: &filters,
        page: call.page_request(false, "fastSnapshotRestoreSet")?,
        limits: PageLimits { min: 1, max: 200 },
    };
    let keyed: Vec<(String, FastRestoreAt)> = call
        .cloud
        .fast_restores(call.now)
        .into_iter()
        .map(|at| (format!("{}/{}", at.snapshot_id, at.restore.zone), at))
        .collect();
    let page = selection.run(Ok(Vec::new()), keyed.iter(), |(key, _)| key, |(_, at)| at.clone())?;
    if call.dry_run {
        return Err(Ec2Error::dry_run());
    }
    let mut w = call.reply();
    w.set("fastSnapshotRestoreSet", &page.items, |w, (_, at)| fields(w, at));
    w.opt_leaf("nextToken", page.next_token);
    Ok(w.finish(call.action))
}
