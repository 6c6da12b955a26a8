//! The UI's TypeScript types, generated from the Rust types it receives and
//! sends. `ui/src/bindings/` must match: this test fails when it does not,
//! and `UPDATE_BINDINGS=1 cargo test -p snaplab-app bindings` rewrites it.

use std::path::{Path, PathBuf};

use ts_rs::TS;

use crate::commands::{AppInfo, CleanupDone, CommandFailure, EndpointCheck, Reply, ReportFormat, StartOptions};

fn export_all(dir: &Path) {
    snaplab_lab::LabEvent::export_all_to(dir).expect("LabEvent");
    snaplab_lab::LabDef::export_all_to(dir).expect("LabDef");
    snaplab_store::RunReport::export_all_to(dir).expect("RunReport");
    snaplab_store::SummaryRow::export_all_to(dir).expect("SummaryRow");
    snaplab_store::MissedQuestion::export_all_to(dir).expect("MissedQuestion");
    snaplab_store::RunSummary::export_all_to(dir).expect("RunSummary");
    snaplab_store::BoardRow::export_all_to(dir).expect("BoardRow");
    AppInfo::export_all_to(dir).expect("AppInfo");
    EndpointCheck::export_all_to(dir).expect("EndpointCheck");
    StartOptions::export_all_to(dir).expect("StartOptions");
    Reply::export_all_to(dir).expect("Reply");
    ReportFormat::export_all_to(dir).expect("ReportFormat");
    CommandFailure::export_all_to(dir).expect("CommandFailure");
    CleanupDone::export_all_to(dir).expect("CleanupDone");
    crate::aws::AwsSetup::export_all_to(dir).expect("AwsSetup");
    crate::aws::PreflightView::export_all_to(dir).expect("PreflightView");
    crate::aws::AwsLeftovers::export_all_to(dir).expect("AwsLeftovers");
    crate::aws::AwsAccount::export_all_to(dir).expect("AwsAccount");
    crate::terminal::TerminalInfo::export_all_to(dir).expect("TerminalInfo");
    snaplab_terminal::TerminalEvent::export_all_to(dir).expect("TerminalEvent");
    snaplab_terminal::TerminalSize::export_all_to(dir).expect("TerminalSize");
    // ts-rs types 64-bit integers as `bigint`, but they cross the IPC as JSON
    // numbers and `JSON.parse` yields `number` (every count here is < 2^53).
    for (name, text) in files(dir) {
        let fixed = text.replace("bigint", "number");
        if fixed != text {
            std::fs::write(dir.join(name), fixed).expect("rewrite binding");
        }
    }
}

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
                .map(|e| {
                    let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                    (e.file_name().to_string_lossy().into_owned(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn ui_bindings_match_the_rust_types() {
    let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        let _ = std::fs::remove_dir_all(&committed);
        export_all(&committed);
        return;
    }
    let fresh = std::env::temp_dir().join(format!("snaplab-bindings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&fresh);
    export_all(&fresh);
    let (want, have) = (files(&fresh), files(&committed));
    let _ = std::fs::remove_dir_all(&fresh);
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&want),
        names(&have),
        "ui/src/bindings is stale: run UPDATE_BINDINGS=1 cargo test -p snaplab-app bindings"
    );
    for ((name, a), (_, b)) in want.iter().zip(&have) {
        assert_eq!(
            a, b,
            "ui/src/bindings/{name} is stale: run UPDATE_BINDINGS=1 cargo test -p snaplab-app bindings"
        );
    }
}
