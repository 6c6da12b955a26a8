//! `snaplab cleanup RUN_ID`: delete what an interrupted run left behind
//! (the same clean-up the app's History offers, through `snaplab_session`).

use std::process::ExitCode;

use snaplab_lab::Catalog;
use snaplab_store::Store;

use crate::paths::DbArgs;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Volumes are detached first if need be; resources already gone count as deleted.\n\
    Exit status: 0 when nothing of the run is left, 2 on errors (the message says what to do)."
)]
pub struct Args {
    /// The run whose snapshots and volumes to delete (see `snaplab history`).
    run_id: String,
    #[command(flatten)]
    db: DbArgs,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = Store::open(&args.db.path()?).await?;
    let catalog = Catalog::load()?;
    let cleaned = snaplab_session::clean_up(&store, &catalog, &args.run_id).await;
    store.close().await;
    println!("{}", cleaned?.message(&args.run_id));
    Ok(ExitCode::SUCCESS)
}
