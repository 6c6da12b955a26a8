//! `snaplab run`: the whole lab, headless, on the built-in emulator or an endpoint.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use snaplab_cloud::target::{default_region, real_aws_refused, snaplab_health};
use snaplab_cloud::{DataPlane, Target, TargetKind};
use snaplab_emulator::{Emulator, EmulatorConfig, Pace};
use snaplab_lab::{
    api_observer, new_run_id, Catalog, Consistency, EventBus, LearnerInput, LearnerReply, Mode, NoLearner, RunOutcome,
    RunSettings, Runner,
};
use snaplab_store::Store;

use crate::paths::{run_dir, DbArgs};
use crate::render::Renderer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ModeArg {
    /// The app performs each step and shows what it did.
    Guided,
    /// You run each step's aws CLI command in a terminal; the app checks the cloud.
    HandsOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ConsistencyArg {
    /// Snapshot while orders flow (crash-consistent).
    Crash,
    /// Pause writes around the snapshot (application-consistent).
    App,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    snaplab run                                   the SecureCart lab, guided, on the built-in emulator\n  \
    snaplab run --mode hands-on                   you type the aws CLI commands; the app checks\n  \
    snaplab run --consistency app                 pause writes around the snapshot\n  \
    snaplab run --endpoint http://localhost:4566  against LocalStack (a shadow disk keeps the data)\n  \
    snaplab run --resume run-20261129-101500-ab12 continue an interrupted run\n\n\
    Exit status: 0 when every check passed, 1 when one failed, 130 when interrupted, 2 on errors.")]
pub struct Args {
    /// The lab to run (list them with `snaplab labs`).
    #[arg(default_value = "securecart-snapshot")]
    lab: String,

    /// Run against this endpoint — LocalStack, moto, or a standalone `snaplab emulator` — instead of the built-in emulator.
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    endpoint: Option<String>,

    #[arg(long, value_enum, default_value_t = ModeArg::Guided)]
    mode: ModeArg,

    #[arg(long, value_enum, default_value_t = ConsistencyArg::Crash)]
    consistency: ConsistencyArg,

    /// Pace of the built-in emulator: instant, demo (default when guided), or realistic (default hands-on: time to type).
    #[arg(long, value_name = "PACE")]
    pace: Option<Pace>,

    /// Who is learning, for the history. Default: your user name.
    #[arg(long, value_name = "NAME")]
    learner: Option<String>,

    #[command(flatten)]
    db: DbArgs,

    /// One JSON object per line on stdout (each with "event" and "run_id") instead of text.
    #[arg(long)]
    json: bool,

    /// Continue an interrupted run at the step where it stopped.
    #[arg(long, value_name = "RUN_ID")]
    resume: Option<String>,

    /// Run against real AWS (not supported yet: snaplab refuses, touching nothing).
    #[arg(long)]
    aws: bool,

    /// Do not record the run (for benchmarks: the cost of recording is the difference).
    #[arg(long, hide = true)]
    no_record: bool,
}

/// Reads the learner's answers from stdin, one line each.
struct StdinLearner {
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl StdinLearner {
    fn new() -> Self {
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
                if tx.send(line.trim().to_lowercase()).is_err() {
                    break;
                }
                line.clear();
            }
        });
        Self { lines }
    }
}

#[async_trait::async_trait]
impl LearnerInput for StdinLearner {
    async fn next(&mut self, _step_id: &str) -> LearnerReply {
        match self.lines.recv().await.as_deref() {
            None | Some("q" | "quit") => LearnerReply::Quit,
            Some("s" | "skip") => LearnerReply::Skip,
            Some(_) => LearnerReply::Check,
        }
    }
}

fn default_learner() -> String {
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

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.aws {
        bail!(real_aws_refused());
    }
    let catalog = Catalog::load()?;
    let db_path = args.db.path()?;
    let store = Store::open(&db_path).await?;

    let resumed = match &args.resume {
        Some(id) => {
            let summary = store.summary(id).await?;
            match summary.outcome.as_str() {
                "interrupted" => Some(store.resume_state(id).await?),
                "running" => bail!("run {id} is still running in another snaplab process"),
                other => bail!("run {id} already finished ({other}); start a new one with snaplab run"),
            }
        }
        None => None,
    };
    let lab = match &resumed {
        Some((ctx, _)) => catalog.get(&ctx.lab_id)?.clone(),
        None => catalog.get(&args.lab)?.clone(),
    };
    let mode = match (&resumed, args.mode) {
        (Some((ctx, _)), _) => ctx.mode,
        (None, ModeArg::Guided) => Mode::Guided,
        (None, ModeArg::HandsOn) => Mode::HandsOn,
    };
    let run_id = resumed.as_ref().map_or_else(new_run_id, |(ctx, _)| ctx.run_id.clone());
    let dir = run_dir(&db_path, &run_id);

    let current = Arc::new(Mutex::new(None));
    let mut sinks: Vec<Box<dyn snaplab_lab::EventSink>> = vec![Box::new(Renderer::new(args.json, lab.steps.len()))];
    if !args.no_record {
        sinks.insert(0, Box::new(store.recorder()));
    }
    let bus = EventBus::new(sinks);
    let observer = api_observer(bus.emitter(), run_id.clone(), current.clone());

    // The target: the built-in emulator (its state kept in the run's folder,
    // so a resumed run finds it again), or the endpoint.
    let endpoint = match &resumed {
        Some((ctx, _)) if ctx.target.kind != TargetKind::Embedded => Some(ctx.target.endpoint.clone()),
        Some(_) => None,
        None => args.endpoint.clone(),
    };
    let mut emulator = None;
    let (target, pace) = match endpoint {
        None => {
            let pace = args.pace.unwrap_or(if mode == Mode::HandsOn {
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
            .context("cannot start the built-in emulator")?;
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
    let input: Box<dyn LearnerInput> = if mode == Mode::HandsOn {
        Box::new(StdinLearner::new())
    } else {
        Box::new(NoLearner)
    };
    let runner = match resumed {
        Some((ctx, log)) => Runner::resume(lab, ctx, log, target, plane, bus.emitter(), current, input),
        None => Runner::new(
            lab,
            RunSettings {
                run_id: run_id.clone(),
                learner: args.learner.unwrap_or_else(default_learner),
                mode,
                consistency: match args.consistency {
                    ConsistencyArg::Crash => Consistency::Crash,
                    ConsistencyArg::App => Consistency::App,
                },
                pace,
            },
            target,
            plane,
            bus.emitter(),
            current,
            input,
        ),
    };

    let heartbeat = {
        let (store, id) = (store.clone(), run_id.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(15)).await;
                let _ = store.heartbeat(&id).await;
            }
        })
    };
    let (outcome, by_signal) = tokio::select! {
        outcome = runner.run() => (outcome?, false),
        () = stop_signal() => (RunOutcome::Interrupted, true),
    };
    heartbeat.abort();
    bus.close().await;
    if by_signal {
        store.mark_interrupted(&run_id).await?;
        eprintln!("\nInterrupted. Resume with: snaplab run --resume {run_id}");
    }
    if let Some(e) = emulator {
        e.stop().await;
    }
    store.close().await;
    // A finished run's emulator state and shadow disks are no longer needed;
    // an interrupted run keeps them to resume.
    if outcome != RunOutcome::Interrupted {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(match outcome {
        RunOutcome::Passed => ExitCode::SUCCESS,
        RunOutcome::Failed => ExitCode::from(1),
        RunOutcome::Interrupted => ExitCode::from(130),
    })
}
