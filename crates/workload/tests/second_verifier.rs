//! The Python verifier written from docs/journal.md alone (SecureCart's
//! second implementation, crates/aws/remote/securecart.py — what verifies a
//! restored volume on a real instance) must agree with the Rust verifier on
//! images the Rust writer makes, damaged ones included. This is what proves
//! the format document is complete.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use snaplab_workload::*;

const MIB: u64 = 1024 * 1024;

fn python() -> String {
    std::env::var("SNAPLAB_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../aws/remote/securecart.py")
}

fn image_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("snaplab-{name}-{}.img", std::process::id()))
}

fn python_verdict(path: &Path, batch_bytes: usize) -> serde_json::Value {
    let out = Command::new(python())
        .arg(script())
        .arg("verify")
        .arg("--device")
        .arg(path)
        .args(["--batch-bytes", &batch_bytes.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e})", python()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // What `--replay` did (nothing: it was not asked for) is not part of the verdict.
    if let Some(v) = verdict.as_object_mut() {
        assert_eq!(v.remove("replayed"), Some(serde_json::json!([])));
    }
    verdict
}

/// The Rust report in the Python verifier's JSON shape.
fn rust_verdict(path: &Path, batch_bytes: usize) -> serde_json::Value {
    let device = FileDevice::open_or_create(path, 0).unwrap();
    let options = VerifyOptions {
        batch_bytes,
        scan_through_seq: 0,
    };
    let r = match verify(&device, &options) {
        Ok(r) => r,
        Err(WorkloadError::NotFormatted(_)) => return serde_json::json!({ "formatted": false }),
        Err(e) => panic!("{e}"),
    };
    let problems = serde_json::to_value(&r.corrupt).unwrap();
    serde_json::json!({
        "formatted": true,
        "last_seq": r.last_seq,
        "committed": r.committed,
        "torn": r.torn.iter().map(|t| t.seq).collect::<Vec<_>>(),
        "corrupt": problems.as_array().unwrap().iter().map(|c| serde_json::json!([c["seq"], c["problem"]])).collect::<Vec<_>>(),
        "missing": r.missing,
        "unreadable_rows": r.unreadable_rows,
        "inventory_mismatches": r.inventory_mismatches.iter().map(|m| serde_json::json!([m.product_id, m.units_sold, m.journal_units])).collect::<Vec<_>>(),
        "intact": r.is_intact(),
    })
}

fn write_store(path: &Path, options: &StoreOptions, orders: usize, seed: u64) -> OrderWriter<FileDevice> {
    let _ = std::fs::remove_file(path);
    let device = FileDevice::open_or_create(path, 24 * MIB).unwrap();
    let mut w = OrderWriter::create(device, options, system_clock(), seed).unwrap();
    for _ in 0..orders {
        w.place_order().unwrap();
    }
    w
}

fn agree(path: &Path, batch_bytes: usize) -> serde_json::Value {
    let rust = rust_verdict(path, batch_bytes);
    let python = python_verdict(path, batch_bytes);
    assert_eq!(rust, python, "the two verifiers disagree on {}", path.display());
    rust
}

#[test]
fn both_verifiers_agree_on_a_clean_store() {
    let path = image_path("clean");
    write_store(&path, &StoreOptions::default(), 700, 1);
    let v = agree(&path, 8 * 1024 * 1024);
    assert_eq!(v["committed"], 700);
    assert_eq!(v["intact"], true);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn both_verifiers_agree_on_a_torn_order_and_every_kind_of_damage() {
    let path = image_path("damaged");
    let options = StoreOptions {
        record_size: 1024,
        product_count: 10,
        ..StoreOptions::default()
    };
    let mut w = write_store(&path, &options, 300, 2);
    let layout = *w.layout();
    let _torn = w.begin_order().unwrap();
    let (mut d, _) = w.into_parts();
    let rs = layout.record_size as usize;
    let mut flip = |seq: u64, at: u64| {
        let mut b = [0u8; 1];
        d.read_at(layout.record_offset(seq) + at, &mut b).unwrap();
        d.write_at(layout.record_offset(seq) + at, &[b[0] ^ 0x5a]).unwrap();
    };
    flip(10, 500); // bad checksum
    flip(20, 0); // bad magic
    let mut copy = vec![0u8; rs];
    d.read_at(layout.record_offset(30), &mut copy).unwrap();
    d.write_at(layout.record_offset(31), &copy).unwrap(); // wrong slot
    d.write_at(layout.record_offset(40), &vec![0u8; rs]).unwrap(); // missing

    let v = agree(&path, 8 * 1024 * 1024);
    assert_eq!(v["torn"], serde_json::json!([301]));
    assert_eq!(v["missing"], serde_json::json!([40]));
    assert_eq!(v["intact"], false);
    let problems: Vec<String> = v["corrupt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[1].as_str().unwrap().to_string())
        .collect();
    for p in ["bad_checksum", "bad_magic", "wrong_slot"] {
        assert!(problems.contains(&p.to_string()), "{problems:?}");
    }
    assert!(
        !v["inventory_mismatches"].as_array().unwrap().is_empty(),
        "rows count the lost orders"
    );
    // Small reads give the same answer as large ones.
    agree(&path, 4096);

    // A row damaged beyond reading: its product's orders can no longer be
    // judged committed, and both verifiers say so the same way.
    d.write_at(layout.row_offset(3) + 100, &[0xff; 4]).unwrap();
    drop(d);
    let v = agree(&path, 8 * 1024 * 1024);
    assert_eq!(v["unreadable_rows"], serde_json::json!([3]));
    assert!(v["torn"].as_array().unwrap().len() > 1);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn both_verifiers_agree_after_replay_and_on_a_volume_without_a_store() {
    let path = image_path("replayed");
    let mut w = write_store(&path, &StoreOptions::default(), 50, 3);
    let _torn = w.begin_order().unwrap();
    let (mut d, _) = w.into_parts();
    assert_eq!(replay(&mut d, &system_clock()).unwrap().replayed, vec![51]);
    drop(d);
    let v = agree(&path, 8 * 1024 * 1024);
    assert_eq!(v["committed"], 51);
    assert_eq!(v["torn"], serde_json::json!([]));

    let blank = image_path("blank");
    let _ = std::fs::remove_file(&blank);
    FileDevice::open_or_create(&blank, 4 * MIB).unwrap();
    assert_eq!(
        agree(&blank, 8 * 1024 * 1024),
        serde_json::json!({ "formatted": false })
    );
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(&blank).unwrap();
}
