//! The runner as a whole, on the in-process emulator at pace instant:
//! guided straight through and step by step, hands-on with a scripted
//! learner who gets things wrong first, application-consistent, quitting and
//! resuming, and a record that fails (the run stops rather than go on
//! unrecorded).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod harness;

use aws_sdk_ec2::types::Filter;
use harness::{kinds, notices, Orders, Refuse, Script, World, DATA_DEVICE, DATA_VOLUME_ID, INSTANCE_ID};
use snaplab_lab::{
    Awaiting, CheckId, Consistency, EventKind, LabError, LabEvent, LearnerReply, Mode, NoLearner, RunContext,
    RunOutcome, Runner, Start, StepOutcome,
};
use snaplab_workload::WriterLog;

async fn runner(
    world: &World,
    mode: Mode,
    consistency: Consistency,
    input: Box<dyn snaplab_lab::LearnerInput>,
) -> Runner {
    let wiring = world.wiring(snaplab_lab::system_clock()).await;
    Runner::new(
        harness::lab(),
        Start::New(world.settings(mode, consistency)),
        wiring,
        input,
    )
}

/// Runs a new run of the lab to its end; its outcome.
async fn run_to_end(
    world: &World,
    mode: Mode,
    consistency: Consistency,
    input: Box<dyn snaplab_lab::LearnerInput>,
) -> RunOutcome {
    runner(world, mode, consistency, input).await.run().await.unwrap()
}

fn finished_steps(events: &[LabEvent]) -> Vec<(String, StepOutcome)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepFinished { step_id, outcome } => Some((step_id.clone(), *outcome)),
            _ => None,
        })
        .collect()
}

fn checks(events: &[LabEvent]) -> Vec<(CheckId, bool, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CheckResult {
                check_id,
                passed,
                message,
                ..
            } => Some((*check_id, *passed, message.clone())),
            _ => None,
        })
        .collect()
}

fn last_context(events: &[LabEvent]) -> RunContext {
    events
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::ContextChanged { context } | EventKind::RunStarted { context, .. } => Some((**context).clone()),
            _ => None,
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guided_run_passes_every_step_and_sends_orders_by_their_own_path() {
    let mut world = World::start().await;
    let outcome = run_to_end(&world, Mode::Guided, Consistency::Crash, Box::new(NoLearner)).await;
    assert_eq!(outcome, RunOutcome::Passed);
    let events = world.events().await;
    assert_eq!(kinds(&events).first(), Some(&"run_started"));
    assert_eq!(kinds(&events).last(), Some(&"run_finished"));
    let finished = finished_steps(&events);
    assert_eq!(finished.len(), 9);
    assert!(finished.iter().all(|(_, o)| *o == StepOutcome::Passed), "{finished:?}");
    assert!(checks(&events).iter().all(|(_, passed, _)| *passed));
    assert!(events.iter().all(|e| e.run_id == "run-20261129-120000-test"));
    // The order log reached the record apart from the event stream, and the
    // verification counted exactly those orders.
    let orders = world.orders.entries.lock().unwrap().len() as u64;
    let v = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Verification { verification } => Some(verification.clone()),
            _ => None,
        })
        .unwrap();
    let p = &v.point_in_time;
    assert!(orders > 0);
    assert!(
        p.acknowledged_before_snapshot > 0 && p.begun_after_snapshot > 0,
        "{p:?}"
    );
    assert!(p.acknowledged_before_snapshot + p.begun_after_snapshot <= orders + p.in_flight);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_by_step_waits_for_run_before_each_step_and_ignores_a_check() {
    let mut world = World::start().await;
    let mut script = Script::replies(&[]).say(LearnerReply::Check).say(LearnerReply::Run);
    for _ in 1..9 {
        script = script.say(LearnerReply::Run);
    }
    script.paces = true;
    let asked = script.asked.clone();
    let outcome = run_to_end(&world, Mode::Guided, Consistency::Crash, Box::new(script)).await;
    assert_eq!(outcome, RunOutcome::Passed);
    let asked = asked.lock().unwrap().clone();
    assert_eq!(
        asked.len(),
        10,
        "a Check while awaiting Run is ignored and asked again: {asked:?}"
    );
    assert!(asked.iter().all(|(_, a)| *a == Awaiting::Run));
    assert_eq!(asked[0].0, "start-shop");
    assert_eq!(asked[1].0, "start-shop");
    let events = world.events().await;
    let awaiting = events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::AwaitingLearner {
                    awaiting: Awaiting::Run,
                    ..
                }
            )
        })
        .count();
    assert_eq!(awaiting, 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skipped_guided_step_fails_the_steps_that_build_on_it_but_clean_up_still_runs() {
    let mut world = World::start().await;
    let mut script = Script::replies(&[LearnerReply::Run, LearnerReply::Skip]);
    for _ in 0..9 {
        script = script.say(LearnerReply::Run);
    }
    script.paces = true;
    let outcome = run_to_end(&world, Mode::Guided, Consistency::Crash, Box::new(script)).await;
    assert_eq!(outcome, RunOutcome::Failed);
    let finished = finished_steps(&world.events().await);
    let ids: Vec<(&str, StepOutcome)> = finished.iter().map(|(s, o)| (s.as_str(), *o)).collect();
    assert_eq!(
        ids,
        [
            ("start-shop", StepOutcome::Passed),
            ("create-snapshot", StepOutcome::Skipped),
            ("keep-writing", StepOutcome::Failed),
            ("cleanup", StepOutcome::Passed),
        ]
    );
}

/// The snapshot of the data volume the learner made.
async fn learners_snapshot(ec2: &aws_sdk_ec2::Client) -> String {
    let out = ec2
        .describe_snapshots()
        .filters(Filter::builder().name("volume-id").values(DATA_VOLUME_ID).build())
        .send()
        .await
        .unwrap();
    out.snapshots().last().unwrap().snapshot_id().unwrap().to_string()
}

/// The volume restored in `zone` from the learner's snapshot.
async fn restored_in(ec2: &aws_sdk_ec2::Client, zone: &str) -> String {
    let snap = learners_snapshot(ec2).await;
    let out = ec2
        .describe_volumes()
        .filters(Filter::builder().name("snapshot-id").values(snap).build())
        .send()
        .await
        .unwrap();
    out.volumes()
        .iter()
        .find(|v| v.availability_zone() == Some(zone))
        .unwrap()
        .volume_id()
        .unwrap()
        .to_string()
}

async fn until_volume(ec2: &aws_sdk_ec2::Client, id: &str, ready: impl Fn(&aws_sdk_ec2::types::Volume) -> bool) {
    for _ in 0..1000 {
        let out = ec2.describe_volumes().volume_ids(id).send().await.unwrap();
        if out.volumes().first().is_some_and(&ready) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("{id} never got there");
}

fn available(v: &aws_sdk_ec2::types::Volume) -> bool {
    v.state() == Some(&aws_sdk_ec2::types::VolumeState::Available)
}

fn attached(v: &aws_sdk_ec2::types::Volume) -> bool {
    v.attachments().first().and_then(|a| a.state()) == Some(&aws_sdk_ec2::types::VolumeAttachmentState::Attached)
}

/// What the scripted learner types, one step at a time (aws CLI commands, as SDK calls).
mod learner {
    use super::*;
    use aws_sdk_ec2::Client;

    pub async fn snapshot(ec2: Client) {
        ec2.create_snapshot().volume_id(DATA_VOLUME_ID).send().await.unwrap();
    }

    /// Detaches `volume`, waits until it is available, attaches it at `device`, waits until attached.
    pub async fn detach_then_attach(ec2: Client, volume: String, device: &'static str) {
        ec2.detach_volume().volume_id(&volume).send().await.unwrap();
        until_volume(&ec2, &volume, available).await;
        attach(ec2, volume, device).await;
    }

    pub async fn attach(ec2: Client, volume: String, device: &'static str) {
        until_volume(&ec2, &volume, available).await;
        ec2.attach_volume()
            .volume_id(&volume)
            .instance_id(INSTANCE_ID)
            .device(device)
            .send()
            .await
            .unwrap();
        until_volume(&ec2, &volume, attached).await;
    }

    pub async fn restore_in(ec2: Client, zone: &'static str) {
        let snap = learners_snapshot(&ec2).await;
        ec2.create_volume()
            .snapshot_id(snap)
            .availability_zone(zone)
            .send()
            .await
            .unwrap();
    }

    pub async fn attach_restore(ec2: Client) {
        let id = restored_in(&ec2, "us-east-1a").await;
        attach(ec2, id, "/dev/sdg").await;
    }

    /// Detaches and deletes the restore in the instance's zone, deletes the snapshot — and forgets the other zone's.
    pub async fn clean_up_but_the_wrong_zone(ec2: Client) {
        let id = restored_in(&ec2, "us-east-1a").await;
        ec2.detach_volume().volume_id(&id).send().await.unwrap();
        until_volume(&ec2, &id, available).await;
        ec2.delete_volume().volume_id(&id).send().await.unwrap();
        let snap = learners_snapshot(&ec2).await;
        ec2.delete_snapshot().snapshot_id(snap).send().await.unwrap();
    }

    pub async fn delete_volumes_in(ec2: Client, zone: &'static str) {
        let out = ec2
            .describe_volumes()
            .filters(Filter::builder().name("availability-zone").values(zone).build())
            .send()
            .await
            .unwrap();
        for v in out.volumes() {
            ec2.delete_volume()
                .volume_id(v.volume_id().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hands_on_learner_who_gets_steps_wrong_first_passes_after_fixing_them() {
    let mut world = World::start().await;
    let ec2 = || world.cloud.ec2.clone();
    use LearnerReply::Check;
    let script = Script::replies(&[])
        // create-snapshot: checks before doing anything, then does it.
        .say(Check)
        .then(learner::snapshot(ec2()), Check)
        .then(
            learner::detach_then_attach(ec2(), DATA_VOLUME_ID.into(), DATA_DEVICE),
            Check,
        )
        // monitor: the snapshot completes at once at pace instant.
        .say(Check)
        // restore: first in the wrong zone, then in the right one.
        .then(learner::restore_in(ec2(), "us-east-1b"), Check)
        .then(learner::restore_in(ec2(), "us-east-1a"), Check)
        .then(learner::attach_restore(ec2()), Check)
        // cleanup: the wrong-zone volume is forgotten, so the check names it; then deleted.
        .then(learner::clean_up_but_the_wrong_zone(ec2()), Check)
        .then(learner::delete_volumes_in(ec2(), "us-east-1b"), Check);
    let asked = script.asked.clone();
    let outcome = run_to_end(&world, Mode::HandsOn, Consistency::Crash, Box::new(script)).await;
    let events = world.events().await;
    assert_eq!(outcome, RunOutcome::Passed, "{:#?}", checks(&events));
    // Only the steps a learner can do were asked about, each as a check.
    let asked: Vec<String> = asked.lock().unwrap().iter().map(|(s, _)| s.clone()).collect();
    assert_eq!(
        asked,
        [
            "create-snapshot",
            "create-snapshot",
            "detach-while-pending",
            "monitor",
            "restore",
            "restore",
            "attach",
            "cleanup",
            "cleanup"
        ]
    );
    let failed: Vec<(CheckId, String)> = checks(&events)
        .into_iter()
        .filter(|(_, passed, _)| !passed)
        .map(|(id, _, m)| (id, m))
        .collect();
    assert_eq!(failed.len(), 3, "{failed:#?}");
    assert_eq!(failed[0].0, CheckId::SnapshotCreated);
    assert!(failed[0].1.contains("No snapshot of vol-0123456789abcdef0 was created"));
    assert_eq!(failed[1].0, CheckId::RestoredInInstanceZone);
    assert!(failed[1].1.contains("was restored in us-east-1b"), "{}", failed[1].1);
    assert_eq!(failed[2].0, CheckId::NothingLeftBehind);
    assert!(failed[2].1.starts_with("Still there: volume vol-"), "{}", failed[2].1);
    // The shop paused around the detach, telling the learner when to act.
    let said = notices(&events);
    assert!(
        said.iter()
            .any(|n| n.contains("unmounted the data volume. Detach it now.")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|n| n.contains("mounted the data volume again")),
        "{said:?}"
    );
    // Both restores were recorded (so clean-up knew the wrong one) and are gone.
    let ctx = last_context(&events);
    assert_eq!(ctx.resources.len(), 3);
    assert!(ctx.resources.iter().all(|r| r.deleted));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_consistent_pauses_writes_around_the_snapshot_and_tears_nothing() {
    let mut world = World::start().await;
    let outcome = run_to_end(&world, Mode::Guided, Consistency::App, Box::new(NoLearner)).await;
    assert_eq!(outcome, RunOutcome::Passed);
    let events = world.events().await;
    let said = notices(&events);
    let paused = said
        .iter()
        .position(|n| n.contains("SecureCart paused writes"))
        .unwrap();
    let resumed = said
        .iter()
        .position(|n| n.contains("The snapshot is pending: SecureCart resumed"))
        .unwrap();
    assert!(paused < resumed);
    let torn = events.iter().find_map(|e| match &e.kind {
        EventKind::Verification { verification } => Some(verification.image.torn_seqs.clone()),
        _ => None,
    });
    assert_eq!(torn, Some(vec![]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_interrupts_the_run_and_a_resume_finishes_only_the_steps_left() {
    let mut world = World::start().await;
    let mut script = Script::replies(&[LearnerReply::Run, LearnerReply::Run, LearnerReply::Quit]);
    script.paces = true;
    let outcome = run_to_end(&world, Mode::Guided, Consistency::Crash, Box::new(script)).await;
    assert_eq!(outcome, RunOutcome::Interrupted);
    let first = world.so_far();
    let finished: Vec<String> = finished_steps(&first).into_iter().map(|(s, _)| s).collect();
    assert_eq!(finished, ["start-shop", "create-snapshot"]);
    assert!(matches!(
        first.last().map(|e| &e.kind),
        Some(EventKind::RunFinished {
            outcome: RunOutcome::Interrupted,
            steps_passed: 2,
            ..
        })
    ));

    // Resume from what was recorded: the last context and the order log.
    let context = last_context(&first);
    assert!(context.snapshot_id.is_some());
    let log = WriterLog::from_entries(world.orders.entries.lock().unwrap().clone());
    let wiring = world.wiring(snaplab_lab::system_clock()).await;
    let start = Start::Resume {
        context: Box::new(context),
        log,
    };
    let outcome = Runner::new(harness::lab(), start, wiring, Box::new(NoLearner))
        .run()
        .await
        .unwrap();
    assert_eq!(outcome, RunOutcome::Passed);
    let all = world.events().await;
    let second = &all[first.len()..];
    assert!(matches!(&second[0].kind, EventKind::RunStarted { resumed: true, .. }));
    let started: Vec<&str> = second
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepStarted { step_id, .. } => Some(step_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        started,
        [
            "keep-writing",
            "detach-while-pending",
            "monitor",
            "restore",
            "attach",
            "verify",
            "cleanup"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_that_refuses_a_durable_event_stops_the_run_there() {
    let mut world = World::with_sinks(vec![Box::new(Refuse("check_result"))], Orders::default()).await;
    let outcome = run_to_end(&world, Mode::Guided, Consistency::Crash, Box::new(NoLearner)).await;
    assert_eq!(outcome, RunOutcome::Interrupted, "resumable once the record is fixed");
    let events = world.events().await;
    let started: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepStarted { step_id, .. } => Some(step_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(started, ["start-shop"], "nothing ran after the write that failed");
    let said = notices(&events);
    assert!(
        said.iter().any(|n| n
            .contains("The run stopped: the test's record could not take a check_result event: disk full")
            && n.contains("nothing goes unrecorded")),
        "{said:?}"
    );

    // When even the start cannot be recorded, the run does not start at all.
    let world = World::with_sinks(vec![Box::new(Refuse("run_started"))], Orders::default()).await;
    let err = runner(&world, Mode::Guided, Consistency::Crash, Box::new(NoLearner))
        .await
        .run()
        .await
        .unwrap_err();
    assert!(matches!(err, LabError::Record(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_log_that_fails_stops_the_run_at_the_end_of_the_step() {
    let orders = Orders {
        fail: true,
        ..Orders::default()
    };
    let mut world = World::with_sinks(Vec::new(), orders).await;
    let outcome = run_to_end(&world, Mode::Guided, Consistency::Crash, Box::new(NoLearner)).await;
    assert_eq!(outcome, RunOutcome::Interrupted);
    let events = world.events().await;
    let finished: Vec<String> = finished_steps(&events).into_iter().map(|(s, _)| s).collect();
    // The sampler's failed write stops the run once the step it happened in
    // is judged; at the latest, keep-writing records a sample itself.
    let at_most = ["start-shop", "create-snapshot"];
    assert!(
        finished.len() <= at_most.len() && finished.iter().zip(at_most).all(|(a, b)| a == b),
        "the run went on after losing orders: {finished:?}"
    );
    assert!(!kinds(&events).contains(&"verification"));
    assert!(
        notices(&events)
            .iter()
            .any(|n| n.contains("the test's order log could not take the shop's orders: disk full")),
        "{:?}",
        notices(&events)
    );
    assert!(world.orders.entries.lock().unwrap().is_empty());
}
