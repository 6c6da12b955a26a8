//! What "Run step" does for each action ([`perform`]: the API calls the app
//! makes for the learner), and what every action declares once for both
//! modes: how it treats the shop ([`shop_pause`]) and what the run notes
//! before it is done, by the app or by the learner ([`prepare`]).

use std::time::Duration;

use snaplab_cloud::scenario::wait_until;
use snaplab_cloud::{CloudError, SnapshotInfo, SnapshotState, VolumeInfo, VolumeState};
use snaplab_workload::{judge, replay, verify, BlockDevice, SplitDevice, VerifyOptions};

use crate::cleanup::clean_up;
use crate::context::{Consistency, Reattach, ResourceKind, ResourceRole, LAB_TAG, RUN_TAG};
use crate::def::Action;
use crate::error::LabError;
use crate::events::{EventKind, Level};
use crate::scope::RunScope;
use crate::verification::{ImageSummary, PairFinding, Verification};

/// How the shop stops writing around an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The order in flight finishes, the volume is flushed, writes pause.
    Quiesce,
    /// The next order is held half-written: its journal record on the
    /// volume, its stock row not (a snapshot then tears it, every time).
    MidOrder,
}

/// The shop pauses around an action: how, what to tell the learner when it
/// pauses, what they should do then (hands-on), and when it resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShopPause {
    pub hold: Hold,
    pub paused: &'static str,
    pub cue: &'static str,
    pub resumed: &'static str,
}

/// How `action` treats the shop, whoever performs it: `Some` pauses writes
/// (finishing the order in flight and flushing) before it and resumes them after.
pub fn shop_pause(action: Action, consistency: Consistency) -> Option<ShopPause> {
    match (action, consistency) {
        (Action::DetachReattach, _) => Some(ShopPause {
            hold: Hold::Quiesce,
            paused: "SecureCart stopped writing and unmounted the data volume.",
            cue: "Detach it now.",
            resumed: "SecureCart mounted the data volume again and is writing.",
        }),
        // AWS: pause, create the snapshot, resume "once the snapshot enters
        // the pending state" — it is pending from the moment CreateSnapshot answers.
        (Action::CreateSnapshot, Consistency::App) | (Action::CreateAppConsistentSnapshot, _) => Some(ShopPause {
            hold: Hold::Quiesce,
            paused: "SecureCart paused writes: the order in flight finished and the volume was flushed.",
            cue: "Create the snapshot now; writes resume once it is pending.",
            resumed: "The snapshot is pending: SecureCart resumed writing.",
        }),
        // Real snapshots tear an order by chance; the lab makes the chance certain.
        (Action::CreateTornSnapshot, _) => Some(ShopPause {
            hold: Hold::MidOrder,
            paused: "SecureCart is holding an order half-written: its journal record is on the volume, its stock row is not.",
            cue: "Create the snapshot now: it catches that order torn.",
            resumed: "SecureCart wrote the held order's stock row and is taking orders again.",
        }),
        _ => None,
    }
}

/// How a snapshot made by `action` is consistent: as the action says, else as the run says.
pub fn consistency_of(action: Action, run: Consistency) -> Consistency {
    match action {
        Action::CreateTornSnapshot => Consistency::Crash,
        Action::CreateAppConsistentSnapshot => Consistency::App,
        _ => run,
    }
}

/// Records how the snapshot a create step made is consistent.
pub(crate) async fn note_consistency(scope: &mut RunScope, action: Action) -> Result<(), LabError> {
    let c = consistency_of(action, scope.ctx.consistency);
    if scope.ctx.snapshot_consistency != Some(c) {
        scope.ctx.snapshot_consistency = Some(c);
        scope.record_context().await?;
    }
    Ok(())
}

/// What the run notes before `action` is done, by the app or the learner.
pub async fn prepare(scope: &mut RunScope, action: Action) -> Result<(), LabError> {
    if action == Action::CreateFailingSnapshot {
        crate::alerting::arm_failure(scope).await?;
    }
    if action == Action::DetachReattach {
        scope.ctx.reattach = Some(Reattach {
            snapshot_state_at_detach: scope.snapshot_state_now().await,
            detached: true,
        });
        scope.record_context().await?;
    }
    Ok(())
}

/// Does `action` for the learner.
pub async fn perform(scope: &mut RunScope, action: Action) -> Result<(), LabError> {
    match action {
        Action::StartShop => {
            open_shop(scope).await?;
            tokio::time::sleep(scope.tempo.warm_up).await;
            Ok(())
        }
        Action::CreateSnapshot | Action::CreateAppConsistentSnapshot => {
            create_snapshot(scope).await?;
            note_consistency(scope, action).await
        }
        Action::CreateTornSnapshot => {
            create_snapshot(scope).await?;
            // Where StartTime is known only to the second (moto), the order
            // stays half-written past that second: the snapshot's instant,
            // as the cloud reports it, must not include its completion.
            let precision = scope.cloud.kind.start_time_precision_us().max(0) as u64;
            tokio::time::sleep(Duration::from_micros(precision)).await;
            note_consistency(scope, action).await
        }
        Action::KeepWriting => keep_writing(scope).await,
        Action::DetachReattach => detach_reattach(scope).await,
        Action::MonitorSnapshot => monitor_snapshot(scope).await,
        Action::RestoreVolume => restore_volume(scope).await,
        Action::AttachRestored => attach_restored(scope).await,
        Action::VerifyRestore => verify_restore(scope).await,
        Action::CleanUp => clean_up(scope).await.map(drop),
        Action::CompareSnapshots => record_comparison(scope).await,
        Action::DeletePreviousSnapshot => delete_previous_snapshot(scope).await,
        Action::CreateSnapshotsApart => crate::pair::create_snapshots_apart(scope).await,
        Action::CreateSnapshotSet => crate::pair::create_snapshot_set(scope).await,
        Action::RestorePair => crate::pair::restore_pair(scope).await,
        Action::AttachPair => crate::pair::attach_pair(scope).await,
        Action::ReadRestored => crate::initialization::read_restored(scope).await,
        Action::InitializeRestored => crate::initialization::initialize_restored(scope).await,
        Action::CheckInitialization => crate::initialization::check_initialization(scope).await,
        Action::EnableFastRestore => crate::initialization::enable_fast_restore(scope).await,
        Action::WaitFastRestore => crate::initialization::wait_fast_restore(scope).await,
        Action::DisableFastRestore => crate::initialization::disable_fast_restore(scope).await,
        Action::CreateAlertTopic => crate::alerting::create_topic(scope).await,
        Action::SubscribeAlerts => crate::alerting::subscribe(scope).await,
        Action::PutAlertRule => crate::alerting::put_rule(scope).await,
        Action::TargetAlertTopic => crate::alerting::target_topic(scope).await,
        Action::CreateFailingSnapshot => create_snapshot(scope).await,
        Action::WaitForAlert => crate::alerting::wait_for_alert(scope).await,
    }
}

/// Compares the previous snapshot with the current one block by block and
/// records it (once per pair: the app does it for a hands-on learner too,
/// since the figures are the step's result).
pub(crate) async fn record_comparison(scope: &mut RunScope) -> Result<(), LabError> {
    let (first_id, second_id) = (scope.previous_snapshot_id()?, scope.snapshot_id()?);
    let done = scope
        .ctx
        .comparison
        .as_ref()
        .is_some_and(|c| c.first_snapshot_id == first_id && c.second_snapshot_id == second_id);
    if done {
        return Ok(());
    }
    let data_volume = scope.scenario()?.data_volume_id.clone();
    let first = scope.ec2.snapshot(&first_id).await?;
    let second = scope.ec2.snapshot(&second_id).await?;
    let size = scope.ec2.volume(&data_volume).await?.size_bytes();
    let c = scope.plane.compare(&first, &second, size).await?;
    scope.emit_notice(Level::Info, crate::explain::comparison_line(&c));
    scope.ctx.comparison = Some(c);
    scope.record_context().await
}

async fn delete_previous_snapshot(scope: &mut RunScope) -> Result<(), LabError> {
    let id = scope.previous_snapshot_id()?;
    match scope.ec2.delete_snapshot(&id).await {
        Ok(()) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e.into()),
    }
    scope.record_deleted(&id).await
}

/// Polls a condition at the tempo's interval, within its patience.
pub(crate) async fn wait<F, Fut>(scope: &RunScope, what: &str, ready: F) -> Result<(), LabError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, CloudError>>,
{
    Ok(wait_until(what, scope.tempo.poll, scope.tempo.patience, ready).await?)
}

/// Opens the shop on the data volume (formatting it the first time) and
/// starts sampling it; records that it is open.
pub(crate) async fn open_shop(scope: &mut RunScope) -> Result<(), LabError> {
    if scope.shop_settings.inventory_volume {
        crate::pair::ensure_inventory_volume(scope).await?;
    }
    let scenario = scope.scenario()?.clone();
    let (seed, tempo, clock) = (scope.ctx.store_seed, scope.tempo, scope.clock().clone());
    let site = scope.site.clone();
    let recorded_through = scope.shop.lock().log().last_seq();
    let shop = scope.shop_settings;
    let recovery = scope
        .shop
        .open(
            site.open_shop(&scenario, seed, &tempo, clock, recorded_through, &shop),
            tempo.sample,
        )
        .await?;
    if !recovery.replayed.is_empty() {
        scope.emit_notice(
            Level::Info,
            format!(
                "SecureCart replayed its journal on opening the store: orders {:?} were completed.",
                recovery.replayed
            ),
        );
    }
    scope.ctx.shop_open = true;
    scope.record_context().await
}

/// Stops the shop, recording its last orders.
pub(crate) async fn close_shop(scope: &mut RunScope) -> Result<(), LabError> {
    scope.shop.close().await?;
    if scope.ctx.shop_open {
        scope.ctx.shop_open = false;
        scope.record_context().await?;
    }
    Ok(())
}

pub(crate) async fn create_snapshot(scope: &mut RunScope) -> Result<(), LabError> {
    let volume = scope.scenario()?.data_volume_id.clone();
    let (run_tag, lab_tag) = (scope.ctx.run_id.clone(), scope.ctx.lab_id.clone());
    let snap = scope
        .ec2
        .create_snapshot(
            &volume,
            "Nightly backup",
            &[("Name", "SecureCartBackup"), (RUN_TAG, &run_tag), (LAB_TAG, &lab_tag)],
        )
        .await?;
    scope.record_snapshot(&snap).await
}

async fn keep_writing(scope: &mut RunScope) -> Result<(), LabError> {
    let id = scope.snapshot_id()?;
    let until = tokio::time::Instant::now() + scope.tempo.keep_writing;
    while tokio::time::Instant::now() < until {
        let s = scope.ec2.snapshot(&id).await?;
        scope.emit_progress(&s);
        tokio::time::sleep(scope.tempo.poll.max(Duration::from_millis(100))).await;
    }
    Ok(())
}

async fn detach_reattach(scope: &mut RunScope) -> Result<(), LabError> {
    let scenario = scope.scenario()?.clone();
    let ec2 = scope.ec2.clone();
    let vol = scenario.data_volume_id.clone();
    ec2.detach_volume(&vol, &scenario.instance_id).await?;
    wait(scope, "the data volume detaching", || async {
        Ok(ec2.volume(&vol).await?.state == VolumeState::Available)
    })
    .await?;
    if let Some(id) = scope.ctx.snapshot_id.clone() {
        let s = ec2.snapshot(&id).await?;
        scope.emit_progress(&s);
        scope.emit_notice(
            Level::Info,
            format!(
                "{vol} is detached and available; snapshot {id} is {} at {}%.",
                s.state, s.progress
            ),
        );
    }
    ec2.attach_volume(&vol, &scenario.instance_id, &scenario.data_device)
        .await?;
    let instance = scenario.instance_id.clone();
    wait(scope, "the data volume attaching again", || async {
        Ok(ec2.volume(&vol).await?.is_attached_to(&instance))
    })
    .await
}

/// Waits for the run's snapshot, and for the other half of a pair.
async fn monitor_snapshot(scope: &mut RunScope) -> Result<(), LabError> {
    monitor(scope, scope.snapshot_id()?).await?;
    match scope.ctx.inventory.snapshot_id.clone() {
        Some(id) => monitor(scope, id).await,
        None => Ok(()),
    }
}

async fn monitor(scope: &mut RunScope, id: String) -> Result<(), LabError> {
    let started = tokio::time::Instant::now();
    loop {
        let s = scope.ec2.snapshot(&id).await?;
        scope.emit_progress(&s);
        match s.state {
            SnapshotState::Completed => return Ok(()),
            SnapshotState::Error => return Err(LabError::SnapshotFailed { id }),
            state if started.elapsed() >= scope.tempo.patience => {
                return Err(LabError::SnapshotStuck {
                    id,
                    state,
                    percent: s.progress,
                    waited_s: started.elapsed().as_secs(),
                })
            }
            _ => tokio::time::sleep(scope.tempo.poll).await,
        }
    }
}

async fn restore_volume(scope: &mut RunScope) -> Result<(), LabError> {
    let snap = scope.snapshot_id()?;
    let v = create_restore(scope, &snap, "securecart-restore").await?;
    scope.set_restored(&v);
    wait_available(scope, &v).await
}

/// CreateVolume from `snapshot` in the instance's zone, tagged for the run
/// and recorded as a restore (the caller says which restore it is).
pub(crate) async fn create_restore(scope: &mut RunScope, snapshot: &str, name: &str) -> Result<String, LabError> {
    let zone = scope.scenario()?.zone.clone();
    let (run_tag, lab_tag) = (scope.ctx.run_id.clone(), scope.ctx.lab_id.clone());
    let v = scope
        .ec2
        .create_volume(
            &zone,
            None,
            Some(snapshot),
            &[("Name", name), (RUN_TAG, &run_tag), (LAB_TAG, &lab_tag)],
        )
        .await?;
    scope
        .record_created(ResourceKind::Volume, &v.id, ResourceRole::Restored)
        .await?;
    Ok(v.id)
}

/// Waits for a restored volume to be `available`.
pub(crate) async fn wait_available(scope: &RunScope, id: &str) -> Result<(), LabError> {
    let ec2 = scope.ec2.clone();
    wait(scope, "the restored volume becoming available", || async {
        Ok(ec2.volume(id).await?.state == VolumeState::Available)
    })
    .await
}

async fn attach_restored(scope: &mut RunScope) -> Result<(), LabError> {
    let instance = scope.scenario()?.instance_id.clone();
    let vol = scope.restored_id()?;
    let ec2 = scope.ec2.clone();
    ec2.attach_volume(&vol, &instance, &scope.ctx.restored_device).await?;
    wait(scope, "the restored volume attaching", || async {
        Ok(ec2.volume(&vol).await?.is_attached_to(&instance))
    })
    .await
}

/// Volume `id`, which must be restored from `snapshot` (a learner who
/// skipped a restore has one from an earlier snapshot).
async fn restored_from(scope: &RunScope, id: &str, snapshot: &SnapshotInfo) -> Result<VolumeInfo, LabError> {
    let v = scope.ec2.volume(id).await?;
    match v.snapshot_id.as_deref() == Some(snapshot.id.as_str()) {
        true => Ok(v),
        false => Err(LabError::NotYet(crate::error::Prerequisite::RestoreOfThisSnapshot)),
    }
}

/// Reads the restored volume and judges it against the shop's log (closing
/// the shop first, so the log is complete); emits and keeps the finding. A
/// restored pair (orders, inventory) is read as one store.
async fn verify_restore(scope: &mut RunScope) -> Result<(), LabError> {
    close_shop(scope).await?;
    let snap = scope.ec2.snapshot(&scope.snapshot_id()?).await?;
    let restored = restored_from(scope, &scope.restored_id()?, &snap).await?;
    let pair = match scope.scenario()?.inventory.is_some() {
        true => {
            let s = scope.ec2.snapshot(&crate::pair::inventory_snapshot_id(scope)?).await?;
            let v = restored_from(scope, &crate::pair::restored_inventory_id(scope)?, &s).await?;
            Some((s, v))
        }
        false => None,
    };
    let log = scope.shop.lock().log().clone();
    let log_last_seq = log.last_seq();
    let tolerance = scope.cloud.kind.start_time_precision_us();
    let start_us = snap.start_time.timestamp_micros();
    let (plane, clock) = (scope.plane.clone(), scope.clock().clone());
    let (restored_id, size, snapshot) = (restored.id.clone(), restored.size_bytes(), snap.clone());
    let pair_parts = pair.clone();
    // Opening the disk (a shadow is replayed in memory) and reading it all block.
    let (report, pit, replayed, torn_after, stock_without_order) =
        tokio::task::spawn_blocking(move || -> Result<_, LabError> {
            let orders = plane.restored_disk(&restored_id, size, &snapshot)?;
            let mut disk: Box<dyn BlockDevice + Send> = match &pair_parts {
                None => orders,
                Some((s, v)) => Box::new(SplitDevice::inventory_on(
                    orders,
                    plane.restored_disk(&v.id, v.size_bytes(), s)?,
                )?),
            };
            let options = VerifyOptions {
                scan_through_seq: log.last_seq(),
                ..VerifyOptions::default()
            };
            let report = verify(&disk, &options)?;
            let pit = judge(&report, &log, start_us, tolerance);
            let stock_without_order = report.stock_without_order(&log);
            let replayed = if report.torn.is_empty() {
                Vec::new()
            } else {
                replay(&mut disk, &clock)?.replayed
            };
            let torn_after = if replayed.is_empty() {
                report.torn.len()
            } else {
                verify(&disk, &options)?.torn.len()
            };
            Ok((report, pit, replayed, torn_after, stock_without_order))
        })
        .await??;

    let image = ImageSummary {
        last_seq: report.last_seq,
        committed: report.committed,
        torn_seqs: report.torn.iter().map(|t| t.seq).collect(),
        corrupt: report.corrupt.len() as u64,
        missing_positions: report.missing.len() as u64,
        intact: report.is_intact(),
    };
    let pair = pair.map(|(s, v)| PairFinding {
        inventory_snapshot_id: s.id.clone(),
        restored_inventory_volume_id: v.id.clone(),
        inventory_snapshot_started_at: s.start_time,
        apart_ms: (s.start_time - snap.start_time).num_milliseconds(),
        stock_without_order,
        products_mismatched: report.inventory_mismatches.len() as u64,
    });
    let mut v = Verification {
        snapshot_id: snap.id.clone(),
        restored_volume_id: restored.id.clone(),
        snapshot_started_at: snap.start_time,
        consistency: scope.ctx.snapshot_consistency.unwrap_or(scope.ctx.consistency),
        read_from: scope.plane.source(),
        point_in_time: pit,
        image,
        replayed,
        torn_after_replay: torn_after as u64,
        explanation: Vec::new(),
        on_instance: None,
        pair,
    };
    let scenario = scope.scenario()?.clone();
    if v.pair.is_none() {
        v.on_instance = scope
            .site
            .verify_attached(&scenario, &restored.id, log_last_seq, &scope.tempo)
            .await?;
    }
    v.explanation = crate::explain::explain(&v, tolerance);
    scope.verification = Some(v.clone());
    // Every restore verified, oldest first; verifying one again replaces it.
    scope.ctx.verifications.retain(|old| old.snapshot_id != v.snapshot_id);
    scope.ctx.verifications.push(v.clone());
    scope.record_context().await?;
    scope
        .emit_durable(EventKind::Verification {
            verification: Box::new(v),
        })
        .await
}
