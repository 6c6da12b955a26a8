//! `snaplab report RUN_ID`: one run, as Markdown, HTML or JSON.

use std::process::ExitCode;

use crate::paths::DbArgs;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Md,
    Html,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run (see `snaplab history`).
    run_id: String,
    #[arg(long, value_enum, default_value = "md")]
    format: Format,
    #[command(flatten)]
    db: DbArgs,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = args.db.open_to_read().await?;
    let report = store.report(&args.run_id).await?;
    print!(
        "{}",
        match args.format {
            Format::Md => report.to_markdown(),
            Format::Html => report.to_html(),
            Format::Json => report.to_json() + "\n",
        }
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
