//! `snaplab cleanup RUN_ID`: delete what an interrupted run left behind.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::bail;
use snaplab_cloud::{DataPlane, Target, TargetKind};
use snaplab_emulator::{Emulator, EmulatorConfig};
use snaplab_lab::{api_observer, Catalog, EventBus, NoLearner, Runner};
use snaplab_store::Store;

use snaplab_session::run_dir;

use crate::paths::DbArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run whose snapshots and volumes to delete (see `snaplab history`).
    run_id: String,
    #[command(flatten)]
    db: DbArgs,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let db = args.db.path()?;
    let store = Store::open(&db).await?;
    let summary = store.summary(&args.run_id).await?;
    if summary.outcome == "running" {
        bail!("run {} is still running; stop it first", args.run_id);
    }
    let (ctx, log) = store.resume_state(&args.run_id).await?;
    let left = ctx.resources.iter().filter(|r| !r.deleted).count();
    if left == 0 {
        println!("Run {} left nothing behind.", args.run_id);
        return Ok(ExitCode::SUCCESS);
    }
    let dir = run_dir(&db, &args.run_id);
    let mut emulator = None;
    let bus = EventBus::new(vec![Box::new(store.recorder())]);
    let current = Arc::new(Mutex::new(Some("cleanup".to_string())));
    let observer = api_observer(bus.emitter(), ctx.run_id.clone(), current.clone());
    let target = if ctx.target.kind == TargetKind::Embedded {
        let state = dir.join("emulator");
        if !state.exists() {
            println!(
                "Run {} ran on the built-in emulator, whose state is gone: nothing is left to delete.",
                args.run_id
            );
            return Ok(ExitCode::SUCCESS);
        }
        let e = Emulator::start(EmulatorConfig {
            state_dir: Some(state),
            ..EmulatorConfig::default()
        })
        .await?;
        let t = Target::connect(e.endpoint(), Some(TargetKind::Embedded), e.region(), observer).await?;
        emulator = Some(e);
        t
    } else {
        Target::connect(&ctx.target.endpoint, None, &ctx.target.region, observer).await?
    };
    let lab = Catalog::load()?.get(&ctx.lab_id)?.clone();
    let plane = DataPlane::for_target(&target, &dir.join("shadow"));
    let runner = Runner::resume(
        lab,
        ctx,
        log,
        target,
        plane,
        bus.emitter(),
        current,
        Box::new(NoLearner),
    );
    let deleted = runner.clean_up_now().await?;
    bus.close().await;
    if let Some(e) = emulator {
        e.stop().await;
    }
    store.close().await;
    println!("Deleted {deleted} of {left} resources run {} left behind.", args.run_id);
    Ok(ExitCode::SUCCESS)
}
