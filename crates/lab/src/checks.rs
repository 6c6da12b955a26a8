//! Checks judge the cloud's state after a step, whoever performed it, and
//! say precisely what is wrong and what to do. A check reads and decides:
//! it takes the scope by shared reference and records nothing (what a step
//! made is found and recorded first, by [`crate::discover`]).

use chrono::Duration;
use snaplab_cloud::{AttachmentState, SnapshotState, TargetKind};

use crate::context::Consistency;
use crate::def::CheckId;
use crate::discover::{exists, find_restored, find_snapshot, Made};
use crate::error::{LabError, Prerequisite};
use crate::scope::RunScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    pub passed: bool,
    pub message: String,
}

pub(crate) fn pass(message: impl Into<String>) -> Result<CheckOutcome, LabError> {
    Ok(CheckOutcome {
        passed: true,
        message: message.into(),
    })
}

pub(crate) fn fail(message: impl Into<String>) -> Result<CheckOutcome, LabError> {
    Ok(CheckOutcome {
        passed: false,
        message: message.into(),
    })
}

/// Judges one check. A check that cannot look (the cloud does not answer)
/// fails with the reason.
pub async fn judge(scope: &RunScope, check: CheckId) -> CheckOutcome {
    let result = match check {
        CheckId::ShopTakingOrders => shop_taking_orders(scope).await,
        CheckId::SnapshotCreated => snapshot_created(scope).await,
        CheckId::WritesContinued => writes_continued(scope).await,
        CheckId::ReattachedDuringSnapshot => reattached_during_snapshot(scope).await,
        CheckId::SnapshotCompleted => snapshot_completed(scope).await,
        CheckId::RestoredInInstanceZone => restored_in_instance_zone(scope).await,
        CheckId::RestoredAttached => restored_attached(scope).await,
        CheckId::PointInTime => point_in_time(scope),
        CheckId::TornOrdersExplained => torn_orders_explained(scope),
        CheckId::NothingLeftBehind => nothing_left_behind(scope).await,
        CheckId::ChangedBlocksCounted => changed_blocks_counted(scope),
        CheckId::PreviousSnapshotDeleted => previous_snapshot_deleted(scope).await,
        CheckId::TornOrderReplayed => torn_order_replayed(scope),
        CheckId::PairCreated => crate::pair_checks::pair_created(scope).await,
        CheckId::PairTakenTogether => crate::pair_checks::pair_taken_together(scope).await,
        CheckId::PairRestored => crate::pair_checks::pair_restored(scope).await,
        CheckId::PairAttached => crate::pair_checks::pair_attached(scope).await,
        CheckId::PairDisagrees => crate::pair_checks::pair_disagrees(scope),
        CheckId::PairAgrees => crate::pair_checks::pair_agrees(scope),
        CheckId::FirstReadFetched => crate::initialization_checks::first_read_fetched(scope),
        CheckId::SecondReadCached => crate::initialization_checks::second_read_cached(scope),
        CheckId::VolumeInitialized => crate::initialization_checks::volume_initialized(scope).await,
        CheckId::FastRestoreOn => crate::initialization_checks::fast_restore_on(scope).await,
        CheckId::FastRestoreEnabled => crate::initialization_checks::fast_restore_enabled(scope).await,
        CheckId::FastRestoreInitialized => crate::initialization_checks::fast_restore_initialized(scope).await,
        CheckId::FastRestoreDisabled => crate::initialization_checks::fast_restore_disabled(scope).await,
        CheckId::AlertTopicCreated => crate::alert_checks::alert_topic_created(scope).await,
        CheckId::AlertSubscribed => crate::alert_checks::alert_subscribed(scope).await,
        CheckId::AlertRuleMatchesFailures => crate::alert_checks::alert_rule_matches_failures(scope).await,
        CheckId::AlertRuleTargetsTopic => crate::alert_checks::alert_rule_targets_topic(scope).await,
        CheckId::NoAlertForSuccess => crate::alert_checks::no_alert_for_success(scope).await,
        CheckId::AlertReceived => crate::alert_checks::alert_received(scope).await,
    };
    result.unwrap_or_else(|e| CheckOutcome {
        passed: false,
        message: match e {
            LabError::NotYet(p) => format!("{}.", capitalised(&p.to_string())),
            e => format!("The check could not look at the cloud: {e}"),
        },
    })
}

/// What the verify step found (a check after it reads this).
pub(crate) fn verification(scope: &RunScope) -> Result<&crate::verification::Verification, LabError> {
    scope
        .verification
        .as_ref()
        .ok_or(LabError::NotYet(Prerequisite::Verification))
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

async fn shop_taking_orders(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let started = tokio::time::Instant::now();
    let patience = scope.tempo.patience.min(std::time::Duration::from_secs(30));
    loop {
        let (stats, open) = {
            let shop = scope.shop.lock();
            (shop.stats(), shop.is_open())
        };
        if let Some(why) = stats.failed {
            return fail(format!("SecureCart stopped taking orders: {why}"));
        }
        if stats.acknowledged > 0 {
            return pass(format!(
                "SecureCart is taking orders: {} acknowledged so far.",
                stats.acknowledged
            ));
        }
        if !open || started.elapsed() > patience {
            return fail("SecureCart has not acknowledged any order yet. Run the step again.");
        }
        tokio::time::sleep(scope.tempo.poll).await;
    }
}

async fn snapshot_created(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let volume = &scope.scenario()?.data_volume_id;
    let Some(s) = find_snapshot(scope, Made::InThisStep).await? else {
        let others = scope
            .ec2
            .snapshots_tagged(crate::context::RUN_TAG, &scope.ctx.run_id)
            .await?;
        if let Some(other) = others.iter().find(|s| &s.volume_id != volume) {
            return fail(format!(
                "Snapshot {} is of {}, but SecureCart's orders are on {volume}. Snapshot {volume} (and delete {} with aws ec2 delete-snapshot --snapshot-id {}).",
                other.id, other.volume_id, other.id, other.id
            ));
        }
        return fail(format!(
            "No snapshot of {volume} was created since this step began. Run the command shown, then check again."
        ));
    };
    let mut message = format!(
        "Snapshot {} of {volume} was created at {}; it is {} at {}%.",
        s.id,
        s.start_time.format("%H:%M:%S%.3f"),
        s.state,
        s.progress
    );
    if s.tag("Name") != Some("SecureCartBackup") {
        message.push_str(" (It has no Name=SecureCartBackup tag; the lab's command adds one.)");
    }
    pass(message)
}

/// The two snapshots were compared, and the second adds some blocks, not all.
fn changed_blocks_counted(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let (first, second) = (scope.previous_snapshot_id()?, scope.snapshot_id()?);
    let c = scope
        .ctx
        .comparison
        .as_ref()
        .filter(|c| c.first_snapshot_id == first && c.second_snapshot_id == second)
        .ok_or(LabError::NotYet(Prerequisite::Comparison))?;
    if c.changed.is_empty() {
        return fail(format!(
            "No block changed between {first} and {second}: SecureCart wrote nothing in between. Let orders flow, take the second snapshot again, then compare."
        ));
    }
    pass(crate::explain::comparison_line(c))
}

/// The earlier snapshot is gone (the later one still restores in full: the verify step shows it).
async fn previous_snapshot_deleted(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let id = scope.previous_snapshot_id()?;
    if exists(scope, crate::context::ResourceKind::Snapshot, &id).await? {
        return fail(format!(
            "Snapshot {id} still exists. Delete it: aws ec2 delete-snapshot --snapshot-id {id}"
        ));
    }
    pass(format!(
        "{id} is deleted. {} is still complete: AWS keeps every block a later snapshot needs.",
        scope.snapshot_id()?
    ))
}

async fn writes_continued(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let Some(started) = scope.ctx.snapshot_started_at else {
        return fail("There is no snapshot yet: the create-snapshot step comes first.");
    };
    let tolerance = scope.cloud.kind.start_time_precision_us();
    let after = scope
        .shop
        .lock()
        .log()
        .entries()
        .iter()
        .filter(|e| e.begun_at_us > started.timestamp_micros() + tolerance && e.acked_at_us.is_some())
        .count();
    if after == 0 {
        return fail("No order was acknowledged after the snapshot began. Is SecureCart still running?");
    }
    let mut message = format!("{after} orders were acknowledged after the snapshot began: the volume stayed usable.");
    match scope.snapshot_state_now().await {
        Some(SnapshotState::Pending) => message.push_str(" The snapshot is still pending."),
        Some(state) => message.push_str(&format!(
            " The snapshot is already {state} ({}).",
            quick_snapshots_note(scope)
        )),
        None => {}
    }
    pass(message)
}

async fn reattached_during_snapshot(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let scenario = scope.scenario()?;
    let Some(snap) = find_snapshot(scope, Made::Whenever).await? else {
        return fail("There is no snapshot to detach under: the create-snapshot step comes first.");
    };
    let v = scope.ec2.volume(&scenario.data_volume_id).await?;
    let Some(a) = v.attachment.as_ref().filter(|a| a.instance_id == scenario.instance_id) else {
        return fail(format!(
            "{} is {} and not attached to {}: attach it again with aws ec2 attach-volume --volume-id {} --instance-id {} --device {}",
            v.id, v.state, scenario.instance_id, v.id, scenario.instance_id, scenario.data_device
        ));
    };
    if a.state != AttachmentState::Attached {
        return fail(format!("{} is still {}: check again in a moment.", v.id, a.state));
    }
    if a.device != scenario.data_device {
        return fail(format!(
            "{} is attached at {}, but SecureCart mounts {}: detach it and attach it at {}.",
            v.id, a.device, scenario.data_device, scenario.data_device
        ));
    }
    let attached_at = a.attach_time.unwrap_or_default();
    if attached_at < snap.start_time - Duration::seconds(1) {
        return fail(format!(
            "{} has not been detached since the snapshot began (attached at {}). Detach it, wait until it is available, and attach it again.",
            v.id,
            attached_at.format("%H:%M:%S")
        ));
    }
    let while_pending = match (snap.completion_time, &scope.ctx.reattach) {
        (Some(done), _) => attached_at <= done,
        (None, Some(r)) => r.snapshot_state_at_detach == Some(SnapshotState::Pending),
        (None, None) => snap.state == SnapshotState::Pending,
    };
    if while_pending {
        pass(format!(
            "{} was detached and attached again while {} was pending — and the snapshot is {} ({}%): a pending snapshot does not hold the volume.",
            v.id, snap.id, snap.state, snap.progress
        ))
    } else {
        pass(format!(
            "{} was detached and attached again after {} began, but the snapshot had already completed ({}).",
            v.id,
            snap.id,
            quick_snapshots_note(scope)
        ))
    }
}

/// Why a snapshot may already be complete, and how to see it pending.
fn quick_snapshots_note(scope: &RunScope) -> String {
    if scope.cloud.kind == TargetKind::Aws {
        "a snapshot of a small volume with little written can finish within seconds; a large or busy one stays pending for minutes to hours".to_string()
    } else if scope.cloud.kind.keeps_volume_data() {
        format!(
            "at pace {} snapshots finish quickly; --pace demo or realistic keeps them pending longer",
            scope.ctx.pace
        )
    } else {
        format!(
            "{} marks snapshots completed at once; real EBS keeps them pending while it copies — the built-in emulator shows that",
            scope.cloud.kind.label()
        )
    }
}

/// The run's snapshot is completed (both of a pair).
async fn snapshot_completed(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let Some(s) = find_snapshot(scope, Made::Whenever).await? else {
        return fail("There is no snapshot: the create-snapshot step comes first.");
    };
    let mut pair = vec![s];
    if let Some(id) = &scope.ctx.inventory.snapshot_id {
        pair.push(scope.ec2.snapshot(id).await?);
    }
    for s in &pair {
        match s.state {
            SnapshotState::Completed => {}
            SnapshotState::Error => return fail(format!("{} went to state error: take a new snapshot.", s.id)),
            other => {
                return fail(format!(
                "{} is still {other} at {}%: wait (aws ec2 wait snapshot-completed --snapshot-ids {}) and check again.",
                s.id, s.progress, s.id
            ))
            }
        }
    }
    let ids: Vec<&str> = pair.iter().map(|s| s.id.as_str()).collect();
    pass(format!(
        "{} {} completed at 100%.",
        ids.join(" and "),
        if ids.len() == 1 { "is" } else { "are" }
    ))
}

async fn restored_in_instance_zone(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let scenario = scope.scenario()?;
    let snap = scope.snapshot_id()?;
    // The restore to go on with was chosen when it was found (discover). One
    // already attached is an earlier step's (a lab that restores twice), not this one's.
    if let Some(id) = &scope.ctx.restored_volume_id {
        let v = scope.ec2.volume(id).await?;
        if v.zone == scenario.zone && v.attachment.is_none() {
            return pass(format!(
                "{} was restored from {snap} in {}, the instance's zone; it is {} ({} GiB).",
                v.id, v.zone, v.state, v.size_gib
            ));
        }
    }
    match find_restored(scope).await?.iter().find(|v| v.attachment.is_none()) {
        Some(v) => fail(format!(
            "{} was restored in {}, but the instance {} is in {}: a volume can only be attached in its own Availability Zone. Create it again with --availability-zone {} (the lab deletes {} at clean-up).",
            v.id, v.zone, scenario.instance_id, scenario.zone, scenario.zone, v.id
        )),
        None => fail(format!(
            "No volume restored from {snap} was found. Run aws ec2 create-volume --snapshot-id {snap} --availability-zone {}, then check again.",
            scenario.zone
        )),
    }
}

async fn restored_attached(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let instance = &scope.scenario()?.instance_id;
    let id = scope.restored_id()?;
    let v = scope.ec2.volume(&id).await?;
    match attachment(&v, instance, &scope.ctx.restored_device) {
        Ok(device) => pass(format!("{id} is attached to {instance} at {device}.")),
        Err(why) => fail(why),
    }
}

/// Where volume `v` is attached to `instance` (its device), or what is
/// wrong and what to do (attach it at `device`).
pub(crate) fn attachment(v: &snaplab_cloud::VolumeInfo, instance: &str, device: &str) -> Result<String, String> {
    let id = &v.id;
    match &v.attachment {
        Some(a) if a.instance_id == instance && a.state == AttachmentState::Attached => Ok(a.device.clone()),
        Some(a) if a.instance_id == instance => Err(format!(
            "{id} is still {} at {}: check again in a moment.",
            a.state, a.device
        )),
        Some(a) => Err(format!(
            "{id} is attached to {}, not to SecureCart's instance {instance}.",
            a.instance_id
        )),
        None => Err(format!(
            "{id} is {} and not attached: run aws ec2 attach-volume --volume-id {id} --instance-id {instance} --device {device}",
            v.state
        )),
    }
}

fn point_in_time(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let v = verification(scope)?;
    let p = &v.point_in_time;
    if !v.image.intact {
        return fail(format!(
            "The restored store is damaged: {} corrupt and {} missing records.",
            v.image.corrupt, v.image.missing_positions
        ));
    }
    if p.missing > 0 {
        return fail(format!(
            "{} of the {} orders acknowledged before the snapshot are not on the restored volume: {:?}.",
            p.missing, p.acknowledged_before_snapshot, p.missing_seqs
        ));
    }
    if p.after_snapshot_present > 0 {
        return fail(format!(
            "{} orders begun after the snapshot are on the restored volume: {:?}. It is not a point-in-time image.",
            p.after_snapshot_present, p.after_snapshot_seqs
        ));
    }
    let after = match p.begun_after_snapshot {
        0 => "no order began after it".to_string(),
        n => format!("none of the {n} begun after it"),
    };
    pass(format!(
        "All {} orders acknowledged before the snapshot are on the restored volume, and {after}.",
        p.acknowledged_before_snapshot
    ))
}

/// A crash-consistent restore holds a torn order, and journal replay completed it.
fn torn_order_replayed(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let v = verification(scope)?;
    let torn = &v.image.torn_seqs;
    if torn.is_empty() {
        return fail(format!(
            "The restore of {} holds no torn order: the snapshot was not taken while an order was half-written. Take it again in the crash step, while SecureCart holds the order.",
            v.snapshot_id
        ));
    }
    if v.torn_after_replay > 0 {
        return fail(format!(
            "{} of the torn orders {torn:?} are still torn after journal replay.",
            v.torn_after_replay
        ));
    }
    pass(format!(
        "The restore of {} holds order {torn:?} torn — its journal record without its stock row — and replaying the journal completed it, as a database's recovery would.",
        v.snapshot_id
    ))
}

fn torn_orders_explained(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let v = verification(scope)?;
    let torn = &v.image.torn_seqs;
    if v.consistency == Consistency::App {
        return if torn.is_empty() {
            pass("No torn order: writes were paused while the snapshot was created (application-consistent).")
        } else {
            fail(format!(
                "Orders {torn:?} are torn although writes were paused: the snapshot was not application-consistent."
            ))
        };
    }
    if v.torn_after_replay > 0 {
        return fail(format!(
            "{} torn orders remain after journal replay.",
            v.torn_after_replay
        ));
    }
    if torn.is_empty() {
        return pass(
            "No torn order this time: the snapshot did not fall between the two writes of an order (it can; try again, or see the crash-consistency notes).",
        );
    }
    let one = torn.len() == 1;
    pass(format!(
        "Order{} {torn:?} {} torn — caught between {} two writes; never acknowledged, so no promise was broken, and journal replay completed {}.",
        if one { "" } else { "s" },
        if one { "is" } else { "are" },
        if one { "its" } else { "their" },
        if one { "it" } else { "them" },
    ))
}

/// The snapshots and volumes the lab's steps made are gone. (SecureCart's
/// own server and data volume, launched for a run on AWS, go when the run
/// ends: the learner is not asked to delete them.)
async fn nothing_left_behind(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let mut left = Vec::new();
    let made = scope.ctx.resources.iter().filter(|r| !r.role.is_the_apps_own());
    for r in made.clone() {
        if exists(scope, r.kind, &r.id).await? {
            left.push(format!("{} {}", r.kind.as_str(), r.id));
        }
    }
    if left.is_empty() {
        pass(format!(
            "Everything this run created is gone ({} resources).",
            made.count()
        ))
    } else {
        fail(format!(
            "Still there: {}. Delete them (detach a volume first), or run snaplab cleanup {}.",
            left.join(", "),
            scope.ctx.run_id
        ))
    }
}
