//! `snaplab`: the SecureCart Snapshot Lab from the command line.

mod commands;
mod paths;
mod render;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "snaplab",
    version,
    about = "SecureCart Snapshot Lab: learn, hands-on, how EBS snapshots behave while an application keeps writing",
    long_about = "SecureCart Snapshot Lab: learn, hands-on, how Amazon EBS snapshots behave while an application keeps writing.\n\n\
                  snaplab carries its own EC2/EBS emulator, so everything works offline with no AWS account."
)]
struct Cli {
    /// More log output on stderr (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a lab: the SecureCart snapshot lab by default, on the built-in emulator.
    Run(commands::run::Args),
    /// List the labs.
    Labs(commands::labs::Args),
    /// List recorded runs.
    History(commands::history::Args),
    /// The instructor's board: every learner's latest run, where it stands (--watch: live).
    Class(commands::class::Args),
    /// Show one run's report (Markdown, HTML or JSON).
    Report(commands::report::Args),
    /// Delete the snapshots and volumes an interrupted run left behind.
    Cleanup(commands::cleanup::Args),
    /// Send what waits in your own record to the class database (--db postgres://…).
    Sync(commands::sync::Args),
    /// Run the EC2/EBS emulator as a standalone endpoint (LocalStack-style, port 4566).
    Emulator(commands::emulator::Args),
    /// Check a real AWS account before running a lab there: identity, permissions (DryRun), cost. Creates nothing.
    Preflight(commands::preflight::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("snaplab: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Run(args) => commands::run::run(args).await,
            Command::Labs(args) => commands::labs::run(args),
            Command::History(args) => commands::history::run(args).await,
            Command::Class(args) => commands::class::run(args).await,
            Command::Report(args) => commands::report::run(args).await,
            Command::Cleanup(args) => commands::cleanup::run(args).await,
            Command::Sync(args) => commands::sync::run(args).await,
            Command::Emulator(args) => commands::emulator::run(args).await,
            Command::Preflight(args) => commands::preflight::run(args).await,
        }
    })
}

fn init_logging(verbose: u8) {
    // aws-config warns about each credential source it tries; snaplab says what failed itself.
    let default = match verbose {
        0 => "warn,aws_config=error",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
