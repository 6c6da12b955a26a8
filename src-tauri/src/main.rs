//! SecureCart Snapshot Lab, the desktop app: a window over the lab engine
//! (crates/lab, through crates/session) and the run record (crates/store).
//! Each run starts its own built-in emulator in this process, unless the
//! learner picks an endpoint.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod aws;
mod bridge;
mod commands;
mod learner;
mod state;
mod terminal;

#[cfg(test)]
mod bindings;
/// The PostgreSQL server `make test` starts (shared with the store's tests).
#[cfg(test)]
#[path = "../../crates/store/tests/support/postgres.rs"]
mod test_postgres;
/// A whole recorded run (shared with the store's tests).
#[cfg(test)]
#[path = "../../crates/store/tests/support/run.rs"]
mod test_run;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use snaplab_lab::Catalog;
use snaplab_store::{Location, Store};
use tauri::Manager;

use crate::state::AppState;

/// The record: `SNAPLAB_DB`, or the same file the CLI uses by default, so
/// `snaplab history` and the app's History show the same runs.
/// The record, as the CLI's `--db` reads it: SNAPLAB_DB is a file, or a
/// class's PostgreSQL database (then runs go to SNAPLAB_LOCAL_DB, or the
/// default file, first, and on to the class).
async fn open_record() -> anyhow::Result<Store> {
    let env = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
    let local = match env("SNAPLAB_LOCAL_DB") {
        Some(p) => PathBuf::from(p),
        None => snaplab_session::default_db_path()?,
    };
    match env("SNAPLAB_DB").map(|db| Location::parse(&db)) {
        None => Store::open(&local)
            .await
            .with_context(|| format!("cannot open the run record {}", local.display())),
        Some(Location::Sqlite(path)) => Store::open(&path)
            .await
            .with_context(|| format!("cannot open the run record {}", path.display())),
        Some(Location::Postgres(url)) => Store::open_linked(&local, &url)
            .await
            .with_context(|| format!("cannot open the run record {} for a class", local.display())),
    }
}

/// Without a GPU (a VM, Xvfb, a classroom projector PC), WebKitGTK's DMA-BUF
/// renderer falls back to slow software GL: frames stall and memory grows
/// (measured in docs/benchmarks.md). Its older path is then the better one.
fn prefer_software_friendly_rendering() {
    let has_gpu = std::path::Path::new("/dev/dri").exists();
    if !has_gpu && std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_none() {
        // Before GTK starts and before any thread exists.
        std::env::set_var("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    }
}

/// Asked to end (SIGTERM from a logout or `kill`, SIGHUP, SIGINT): the run
/// going on is stopped as closing the window stops it — on AWS, what it made
/// is deleted first — then the app exits.
fn stop_runs_on_signals(app: tauri::AppHandle) {
    #[cfg(unix)]
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("cannot listen for signals: a killed app leaves its run to History's Clean up");
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("asked to end: stopping the run going on first");
        if let Some(state) = app.try_state::<AppState>() {
            state.stop_active().await;
        }
        app.exit(0);
    });
    #[cfg(not(unix))]
    let _ = app;
}

fn main() -> anyhow::Result<()> {
    let launched = Instant::now();
    prefer_software_friendly_rendering();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,snaplab_app=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| {
            let store = tauri::async_runtime::block_on(open_record())?;
            let catalog = Catalog::load()?;
            app.manage(AppState {
                store,
                catalog,
                active: Default::default(),
                launched,
                cleared: Default::default(),
                terminal: Default::default(),
                class: Default::default(),
                board_watch: Default::default(),
            });
            stop_runs_on_signals(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::ui_ready,
            commands::labs,
            commands::check_endpoint,
            commands::start_run,
            commands::reply,
            commands::answer_question,
            commands::stop_run,
            commands::history,
            commands::class_board,
            commands::class_board_changed,
            commands::export_class_summary,
            commands::summary,
            commands::missed_questions,
            commands::run_report,
            commands::export_report,
            commands::export_summary,
            commands::clean_up_run,
            aws::aws_setup,
            aws::aws_preflight,
            aws::aws_create_instance_profile,
            aws::aws_leftovers,
            aws::aws_delete_leftovers,
            terminal::terminal_open,
            terminal::terminal_input,
            terminal::terminal_resize,
        ])
        .build(tauri::generate_context!())
        .context("cannot start the window")?;

    app.run(|app, event| {
        // Closing the window mid-run: record the run as interrupted (it can
        // be resumed from History) before the process ends.
        if let tauri::RunEvent::Exit = event {
            if let Some(state) = app.try_state::<AppState>() {
                tauri::async_runtime::block_on(state.stop_active());
            }
        }
    });
    Ok(())
}
