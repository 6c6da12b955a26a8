//! One lab run, wired together: the record, the target (the built-in
//! emulator started in-process, or an endpoint), the data plane, the event
//! bus with the caller's sinks, and the runner. The CLI and the desktop app
//! both start runs — and clean up after interrupted ones — through here, so
//! they cannot drift apart.
//!
//! Two phases: [`plan`] resolves what to run (a new run or an interrupted
//! one to resume) without starting anything; [`RunPlan::start`] brings the
//! target up and hands back a [`StartedRun`] to drive. [`clean_up`] deletes
//! what a recorded run left behind.

mod connect;
mod paths;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use snaplab_aws::cleanup::Runs;
use snaplab_aws::plan::RunPlan as AwsPlan;
use snaplab_aws::{AwsChoice, AwsError, AwsSite};
use snaplab_cloud::{CloudError, DataPlane, TargetKind};
use snaplab_emulator::{Emulator, Pace};
use snaplab_lab::{
    Catalog, Clock, Consistency, EventBus, EventKind, EventSink, Ids, LabDef, LabError, LabEvent, LearnerInput, Level,
    Mode, NoLearner, OrderLog, RunContext, RunOutcome, RunSettings, RunStatus, Runner, Start, UnrecordedOrders, Wiring,
};
use snaplab_lab::{RunEvents, Site};
use snaplab_store::{Store, StoreError};
use snaplab_workload::WriterLog;

pub use connect::Where;
pub use paths::{default_db_path, run_dir};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error("cannot start the built-in emulator: {0}")]
    Emulator(std::io::Error),
    #[error("run {0} is still running in another snaplab process; stop it there first")]
    StillRunning(String),
    #[error("run {id} already finished ({status}); start a new one")]
    AlreadyFinished { id: String, status: RunStatus },
    #[error("cannot find a home directory for the run record; choose a file for it (--db PATH or SNAPLAB_DB)")]
    NoDataDir,
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("a run records into a file of its own first (its emulator state lives beside it): open the record at a file path, with a class database as its link (Store::open_linked), not the class database alone")]
    NeedsLocalRecord,
    #[error("run {0} ran on AWS and what it created was deleted when it stopped: there is nothing to resume. Start a new run")]
    AwsNotResumable(String),
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub lab: String,
    /// `None`: the built-in emulator. Otherwise LocalStack, moto or a standalone snaplab emulator.
    pub endpoint: Option<String>,
    pub mode: Mode,
    pub consistency: Consistency,
    /// The built-in emulator's pace; by default demo (guided) or realistic (hands-on).
    pub pace: Option<Pace>,
    /// The built-in emulator's port; by default 4566 hands-on (when free), else any.
    pub emulator_port: Option<u16>,
    pub learner: String,
    /// The access key for an endpoint; `None`: the learner's own
    /// ([`snaplab_cloud::learner_access_key`]), so learners sharing one
    /// emulator each drive a SecureCart of their own.
    pub access_key: Option<String>,
    /// An interrupted run to continue (its recorded settings win over the above).
    pub resume: Option<String>,
    /// Record the run (off only for benchmarks).
    pub record: bool,
    /// Run on the learner's AWS account (chosen explicitly, after consent): the
    /// account and what the run launches there. Wins over `endpoint`.
    pub aws: Option<(AwsChoice, AwsPlan)>,
}

/// Where a run's time and ids come from: the real clock and fresh
/// randomness, or fixed ones for tests.
#[derive(Clone)]
pub struct Sources {
    pub clock: Clock,
    pub ids: Ids,
}

impl Default for Sources {
    fn default() -> Self {
        Self {
            clock: snaplab_lab::system_clock(),
            ids: Ids::random(),
        }
    }
}

/// A run resolved but not started.
pub struct RunPlan {
    pub run_id: String,
    pub lab: LabDef,
    pub mode: Mode,
    request: RunRequest,
    resumed: Option<(RunContext, WriterLog)>,
    store: Store,
    sources: Sources,
}

/// Resolves a request: which lab, which run id, and for `--resume` the
/// recorded state to continue from.
pub async fn plan(store: &Store, catalog: &Catalog, request: RunRequest) -> Result<RunPlan, SessionError> {
    plan_with(store, catalog, request, Sources::default()).await
}

/// [`plan`] with a chosen clock and id source.
pub async fn plan_with(
    store: &Store,
    catalog: &Catalog,
    request: RunRequest,
    sources: Sources,
) -> Result<RunPlan, SessionError> {
    local_record(store)?;
    let resumed = match &request.resume {
        Some(id) => match store.summary(id).await? {
            // A stop on AWS deleted what the run made: nothing is left to go on with.
            s if s.outcome == RunStatus::Interrupted && s.target_kind == TargetKind::Aws && s.resources_left == 0 => {
                return Err(SessionError::AwsNotResumable(id.clone()))
            }
            s => match s.outcome {
                RunStatus::Interrupted => Some(store.resume_state(id).await?),
                RunStatus::Running => return Err(SessionError::StillRunning(id.clone())),
                status => return Err(SessionError::AlreadyFinished { id: id.clone(), status }),
            },
        },
        None => None,
    };
    let lab = match &resumed {
        Some((ctx, _)) => catalog.get(&ctx.lab_id)?.clone(),
        None => catalog.get(&request.lab)?.clone(),
    };
    let mode = resumed.as_ref().map_or(request.mode, |(ctx, _)| ctx.mode);
    let run_id = match &resumed {
        Some((ctx, _)) => ctx.run_id.clone(),
        None => sources.ids.run_id(snaplab_lab::clock::now(&sources.clock)),
    };
    Ok(RunPlan {
        run_id,
        lab,
        mode,
        request,
        resumed,
        store: store.clone(),
        sources,
    })
}

/// Where the run's data lives and where SecureCart runs: on AWS, the
/// snapshot read through the EBS direct APIs and the writer on the run's
/// instance (its progress told as notices); elsewhere, the data plane and
/// the lab's own process.
fn site_of(
    connected: &connect::Connected,
    dir: &std::path::Path,
    bus: &EventBus,
    run_id: &str,
    sources: &Sources,
) -> (DataPlane, Option<Arc<dyn Site>>) {
    match &connected.aws {
        Some((account, plan)) => {
            let events = RunEvents::new(bus.emitter(), run_id, sources.clock.clone());
            let site = AwsSite {
                account: account.clone(),
                observer: Some(events.api_observer()),
                plan: plan
                    .clone()
                    .unwrap_or_else(|| AwsPlan::recorded(&connected.target.region)),
                progress: Arc::new(move |message| {
                    events.emit(EventKind::Notice {
                        level: Level::Info,
                        message,
                    })
                }),
            };
            (DataPlane::Snapshots { ebs: account.ebs() }, Some(Arc::new(site)))
        }
        None => (
            DataPlane::for_target(&connected.target, &dir.join("shadow"), sources.clock.clone()),
            None,
        ),
    }
}

/// Who is learning when nobody said: the user's login name.
pub fn default_learner() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "learner".to_string())
}

impl RunPlan {
    /// Brings the target up and builds the runner; events go to the record
    /// (unless the request says not to) and then to `sinks`, in order.
    pub async fn start(
        self,
        sinks: Vec<Box<dyn EventSink>>,
        input: Box<dyn LearnerInput>,
    ) -> Result<StartedRun, SessionError> {
        let RunPlan {
            run_id,
            lab,
            mode,
            request,
            resumed,
            store,
            sources,
        } = self;
        let dir = run_dir(local_record(&store)?, &run_id);
        // The built-in emulator keeps its state in the run's folder, so a
        // resumed run finds it again.
        // Hands-on learners type commands at it: LocalStack's port, when free.
        let port = request.emulator_port.or((mode == Mode::HandsOn).then_some(4566));
        let place = match (&resumed, &request.aws) {
            (Some((ctx, _)), _) => Where::recorded(ctx, port),
            (None, Some((choice, plan))) => Where::Aws {
                choice: choice.clone(),
                plan: Some(Box::new(plan.clone())),
            },
            (None, None) => match &request.endpoint {
                Some(url) => Where::Endpoint {
                    url: url.clone(),
                    region: None,
                    access_key: Some(
                        request
                            .access_key
                            .clone()
                            .unwrap_or_else(|| snaplab_cloud::learner_access_key(&request.learner)),
                    ),
                },
                None => Where::Embedded {
                    hints: mode == Mode::HandsOn,
                    pace: request.pace.unwrap_or(if mode == Mode::HandsOn {
                        Pace::Realistic
                    } else {
                        Pace::Demo
                    }),
                    port,
                },
            },
        };
        // Where the kind is known before connecting (AWS launches things), refuse first.
        match &place {
            Where::Aws { .. } => lab.check_target(TargetKind::Aws)?,
            Where::Embedded { .. } => lab.check_target(TargetKind::Embedded)?,
            Where::Endpoint { .. } => {}
        }
        let connected = connect::connect(place, &dir).await?;
        lab.check_target(connected.target.kind)?;

        let mut all_sinks = sinks;
        let orders: Arc<dyn OrderLog> = if request.record {
            all_sinks.insert(0, Box::new(store.recorder()));
            Arc::new(store.recorder())
        } else {
            Arc::new(UnrecordedOrders)
        };
        let bus = EventBus::new(all_sinks);
        let (plane, site) = site_of(&connected, &dir, &bus, &run_id, &sources);
        let steps_total = lab.steps.len();
        let start = match resumed {
            Some((context, log)) => Start::Resume {
                context: Box::new(context),
                log,
            },
            None => Start::New(RunSettings {
                run_id: run_id.clone(),
                learner: request.learner,
                mode,
                consistency: request.consistency,
                pace: connected.pace,
                store_seed: sources.ids.seed(),
            }),
        };
        let wiring = Wiring {
            target: connected.target,
            plane,
            site,
            emitter: bus.emitter(),
            orders,
            clock: sources.clock.clone(),
        };
        Ok(StartedRun {
            run_id,
            steps_total,
            runner: Runner::new(lab.clone(), start, wiring, input),
            lab,
            bus,
            emulator: connected.emulator,
            store,
            dir,
            clock: sources.clock,
        })
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub outcome: RunOutcome,
    /// Stopped from outside (a signal, the app's Stop or its window closing).
    pub stopped: bool,
    /// A stopped run on AWS deletes what it created: what that did, in a sentence.
    pub cleaned: Option<String>,
}

/// A run whose target is up; [`run_until`](Self::run_until) drives it.
pub struct StartedRun {
    pub run_id: String,
    /// The lab, for cleaning up after a stopped run on AWS.
    lab: LabDef,
    steps_total: usize,
    runner: Runner,
    bus: EventBus,
    emulator: Option<Emulator>,
    store: Store,
    dir: PathBuf,
    clock: Clock,
}

impl StartedRun {
    pub fn context(&self) -> &RunContext {
        self.runner.context()
    }

    /// Runs the lab to its end, or until `stop` resolves (then the run is
    /// recorded as interrupted and can be resumed). Every event is delivered
    /// to the sinks before this returns.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> Result<Ended, SessionError> {
        let StartedRun {
            run_id,
            lab,
            steps_total,
            runner,
            bus,
            emulator,
            store,
            dir,
            clock,
        } = self;
        let heartbeat = {
            let (store, id) = (store.clone(), run_id.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(15)).await;
                    let _ = store.heartbeat(&id).await;
                }
            })
        };
        let shop = runner.shop_closer();
        let on_aws = runner.context().target.kind == TargetKind::Aws;
        // The runner's future is large (every step's state): on the heap, not the caller's stack.
        let result = tokio::select! {
            outcome = Box::pin(runner.run()) => outcome.map(|outcome| Ended { outcome, stopped: false, cleaned: None }),
            () = stop => Ok(Ended { outcome: RunOutcome::Interrupted, stopped: true, cleaned: None }),
        };
        heartbeat.abort();
        let stopped = matches!(result, Ok(Ended { stopped: true, .. }));
        if stopped {
            // The runner was dropped mid-step: its shop still has orders to record.
            if let Err(e) = shop.close().await {
                tracing::warn!("SecureCart did not close cleanly after the stop: {e}");
            }
            // The runner was dropped mid-step: tell every sink the run ended,
            // once what it emitted before has been recorded.
            let emitter = bus.emitter();
            let event = |kind| LabEvent {
                run_id: run_id.clone(),
                at: snaplab_lab::clock::now(&clock),
                kind,
            };
            let notice = event(EventKind::Notice {
                level: Level::Warning,
                message: if on_aws {
                    "The run was stopped: what it created in AWS is deleted now, so nothing keeps running (or costing)."
                } else {
                    "The run was stopped. It is kept: resume it where it stopped from History (or snaplab run --resume)."
                }
                .into(),
            });
            if let Err(e) = emitter.emit_durable(notice).await {
                tracing::warn!("the stop notice was not recorded: {e}");
            }
            let steps_passed = store.summary(&run_id).await.map_or(0, |s| s.steps_passed);
            let finished = event(EventKind::RunFinished {
                outcome: RunOutcome::Interrupted,
                steps_passed: usize::try_from(steps_passed).unwrap_or(0),
                steps_total,
            });
            if let Err(e) = emitter.emit_durable(finished).await {
                tracing::warn!("the end of the stopped run was not recorded: {e}");
            }
        }
        bus.close().await;
        // Marked whatever happened above: a stopped run must stay resumable.
        if stopped || matches!(result, Err(LabError::Record(_))) {
            store.mark_interrupted(&run_id).await?;
        }
        // Nothing is left running on a learner's account after a stop.
        let cleaned = if stopped && on_aws {
            Some(match clean_up_with(&store, &run_id, |_| Ok(lab)).await {
                Ok(c) => c.message(&run_id),
                Err(e) => format!(
                    "The clean-up did not finish ({e}). Run `snaplab cleanup --aws {run_id}`: it finds the run's resources by their tags."
                ),
            })
        } else {
            None
        };
        if let Some(e) = emulator {
            e.stop().await;
        }
        // A finished run's emulator state and shadow disks are no longer
        // needed; an interrupted run keeps them to resume.
        let keep = matches!(
            result,
            Ok(Ended {
                outcome: RunOutcome::Interrupted,
                ..
            }) | Err(_)
        );
        if !keep {
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("cannot remove {}: {e}", dir.display());
                }
            }
        }
        Ok(Ended { cleaned, ..result? })
    }
}

/// What [`clean_up`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// Resources the record said were left.
    pub left: usize,
    /// Of those, deleted now (the rest were already gone).
    pub deleted: usize,
    /// The run was on the built-in emulator, whose state is gone with everything in it.
    pub emulator_state_gone: bool,
}

impl Cleaned {
    /// What was done, in one sentence for the learner (the CLI and the app say the same).
    pub fn message(&self, run_id: &str) -> String {
        let Self {
            left,
            deleted,
            emulator_state_gone,
        } = *self;
        if left == 0 {
            format!("Run {run_id} left nothing behind.")
        } else if emulator_state_gone {
            format!("Run {run_id} ran on the built-in emulator, whose state is gone: its {left} resources went with it. Nothing is left to delete.")
        } else if deleted == left && left == 1 {
            format!("Deleted the one resource run {run_id} left behind.")
        } else if deleted == left {
            format!("Deleted all {left} resources run {run_id} left behind.")
        } else {
            format!("Deleted {deleted} of the {left} resources run {run_id} left behind; the others were already gone.")
        }
    }
}

/// Deletes what a recorded run left behind (an interrupted run, usually):
/// the one clean-up path, for `snaplab cleanup` and the app's History.
pub async fn clean_up(store: &Store, catalog: &Catalog, run_id: &str) -> Result<Cleaned, SessionError> {
    clean_up_with(store, run_id, |lab_id| Ok(catalog.get(lab_id)?.clone())).await
}

/// The record's file, beside which runs keep their own files.
fn local_record(store: &Store) -> Result<&Path, SessionError> {
    store.path().ok_or(SessionError::NeedsLocalRecord)
}

/// [`clean_up`], with the lab the run's record names found by `lab_of`.
async fn clean_up_with(
    store: &Store,
    run_id: &str,
    lab_of: impl FnOnce(&str) -> Result<LabDef, SessionError>,
) -> Result<Cleaned, SessionError> {
    if store.status(run_id).await? == RunStatus::Running {
        return Err(SessionError::StillRunning(run_id.to_string()));
    }
    let (ctx, log) = store.resume_state(run_id).await?;
    let left = ctx.resources_left().count();
    // On AWS the account is searched too: the record may not know everything.
    if left == 0 && ctx.target.kind != TargetKind::Aws {
        return Ok(Cleaned {
            left,
            deleted: 0,
            emulator_state_gone: false,
        });
    }
    let dir = run_dir(local_record(store)?, run_id);
    let state = dir.join("emulator");
    if ctx.target.kind == TargetKind::Embedded && !state.exists() {
        // Nothing of that cloud exists any more: its resources went with it.
        store.mark_resources_deleted(run_id).await?;
        return Ok(Cleaned {
            left,
            deleted: 0,
            emulator_state_gone: true,
        });
    }
    let connected = connect::connect(Where::recorded(&ctx, Some(0)), &dir).await?;
    let sources = Sources::default();
    let bus = EventBus::new(vec![Box::new(store.recorder())]);
    let lab = lab_of(&ctx.lab_id)?;
    let (plane, site) = site_of(&connected, &dir, &bus, &ctx.run_id, &sources);
    let wiring = Wiring {
        plane,
        site,
        target: connected.target,
        emitter: bus.emitter(),
        orders: Arc::new(store.recorder()),
        clock: sources.clock,
    };
    let start = Start::Resume {
        context: Box::new(ctx),
        log,
    };
    let runner = Runner::new(lab, start, wiring, Box::new(NoLearner));
    let deleted = runner.clean_up_now().await;
    bus.close().await;
    if let Some(e) = connected.emulator {
        e.stop().await;
    }
    let deleted = deleted?;
    // A stop mid-call leaves a resource AWS made but the record never heard
    // of: the run's tags find it.
    let swept = match &connected.aws {
        Some((account, _)) => {
            let found = snaplab_aws::cleanup::find(account, &Runs::One(run_id.to_string())).await?;
            let swept = snaplab_aws::cleanup::delete(account, &found, &|_| {}).await?;
            // Every resource of a run carries its tags from creation, so none
            // is left in the account now: the record says so too (a resource
            // recorded but not yet in the run's context was only swept).
            store.mark_resources_deleted(run_id).await?;
            swept
        }
        None => 0,
    };
    Ok(Cleaned {
        left: left + swept,
        deleted: deleted + swept,
        emulator_state_gone: false,
    })
}
