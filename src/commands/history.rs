//! `snaplab history`: every recorded run.

use std::process::ExitCode;

use snaplab_store::{instructor_summary, summary_csv, HistoryFilter};

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
    /// The knowledge checks learners got wrong or skipped, most missed first (with --json: one object each).
    #[arg(long, conflicts_with = "csv")]
    missed: bool,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = args.db.open_to_read().await?;
    let filter = HistoryFilter {
        learner: args.learner,
        lab: args.lab,
    };
    if args.missed {
        let missed = store.missed_questions(&filter).await?;
        if args.json {
            for m in &missed {
                println!("{}", serde_json::to_string(m)?);
            }
        } else if missed.is_empty() {
            println!(
                "No knowledge check was answered wrong (or none was asked) in {}.",
                store.location()
            );
        } else {
            println!("{:<8} {:<24} {:<24} question", "missed", "lab", "id");
            for m in &missed {
                println!(
                    "{:<8} {:<24} {:<24} {}",
                    format!("{}/{}", m.missed, m.asked),
                    m.lab,
                    m.question_id,
                    m.prompt
                );
            }
        }
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    let runs = store.history(&filter).await?;
    if args.csv {
        print!("{}", summary_csv(&instructor_summary(&runs)));
    } else if args.json {
        for r in &runs {
            println!("{}", serde_json::to_string(r)?);
        }
    } else if runs.is_empty() {
        println!(
            "No runs recorded yet in {}. Start one with: snaplab run",
            store.location()
        );
    } else {
        println!(
            "{:<26} {:<24} {:<12} {:<10} {:<20} {:<12} {:<7} quiz",
            "run", "lab", "learner", "target", "started (UTC)", "outcome", "steps"
        );
        for r in &runs {
            let left = match r.resources_left {
                0 => String::new(),
                n => format!("  ({n} left: snaplab cleanup {})", r.id),
            };
            let quiz = match r.quiz_asked {
                0 => "—".to_string(),
                n => format!("{}/{n}", r.quiz_correct),
            };
            println!(
                "{:<26} {:<24} {:<12} {:<10} {:<20} {:<12} {:<7} {quiz}{left}",
                r.id,
                r.lab,
                r.learner,
                r.target_kind.as_str(),
                r.started_at.format("%Y-%m-%d %H:%M:%S"),
                r.outcome.as_str(),
                format!("{}/{}", r.steps_passed, r.steps_total)
            );
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
