//! The multi-volume lab's checks: the pair of snapshots (apart, or one
//! set), its restores and attachments, and how the restored pair agrees.

use snaplab_cloud::SnapshotInfo;

use crate::checks::{fail, pass, verification, CheckOutcome};
use crate::discover::{find_snapshot, newest_of, restored_from, Made};
use crate::error::{LabError, Prerequisite};
use crate::pair::{inventory_snapshot_id, inventory_volume, restored_inventory_id};
use crate::scope::RunScope;

/// The two snapshots this step made: the orders volume's, the inventory volume's.
async fn pair_made_here(scope: &RunScope) -> Result<Result<(SnapshotInfo, SnapshotInfo), String>, LabError> {
    let orders_volume = &scope.scenario()?.data_volume_id;
    let inventory = inventory_volume(scope)?;
    let orders = find_snapshot(scope, Made::InThisStep).await?;
    let inventory_snapshot = newest_of(scope, &inventory.volume_id).await?;
    Ok(match (orders, inventory_snapshot) {
        (Some(o), Some(i)) => Ok((o, i)),
        (None, None) => Err(format!(
            "No snapshot of {orders_volume} or of {} was created since this step began. Run the command(s) shown, then check again.",
            inventory.volume_id
        )),
        (None, Some(i)) => Err(format!(
            "{} snapshots the inventory volume, but no snapshot of the orders volume {orders_volume} was created in this step.",
            i.id
        )),
        (Some(o), None) => Err(format!(
            "{} snapshots the orders volume, but no snapshot of the inventory volume {} was created in this step.",
            o.id, inventory.volume_id
        )),
    })
}

/// How far `later` began after `earlier`, in µs (negative: before).
fn apart_us(earlier: &SnapshotInfo, later: &SnapshotInfo) -> i64 {
    (later.start_time - earlier.start_time)
        .num_microseconds()
        .unwrap_or(i64::MAX)
}

/// How precisely the cloud reports StartTime, in µs (a millisecond at best).
fn precision_us(scope: &RunScope) -> i64 {
    scope.cloud.kind.start_time_precision_us().max(1000)
}

/// Two CreateSnapshot calls, the orders volume's first, far enough apart
/// that SecureCart acknowledged an order in between.
pub(crate) async fn pair_created(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let (o, i) = match pair_made_here(scope).await? {
        Ok(pair) => pair,
        Err(why) => return fail(why),
    };
    let apart = apart_us(&o, &i);
    if apart < 0 {
        return fail(format!(
            "{} (inventory) began before {} (orders): this part snapshots the orders volume first. Delete both (aws ec2 delete-snapshot --snapshot-id …) and run the two commands in the order shown.",
            i.id, o.id
        ));
    }
    // An order wholly between the two instants — each the latest its
    // reported StartTime allows, as the shadow disk reads them.
    let precision = precision_us(scope);
    let (after, before) = (
        o.start_time.timestamp_micros() + precision,
        i.start_time.timestamp_micros() + precision,
    );
    let between = scope
        .shop
        .lock()
        .log()
        .entries()
        .iter()
        .filter(|e| e.begun_at_us > after && e.acked_at_us.is_some_and(|a| a < before))
        .count();
    if between == 0 {
        return fail(format!(
            "{} and {} began {} ms apart, and SecureCart acknowledged no order in between: the pair would agree. Delete both (aws ec2 delete-snapshot --snapshot-id …) and run the second command a moment after the first.",
            o.id,
            i.id,
            apart / 1000
        ));
    }
    pass(format!(
        "{} (orders) began at {}, {} (inventory) {} ms later, at {}: SecureCart acknowledged {between} order(s) in between.",
        o.id,
        o.start_time.format("%H:%M:%S%.3f"),
        i.id,
        apart / 1000,
        i.start_time.format("%H:%M:%S%.3f")
    ))
}

/// One CreateSnapshots call: both volumes at one instant.
pub(crate) async fn pair_taken_together(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let (o, i) = match pair_made_here(scope).await? {
        Ok(pair) => pair,
        Err(why) => return fail(why),
    };
    let apart = apart_us(&o, &i).abs();
    if apart >= precision_us(scope) {
        return fail(format!(
            "{} and {} began {} ms apart: two CreateSnapshot calls, not one set. Delete both and run the create-snapshots command shown.",
            o.id,
            i.id,
            apart / 1000
        ));
    }
    pass(format!(
        "{} (orders) and {} (inventory) began at one instant, {}: one crash-consistent set across both volumes.",
        o.id,
        i.id,
        o.start_time.format("%H:%M:%S%.3f")
    ))
}

/// Both restores exist, in the instance's zone.
pub(crate) async fn pair_restored(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let zone = &scope.scenario()?.zone;
    let halves = [
        ("orders", scope.snapshot_id()?, scope.ctx.restored_volume_id.clone()),
        (
            "inventory",
            inventory_snapshot_id(scope)?,
            scope.ctx.inventory.restored_volume_id.clone(),
        ),
    ];
    let mut found = Vec::new();
    for (what, snap, known) in halves {
        let restored = restored_from(scope, &snap, known.as_deref()).await?;
        match restored.iter().find(|v| &v.zone == zone) {
            Some(v) => found.push(format!("{} from {snap} ({what})", v.id)),
            None => {
                return match restored.first() {
                    Some(v) => fail(format!(
                        "{} ({what}) was restored in {}, but the instance is in {zone}: create it again with --availability-zone {zone}.",
                        v.id, v.zone
                    )),
                    None => fail(format!(
                        "No volume restored from {snap} ({what}) was found. Run aws ec2 create-volume --snapshot-id {snap} --availability-zone {zone}, then check again."
                    )),
                }
            }
        }
    }
    pass(format!("Restored in {zone}: {}.", found.join(" and ")))
}

/// Both restored volumes attached to SecureCart's instance.
pub(crate) async fn pair_attached(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let instance = &scope.scenario()?.instance_id;
    let halves = [
        (scope.restored_id()?, scope.ctx.restored_device.clone()),
        (
            restored_inventory_id(scope)?,
            scope.ctx.inventory.restored_device.clone(),
        ),
    ];
    let mut at = Vec::new();
    for (id, device) in halves {
        let v = scope.ec2.volume(&id).await?;
        match crate::checks::attachment(&v, instance, &device) {
            Ok(device) => at.push(format!("{id} at {device}")),
            Err(why) => return fail(why),
        }
    }
    pass(format!("Attached to {instance}: {}.", at.join(" and ")))
}

fn pair_finding(scope: &RunScope) -> Result<&crate::verification::PairFinding, LabError> {
    verification(scope)?
        .pair
        .as_ref()
        .ok_or(LabError::NotYet(Prerequisite::Verification))
}

/// The pair taken apart shows stock sold for orders it does not hold.
pub(crate) fn pair_disagrees(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let p = pair_finding(scope)?;
    if p.agrees() {
        return fail(format!(
            "The restored pair agrees: the inventory snapshot began {} ms after the orders one, and no order was taken in between. Take the two snapshots again, further apart.",
            p.apart_ms
        ));
    }
    pass(format!(
        "The pair disagrees: the inventory volume holds the stock changes of {} order(s) the orders volume does not have, in {} product(s) — the {} ms between the two snapshots.",
        p.stock_without_order.len(),
        p.products_mismatched,
        p.apart_ms
    ))
}

/// The set restores as one store: every stock change has its order.
pub(crate) fn pair_agrees(scope: &RunScope) -> Result<CheckOutcome, LabError> {
    let v = verification(scope)?;
    let p = pair_finding(scope)?;
    if !p.agrees() {
        return fail(format!(
            "The pair disagrees: {} order(s) have their stock change on the inventory volume but no record on the orders volume — the two snapshots were not taken at one instant ({} ms apart).",
            p.stock_without_order.len(),
            p.apart_ms
        ));
    }
    if v.torn_after_replay > 0 {
        return fail(format!(
            "{} order(s) are still torn after journal replay.",
            v.torn_after_replay
        ));
    }
    let torn = match v.image.torn_seqs.as_slice() {
        [] => "no order was torn".to_string(),
        seqs => format!("order {seqs:?} was in flight at that instant and journal replay completed it"),
    };
    pass(format!(
        "The pair agrees: every stock change on the inventory volume belongs to an order on the orders volume ({} committed); {torn}.",
        v.image.committed
    ))
}
