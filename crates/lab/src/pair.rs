//! The multi-volume lab's actions: SecureCart's inventory volume (its stock
//! table, apart from the orders), and the pair of snapshots, restores and
//! attachments the lab makes of the two volumes — two CreateSnapshot calls
//! apart, or one CreateSnapshots call for the instance.

use std::time::Duration;

use snaplab_cloud::scenario::InventoryVolume;
use snaplab_cloud::{CloudError, SnapshotInfo, TargetKind, VolumeState};

use crate::actions::{create_restore, wait, wait_available};
use crate::context::{ResourceKind, ResourceRole, LAB_TAG, RUN_TAG};
use crate::error::LabError;
use crate::scope::RunScope;

/// Where the inventory volume attaches on SecureCart's instance.
pub const INVENTORY_DEVICE: &str = "/dev/sdp";
const INVENTORY_GIB: i32 = 1;
/// Orders SecureCart takes between two snapshots taken apart (at least).
const ORDERS_BETWEEN: u64 = 3;

/// The inventory volume, created and attached for the run the first time
/// the shop opens (recorded in the scenario as soon as it exists); on a
/// resumed run, found again and attached if it was detached.
pub(crate) async fn ensure_inventory_volume(scope: &mut RunScope) -> Result<(), LabError> {
    if scope.cloud.kind == TargetKind::Aws {
        return Err(LabError::Definition(
            "SecureCart on AWS keeps its stock table on its data volume: a lab with [shop] inventory_volume does not run on AWS".into(),
        ));
    }
    let scenario = scope.scenario()?.clone();
    let volume_id = match &scenario.inventory {
        Some(i) => i.volume_id.clone(),
        None => create_inventory_volume(scope).await?,
    };
    let ec2 = scope.ec2.clone();
    let v = match ec2.volume(&volume_id).await {
        Err(e) if e.is_not_found() => {
            return Err(LabError::Cloud(CloudError::Other(format!(
                "SecureCart's inventory volume {volume_id} is gone (deleted outside the run), and its stock table with it: start a new run"
            ))))
        }
        other => other?,
    };
    if v.is_attached_to(&scenario.instance_id) {
        return Ok(());
    }
    detach_leftover(scope, &scenario.instance_id).await?;
    wait(scope, "the inventory volume becoming available", || async {
        Ok(ec2.volume(&volume_id).await?.state == VolumeState::Available)
    })
    .await?;
    ec2.attach_volume(&volume_id, &scenario.instance_id, INVENTORY_DEVICE)
        .await?;
    wait(scope, "the inventory volume attaching", || async {
        Ok(ec2.volume(&volume_id).await?.is_attached_to(&scenario.instance_id))
    })
    .await?;
    scope.emit_notice(
        crate::events::Level::Info,
        format!(
            "SecureCart's stock table is on {volume_id} (attached at {INVENTORY_DEVICE}); its orders stay on {}.",
            scenario.data_volume_id
        ),
    );
    Ok(())
}

/// CreateVolume for the inventory, recorded (as the run's, and in the
/// scenario) before anything else can interrupt the run.
async fn create_inventory_volume(scope: &mut RunScope) -> Result<String, LabError> {
    let zone = scope.scenario()?.zone.clone();
    let v = scope
        .ec2
        .create_volume(&zone, Some(INVENTORY_GIB), None, &tags(scope, "securecart-inventory"))
        .await?;
    scope
        .record_created(ResourceKind::Volume, &v.id, ResourceRole::AppData)
        .await?;
    if let Some(s) = scope.ctx.scenario.as_mut() {
        s.inventory = Some(InventoryVolume {
            volume_id: v.id.clone(),
            device: INVENTORY_DEVICE.to_string(),
            bytes: v.size_bytes(),
        });
    }
    scope.record_context().await?;
    Ok(v.id)
}

/// An interrupted earlier run's inventory volume still at the device:
/// detached (not deleted — `snaplab cleanup` of that run deletes it).
async fn detach_leftover(scope: &RunScope, instance: &str) -> Result<(), LabError> {
    let ec2 = scope.ec2.clone();
    let at_device = ec2
        .volumes_where("attachment.instance-id", instance)
        .await?
        .into_iter()
        .filter(|v| v.attachment.as_ref().is_some_and(|a| a.device == INVENTORY_DEVICE))
        .filter(|v| v.tag(RUN_TAG) != Some(scope.ctx.run_id.as_str()));
    for v in at_device {
        let run = v.tag(RUN_TAG).unwrap_or("an earlier run").to_string();
        ec2.detach_volume(&v.id, instance).await?;
        wait(scope, "an earlier inventory volume detaching", || async {
            Ok(ec2.volume(&v.id).await?.state == VolumeState::Available)
        })
        .await?;
        scope.emit_notice(
            crate::events::Level::Warning,
            format!("{} (from {run}) was still attached at {INVENTORY_DEVICE}: detached it. Delete it with snaplab cleanup {run}.", v.id),
        );
    }
    Ok(())
}

/// The inventory volume, once the shop has opened on it.
pub(crate) fn inventory_volume(scope: &RunScope) -> Result<InventoryVolume, LabError> {
    scope
        .scenario()?
        .inventory
        .clone()
        .ok_or(LabError::NotYet(crate::error::Prerequisite::InventoryVolume))
}

fn tags<'a>(scope: &'a RunScope, name: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("Name", name),
        (RUN_TAG, &scope.ctx.run_id),
        (LAB_TAG, &scope.ctx.lab_id),
    ]
}

/// Records the inventory half of the current pair.
pub(crate) async fn record_inventory_snapshot(scope: &mut RunScope, s: &SnapshotInfo) -> Result<(), LabError> {
    scope.emit_progress(s);
    if scope.ctx.inventory.snapshot_id.as_deref() != Some(&s.id) {
        scope.ctx.inventory.snapshot_id = Some(s.id.clone());
        scope.record_context().await?;
    }
    scope
        .record_created(ResourceKind::Snapshot, &s.id, ResourceRole::Backup)
        .await
}

/// CreateSnapshot of the orders volume; then, once SecureCart has taken a
/// few more orders (and past the second a cloud like moto rounds
/// StartTime to), CreateSnapshot of the inventory volume — what a backup
/// script that loops over volumes does.
pub(crate) async fn create_snapshots_apart(scope: &mut RunScope) -> Result<(), LabError> {
    let orders_volume = scope.scenario()?.data_volume_id.clone();
    let inventory = inventory_volume(scope)?;
    let orders = scope
        .ec2
        .create_snapshot(&orders_volume, "Orders", &tags(scope, "orders-apart"))
        .await?;
    scope.record_snapshot(&orders).await?;
    let acked_then = scope.shop.lock().stats().acknowledged;
    let precision = Duration::from_micros(scope.cloud.kind.start_time_precision_us().max(0) as u64);
    tokio::time::sleep(precision + Duration::from_millis(200)).await;
    let started = tokio::time::Instant::now();
    while scope.shop.lock().stats().acknowledged < acked_then + ORDERS_BETWEEN
        && started.elapsed() < scope.tempo.patience
    {
        tokio::time::sleep(scope.tempo.poll.min(Duration::from_millis(50))).await;
    }
    let inventory_snapshot = scope
        .ec2
        .create_snapshot(&inventory.volume_id, "Inventory", &tags(scope, "inventory-apart"))
        .await?;
    record_inventory_snapshot(scope, &inventory_snapshot).await
}

/// One CreateSnapshots call for the instance: boot volume excluded, and
/// the run's restored volumes still attached excluded too.
pub(crate) async fn create_snapshot_set(scope: &mut RunScope) -> Result<(), LabError> {
    let scenario = scope.scenario()?.clone();
    let inventory = inventory_volume(scope)?;
    let mut exclude = Vec::new();
    let restored = scope
        .ctx
        .resources_left()
        .filter(|r| r.kind == ResourceKind::Volume && r.role == ResourceRole::Restored)
        .map(|r| r.id.clone())
        .collect::<Vec<_>>();
    for id in restored {
        match scope.ec2.volume(&id).await {
            Ok(v) if v.is_attached_to(&scenario.instance_id) => exclude.push(id),
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    let set = scope
        .ec2
        .create_snapshots(
            &scenario.instance_id,
            &exclude,
            "SecureCart, one instant",
            &tags(scope, "snapshot-set"),
        )
        .await?;
    record_set(scope, &set, &scenario.data_volume_id, &inventory.volume_id).await
}

/// Records a snapshot set: the orders and inventory halves as the pair,
/// any other snapshot in it (a cloud that ignores ExcludeDataVolumeIds)
/// for clean-up.
pub(crate) async fn record_set(
    scope: &mut RunScope,
    set: &[SnapshotInfo],
    orders_volume: &str,
    inventory_volume: &str,
) -> Result<(), LabError> {
    let orders = set.iter().find(|s| s.volume_id == orders_volume);
    let inventory = set.iter().find(|s| s.volume_id == inventory_volume);
    let (Some(orders), Some(inventory)) = (orders, inventory) else {
        for s in set {
            scope
                .record_created(ResourceKind::Snapshot, &s.id, ResourceRole::Backup)
                .await?;
        }
        return Err(LabError::Cloud(CloudError::Other(format!(
            "CreateSnapshots did not snapshot both {orders_volume} and {inventory_volume}"
        ))));
    };
    scope.record_snapshot(orders).await?;
    record_inventory_snapshot(scope, inventory).await?;
    for s in set.iter().filter(|s| s.id != orders.id && s.id != inventory.id) {
        scope
            .record_created(ResourceKind::Snapshot, &s.id, ResourceRole::Backup)
            .await?;
    }
    Ok(())
}

/// CreateVolume from each snapshot of the pair, in the instance's zone.
pub(crate) async fn restore_pair(scope: &mut RunScope) -> Result<(), LabError> {
    let orders_snapshot = scope.snapshot_id()?;
    let inventory_snapshot = inventory_snapshot_id(scope)?;
    let orders = create_restore(scope, &orders_snapshot, "orders-restore").await?;
    scope.set_restored(&orders);
    let inventory = create_restore(scope, &inventory_snapshot, "inventory-restore").await?;
    scope.set_restored_inventory(&inventory);
    wait_available(scope, &orders).await?;
    wait_available(scope, &inventory).await
}

/// AttachVolume for both restored volumes, at their devices.
pub(crate) async fn attach_pair(scope: &mut RunScope) -> Result<(), LabError> {
    let instance = scope.scenario()?.instance_id.clone();
    let pair = [
        (scope.restored_id()?, scope.ctx.restored_device.clone()),
        (
            restored_inventory_id(scope)?,
            scope.ctx.inventory.restored_device.clone(),
        ),
    ];
    let ec2 = scope.ec2.clone();
    for (id, device) in &pair {
        ec2.attach_volume(id, &instance, device).await?;
    }
    for (id, _) in pair {
        wait(scope, "the restored volumes attaching", || async {
            Ok(ec2.volume(&id).await?.is_attached_to(&instance))
        })
        .await?;
    }
    Ok(())
}

pub(crate) fn inventory_snapshot_id(scope: &RunScope) -> Result<String, LabError> {
    scope
        .ctx
        .inventory
        .snapshot_id
        .clone()
        .ok_or(LabError::NotYet(crate::error::Prerequisite::Snapshot))
}

pub(crate) fn restored_inventory_id(scope: &RunScope) -> Result<String, LabError> {
    scope
        .ctx
        .inventory
        .restored_volume_id
        .clone()
        .ok_or(LabError::NotYet(crate::error::Prerequisite::RestoredVolume))
}
