//! The restore-initialization lab's actions: reading a restored volume and
//! timing it (lazy loading: the first read of each block is slow, the second
//! is not), initializing it (every block the snapshot holds, read once —
//! what `dd`/`fio` over the device does), and Fast Snapshot Restore, which
//! makes a restore initialized at creation (and costs by the hour until it
//! is disabled: the clean-up disables it if the learner did not).

use snaplab_cloud::{ReadKind, ReadPass};

use crate::actions::wait;
use crate::error::LabError;
use crate::events::Level;
use crate::scope::RunScope;

/// The cost per block the lab asks an `instant` emulator for, where first
/// reads would otherwise be free: 10 ms per 512 KiB, a first read at 50 MiB/s.
const INSTANT_FIRST_READ_US: u64 = 10_000;
/// Bytes per timed read: one point of the read-throughput chart.
pub const CHUNK: u64 = 1024 * 1024;

/// Reads the first half of what the restored volume's snapshot holds —
/// SecureCart opening its store — timed chunk by chunk: the first time on
/// this volume, then again.
pub(crate) async fn read_restored(scope: &mut RunScope) -> Result<(), LabError> {
    let volume = scope.restored_id()?;
    let read_before = scope
        .ctx
        .reads
        .iter()
        .any(|p| p.volume_id == volume && p.kind != ReadKind::Initialize);
    let kind = if read_before { ReadKind::Again } else { ReadKind::First };
    timed_pass(scope, kind).await
}

/// Reads every block the snapshot holds, once: the volume is initialized.
pub(crate) async fn initialize_restored(scope: &mut RunScope) -> Result<(), LabError> {
    timed_pass(scope, ReadKind::Initialize).await
}

async fn timed_pass(scope: &mut RunScope, kind: ReadKind) -> Result<(), LabError> {
    let volume_id = scope.restored_id()?;
    let volume = scope.ec2.volume(&volume_id).await?;
    let snapshot_id = volume
        .snapshot_id
        .clone()
        .ok_or(LabError::NotYet(crate::error::Prerequisite::RestoredVolume))?;
    let snapshot = scope.ec2.snapshot(&snapshot_id).await?;
    let size = volume.size_bytes();
    let extent = scope.plane.held_extent(&snapshot, size).await?;
    let length = match kind {
        ReadKind::Initialize => extent,
        // Half, in whole chunks (at least one).
        ReadKind::First | ReadKind::Again => (extent / 2).div_ceil(CHUNK).max(1) * CHUNK,
    }
    .min(size);
    let plane = scope.plane.clone();
    let set = tokio::task::spawn_blocking({
        let plane = plane.clone();
        move || plane.ensure_first_read_cost(INSTANT_FIRST_READ_US)
    })
    .await??;
    if set {
        // Given back at clean-up: other runs on this emulator keep its pace's.
        scope.ctx.first_read_cost_set = true;
        scope.emit_notice(
            Level::Info,
            format!(
                "The emulator's pace makes first reads free: the lab asked it for {} ms per block until the run ends.",
                INSTANT_FIRST_READ_US / 1000
            ),
        );
    }
    let progress_before = scope.ec2.initialization_progress(&volume_id).await?;
    let timed = tokio::task::spawn_blocking({
        let (id, snapshot) = (volume_id.clone(), snapshot.clone());
        move || plane.timed_read(&id, size, &snapshot, (0, length), CHUNK)
    })
    .await??;
    let progress_after = scope.ec2.initialization_progress(&volume_id).await?;
    let pass = ReadPass {
        kind,
        volume_id: volume_id.clone(),
        offset: 0,
        length,
        samples: timed.samples,
        seconds: timed.seconds,
        blocks_fetched: timed.blocks_fetched,
        progress_before,
        progress_after,
    };
    scope.emit_notice(Level::Info, read_line(&pass));
    // A retry of the same read replaces it.
    scope
        .ctx
        .reads
        .retain(|p| !(p.volume_id == pass.volume_id && p.kind == pass.kind));
    scope.ctx.reads.push(pass);
    scope.record_context().await
}

/// One sentence on a read, for the event feed and the CLI.
pub fn read_line(p: &ReadPass) -> String {
    let what = match p.kind {
        ReadKind::First => "First read of",
        ReadKind::Again => "Read again:",
        ReadKind::Initialize => "Initialized by reading all",
    };
    let fetched = match p.blocks_fetched {
        Some(0) => ", fetching no block from the snapshot".to_string(),
        Some(n) => format!(", fetching {n} blocks from the snapshot"),
        None => String::new(),
    };
    let progress = match (p.progress_before, p.progress_after) {
        (Some(a), Some(b)) => format!("; initialization {a}% → {b}%"),
        _ => String::new(),
    };
    format!(
        "{what} {} MiB of {} at {:.0} MiB/s (median of 1 MiB reads){fetched}{progress}.",
        p.length / CHUNK,
        p.volume_id,
        p.median_mib_per_s()
    )
}

/// DescribeVolumeStatus for the restored volume, told to the learner.
pub(crate) async fn check_initialization(scope: &mut RunScope) -> Result<(), LabError> {
    let id = scope.restored_id()?;
    let message = match scope.ec2.initialization_progress(&id).await? {
        Some(100) => format!("{id} is initialized (progress 100%)."),
        Some(p) => format!("{id} is {p}% initialized."),
        None => format!("The cloud reports no initialization status for {id}."),
    };
    scope.emit_notice(Level::Info, message);
    Ok(())
}

fn snapshot_and_zone(scope: &RunScope) -> Result<(String, String), LabError> {
    Ok((scope.snapshot_id()?, scope.scenario()?.zone.clone()))
}

pub(crate) async fn enable_fast_restore(scope: &mut RunScope) -> Result<(), LabError> {
    let (snapshot, zone) = snapshot_and_zone(scope)?;
    let state = scope.ec2.enable_fast_restore(&snapshot, &zone).await?;
    scope.emit_notice(
        Level::Info,
        format!("Fast Snapshot Restore for {snapshot} in {zone} is {state}."),
    );
    Ok(())
}

/// Waits until Fast Snapshot Restore is `enabled` for the snapshot in the instance's zone.
pub(crate) async fn wait_fast_restore(scope: &mut RunScope) -> Result<(), LabError> {
    let (snapshot, zone) = snapshot_and_zone(scope)?;
    let ec2 = scope.ec2.clone();
    wait(scope, "Fast Snapshot Restore becoming enabled", || async {
        Ok(state_in(&ec2.fast_restores(&snapshot).await?, &zone) == Some("enabled"))
    })
    .await
}

pub(crate) async fn disable_fast_restore(scope: &mut RunScope) -> Result<(), LabError> {
    let (snapshot, zone) = snapshot_and_zone(scope)?;
    let state = scope.ec2.disable_fast_restore(&snapshot, &zone).await?;
    scope.emit_notice(
        Level::Info,
        format!("Fast Snapshot Restore for {snapshot} in {zone} is {state}."),
    );
    Ok(())
}

/// The state in `zone` among (zone, state) pairs.
pub(crate) fn state_in<'a>(states: &'a [(String, String)], zone: &str) -> Option<&'a str> {
    states.iter().find(|(z, _)| z == zone).map(|(_, s)| s.as_str())
}

/// On, or on its way: billed by the hour.
pub(crate) fn is_on(state: &str) -> bool {
    matches!(state, "enabling" | "optimizing" | "enabled")
}

/// Turns Fast Snapshot Restore off for `snapshot` in every zone it is on,
/// and waits until it is `disabled` there (AWS refuses to delete a snapshot
/// before). Returns the zones it was on in.
pub(crate) async fn disable_everywhere(scope: &RunScope, snapshot: &str) -> Result<Vec<String>, LabError> {
    let ec2 = scope.ec2.clone();
    let on: Vec<String> = ec2
        .fast_restores(snapshot)
        .await?
        .into_iter()
        .filter(|(_, s)| s != "disabled")
        .map(|(z, _)| z)
        .collect();
    for zone in &on {
        match ec2.disable_fast_restore(snapshot, zone).await {
            Ok(_) => {}
            // Already disabling: wait for it below.
            Err(e) if e.code() == Some("IncorrectState") => {}
            Err(e) => return Err(e.into()),
        }
    }
    if !on.is_empty() {
        wait(scope, "Fast Snapshot Restore becoming disabled", || async {
            Ok(ec2.fast_restores(snapshot).await?.iter().all(|(_, s)| s == "disabled"))
        })
        .await?;
    }
    Ok(on)
}
