//! `snaplab run`: the whole lab, headless, on the built-in emulator or an endpoint.

use std::process::ExitCode;

use snaplab_cloud::endpoint;
use snaplab_emulator::Pace;
use snaplab_lab::{Awaiting, Catalog, Consistency, LearnerInput, LearnerReply, Mode, NoLearner, RunOutcome};
use snaplab_session::{default_learner, RunRequest};
use snaplab_store::Store;

use crate::commands::consent::{self, AwsAccountArgs};
use crate::paths::DbArgs;
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
    snaplab run --resume run-20261129-101500-ab12 continue an interrupted run\n  \
    snaplab run --aws --profile lab              on your own AWS account (preflight, then your consent)\n\n\
    Exit status: 0 when every check passed, 1 when one failed, 130 when interrupted, 2 on errors.")]
pub struct Args {
    /// The lab to run (list them with `snaplab labs`).
    #[arg(default_value = "securecart-snapshot")]
    lab: String,

    /// Run against this endpoint — LocalStack, moto, or a standalone `snaplab emulator` — instead of the built-in emulator.
    /// Default: AWS_ENDPOINT_URL_EC2 or AWS_ENDPOINT_URL when set. Real AWS endpoints are refused.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,

    #[arg(long, value_enum, default_value_t = ModeArg::Guided)]
    mode: ModeArg,

    #[arg(long, value_enum, default_value_t = ConsistencyArg::Crash)]
    consistency: ConsistencyArg,

    /// Pace of the built-in emulator: instant, demo (default when guided), or realistic (default hands-on: time to type).
    #[arg(long, value_name = "PACE")]
    pace: Option<Pace>,

    /// Port of the built-in emulator on 127.0.0.1 (default: 4566 hands-on when free, so commands look as with LocalStack; any port otherwise; 0: any).
    #[arg(long, value_name = "PORT")]
    emulator_port: Option<u16>,

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

    /// Run on your own AWS account: snaplab launches SecureCart's server and volumes there (tagged, deleted at
    /// the end), after a preflight and your consent. Credentials as the AWS CLI finds them.
    #[arg(long)]
    aws: bool,

    #[command(flatten)]
    account: AwsAccountArgs,

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
    async fn next(&mut self, _step_id: &str, awaiting: Awaiting) -> LearnerReply {
        match self.lines.recv().await.as_deref() {
            None | Some("q" | "quit") => LearnerReply::Quit,
            Some("s" | "skip") => LearnerReply::Skip,
            Some(_) => match awaiting {
                Awaiting::Check => LearnerReply::Check,
                Awaiting::Run => LearnerReply::Run,
            },
        }
    }
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
    let aws = match args.aws {
        true => match consent::prepare(&args.lab, &args.account).await? {
            Some(chosen) => Some(chosen),
            None => return Ok(ExitCode::from(1)),
        },
        false => None,
    };
    // Every way an endpoint comes in is checked the same way (an AWS endpoint is refused:
    // real AWS only with --aws). With --aws, AWS_ENDPOINT_URL is aws-config's to honour.
    let endpoint = match (&args.endpoint, args.aws) {
        (_, true) => None,
        (Some(url), false) => Some(endpoint::check(url)?),
        (None, false) => endpoint::from_env()?,
    };
    let catalog = Catalog::load()?;
    let store = Store::open(&args.db.path()?).await?;
    let mode = match args.mode {
        ModeArg::Guided => Mode::Guided,
        ModeArg::HandsOn => Mode::HandsOn,
    };
    let request = RunRequest {
        lab: args.lab,
        endpoint,
        mode,
        consistency: match args.consistency {
            ConsistencyArg::Crash => Consistency::Crash,
            ConsistencyArg::App => Consistency::App,
        },
        pace: args.pace,
        emulator_port: args.emulator_port,
        learner: args.learner.unwrap_or_else(default_learner),
        resume: args.resume,
        record: !args.no_record,
        aws,
    };
    let plan = snaplab_session::plan(&store, &catalog, request).await?;
    let renderer = Renderer::new(args.json, plan.lab.steps.len());
    let input: Box<dyn LearnerInput> = if plan.mode == Mode::HandsOn {
        Box::new(StdinLearner::new())
    } else {
        Box::new(NoLearner)
    };
    let started = plan.start(vec![Box::new(renderer)], input).await?;
    // Stopped by a signal, the renderer says how to resume (an AWS run cleans up instead).
    let ended = started.run_until(stop_signal()).await?;
    if let Some(cleaned) = &ended.cleaned {
        eprintln!("{cleaned}");
    }
    store.close().await;
    Ok(match ended.outcome {
        RunOutcome::Passed => ExitCode::SUCCESS,
        RunOutcome::Failed => ExitCode::from(1),
        RunOutcome::Interrupted => ExitCode::from(130),
    })
}
