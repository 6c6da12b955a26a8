//! A run's events for the store's tests: a context, a feed of events one
//! second apart, and a whole recorded run with every kind of event.
#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it; a failed unwrap is a failed test

use chrono::{DateTime, Duration, TimeZone, Utc};
use snaplab_cloud::scenario::Scenario;
use snaplab_cloud::{ApiCall, DataSource, SnapshotState, TargetKind, TargetPace};
use snaplab_lab::verification::ImageSummary;
use snaplab_lab::{
    CheckId, Consistency, EventKind, EventSink, LabEvent, Level, Mode, OrderLog, ResourceKind, ResourceRole,
    RunContext, RunOutcome, StepOutcome, TargetInfo, Verification,
};
use snaplab_store::Store;
use snaplab_workload::{LogEntry, PointInTime};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 10, 0, 0).single().unwrap()
}

pub fn context(run_id: &str, learner: &str, kind: TargetKind) -> RunContext {
    RunContext {
        run_id: run_id.into(),
        lab_id: "securecart-snapshot".into(),
        lab_title: "SecureCart: snapshot a volume that keeps taking orders".into(),
        learner: learner.into(),
        mode: Mode::HandsOn,
        consistency: Consistency::Crash,
        pace: TargetPace::Demo,
        target: TargetInfo {
            kind,
            endpoint: "http://127.0.0.1:4599".into(),
            region: "us-east-1".into(),
            data_plane: "volume data lives in the snaplab emulator".into(),
            shadow_disk: false,
            profile: None,
            access_key: None,
        },
        started_at: t0(),
        store_seed: 7,
        scenario: Some(Scenario {
            instance_id: "i-0a1b2c3d4e5f60789".into(),
            zone: "us-east-1a".into(),
            data_volume_id: "vol-0123456789abcdef0".into(),
            data_device: "/dev/sdf".into(),
            data_volume_bytes: 8 << 30,
            inventory: None,
        }),
        snapshot_id: None,
        snapshot_started_at: None,
        previous_snapshot_id: None,
        snapshot_step_started_at: None,
        snapshot_consistency: None,
        verifications: Vec::new(),
        pauses: Vec::new(),
        comparison: None,
        reads: Vec::new(),
        alerts: Default::default(),
        first_read_cost_set: false,
        answers: Vec::new(),
        restored_volume_id: None,
        restored_device: "/dev/sdg".into(),
        inventory: Default::default(),
        step_started_at: None,
        shop_open: false,
        reattach: None,
        finished: Vec::new(),
        resources: Vec::new(),
    }
}

/// Feeds events to the recorder, stamped one second apart.
pub struct Feed {
    pub recorder: snaplab_store::Recorder,
    pub run_id: String,
    pub at: DateTime<Utc>,
}

impl Feed {
    pub async fn send(&mut self, kind: EventKind) {
        self.at += Duration::seconds(1);
        let event = LabEvent {
            run_id: self.run_id.clone(),
            at: self.at,
            kind,
        };
        self.recorder.handle(&event).await.unwrap();
    }
}

pub fn verification() -> Verification {
    Verification {
        snapshot_id: "snap-0aaaaaaaaaaaaaaaa".into(),
        restored_volume_id: "vol-0bbbbbbbbbbbbbbbb".into(),
        snapshot_started_at: t0() + Duration::seconds(5),
        consistency: Consistency::Crash,
        read_from: DataSource::Emulator,
        point_in_time: PointInTime {
            snapshot_started_at_us: (t0() + Duration::seconds(5)).timestamp_micros(),
            tolerance_us: 1000,
            acknowledged_before_snapshot: 2,
            present_in_restore: 2,
            ..PointInTime::default()
        },
        image: ImageSummary {
            last_seq: 3,
            committed: 2,
            torn_seqs: vec![3],
            corrupt: 0,
            missing_positions: 0,
            intact: true,
        },
        replayed: vec![3],
        torn_after_replay: 0,
        explanation: vec!["Order [3] is torn.".into()],
        on_instance: None,
        pair: None,
    }
}

pub fn order(seq: u64, begun_s: i64, acked: bool) -> LogEntry {
    let begun = (t0() + Duration::seconds(begun_s)).timestamp_micros();
    LogEntry {
        seq,
        product_id: 7,
        quantity: 2,
        begun_at_us: begun,
        acked_at_us: acked.then_some(begun + 900),
    }
}

/// Records a whole run — every kind of event the recorder keeps — and
/// returns its context as last recorded.
pub async fn record_a_run(store: &Store, run_id: &str, learner: &str, finish: Option<RunOutcome>) -> RunContext {
    let mut ctx = context(run_id, learner, TargetKind::Snaplab);
    let mut feed = Feed {
        recorder: store.recorder(),
        run_id: run_id.into(),
        at: t0(),
    };
    feed.send(EventKind::RunStarted {
        resumed: false,
        steps_total: 9,
        context: Box::new(ctx.clone()),
        terminal: "export AWS_ENDPOINT_URL=…".into(),
    })
    .await;
    feed.send(EventKind::StepStarted {
        step_id: "create-snapshot".into(),
        index: 1,
        title: "Create the snapshot".into(),
        page: "# Create".into(),
        commands: vec!["aws ec2 create-snapshot".into()],
    })
    .await;
    feed.send(EventKind::ApiCall {
        call: ApiCall {
            step_id: Some("create-snapshot".into()),
            operation: "CreateSnapshot".into(),
            request_id: Some("req-1".into()),
            duration_ms: 4,
            error: None,
        },
    })
    .await;
    feed.send(EventKind::ApiCall {
        call: ApiCall {
            step_id: Some("create-snapshot".into()),
            operation: "DescribeSnapshots".into(),
            request_id: None,
            duration_ms: 2,
            error: Some("InvalidSnapshot.NotFound: gone".into()),
        },
    })
    .await;
    feed.send(EventKind::ResourceCreated {
        kind: ResourceKind::Snapshot,
        resource_id: "snap-0aaaaaaaaaaaaaaaa".into(),
        role: ResourceRole::Backup,
    })
    .await;
    feed.send(EventKind::SnapshotProgress {
        snapshot_id: "snap-0aaaaaaaaaaaaaaaa".into(),
        state: SnapshotState::Pending,
        percent: 40,
    })
    .await;
    feed.send(EventKind::WorkloadSample {
        orders_per_s: 61.5,
        acknowledged: 2,
        last_seq: 3,
        paused: false,
    })
    .await;
    feed.send(EventKind::Notice {
        level: Level::Warning,
        message: "a | notice".into(),
    })
    .await;
    store
        .recorder()
        .append(run_id, &[order(1, 1, true), order(2, 2, true), order(3, 6, false)])
        .await
        .unwrap();
    feed.send(EventKind::CheckResult {
        step_id: "create-snapshot".into(),
        check_id: CheckId::SnapshotCreated,
        passed: true,
        message: "Snapshot snap-0aaaaaaaaaaaaaaaa was created.".into(),
    })
    .await;
    ctx.snapshot_id = Some("snap-0aaaaaaaaaaaaaaaa".into());
    ctx.finished.push(("create-snapshot".into(), StepOutcome::Passed));
    feed.send(EventKind::StepFinished {
        step_id: "create-snapshot".into(),
        outcome: StepOutcome::Passed,
    })
    .await;
    feed.send(EventKind::ContextChanged {
        context: Box::new(ctx.clone()),
    })
    .await;
    feed.send(EventKind::StepStarted {
        step_id: "verify".into(),
        index: 7,
        title: "Verify the data".into(),
        page: String::new(),
        commands: Vec::new(),
    })
    .await;
    feed.send(EventKind::Verification {
        verification: Box::new(verification()),
    })
    .await;
    feed.send(EventKind::ResourceDeleted {
        resource_id: "snap-0aaaaaaaaaaaaaaaa".into(),
    })
    .await;
    if let Some(outcome) = finish {
        feed.send(EventKind::RunFinished {
            outcome,
            steps_passed: 1,
            steps_total: 9,
        })
        .await;
    }
    ctx
}
