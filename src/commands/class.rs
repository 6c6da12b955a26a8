//! `snaplab class`: the instructor's board — every learner's latest run,
//! where it stands, live.

use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use snaplab_store::{BoardRow, LearnerState};

use crate::paths::DbArgs;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    snaplab class --db class.db              the board once\n  \
    snaplab class --db class.db --watch      redrawn every 2 s until Ctrl-C\n  \
    snaplab class --db class.db --json       one JSON object per learner")]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// Only runs of this lab.
    #[arg(long, value_name = "LAB")]
    lab: Option<String>,
    /// One JSON object per learner instead of a table.
    #[arg(long)]
    json: bool,
    /// Redraw the board until Ctrl-C: on a class database (PostgreSQL) as soon as any learner's
    /// run writes (LISTEN/NOTIFY) and at least every SECONDS; on a file, every SECONDS (default 2).
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "2")]
    watch: Option<u64>,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = args.db.open_to_read().await?;
    let mut watch = match args.watch {
        Some(_) => Some(store.board_watch().await?),
        None => None,
    };
    loop {
        let now = Utc::now();
        let board = store.class_board(args.lab.as_deref(), now).await?;
        if args.json {
            for row in &board {
                println!("{}", serde_json::to_string(row)?);
            }
        } else {
            if args.watch.is_some() {
                // Clear the screen and go home, so the board redraws in place.
                print!("\x1b[2J\x1b[H");
            }
            print!("{}", table(&board, now, &store.location().to_string()));
        }
        let (Some(every), Some(watch)) = (args.watch, watch.as_mut()) else {
            break;
        };
        tokio::select! {
            changed = watch.changed(Duration::from_secs(every.max(1))) => { changed?; }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The board as text: a line per learner, then who needs help.
fn table(board: &[BoardRow], now: chrono::DateTime<Utc>, db: &str) -> String {
    if board.is_empty() {
        return format!("No learner has started a run in {db} yet.\n");
    }
    let mut out = format!(
        "{:<16} {:<22} {:<28} {:<24} {:>8} {:>5}\n",
        "learner", "lab", "step", "status", "on step", "quiz"
    );
    for r in board {
        let step = match (r.step_number, &r.step_title) {
            (Some(n), Some(title)) => format!("{n}/{} {title}", r.steps_total),
            _ => "—".to_string(),
        };
        let on_step = r
            .seconds_on_step(now)
            .map_or(String::new(), |s| format!("{}:{:02}", s / 60, s % 60));
        let quiz = match r.quiz_asked {
            0 => "—".to_string(),
            n => format!("{}/{n}", r.quiz_correct),
        };
        out.push_str(&format!(
            "{:<16} {:<22} {:<28} {:<24} {:>8} {:>5}\n",
            cut(&r.learner, 16),
            cut(&r.lab, 22),
            cut(&step, 28),
            r.state.as_str(),
            on_step,
            quiz
        ));
    }
    let stuck: Vec<&BoardRow> = board
        .iter()
        .filter(|r| {
            matches!(
                r.state,
                LearnerState::Stuck | LearnerState::Failed | LearnerState::Silent
            )
        })
        .collect();
    if !stuck.is_empty() {
        out.push_str("\nNeeds a look:\n");
        for r in stuck {
            let why = r.message.clone().unwrap_or_else(|| match r.state {
                LearnerState::Silent => "no sign of life from the run for over a minute".to_string(),
                _ => r.state.as_str().to_string(),
            });
            out.push_str(&format!("  {}: {why}\n", r.learner));
        }
    }
    out
}

/// At most `width` characters, with an ellipsis when cut.
fn cut(text: &str, width: usize) -> String {
    match text.chars().count() > width {
        true => format!("{}…", text.chars().take(width - 1).collect::<String>()),
        false => text.to_string(),
    }
}
