//! `snaplab cleanup RUN_ID`: delete what an interrupted run left behind
//! (the same clean-up the app's History offers, through `snaplab_session`).
//! `snaplab cleanup --aws [RUN_ID | --all]`: find what carries snaplab's
//! tags in an AWS account — also what a killed process never recorded —
//! list it, ask, delete it.

use std::process::ExitCode;

use anyhow::bail;
use snaplab_aws::cleanup::{delete, find, Runs};
use snaplab_aws::Account;
use snaplab_lab::Catalog;

use crate::commands::consent::{self, AwsAccountArgs};
use crate::paths::DbArgs;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    snaplab cleanup run-20261129-101500-ab12         what that recorded run left (any target)\n  \
    snaplab cleanup --aws run-20261129-101500-ab12   that run's resources in AWS, found by their tags\n  \
    snaplab cleanup --aws --all --profile lab        every snaplab resource in the account and region\n\n\
    Only resources tagged both snaplab:run and snaplab:lab are ever deleted. Volumes are detached first\n\
    if need be; resources already gone count as deleted.\n\
    Exit status: 0 when nothing is left, 1 when you declined, 2 on errors (the message says what to do).")]
pub struct Args {
    /// The run whose resources to delete (see `snaplab history`).
    #[arg(required_unless_present = "all")]
    run_id: Option<String>,

    /// Find the resources in an AWS account by their snaplab tags (not only in the local record).
    #[arg(long)]
    aws: bool,

    /// With --aws: every run's resources, not one run's.
    #[arg(long, requires = "aws", conflicts_with = "run_id")]
    all: bool,

    #[command(flatten)]
    account: AwsAccountArgs,

    #[command(flatten)]
    db: DbArgs,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.aws {
        return by_tag(args).await;
    }
    let Some(run_id) = args.run_id.as_deref() else {
        bail!("name the run to clean up (see `snaplab history`), or use --aws --all");
    };
    let store = args.db.open_to_run().await?;
    let catalog = Catalog::load()?;
    let cleaned = snaplab_session::clean_up(&store, &catalog, run_id).await;
    crate::paths::finish_class_delivery(&store).await;
    store.close().await;
    println!("{}", cleaned?.message(run_id));
    Ok(ExitCode::SUCCESS)
}

async fn by_tag(args: Args) -> anyhow::Result<ExitCode> {
    let account = Account::open(&args.account.choice()).await?;
    if let Some(note) = account.describe_endpoints() {
        eprintln!("{note}");
    }
    let runs = match &args.run_id {
        Some(id) => Runs::One(id.clone()),
        None => Runs::All,
    };
    let found = find(&account, &runs).await?;
    if found.is_empty() {
        println!("Nothing tagged by snaplab is left in {}.", account.region);
        return Ok(ExitCode::SUCCESS);
    }
    println!("Tagged by snaplab in {} (snaplab:run and snaplab:lab):", account.region);
    for r in found.all() {
        println!("  {} {} ({}, run {})", r.kind, r.id, r.state, r.run);
    }
    if !consent::ask("Delete them?", args.account.yes)? {
        println!("Nothing was deleted.");
        return Ok(ExitCode::from(1));
    }
    let deleted = delete(&account, &found, &|step| eprintln!("  {step}…")).await?;
    let left = find(&account, &runs).await?;
    if !left.is_empty() {
        bail!(
            "{} resource(s) are still there after the clean-up: run it again in a minute",
            left.all().count()
        );
    }
    println!(
        "Deleted {deleted}; nothing tagged by snaplab is left in {}.",
        account.region
    );
    Ok(ExitCode::SUCCESS)
}
