//! Finding what a step made and recording it, before the step's checks
//! judge it. Hands-on, the learner made it: the snapshot they created, the
//! volumes they restored (wrong tries too, so clean-up deletes them), the
//! resources they deleted. Guided, the app made it and this confirms it.
//! Checks only read; everything the run learns is recorded here.

use chrono::{DateTime, Duration, Utc};
use snaplab_cloud::{SnapshotInfo, VolumeInfo};

use crate::context::{ResourceKind, ResourceRole};
use crate::def::Action;
use crate::error::LabError;
use crate::scope::RunScope;

/// Finds and records what `action`'s step made.
pub async fn discover(scope: &mut RunScope, action: Action) -> Result<(), LabError> {
    match action {
        Action::CreateSnapshot
        | Action::CreateTornSnapshot
        | Action::CreateAppConsistentSnapshot
        | Action::CreateFailingSnapshot => {
            if let Some(s) = find_snapshot(scope, Made::InThisStep).await? {
                scope.record_snapshot(&s).await?;
                crate::actions::note_consistency(scope, action).await?;
            }
        }
        Action::DetachReattach | Action::MonitorSnapshot => {
            if let Some(s) = find_snapshot(scope, Made::Whenever).await? {
                scope.record_snapshot(&s).await?;
            }
            if scope.lab_uses_alerts() {
                crate::alerting::tell_events(scope).await?;
                crate::alerting::refresh_inbox(scope).await?;
            }
        }
        // The learner's topic and rule are the run's: clean-up deletes them.
        Action::CreateAlertTopic => {
            let found = crate::alerting::alerts(scope)
                .topic_named(crate::alerting::TOPIC_NAME)
                .await?;
            if let Some(arn) = found {
                crate::alerting::note_topic(scope, &arn).await?;
            }
        }
        Action::PutAlertRule => {
            if crate::alerting::alerts(scope)
                .rule(crate::alerting::RULE_NAME)
                .await?
                .is_some()
            {
                crate::alerting::note_rule(scope).await?;
            }
        }
        Action::WaitForAlert => {
            crate::alerting::tell_events(scope).await?;
            crate::alerting::refresh_inbox(scope).await?;
        }
        // The checks read the shop's log: bring it up to date, recorded.
        Action::KeepWriting => scope.shop.record_sample_now().await,
        Action::RestoreVolume => {
            let found = find_restored(scope).await?;
            let zone = scope.scenario()?.zone.clone();
            for v in &found {
                scope
                    .record_created(ResourceKind::Volume, &v.id, ResourceRole::Restored)
                    .await?;
            }
            // The restore to go on with: the newest in the instance's zone
            // (an earlier step's restore of the same snapshot may be found
            // too, within the clock's margin).
            // (A restore is new: one already attached is an earlier step's.)
            let newest = found
                .iter()
                .filter(|v| v.zone == zone && v.attachment.is_none())
                .max_by_key(|v| v.create_time);
            if let Some(v) = newest {
                if scope.ctx.restored_volume_id.as_deref() != Some(&v.id) {
                    scope.set_restored(&v.id);
                    scope.record_context().await?;
                }
            }
        }
        Action::CleanUp => {
            for r in scope.ctx.resources_left().cloned().collect::<Vec<_>>() {
                if !exists(scope, r.kind, &r.id).await? {
                    scope.record_deleted(&r.id).await?;
                }
            }
        }
        // What cannot be compared yet (no earlier snapshot, one not
        // completed, a refused call) is for the check to say, not a stop.
        Action::CompareSnapshots => match crate::actions::record_comparison(scope).await {
            Err(e @ (LabError::Record(_) | LabError::Quit)) => return Err(e),
            Err(LabError::NotYet(_)) | Ok(()) => {}
            Err(e) => scope.emit_notice(
                crate::events::Level::Warning,
                format!("The two snapshots could not be compared: {e}"),
            ),
        },
        Action::DeletePreviousSnapshot => {
            if let Some(id) = scope.ctx.previous_snapshot_id.clone() {
                if !exists(scope, ResourceKind::Snapshot, &id).await? {
                    scope.record_deleted(&id).await?;
                }
            }
        }
        Action::CreateSnapshotsApart | Action::CreateSnapshotSet => discover_pair_snapshots(scope).await?,
        Action::RestorePair => discover_pair_restores(scope).await?,
        // The checks look at the cloud (or at reads the app made itself).
        Action::StartShop
        | Action::AttachRestored
        | Action::AttachPair
        | Action::VerifyRestore
        | Action::ReadRestored
        | Action::InitializeRestored
        | Action::CheckInitialization
        | Action::EnableFastRestore
        | Action::WaitFastRestore
        | Action::DisableFastRestore
        | Action::SubscribeAlerts
        | Action::TargetAlertTopic => {}
    }
    scope.shop.ensure_recorded()
}

/// The pair the learner snapshotted (both halves), and any other snapshot
/// tagged for the run in this step (a set of more volumes) for clean-up.
async fn discover_pair_snapshots(scope: &mut RunScope) -> Result<(), LabError> {
    // The check counts the orders between the two: bring the log up to date.
    scope.shop.record_sample_now().await;
    if let Some(s) = find_snapshot(scope, Made::InThisStep).await? {
        scope.record_snapshot(&s).await?;
    }
    // No inventory volume (the shop never opened): for the check to say.
    let Ok(inventory) = crate::pair::inventory_volume(scope) else {
        return Ok(());
    };
    if let Some(s) = newest_of(scope, &inventory.volume_id).await? {
        crate::pair::record_inventory_snapshot(scope, &s).await?;
    }
    let since = since_step(scope);
    let tagged = scope
        .ec2
        .snapshots_tagged(crate::context::RUN_TAG, &scope.ctx.run_id)
        .await?;
    for s in tagged.iter().filter(|s| s.start_time >= since) {
        scope
            .record_created(ResourceKind::Snapshot, &s.id, ResourceRole::Backup)
            .await?;
    }
    Ok(())
}

/// Volumes restored from either snapshot of the pair (wrong tries too);
/// the ones in the instance's zone are the pair to go on with.
async fn discover_pair_restores(scope: &mut RunScope) -> Result<(), LabError> {
    let zone = scope.scenario()?.zone.clone();
    let orders = find_restored(scope).await?;
    let Ok(inventory_snapshot) = crate::pair::inventory_snapshot_id(scope) else {
        return Ok(());
    };
    let known = scope.ctx.inventory.restored_volume_id.clone();
    let inventory = restored_from(scope, &inventory_snapshot, known.as_deref()).await?;
    for v in orders.iter().chain(&inventory) {
        scope
            .record_created(ResourceKind::Volume, &v.id, ResourceRole::Restored)
            .await?;
    }
    if let Some(v) = orders.iter().find(|v| v.zone == zone) {
        scope.set_restored(&v.id);
    }
    if let Some(v) = inventory.iter().find(|v| v.zone == zone) {
        scope.set_restored_inventory(&v.id);
    }
    scope.record_context().await
}

/// Resources made in this step are at least this recent. Peers report
/// times to the second, so allow a little before the step's start.
fn since_step(scope: &RunScope) -> DateTime<Utc> {
    scope.ctx.step_started_at.unwrap_or(scope.ctx.started_at) - Duration::seconds(2)
}

/// Which snapshot a step is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    /// One made in this step (a create step: an earlier step's does not count).
    InThisStep,
    /// The run's, whenever it was made.
    Whenever,
}

/// The run's snapshot: the one it knows (if it still exists, and — for
/// [`Made::InThisStep`] — was recorded in this step), or else the latest of
/// the data volume made since the step began that no earlier step recorded
/// (one tagged for this run first).
pub async fn find_snapshot(scope: &RunScope, made: Made) -> Result<Option<SnapshotInfo>, LabError> {
    let recorded_here = scope.ctx.snapshot_step_started_at == scope.ctx.step_started_at;
    if let Some(id) = &scope.ctx.snapshot_id {
        if made == Made::Whenever || recorded_here {
            match scope.ec2.snapshot(id).await {
                Ok(s) => return Ok(Some(s)),
                // Gone: in a create step the learner may have deleted it and
                // made another, so look for that one; otherwise there is none.
                Err(e) if e.is_not_found() && made == Made::InThisStep => {}
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
    }
    let volume = scope.scenario()?.data_volume_id.clone();
    newest_of(scope, &volume).await
}

/// The latest snapshot of `volume` made since the step began that no
/// earlier step recorded (one tagged for this run first).
pub async fn newest_of(scope: &RunScope, volume: &str) -> Result<Option<SnapshotInfo>, LabError> {
    let since = since_step(scope);
    // Peers give times to the second, so an earlier step's snapshot can look
    // recent: what the run recorded before this step never counts as new.
    let step_began = scope.ctx.step_started_at.unwrap_or(scope.ctx.started_at);
    let earlier: Vec<&str> = scope
        .ctx
        .resources
        .iter()
        .filter(|r| r.kind == ResourceKind::Snapshot && r.created_at.is_some_and(|t| t < step_began))
        .map(|r| r.id.as_str())
        .collect();
    let mut recent: Vec<SnapshotInfo> = scope
        .ec2
        .snapshots_of(volume)
        .await?
        .into_iter()
        .filter(|s| s.start_time >= since && !earlier.contains(&s.id.as_str()))
        .collect();
    recent.sort_by_key(|s| {
        (
            s.tag(crate::context::RUN_TAG) == Some(scope.ctx.run_id.as_str()),
            s.start_time,
        )
    });
    Ok(recent.pop())
}

/// Volumes restored from the run's snapshot since the step began (and the
/// one the run already knows).
pub async fn find_restored(scope: &RunScope) -> Result<Vec<VolumeInfo>, LabError> {
    let snap = scope.snapshot_id()?;
    restored_from(scope, &snap, scope.ctx.restored_volume_id.as_deref()).await
}

/// Volumes restored from `snapshot` since the step began (and `known`).
pub async fn restored_from(scope: &RunScope, snapshot: &str, known: Option<&str>) -> Result<Vec<VolumeInfo>, LabError> {
    let since = since_step(scope);
    Ok(scope
        .ec2
        .volumes_where("snapshot-id", snapshot)
        .await?
        .into_iter()
        .filter(|v| Some(v.id.as_str()) == known || v.create_time.is_none_or(|t| t >= since))
        .collect())
}

/// Whether a resource of the run still exists (a volume being deleted does not).
pub async fn exists(scope: &RunScope, kind: ResourceKind, id: &str) -> Result<bool, LabError> {
    let found = match kind {
        ResourceKind::Volume => scope.ec2.volume(id).await.map(|v| !v.state.is_gone()),
        ResourceKind::Snapshot => scope.ec2.snapshot(id).await.map(|_| true),
        ResourceKind::AlertTopic => Ok(crate::alerting::alerts(scope)
            .topic_named(id.rsplit(':').next().unwrap_or_default())
            .await?
            .is_some_and(|arn| arn == id)),
        ResourceKind::AlertRule => Ok(crate::alerting::alerts(scope).rule(id).await?.is_some()),
        ResourceKind::Instance => scope
            .ec2
            .instance(id)
            .await
            .map(|i| !matches!(i.state.as_str(), "shutting-down" | "terminated")),
    };
    match found {
        Ok(there) => Ok(there),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e.into()),
    }
}
