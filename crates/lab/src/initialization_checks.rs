//! The restore-initialization lab's checks: the first read fetched blocks
//! (lazy loading), the second did not, the volume reports itself
//! initialized, Fast Snapshot Restore went on and made a restore
//! initialized at creation, and it was turned off again.

use snaplab_cloud::{ReadKind, ReadPass};

use crate::checks::{fail, pass, CheckOutcome};
use crate::error::{LabError, Prerequisite};
use crate::initialization::{is_on, state_in};
use crate::scope::RunScope;

/// The latest read of `kind` on the current restored volume.
fn read_of(scope: &RunScope, kind: ReadKind) -> Result<&ReadPass, LabError> {
    let volume = scope.restored_id()?;
    scope
        .ctx
        .reads
        .iter()
        .rev()
        .find(|p| p.volume_id == volume && p.kind == kind)
        .ok_or(LabError::NotYet(match kind {
            ReadKind::Again => Prerequisite::SecondRead,
            _ => Prerequisite::FirstRead,
        }))
}

fn speed(p: &ReadPass) -> String {
    format!("{:.0} MiB/s", p.median_mib_per_s())
}

/// The first read had to fetch blocks: the volume was loading lazily.
pub(crate) fn first_read_fetched(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let p = read_of(scope, ReadKind::First)?;
    if p.started_initialized() || p.blocks_fetched == Some(0) {
        return fail(format!(
            "{} was already initialized when it was first read ({}): it was restored from a snapshot with Fast Snapshot Restore enabled, or read before. Restore the snapshot again (the restore step) and read the new volume.",
            p.volume_id,
            speed(p)
        ));
    }
    let fetched = p
        .blocks_fetched
        .map(|n| format!(" It fetched {n} blocks of 512 KiB from the snapshot"))
        .unwrap_or_default();
    let progress = p
        .progress_after
        .map(|a| format!("; the volume reports itself {a}% initialized"))
        .unwrap_or_default();
    pass(format!(
        "The first read of {} MiB came at {}.{fetched}{progress}.",
        p.length / crate::initialization::CHUNK,
        speed(p)
    ))
}

/// The same bytes again fetched nothing: they are on the volume now.
pub(crate) fn second_read_cached(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let first = read_of(scope, ReadKind::First)?;
    let again = read_of(scope, ReadKind::Again)?;
    let faster = again.median_mib_per_s() / first.median_mib_per_s().max(f64::MIN_POSITIVE);
    let cached = match again.blocks_fetched {
        Some(n) => n == 0,
        // A cloud that does not say: judge by the speed.
        None => faster >= 2.0,
    };
    match cached {
        true => pass(format!(
            "Read again at {} ({faster:.1}× the first read's {}): the blocks the first read fetched are on the volume now.",
            speed(again),
            speed(first)
        )),
        false => fail(format!(
            "The second read of {} still fetched blocks from the snapshot ({} against {} the first time). Run the step again.",
            again.volume_id,
            speed(again),
            speed(first)
        )),
    }
}

/// DescribeVolumeStatus reports the restored volume 100% initialized.
pub(crate) async fn volume_initialized(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let id = scope.restored_id()?;
    match scope.ec2.initialization_progress(&id).await? {
        Some(100) => {
            let how = read_of(scope, ReadKind::Initialize)
                .map(|p| format!(" after reading all {} MiB the snapshot holds at {}", p.length / crate::initialization::CHUNK, speed(p)))
                .unwrap_or_default();
            pass(format!("{id} reports initialization progress 100%{how}: no read of it waits for the snapshot any more."))
        }
        Some(p) => fail(format!(
            "{id} is {p}% initialized: some of the snapshot's blocks have never been read. Read every block (the initialize step: on an instance, sudo dd if=/dev/nvme1n1 of=/dev/null bs=1M), then check again."
        )),
        None => fail(format!(
            "The cloud reports no initialization status for {id} (aws ec2 describe-volume-status): was it restored from a snapshot?"
        )),
    }
}

async fn fast_restore_state(scope: &RunScope) -> Result<(String, String, Option<String>), LabError> {
    let (snapshot, zone) = (scope.snapshot_id()?, scope.scenario()?.zone.clone());
    let states = scope.ec2.fast_restores(&snapshot).await?;
    let state = state_in(&states, &zone).map(String::from);
    Ok((snapshot, zone, state))
}

/// Fast Snapshot Restore is on (or on its way) for the snapshot in the instance's zone.
pub(crate) async fn fast_restore_on(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let (snapshot, zone, state) = fast_restore_state(scope).await?;
    match state.as_deref() {
        Some(s) if is_on(s) => pass(format!(
            "Fast Snapshot Restore for {snapshot} in {zone} is {s}: AWS bills it by the minute (one hour at least) from now until it is disabled."
        )),
        other => fail(format!(
            "Fast Snapshot Restore for {snapshot} is {} in {zone}, the instance's zone. Run: aws ec2 enable-fast-snapshot-restores --availability-zones {zone} --source-snapshot-ids {snapshot}",
            other.unwrap_or("not enabled")
        )),
    }
}

/// Fast Snapshot Restore is `enabled` in the instance's zone.
pub(crate) async fn fast_restore_enabled(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let (snapshot, zone, state) = fast_restore_state(scope).await?;
    match state.as_deref() {
        Some("enabled") => pass(format!("Fast Snapshot Restore for {snapshot} in {zone} is enabled: a volume created from it there is initialized at once.")),
        Some(s) if is_on(s) => fail(format!(
            "Fast Snapshot Restore for {snapshot} in {zone} is still {s}: a volume created now would load lazily. Wait until it is enabled, then check again."
        )),
        other => fail(format!(
            "Fast Snapshot Restore for {snapshot} is {} in {zone}: enable it (the previous step), then wait here.",
            other.unwrap_or("not enabled")
        )),
    }
}

/// The restore made while FSR was enabled reported 100% at once and its first read fetched nothing.
pub(crate) async fn fast_restore_initialized(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let first = read_of(scope, ReadKind::First)?;
    let lazy = scope
        .ctx
        .reads
        .iter()
        .find(|p| p.kind == ReadKind::First && p.volume_id != first.volume_id);
    let compared = lazy
        .map(|l| {
            format!(
                ", against {} for the first read of the volume restored without it",
                speed(l)
            )
        })
        .unwrap_or_default();
    if first.started_initialized() && first.blocks_fetched.unwrap_or(0) == 0 {
        return pass(format!(
            "{} was 100% initialized before anything read it, and its first read came at full speed: {}{compared}.",
            first.volume_id,
            speed(first)
        ));
    }
    fail(format!(
        "{} was not initialized at creation (its first read fetched blocks from the snapshot): it was created before Fast Snapshot Restore was enabled in its zone. Restore the snapshot again now that it is enabled, attach the new volume, and read it.",
        first.volume_id
    ))
}

/// Fast Snapshot Restore is off again for the snapshot in every zone (disabling counts).
pub(crate) async fn fast_restore_disabled(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let snapshot = scope.snapshot_id()?;
    let states = scope.ec2.fast_restores(&snapshot).await?;
    let on: Vec<&(String, String)> = states.iter().filter(|(_, s)| is_on(s)).collect();
    match on.first() {
        None => {
            let listed: Vec<String> = states.iter().map(|(z, s)| format!("{z} {s}")).collect();
            let listed = match listed.is_empty() {
                true => String::new(),
                false => format!(" ({})", listed.join(", ")),
            };
            pass(format!(
                "Fast Snapshot Restore for {snapshot} is off in every zone{listed}: it costs nothing from now on."
            ))
        }
        Some((zone, state)) => fail(format!(
            "Fast Snapshot Restore for {snapshot} is still {state} in {zone}, billed every hour it stays on. Run: aws ec2 disable-fast-snapshot-restores --availability-zones {zone} --source-snapshot-ids {snapshot}"
        )),
    }
}
