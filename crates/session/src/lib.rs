//! One lab run, wired together: the record, the target (the built-in
//! emulator started in-process, or an endpoint), the data plane, the event
//! bus with the caller's sinks, and the runner. The CLI and the desktop app
//! both start runs through here, so they cannot drift apart.
//!
//! Two phases: [`plan`] resolves what to run (a new run or an interrupted
//! one to resume) without starting anything; [`RunPlan::start`] brings the
//! target up and hands back a [`StartedRun`] to drive.

mod paths;

use std::future::Future;

use chrono::Utc;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use snaplab_cloud::target::{default_region, snaplab_health};
use snaplab_cloud::{CloudError, DataPlane, Target, TargetKind};
use snaplab_emulator::{Emulator, EmulatorConfig, Pace};
use snaplab_lab::{
    api_observer, new_run_id, Catalog, Consistency, EventBus, EventSink, LabDef, LabError, LabEvent, LearnerInput,
    Level, Mode, RunContext, RunOutcome, RunSettings, Runner,
};
use snaplab_store::{Store, StoreError};
use snaplab_workload::WriterLog;

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
    #[error("run {0} is still running in another snaplab process")]
    StillRunning(String),
    #[error("run {id} already finished ({outcome}); start a new one")]
    AlreadyFinished { id: String, outcome: String },
    #[error("cannot find a home directory for the run record; choose a file for it (--db PATH or SNAPLAB_DB)")]
    NoDataDir,
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
    pub learner: String,
    /// An interrupted run to continue (its recorded settings win over the above).
    pub resume: Option<String>,
    /// Record the run (off only for benchmarks).
    pub record: bool,
}

/// A run resolved but not started.
pub struct RunPlan {
    pub run_id: String,
    pub lab: LabDef,
    pub mode: Mode,
    request: RunRequest,
    resumed: Option<(RunContext, WriterLog)>,
    store: Store,
}

/// Resolves a request: which lab, which run id, and for `--resume` the
/// recorded state to continue from.
pub async fn plan(store: &Store, catalog: &Catalog, request: RunRequest) -> Result<RunPlan, SessionError> {
    let resumed = match &request.resume {
        Some(id) => {
            let summary = store.summary(id).await?;
            match summary.outcome.as_str() {
                "interrupted" => Some(store.resume_state(id).await?),
                "running" => return Err(SessionError::StillRunning(id.clone())),
                other => {
                    return Err(SessionError::AlreadyFinished {
                        id: id.clone(),
                        outcome: other.to_string(),
                    })
                }
            }
        }
        None => None,
    };
    let lab = match &resumed {
        Some((ctx, _)) => catalog.get(&ctx.lab_id)?.clone(),
        None => catalog.get(&request.lab)?.clone(),
    };
    let mode = resumed.as_ref().map_or(request.mode, |(ctx, _)| ctx.mode);
    let run_id = resumed.as_ref().map_or_else(new_run_id, |(ctx, _)| ctx.run_id.clone());
    Ok(RunPlan {
        run_id,
        lab,
        mode,
        request,
        resumed,
        store: store.clone(),
    })
}

/// Who is learning when nobody said: the user's login name.
pub fn default_learner() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "learner".to_string())
}

/// 127.0.0.1:4566 when free (hands-on learners know LocalStack's port), else any port.
fn embedded_bind(mode: Mode) -> SocketAddr {
    let preferred = SocketAddr::from(([127, 0, 0, 1], 4566));
    if mode == Mode::HandsOn && std::net::TcpListener::bind(preferred).is_ok() {
        return preferred;
    }
    SocketAddr::from(([127, 0, 0, 1], 0))
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
        } = self;
        let dir = run_dir(store.path(), &run_id);
        let mut all_sinks = sinks;
        if request.record {
            all_sinks.insert(0, Box::new(store.recorder()));
        }
        let bus = EventBus::new(all_sinks);
        let current = Arc::new(Mutex::new(None));
        let observer = api_observer(bus.emitter(), run_id.clone(), current.clone());

        // The built-in emulator keeps its state in the run's folder, so a
        // resumed run finds it again.
        let endpoint = match &resumed {
            Some((ctx, _)) if ctx.target.kind != TargetKind::Embedded => Some(ctx.target.endpoint.clone()),
            Some(_) => None,
            None => request.endpoint.clone(),
        };
        let mut emulator = None;
        let (target, pace) = match endpoint {
            None => {
                let pace = request.pace.unwrap_or(if mode == Mode::HandsOn {
                    Pace::Realistic
                } else {
                    Pace::Demo
                });
                let e = Emulator::start(EmulatorConfig {
                    bind: embedded_bind(mode),
                    pace,
                    state_dir: Some(dir.join("emulator")),
                    ..EmulatorConfig::default()
                })
                .await
                .map_err(SessionError::Emulator)?;
                let target = Target::connect(e.endpoint(), Some(TargetKind::Embedded), e.region(), observer).await?;
                let pace = e.pace().to_string();
                emulator = Some(e);
                (target, pace)
            }
            Some(url) => {
                let health = snaplab_health(&url).await;
                let region = health.as_ref().map_or_else(default_region, |(_, r)| r.clone());
                let target = Target::connect(&url, None, &region, observer).await?;
                let pace = health.map_or_else(|| "none".to_string(), |(p, _)| p);
                (target, pace)
            }
        };
        let plane = DataPlane::for_target(&target, &dir.join("shadow"));
        let steps_total = lab.steps.len();
        let runner = match resumed {
            Some((ctx, log)) => Runner::resume(lab, ctx, log, target, plane, bus.emitter(), current, input),
            None => Runner::new(
                lab,
                RunSettings {
                    run_id: run_id.clone(),
                    learner: request.learner,
                    mode,
                    consistency: request.consistency,
                    pace,
                },
                target,
                plane,
                bus.emitter(),
                current,
                input,
            ),
        };
        Ok(StartedRun {
            run_id,
            steps_total,
            runner,
            bus,
            emulator,
            store,
            dir,
        })
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    pub outcome: RunOutcome,
    /// Stopped from outside (a signal, the app's Stop or its window closing).
    pub stopped: bool,
}

/// A run whose target is up; [`run_until`](Self::run_until) drives it.
pub struct StartedRun {
    pub run_id: String,
    steps_total: usize,
    runner: Runner,
    bus: EventBus,
    emulator: Option<Emulator>,
    store: Store,
    dir: PathBuf,
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
            steps_total,
            runner,
            bus,
            emulator,
            store,
            dir,
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
        let result = tokio::select! {
            outcome = runner.run() => outcome.map(|outcome| Ended { outcome, stopped: false }),
            () = stop => Ok(Ended { outcome: RunOutcome::Interrupted, stopped: true }),
        };
        heartbeat.abort();
        let stopped = matches!(result, Ok(Ended { stopped: true, .. }));
        if stopped {
            // The runner was dropped mid-step: tell every sink the run ended,
            // once what it emitted before has been recorded.
            let emitter = bus.emitter();
            emitter
                .emit_durable(LabEvent::Notice {
                    run_id: run_id.clone(),
                    level: Level::Warning,
                    message: "The run was stopped. It is kept: resume it where it stopped from History (or snaplab run --resume).".into(),
                    at: Utc::now(),
                })
                .await;
            let steps_passed = store.summary(&run_id).await.map_or(0, |s| s.steps_passed);
            emitter
                .emit_durable(LabEvent::RunFinished {
                    run_id: run_id.clone(),
                    outcome: RunOutcome::Interrupted,
                    steps_passed: usize::try_from(steps_passed).unwrap_or(0),
                    steps_total,
                    at: Utc::now(),
                })
                .await;
        }
        bus.close().await;
        if stopped {
            store.mark_interrupted(&run_id).await?;
        }
        if let Some(e) = emulator {
            e.stop().await;
        }
        // A finished run's emulator state and shadow disks are no longer
        // needed; an interrupted run keeps them to resume.
        if !matches!(
            result,
            Ok(Ended {
                outcome: RunOutcome::Interrupted,
                ..
            })
        ) {
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("cannot remove {}: {e}", dir.display());
                }
            }
        }
        Ok(result?)
    }
}
