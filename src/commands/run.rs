//! `snaplab run`: the whole lab, headless, on the built-in emulator or an endpoint.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use snaplab_cloud::endpoint;
use snaplab_emulator::Pace;
use snaplab_lab::{
    Awaiting, Catalog, Consistency, LearnerInput, LearnerReply, Mode, NoLearner, Question, QuizReply, RunOutcome,
    WithAnswers,
};
use snaplab_session::{default_learner, RunRequest};

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
    snaplab run --endpoint http://10.0.0.5:4566 --learner ada   a class's shared emulator: Ada's own world\n  \
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

    /// The access key to use on --endpoint. On a shared snaplab emulator a key is an account with a SecureCart of
    /// its own (12 digits: that account, as on LocalStack). Default: 12 digits derived from --learner, so every
    /// learner of a class gets a world of their own; use the same key on two machines to share one.
    #[arg(long, value_name = "KEY", env = "SNAPLAB_ACCESS_KEY")]
    access_key: Option<String>,

    #[command(flatten)]
    db: DbArgs,

    /// One JSON object per line on stdout (each with "event" and "run_id") instead of text.
    #[arg(long)]
    json: bool,

    /// Answers to the lab's knowledge checks, for scripted runs: a TOML or JSON file of question id = answer
    /// (the choice's number or its text). Without it they are asked on a terminal, and recorded as not asked
    /// otherwise (e.g. with --json).
    #[arg(long, value_name = "FILE")]
    answers: Option<std::path::PathBuf>,

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

/// Reads the learner's replies from stdin, one line each: hands-on, to each
/// step; on a terminal, to the knowledge checks.
struct StdinLearner {
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    /// Steps wait for a line (hands-on); else they go on at once (guided).
    steps: bool,
    questions: bool,
}

impl StdinLearner {
    fn new(steps: bool, questions: bool) -> Self {
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
                if tx.send(line.trim().to_string()).is_err() {
                    break;
                }
                line.clear();
            }
        });
        Self {
            lines,
            steps,
            questions,
        }
    }
}

#[async_trait::async_trait]
impl LearnerInput for StdinLearner {
    async fn next(&mut self, step_id: &str, awaiting: Awaiting) -> LearnerReply {
        if !self.steps {
            return NoLearner.next(step_id, awaiting).await;
        }
        match self.lines.recv().await.map(|l| l.to_lowercase()).as_deref() {
            None | Some("q" | "quit") => LearnerReply::Quit,
            Some("s" | "skip") => LearnerReply::Skip,
            Some(_) => match awaiting {
                Awaiting::Check => LearnerReply::Check,
                Awaiting::Run => LearnerReply::Run,
            },
        }
    }

    fn answers(&self, _question: &Question) -> bool {
        self.questions
    }

    async fn answer(&mut self, _question: &Question) -> QuizReply {
        match self.lines.recv().await {
            None => QuizReply::Quit,
            Some(l) if matches!(l.to_lowercase().as_str(), "q" | "quit") => QuizReply::Quit,
            Some(l) if matches!(l.to_lowercase().as_str(), "s" | "skip") => QuizReply::Skip,
            Some(l) => QuizReply::Reply(l),
        }
    }
}

/// `--answers FILE`: question id → reply, from JSON or TOML; every id must be one of the lab's.
fn read_answers(path: &std::path::Path, questions: &[Question]) -> anyhow::Result<BTreeMap<String, String>> {
    use anyhow::Context as _;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the answers file {}", path.display()))?;
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => toml::from_str::<toml::Value>(&text)
            .map(|t| serde_json::to_value(t).unwrap_or_default())
            .with_context(|| {
                format!(
                    "{} is neither JSON nor TOML (question id = answer, one per line)",
                    path.display()
                )
            })?,
    };
    let serde_json::Value::Object(map) = value else {
        anyhow::bail!("{}: expected question id = answer pairs", path.display());
    };
    let known: Vec<&str> = questions.iter().map(|q| q.id.as_str()).collect();
    let mut answers = BTreeMap::new();
    for (id, v) in map {
        if !known.contains(&id.as_str()) {
            anyhow::bail!(
                "{}: '{id}' is not a question of this lab; its questions are: {}",
                path.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            );
        }
        let reply = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => if b { "True" } else { "False" }.to_string(),
            other => anyhow::bail!(
                "{}: the answer to '{id}' is {other}: give the choice's number or text",
                path.display()
            ),
        };
        // A reply that names no choice is refused now, not recorded as not asked later.
        if let Some(q) = questions.iter().find(|q| q.id == id) {
            if q.parse_reply(&reply).is_none() {
                anyhow::bail!(
                    "{}: '{reply}' names none of the choices of '{id}': {}",
                    path.display(),
                    q.choices
                        .iter()
                        .enumerate()
                        .map(|(i, c)| format!("{} = {c}", i + 1))
                        .collect::<Vec<_>>()
                        .join("; ")
                );
            }
        }
        answers.insert(id, reply);
    }
    Ok(answers)
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
    let store = args.db.open_to_run().await?;
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
        access_key: args.access_key.filter(|k| !k.trim().is_empty()),
        resume: args.resume,
        record: !args.no_record,
        aws,
    };
    let plan = snaplab_session::plan(&store, &catalog, request).await?;
    let renderer = Renderer::new(args.json, plan.lab.steps.len());
    // Knowledge checks are asked on a terminal (not in --json output, not from a pipe).
    let on_terminal = !args.json && std::io::stdin().is_terminal();
    let hands_on = plan.mode == Mode::HandsOn;
    let mut input: Box<dyn LearnerInput> = match (hands_on, on_terminal) {
        (false, false) => Box::new(NoLearner),
        (steps, questions) => Box::new(StdinLearner::new(steps, questions)),
    };
    if let Some(path) = &args.answers {
        input = Box::new(WithAnswers::new(input, read_answers(path, &plan.lab.questions)?));
    }
    let started = plan.start(vec![Box::new(renderer)], input).await?;
    // Stopped by a signal, the renderer says how to resume (an AWS run cleans up instead).
    let ended = started.run_until(stop_signal()).await?;
    if let Some(cleaned) = &ended.cleaned {
        eprintln!("{cleaned}");
    }
    crate::paths::finish_class_delivery(&store).await;
    store.close().await;
    Ok(match ended.outcome {
        RunOutcome::Passed => ExitCode::SUCCESS,
        RunOutcome::Failed => ExitCode::from(1),
        RunOutcome::Interrupted => ExitCode::from(130),
    })
}
