//! `snaplab sync --db postgres://…`: sends what waits in the learner's own
//! record to the class database (a run does this by itself as it goes; this
//! is for the writes left when the class database could not be reached).

use std::process::ExitCode;

use anyhow::bail;
use snaplab_store::Location;

use crate::paths::DbArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !matches!(args.db.location()?, Location::Postgres(_)) {
        bail!("name the class database to send to: snaplab sync --db postgres://user@host/db (or SNAPLAB_DB)");
    }
    let store = args.db.open_to_run().await?;
    crate::paths::finish_class_delivery(&store).await;
    let pending = store.class_status().await.map_or(0, |s| s.pending);
    store.close().await;
    Ok(if pending == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
