//! Every action and every check, on the in-process emulator at pace instant:
//! each action performed for the learner, what it made found and recorded,
//! each check passing — and each check driven to failure, with its message.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod harness;

use std::time::Duration;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use chrono::{TimeZone, Utc};
use harness::{kinds, World, DATA_DEVICE, DATA_VOLUME_ID, INSTANCE_ID, ROOT_VOLUME_ID};
use snaplab_cloud::{EmulatorDisk, SnapshotState};
use snaplab_lab::actions::{perform, shop_pause, Hold};
use snaplab_lab::checks::judge;
use snaplab_lab::discover::discover;
use snaplab_lab::{
    fixed_clock, Action, CheckId, Consistency, EventKind, LabError, Mode, Prerequisite, ResourceKind, ResourceRole,
    RunScope,
};
use snaplab_workload::BlockDevice;

/// Runs a check and returns (passed, message).
async fn check(scope: &RunScope, id: CheckId) -> (bool, String) {
    let o = judge(scope, id).await;
    (o.passed, o.message)
}

async fn passes(scope: &RunScope, id: CheckId, says: &str) {
    let (passed, message) = check(scope, id).await;
    assert!(passed, "{id} should pass: {message}");
    assert!(message.contains(says), "{id}: {message:?} should say {says:?}");
}

async fn fails(scope: &RunScope, id: CheckId, says: &str) {
    let (passed, message) = check(scope, id).await;
    assert!(!passed, "{id} should fail: {message}");
    assert!(message.contains(says), "{id}: {message:?} should say {says:?}");
}

/// Performs a step's action the way the runner does (step entered, started
/// now), then finds what it made.
async fn run_action(scope: &mut RunScope, action: Action) {
    let step = harness::step(action);
    scope.enter_step(Some(&step.id));
    scope.ctx.step_started_at = Some(scope.now());
    perform(scope, action)
        .await
        .unwrap_or_else(|e| panic!("{action:?}: {e}"));
    discover(scope, action).await.unwrap();
}

/// Marks the start of a step the learner does by hand.
fn learner_step(scope: &mut RunScope, action: Action) {
    let step = harness::step(action);
    scope.enter_step(Some(&step.id));
    scope.ctx.step_started_at = Some(scope.now() - chrono::Duration::milliseconds(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_then_its_checks_pass_in_lab_order() {
    let mut world = World::start().await;
    let mut scope = world.scope().await;

    run_action(&mut scope, Action::StartShop).await;
    passes(&scope, CheckId::ShopTakingOrders, "SecureCart is taking orders").await;

    run_action(&mut scope, Action::CreateSnapshot).await;
    let snap = scope.ctx.snapshot_id.clone().unwrap();
    passes(
        &scope,
        CheckId::SnapshotCreated,
        &format!("Snapshot {snap} of {DATA_VOLUME_ID} was created at"),
    )
    .await;

    run_action(&mut scope, Action::KeepWriting).await;
    passes(
        &scope,
        CheckId::WritesContinued,
        "orders were acknowledged after the snapshot began",
    )
    .await;

    run_action(&mut scope, Action::DetachReattach).await;
    passes(
        &scope,
        CheckId::ReattachedDuringSnapshot,
        "was detached and attached again",
    )
    .await;

    run_action(&mut scope, Action::MonitorSnapshot).await;
    passes(
        &scope,
        CheckId::SnapshotCompleted,
        &format!("{snap} is completed at 100%"),
    )
    .await;

    run_action(&mut scope, Action::RestoreVolume).await;
    let restored = scope.ctx.restored_volume_id.clone().unwrap();
    passes(
        &scope,
        CheckId::RestoredInInstanceZone,
        &format!("{restored} was restored from {snap} in us-east-1a, the instance's zone"),
    )
    .await;

    run_action(&mut scope, Action::AttachRestored).await;
    passes(
        &scope,
        CheckId::RestoredAttached,
        &format!("{restored} is attached to {INSTANCE_ID} at /dev/sdg"),
    )
    .await;

    run_action(&mut scope, Action::VerifyRestore).await;
    let v = scope.verification.clone().unwrap();
    assert!(v.point_in_time.acknowledged_before_snapshot > 0, "{v:?}");
    passes(
        &scope,
        CheckId::PointInTime,
        "orders acknowledged before the snapshot are on the restored volume",
    )
    .await;
    passes(&scope, CheckId::TornOrdersExplained, "torn").await;

    run_action(&mut scope, Action::CleanUp).await;
    passes(
        &scope,
        CheckId::NothingLeftBehind,
        "Everything this run created is gone (2 resources)",
    )
    .await;

    // What the run recorded along the way.
    let kinds_of = |r: &snaplab_lab::RunResource| (r.kind, r.role, r.deleted);
    let resources: Vec<_> = scope.ctx.resources.iter().map(kinds_of).collect();
    assert_eq!(
        resources,
        [
            (ResourceKind::Snapshot, ResourceRole::Backup, true),
            (ResourceKind::Volume, ResourceRole::Restored, true)
        ]
    );
    drop(scope);
    let events = world.events().await;
    let calls: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ApiCall { call } => Some(call.clone()),
            _ => None,
        })
        .collect();
    let create = calls.iter().find(|c| c.operation == "CreateSnapshot").unwrap();
    assert_eq!(
        create.step_id.as_deref(),
        Some("create-snapshot"),
        "calls are attributed to their step"
    );
    let restore = calls.iter().find(|c| c.operation == "CreateVolume").unwrap();
    assert_eq!(restore.step_id.as_deref(), Some("restore"));
    assert!(kinds(&events).contains(&"verification"));
    assert!(
        !world.orders.entries.lock().unwrap().is_empty(),
        "orders reached the order log"
    );
}

#[test]
fn each_action_declares_once_how_it_treats_the_shop() {
    for consistency in [Consistency::Crash, Consistency::App] {
        let detach = shop_pause(Action::DetachReattach, consistency).unwrap();
        assert!(detach.paused.contains("stopped writing") && detach.cue.contains("Detach"));
        for action in [
            Action::StartShop,
            Action::KeepWriting,
            Action::MonitorSnapshot,
            Action::VerifyRestore,
        ] {
            assert_eq!(shop_pause(action, consistency), None, "{action:?}");
        }
    }
    assert_eq!(shop_pause(Action::CreateSnapshot, Consistency::Crash), None);
    let torn = shop_pause(Action::CreateTornSnapshot, Consistency::App).unwrap();
    assert_eq!(
        torn.hold,
        Hold::MidOrder,
        "held half-written whatever the run's consistency"
    );
    assert!(torn.paused.contains("half-written") && torn.cue.contains("Create the snapshot now"));
    let app = shop_pause(Action::CreateAppConsistentSnapshot, Consistency::Crash).unwrap();
    assert_eq!(
        app.hold,
        Hold::Quiesce,
        "paused and flushed whatever the run's consistency"
    );
    let app = shop_pause(Action::CreateSnapshot, Consistency::App).unwrap();
    assert!(app.paused.contains("paused writes") && app.resumed.contains("pending"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_that_need_an_earlier_step_say_which() {
    let world = World::start().await;
    let mut scope = world.scope().await;
    for (action, missing) in [
        (Action::KeepWriting, Prerequisite::Snapshot),
        (Action::MonitorSnapshot, Prerequisite::Snapshot),
        (Action::RestoreVolume, Prerequisite::Snapshot),
        (Action::AttachRestored, Prerequisite::RestoredVolume),
    ] {
        match perform(&mut scope, action).await {
            Err(LabError::NotYet(p)) => assert_eq!(p, missing, "{action:?}"),
            other => panic!("{action:?}: {other:?}"),
        }
    }
    let err = perform(&mut scope, Action::RestoreVolume).await.unwrap_err();
    assert_eq!(err.to_string(), "no snapshot yet: the create-snapshot step comes first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_taking_orders_fails_while_the_shop_is_closed() {
    let world = World::start().await;
    let scope = world.scope().await;
    fails(
        &scope,
        CheckId::ShopTakingOrders,
        "SecureCart has not acknowledged any order yet",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_created_fails_without_a_snapshot_and_names_one_of_the_wrong_volume() {
    let world = World::start().await;
    let mut scope = world.scope().await;
    learner_step(&mut scope, Action::CreateSnapshot);
    fails(
        &scope,
        CheckId::SnapshotCreated,
        &format!("No snapshot of {DATA_VOLUME_ID} was created since this step began"),
    )
    .await;
    // The learner snapshots the root volume, with the run's tag.
    let wrong = world
        .cloud
        .ec2
        .create_snapshot()
        .volume_id(ROOT_VOLUME_ID)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Snapshot)
                .tags(Tag::builder().key("snaplab:run").value(&scope.ctx.run_id).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let wrong = wrong.snapshot_id().unwrap();
    fails(
        &scope,
        CheckId::SnapshotCreated,
        &format!("Snapshot {wrong} is of {ROOT_VOLUME_ID}, but SecureCart's orders are on {DATA_VOLUME_ID}"),
    )
    .await;
    // Without the Name tag the check passes but says the lab's command adds one.
    let snap = world.cloud.create_snapshot(DATA_VOLUME_ID).await;
    discover(&mut scope, Action::CreateSnapshot).await.unwrap();
    assert_eq!(
        scope.ctx.snapshot_id.as_deref(),
        Some(snap.as_str()),
        "the learner's snapshot is found"
    );
    passes(&scope, CheckId::SnapshotCreated, "It has no Name=SecureCartBackup tag").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_continued_fails_without_a_snapshot_or_without_orders_after_it() {
    let world = World::start().await;
    let mut scope = world.scope().await;
    fails(&scope, CheckId::WritesContinued, "There is no snapshot yet").await;
    // A snapshot whose start lies after every order the (closed) shop took.
    scope.ctx.snapshot_started_at = Some(scope.now() + chrono::Duration::hours(1));
    fails(
        &scope,
        CheckId::WritesContinued,
        "No order was acknowledged after the snapshot began",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reattached_during_snapshot_fails_for_each_wrong_state_of_the_volume() {
    // Pace realistic on a clock the test moves: attachments settle in 5 s
    // when the test says, and the snapshot stays pending for 30 s — longer
    // than the four moves below.
    let world = World::manual(snaplab_emulator::Pace::Realistic).await;
    let mut scope = world.scope().await;
    let ec2 = &world.cloud.ec2;
    let settle = || world.cloud.advance(Duration::from_secs(6));
    fails(
        &scope,
        CheckId::ReattachedDuringSnapshot,
        "There is no snapshot to detach under",
    )
    .await;

    settle();
    run_action(&mut scope, Action::CreateSnapshot).await;
    // Never detached: attached since the scenario was seeded, long before.
    fails(
        &scope,
        CheckId::ReattachedDuringSnapshot,
        "has not been detached since the snapshot began",
    )
    .await;

    ec2.detach_volume().volume_id(DATA_VOLUME_ID).send().await.unwrap();
    settle();
    fails(
        &scope,
        CheckId::ReattachedDuringSnapshot,
        &format!("{DATA_VOLUME_ID} is available and not attached to {INSTANCE_ID}: attach it again with aws ec2 attach-volume"),
    )
    .await;

    let attach = |device: &'static str| {
        ec2.attach_volume()
            .volume_id(DATA_VOLUME_ID)
            .instance_id(INSTANCE_ID)
            .device(device)
            .send()
    };
    attach("/dev/sdh").await.unwrap();
    fails(
        &scope,
        CheckId::ReattachedDuringSnapshot,
        "is still attaching: check again in a moment",
    )
    .await;
    settle();
    fails(
        &scope,
        CheckId::ReattachedDuringSnapshot,
        &format!("is attached at /dev/sdh, but SecureCart mounts {DATA_DEVICE}"),
    )
    .await;

    ec2.detach_volume().volume_id(DATA_VOLUME_ID).send().await.unwrap();
    settle();
    attach(DATA_DEVICE).await.unwrap();
    settle();
    assert_eq!(scope.snapshot_state_now().await, Some(SnapshotState::Pending));
    passes(
        &scope,
        CheckId::ReattachedDuringSnapshot,
        "was detached and attached again while snap-",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_completed_fails_while_pending_and_without_a_snapshot() {
    // A clock only the test moves: the snapshot stays pending.
    let world = World::manual(snaplab_emulator::Pace::Demo).await;
    let mut scope = world.scope().await;
    fails(&scope, CheckId::SnapshotCompleted, "There is no snapshot").await;
    run_action(&mut scope, Action::CreateSnapshot).await;
    let snap = scope.ctx.snapshot_id.clone().unwrap();
    fails(
        &scope,
        CheckId::SnapshotCompleted,
        &format!("{snap} is still pending at 0%: wait (aws ec2 wait snapshot-completed --snapshot-ids {snap})"),
    )
    .await;
    world.cloud.advance(Duration::from_secs(3600));
    passes(&scope, CheckId::SnapshotCompleted, "is completed at 100%").await;
}

/// A scope whose snapshot of the data volume is completed.
async fn with_completed_snapshot(world: &World) -> RunScope {
    let mut scope = world.scope().await;
    run_action(&mut scope, Action::CreateSnapshot).await;
    world
        .cloud
        .wait_completed(scope.ctx.snapshot_id.as_deref().unwrap())
        .await;
    scope
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restored_in_instance_zone_fails_for_no_restore_and_for_the_wrong_zone() {
    let world = World::start().await;
    let mut scope = with_completed_snapshot(&world).await;
    let snap = scope.ctx.snapshot_id.clone().unwrap();
    learner_step(&mut scope, Action::RestoreVolume);
    fails(
        &scope,
        CheckId::RestoredInInstanceZone,
        &format!("No volume restored from {snap} was found. Run aws ec2 create-volume --snapshot-id {snap} --availability-zone us-east-1a"),
    )
    .await;

    let wrong = world
        .cloud
        .ec2
        .create_volume()
        .snapshot_id(&snap)
        .availability_zone("us-east-1b")
        .send()
        .await
        .unwrap();
    let wrong = wrong.volume_id().unwrap().to_string();
    discover(&mut scope, Action::RestoreVolume).await.unwrap();
    assert_eq!(
        scope.ctx.restored_volume_id, None,
        "a restore in the wrong zone is not the one to go on with"
    );
    assert!(
        scope.ctx.resources.iter().any(|r| r.id == wrong),
        "but it is recorded, so clean-up deletes it"
    );
    fails(
        &scope,
        CheckId::RestoredInInstanceZone,
        &format!("{wrong} was restored in us-east-1b, but the instance {INSTANCE_ID} is in us-east-1a"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restored_attached_fails_before_a_restore_and_while_not_attached() {
    let world = World::start().await;
    let mut scope = with_completed_snapshot(&world).await;
    fails(
        &scope,
        CheckId::RestoredAttached,
        "No restored volume yet: the restore step comes first.",
    )
    .await;
    run_action(&mut scope, Action::RestoreVolume).await;
    let restored = scope.ctx.restored_volume_id.clone().unwrap();
    fails(
        &scope,
        CheckId::RestoredAttached,
        &format!("{restored} is available and not attached: run aws ec2 attach-volume --volume-id {restored} --instance-id {INSTANCE_ID} --device /dev/sdg"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point_in_time_fails_on_a_damaged_restore_and_on_missing_or_later_orders() {
    let world = World::start().await;
    let mut scope = world.scope().await;
    fails(
        &scope,
        CheckId::PointInTime,
        "The restored volume has not been read yet",
    )
    .await;
    for action in [
        Action::StartShop,
        Action::CreateSnapshot,
        Action::KeepWriting,
        Action::MonitorSnapshot,
    ] {
        run_action(&mut scope, action).await;
    }
    run_action(&mut scope, Action::RestoreVolume).await;
    run_action(&mut scope, Action::AttachRestored).await;
    // Damage the restored store's journal through the data plane (the
    // instance's OS writing garbage over it), then verify.
    let restored = scope.ctx.restored_volume_id.clone().unwrap();
    let mut disk = EmulatorDisk::new(world.cloud.endpoint(), &restored, 8 << 30);
    let journal_at = 1 << 20; // the journal's offset in the store's default layout (docs/journal.md)
    tokio::task::spawn_blocking(move || disk.write_at(journal_at, &[0xAB; 4096]))
        .await
        .unwrap()
        .unwrap();
    run_action(&mut scope, Action::VerifyRestore).await;
    fails(&scope, CheckId::PointInTime, "The restored store is damaged").await;

    // The same judgement over findings the verifier could make on another image.
    let mut v = scope.verification.clone().unwrap();
    v.image.intact = true;
    v.point_in_time.missing = 2;
    v.point_in_time.missing_seqs = vec![4, 5];
    scope.verification = Some(v.clone());
    fails(&scope, CheckId::PointInTime, "2 of the").await;
    fails(&scope, CheckId::PointInTime, "are not on the restored volume: [4, 5]").await;
    v.point_in_time.missing = 0;
    v.point_in_time.after_snapshot_present = 1;
    v.point_in_time.after_snapshot_seqs = vec![90];
    scope.verification = Some(v);
    fails(&scope, CheckId::PointInTime, "It is not a point-in-time image").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_orders_explained_fails_for_torn_app_consistent_snapshots_and_failed_replays() {
    let world = World::start().await;
    let mut scope = world.scope().await;
    fails(
        &scope,
        CheckId::TornOrdersExplained,
        "The restored volume has not been read yet",
    )
    .await;
    for action in [Action::StartShop, Action::CreateSnapshot, Action::MonitorSnapshot] {
        run_action(&mut scope, action).await;
    }
    run_action(&mut scope, Action::RestoreVolume).await;
    run_action(&mut scope, Action::AttachRestored).await;
    run_action(&mut scope, Action::VerifyRestore).await;
    let mut v = scope.verification.clone().unwrap();

    v.image.torn_seqs = vec![12];
    v.replayed = vec![12];
    v.torn_after_replay = 0;
    scope.verification = Some(v.clone());
    passes(
        &scope,
        CheckId::TornOrdersExplained,
        "Order [12] is torn — caught between its two writes",
    )
    .await;

    v.torn_after_replay = 1;
    scope.verification = Some(v.clone());
    fails(
        &scope,
        CheckId::TornOrdersExplained,
        "1 torn orders remain after journal replay",
    )
    .await;

    v.consistency = Consistency::App;
    scope.verification = Some(v.clone());
    fails(
        &scope,
        CheckId::TornOrdersExplained,
        "are torn although writes were paused",
    )
    .await;

    v.image.torn_seqs.clear();
    scope.verification = Some(v);
    passes(
        &scope,
        CheckId::TornOrdersExplained,
        "No torn order: writes were paused",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_left_behind_fails_while_a_resource_is_there_and_clean_up_finds_the_learners_deletions() {
    let world = World::start().await;
    let mut scope = with_completed_snapshot(&world).await;
    run_action(&mut scope, Action::RestoreVolume).await;
    let (snap, restored) = (
        scope.ctx.snapshot_id.clone().unwrap(),
        scope.ctx.restored_volume_id.clone().unwrap(),
    );
    learner_step(&mut scope, Action::CleanUp);
    fails(
        &scope,
        CheckId::NothingLeftBehind,
        &format!("Still there: snapshot {snap}, volume {restored}. Delete them (detach a volume first), or run snaplab cleanup run-"),
    )
    .await;
    // The learner deletes the volume by hand: found and recorded as deleted.
    world
        .cloud
        .ec2
        .delete_volume()
        .volume_id(&restored)
        .send()
        .await
        .unwrap();
    discover(&mut scope, Action::CleanUp).await.unwrap();
    let state = |id: &str| scope.ctx.resources.iter().find(|r| r.id == id).map(|r| r.deleted);
    assert_eq!((state(&restored), state(&snap)), (Some(true), Some(false)));
    fails(
        &scope,
        CheckId::NothingLeftBehind,
        &format!("Still there: snapshot {snap}."),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scope_stamps_events_with_the_injected_clock() {
    let at = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).single().unwrap();
    let mut world = World::start().await;
    let mut scope = world
        .scope_with(Mode::Guided, Consistency::Crash, fixed_clock(at))
        .await;
    assert_eq!(scope.ctx.started_at, at);
    run_action(&mut scope, Action::CreateSnapshot).await;
    drop(scope);
    let events = world.events().await;
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e.at == at), "every event at the injected time");
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::SnapshotProgress { state, .. } if *state == SnapshotState::Completed || *state == SnapshotState::Pending)));
}

/// Performs `action` as a step named `step_id` (for actions of labs other
/// than the harness's), then finds what it made.
async fn run_named(scope: &mut RunScope, step_id: &str, action: Action) {
    scope.enter_step(Some(step_id));
    scope.ctx.step_started_at = Some(scope.now());
    perform(scope, action)
        .await
        .unwrap_or_else(|e| panic!("{action:?}: {e}"));
    discover(scope, action).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_snapshots_compared_block_by_block_then_the_first_deleted() {
    let world = World::start().await;
    let mut scope = world.scope().await;
    run_action(&mut scope, Action::StartShop).await;
    fails(&scope, CheckId::ChangedBlocksCounted, "No earlier snapshot yet").await;
    fails(&scope, CheckId::PreviousSnapshotDeleted, "No earlier snapshot yet").await;

    run_named(&mut scope, "first-snapshot", Action::CreateSnapshot).await;
    let first = scope.ctx.snapshot_id.clone().unwrap();
    run_named(&mut scope, "first-completed", Action::MonitorSnapshot).await;
    assert_eq!(scope.ctx.previous_snapshot_id, None, "one snapshot so far");
    tokio::time::sleep(Duration::from_millis(300)).await;
    run_named(&mut scope, "second-snapshot", Action::CreateSnapshot).await;
    let second = scope.ctx.snapshot_id.clone().unwrap();
    assert_ne!(first, second);
    assert_eq!(scope.ctx.previous_snapshot_id.as_deref(), Some(first.as_str()));
    assert_eq!(scope.ctx.placeholders()["previous_snapshot_id"], first);
    run_named(&mut scope, "second-completed", Action::MonitorSnapshot).await;
    fails(&scope, CheckId::ChangedBlocksCounted, "have not been compared yet").await;

    run_named(&mut scope, "changed-blocks", Action::CompareSnapshots).await;
    let c = scope.ctx.comparison.clone().unwrap();
    assert_eq!(
        (c.first_snapshot_id.as_str(), c.second_snapshot_id.as_str()),
        (first.as_str(), second.as_str())
    );
    assert!(!c.changed.is_empty() && c.changed.len() <= c.held.len(), "{c:?}");
    assert!(
        c.changed.iter().all(|b| c.held.contains(b)),
        "a changed block is held: {c:?}"
    );
    passes(
        &scope,
        CheckId::ChangedBlocksCounted,
        &format!("Between {first} and {second}, "),
    )
    .await;

    fails(
        &scope,
        CheckId::PreviousSnapshotDeleted,
        &format!("Snapshot {first} still exists. Delete it: aws ec2 delete-snapshot --snapshot-id {first}"),
    )
    .await;
    run_named(&mut scope, "delete-first", Action::DeletePreviousSnapshot).await;
    passes(&scope, CheckId::PreviousSnapshotDeleted, &format!("{first} is deleted")).await;
    let gone = scope.ctx.resources.iter().find(|r| r.id == first).unwrap();
    assert!(gone.deleted, "the deletion is recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_change_between_snapshots_fails_its_check_and_a_retry_is_no_second_snapshot() {
    let world = World::start().await;
    let mut scope = world.scope().await;
    // The shop never opens: nothing is written between the two snapshots.
    run_named(&mut scope, "first-snapshot", Action::CreateSnapshot).await;
    let first = scope.ctx.snapshot_id.clone().unwrap();
    // A retry within the same step replaces the snapshot; it does not make it "previous".
    perform(&mut scope, Action::CreateSnapshot).await.unwrap();
    assert_ne!(scope.ctx.snapshot_id.as_deref(), Some(first.as_str()));
    assert_eq!(scope.ctx.previous_snapshot_id, None);
    let retried = scope.ctx.snapshot_id.clone().unwrap();
    run_named(&mut scope, "first-completed", Action::MonitorSnapshot).await;
    // A create step does not count the earlier step's snapshot (the learner
    // comes to it a moment later).
    tokio::time::sleep(Duration::from_millis(50)).await;
    learner_step(&mut scope, Action::CreateSnapshot);
    fails(&scope, CheckId::SnapshotCreated, "since this step began").await;
    run_named(&mut scope, "second-snapshot", Action::CreateSnapshot).await;
    assert_eq!(scope.ctx.previous_snapshot_id.as_deref(), Some(retried.as_str()));
    run_named(&mut scope, "second-completed", Action::MonitorSnapshot).await;
    run_named(&mut scope, "changed-blocks", Action::CompareSnapshots).await;
    fails(&scope, CheckId::ChangedBlocksCounted, "No block changed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_taken_while_an_order_is_held_is_torn_and_replay_completes_it() {
    let world = World::start().await;
    let mut scope = world.scope().await;
    run_action(&mut scope, Action::StartShop).await;
    // As the runner does around the step: hold, act, resume.
    scope.shop.hold_mid_order().await.unwrap();
    run_named(&mut scope, "crash-snapshot", Action::CreateTornSnapshot).await;
    scope.shop.resume().await;
    assert_eq!(scope.ctx.snapshot_consistency, Some(Consistency::Crash));
    run_named(&mut scope, "crash-completed", Action::MonitorSnapshot).await;
    run_named(&mut scope, "crash-restore", Action::RestoreVolume).await;
    let first_restore = scope.ctx.restored_volume_id.clone().unwrap();
    run_named(&mut scope, "crash-attach", Action::AttachRestored).await;
    run_named(&mut scope, "crash-verify", Action::VerifyRestore).await;
    passes(
        &scope,
        CheckId::TornOrderReplayed,
        "torn — its journal record without its stock row",
    )
    .await;
    assert_eq!(scope.ctx.verifications.len(), 1);

    // Writes paused: no torn order; the restore goes to the next device.
    run_action(&mut scope, Action::StartShop).await;
    scope.shop.quiesce().await.unwrap();
    run_named(&mut scope, "app-snapshot", Action::CreateAppConsistentSnapshot).await;
    scope.shop.resume().await;
    assert_eq!(scope.ctx.snapshot_consistency, Some(Consistency::App));
    run_named(&mut scope, "app-completed", Action::MonitorSnapshot).await;
    run_named(&mut scope, "app-restore", Action::RestoreVolume).await;
    assert_ne!(scope.ctx.restored_volume_id.as_deref(), Some(first_restore.as_str()));
    assert_eq!(scope.ctx.restored_device, "/dev/sdh");
    run_named(&mut scope, "app-attach", Action::AttachRestored).await;
    run_named(&mut scope, "app-verify", Action::VerifyRestore).await;
    passes(&scope, CheckId::TornOrdersExplained, "application-consistent").await;
    fails(&scope, CheckId::TornOrderReplayed, "holds no torn order").await;
    let kinds: Vec<Consistency> = scope.ctx.verifications.iter().map(|v| v.consistency).collect();
    assert_eq!(kinds, [Consistency::Crash, Consistency::App], "both kept, oldest first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_deleted_and_made_again_in_its_step_is_found() {
    let world = World::start().await;
    let mut scope = world.scope().await;
    run_named(&mut scope, "create-snapshot", Action::CreateSnapshot).await;
    let first = scope.ctx.snapshot_id.clone().unwrap();
    // The learner deletes it and makes another, in the same step.
    scope.ec2.delete_snapshot(&first).await.unwrap();
    let again = scope.ec2.create_snapshot(DATA_VOLUME_ID, "again", &[]).await.unwrap();
    discover(&mut scope, Action::CreateSnapshot).await.unwrap();
    assert_eq!(scope.ctx.snapshot_id.as_deref(), Some(again.id.as_str()));
    passes(&scope, CheckId::SnapshotCreated, &again.id).await;
}

/// Marks the start of a step (of a lab other than the harness's) the learner does by hand.
fn learner_step_named(scope: &mut RunScope, step_id: &str) {
    scope.enter_step(Some(step_id));
    scope.ctx.step_started_at = Some(scope.now() - chrono::Duration::milliseconds(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pair_checks_name_the_missing_half_and_tell_snapshots_apart_from_a_set() {
    let world = World::start().await;
    let mut scope = world.scope().await;
    scope.shop_settings.inventory_volume = true;
    learner_step_named(&mut scope, "snapshots-apart");
    fails(&scope, CheckId::PairCreated, "SecureCart has no inventory volume yet").await;

    run_named(&mut scope, "start-shop", Action::StartShop).await;
    let inventory = scope.ctx.scenario.as_ref().unwrap().inventory.clone().unwrap();
    assert_eq!(inventory.device, "/dev/sdp");
    let v = scope.ec2.volume(&inventory.volume_id).await.unwrap();
    assert!(v.is_attached_to(INSTANCE_ID), "{v:?}");
    let p = scope.ctx.placeholders();
    assert_eq!(p["inventory_volume_id"], inventory.volume_id);
    assert_eq!(p["restored_inventory_device"], "/dev/sdq");

    // Hands-on mistakes: nothing yet; the inventory volume only; it first.
    learner_step_named(&mut scope, "snapshots-apart");
    fails(&scope, CheckId::PairCreated, "No snapshot of").await;
    scope.ec2.create_snapshot(&inventory.volume_id, "", &[]).await.unwrap();
    fails(&scope, CheckId::PairCreated, "no snapshot of the orders volume").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    scope.ec2.create_snapshot(DATA_VOLUME_ID, "", &[]).await.unwrap();
    fails(&scope, CheckId::PairCreated, "began before").await;

    run_named(&mut scope, "snapshots-apart", Action::CreateSnapshotsApart).await;
    passes(&scope, CheckId::PairCreated, "ms later").await;
    fails(
        &scope,
        CheckId::PairTakenTogether,
        "two CreateSnapshot calls, not one set",
    )
    .await;
    run_named(&mut scope, "apart-completed", Action::MonitorSnapshot).await;
    passes(&scope, CheckId::SnapshotCompleted, "are completed at 100%").await;
    fails(&scope, CheckId::PairRestored, "No volume restored from").await;
    run_named(&mut scope, "apart-restore", Action::RestorePair).await;
    passes(&scope, CheckId::PairRestored, "Restored in us-east-1a").await;
    fails(
        &scope,
        CheckId::PairAttached,
        "and not attached: run aws ec2 attach-volume",
    )
    .await;
    fails(&scope, CheckId::PairDisagrees, "has not been read yet").await;
    run_named(&mut scope, "apart-attach", Action::AttachPair).await;
    passes(&scope, CheckId::PairAttached, "at /dev/sdq").await;
    run_named(&mut scope, "apart-verify", Action::VerifyRestore).await;
    passes(&scope, CheckId::PairDisagrees, "The pair disagrees").await;
    fails(&scope, CheckId::PairAgrees, "not taken at one instant").await;

    run_named(&mut scope, "reopen-shop", Action::StartShop).await;
    run_named(&mut scope, "snapshot-set", Action::CreateSnapshotSet).await;
    passes(&scope, CheckId::PairTakenTogether, "began at one instant").await;
    run_named(&mut scope, "set-completed", Action::MonitorSnapshot).await;
    run_named(&mut scope, "set-restore", Action::RestorePair).await;
    run_named(&mut scope, "set-attach", Action::AttachPair).await;
    passes(&scope, CheckId::PairAttached, "at /dev/sdr").await;
    run_named(&mut scope, "set-verify", Action::VerifyRestore).await;
    passes(&scope, CheckId::PairAgrees, "The pair agrees").await;
    fails(&scope, CheckId::PairDisagrees, "The restored pair agrees").await;
}
