//! What the lab crate's tests share: a run scope (or a whole runner) on the
//! in-process emulator at pace instant, with its events and order log kept
//! for the test to read, and a scripted learner.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use snaplab_cloud::{DataPlane, Target, TargetKind, TargetPace};
use snaplab_emulator::{EmulatorConfig, Pace};
use snaplab_lab::{
    Awaiting, Catalog, Clock, Consistency, EventBus, EventKind, EventSink, Ids, LabDef, LabEvent, LearnerInput,
    LearnerReply, Mode, OrderLog, RunScope, RunSettings, SinkError, Start, Wiring,
};
use snaplab_testkit::Lab as Cloud;
use snaplab_workload::LogEntry;

#[allow(unused_imports)] // not every test file uses each
pub use snaplab_testkit::{DATA_DEVICE, DATA_VOLUME_ID, INSTANCE_ID, ROOT_VOLUME_ID};

pub type Seen = Arc<Mutex<Vec<LabEvent>>>;

/// Keeps every event.
pub struct Collect(pub Seen);

#[async_trait::async_trait]
impl EventSink for Collect {
    async fn handle(&mut self, event: &LabEvent) -> Result<(), SinkError> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

/// Refuses every event of one kind (a full disk, say), takes the rest.
pub struct Refuse(pub &'static str);

#[async_trait::async_trait]
impl EventSink for Refuse {
    async fn handle(&mut self, event: &LabEvent) -> Result<(), SinkError> {
        if event.kind.name() == self.0 {
            return Err(SinkError::event("the test's record", self.0, "disk full"));
        }
        Ok(())
    }
}

/// Keeps the orders it is given; refuses them all when `fail` is set.
#[derive(Default)]
pub struct Orders {
    pub entries: Mutex<Vec<LogEntry>>,
    pub fail: bool,
}

#[async_trait::async_trait]
impl OrderLog for Orders {
    async fn append(&self, _run_id: &str, entries: &[LogEntry]) -> Result<(), SinkError> {
        if self.fail {
            return Err(SinkError::orders("the test's order log", "disk full"));
        }
        self.entries.lock().unwrap().extend_from_slice(entries);
        Ok(())
    }
}

/// What a scripted learner does before answering (the commands they type).
pub type Act = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Answers from a script; each answer may first do something (as a learner
/// typing a command would). An empty script quits.
pub struct Script {
    /// In a mutex only to be `Sync`, as a learner input must be.
    pub answers: Mutex<VecDeque<(LearnerReply, Option<Act>)>>,
    pub asked: Arc<Mutex<Vec<(String, Awaiting)>>>,
    pub paces: bool,
}

impl Script {
    pub fn replies(replies: &[LearnerReply]) -> Self {
        Self {
            answers: Mutex::new(replies.iter().map(|r| (*r, None)).collect()),
            asked: Arc::default(),
            paces: false,
        }
    }

    /// Does `act`, then answers `reply`.
    pub fn then(mut self, act: impl std::future::Future<Output = ()> + Send + 'static, reply: LearnerReply) -> Self {
        self.answers.get_mut().unwrap().push_back((reply, Some(Box::pin(act))));
        self
    }

    /// Answers `reply` at once.
    pub fn say(mut self, reply: LearnerReply) -> Self {
        self.answers.get_mut().unwrap().push_back((reply, None));
        self
    }
}

#[async_trait::async_trait]
impl LearnerInput for Script {
    async fn next(&mut self, step_id: &str, awaiting: Awaiting) -> LearnerReply {
        self.asked.lock().unwrap().push((step_id.to_string(), awaiting));
        let next = self.answers.get_mut().unwrap().pop_front();
        match next {
            Some((reply, act)) => {
                if let Some(act) = act {
                    act.await;
                }
                reply
            }
            None => LearnerReply::Quit,
        }
    }

    fn paces_guided_steps(&self) -> bool {
        self.paces
    }
}

pub fn lab() -> LabDef {
    Catalog::builtin().unwrap().get("securecart-snapshot").unwrap().clone()
}

/// The built-in lab's step that runs `action`.
pub fn step(action: snaplab_lab::Action) -> snaplab_lab::StepDef {
    lab().steps.into_iter().find(|s| s.action == action).unwrap()
}

/// Everything a test needs around a run on the in-process emulator.
pub struct World {
    pub cloud: Cloud,
    pub seen: Seen,
    pub orders: Arc<Orders>,
    pub bus: Option<EventBus>,
}

impl World {
    pub async fn start() -> Self {
        Self::with_sinks(Vec::new(), Orders::default()).await
    }

    /// A world whose bus also feeds `sinks` (after the collector), and whose order log is `orders`.
    pub async fn with_sinks(sinks: Vec<Box<dyn EventSink>>, orders: Orders) -> Self {
        let cloud = Cloud::start(Pace::Instant).await;
        Self::around(cloud, sinks, orders)
    }

    /// The emulator at `pace` on a clock only the test moves (starting now,
    /// so the lab's own clock and the cloud's agree until the test moves it).
    pub async fn manual(pace: Pace) -> Self {
        let clock = Arc::new(snaplab_emulator::ManualClock::new(chrono::Utc::now()));
        let emulator = snaplab_emulator::Emulator::start(EmulatorConfig {
            pace,
            clock: clock.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
        let ec2 = snaplab_testkit::client(emulator.endpoint());
        let cloud = Cloud {
            emulator,
            ec2,
            clock: Some(clock),
        };
        Self::around(cloud, Vec::new(), Orders::default())
    }

    fn around(cloud: Cloud, sinks: Vec<Box<dyn EventSink>>, orders: Orders) -> Self {
        let seen: Seen = Arc::default();
        let mut all: Vec<Box<dyn EventSink>> = vec![Box::new(Collect(seen.clone()))];
        all.extend(sinks);
        Self {
            cloud,
            seen,
            orders: Arc::new(orders),
            bus: Some(EventBus::new(all)),
        }
    }

    pub async fn target(&self) -> Target {
        Target::connect(
            self.cloud.endpoint(),
            Some(TargetKind::Embedded),
            "us-east-1",
            Some("test"),
        )
        .await
        .unwrap()
    }

    pub async fn wiring(&self, clock: Clock) -> Wiring {
        let target = self.target().await;
        let dir = std::env::temp_dir().join(format!("snaplab-lab-test-{}", std::process::id()));
        Wiring {
            plane: DataPlane::for_target(&target, &dir, clock.clone()),
            site: None,
            target,
            emitter: self.bus.as_ref().unwrap().emitter(),
            orders: self.orders.clone(),
            clock,
        }
    }

    pub fn settings(&self, mode: Mode, consistency: Consistency) -> RunSettings {
        let ids = Ids::seeded(29);
        RunSettings {
            run_id: "run-20261129-120000-test".into(),
            learner: "ada".into(),
            mode,
            consistency,
            pace: TargetPace::Instant,
            store_seed: ids.seed(),
        }
    }

    /// A scope for a new guided, crash-consistent run, scenario found.
    pub async fn scope(&self) -> RunScope {
        self.scope_with(Mode::Guided, Consistency::Crash, snaplab_lab::system_clock())
            .await
    }

    pub async fn scope_with(&self, mode: Mode, consistency: Consistency, clock: Clock) -> RunScope {
        let wiring = self.wiring(clock).await;
        let mut scope = RunScope::open(&lab(), Start::New(self.settings(mode, consistency)), wiring);
        let scenario = snaplab_cloud::scenario::find_or_create(
            &scope.ec2,
            &TargetKind::Embedded,
            "us-east-1",
            std::time::Duration::from_millis(10),
        )
        .await
        .unwrap();
        scope.ctx.scenario = Some(scenario);
        scope
    }

    /// Delivers everything emitted so far and returns it.
    pub async fn events(&mut self) -> Vec<LabEvent> {
        if let Some(bus) = self.bus.take() {
            bus.close().await;
        }
        self.seen.lock().unwrap().clone()
    }

    /// What has arrived so far, without closing the bus.
    pub fn so_far(&self) -> Vec<LabEvent> {
        self.seen.lock().unwrap().clone()
    }
}

/// The messages of notices among `events`.
pub fn notices(events: &[LabEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Notice { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// The kinds of `events`, in order.
pub fn kinds(events: &[LabEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.name()).collect()
}
