//! `snaplab history`: every recorded run.

use std::process::ExitCode;

use snaplab_store::{instructor_summary, summary_csv, HistoryFilter, Store};

use crate::paths::DbArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// Only this learner's runs.
    #[arg(long, value_name = "NAME")]
    learner: Option<String>,
    /// Only runs of this lab.
    #[arg(long, value_name = "LAB")]
    lab: Option<String>,
    /// One JSON object per run instead of a table.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// The instructor's summary instead: one CSV row per learner and lab.
    #[arg(long)]
    csv: bool,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = Store::open(&args.db.path()?).await?;
    let runs = store
        .history(&HistoryFilter {
            learner: args.learner,
            lab: args.lab,
        })
        .await?;
    if args.csv {
        print!("{}", summary_csv(&instructor_summary(&runs)));
    } else if args.json {
        for r in &runs {
            println!("{}", serde_json::to_string(r)?);
        }
    } else if runs.is_empty() {
        println!(
            "No runs recorded yet in {}. Start one with: snaplab run",
            store.path().display()
        );
    } else {
        println!(
            "{:<26} {:<20} {:<12} {:<10} {:<20} {:<12} steps",
            "run", "lab", "learner", "target", "started (UTC)", "outcome"
        );
        for r in &runs {
            let left = match r.resources_left {
                0 => String::new(),
                n => format!("  ({n} left: snaplab cleanup {})", r.id),
            };
            println!(
                "{:<26} {:<20} {:<12} {:<10} {:<20} {:<12} {}/{}{left}",
                r.id,
                r.lab,
                r.learner,
                r.target_kind.as_str(),
                r.started_at.format("%Y-%m-%d %H:%M:%S"),
                r.outcome.as_str(),
                r.steps_passed,
                r.steps_total
            );
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
