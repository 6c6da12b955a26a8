//! Golden bytes from a second, independent encoder. `tests/clients/write_journal.py`
//! was written from docs/journal.md alone: its bytes for golden.rs's fixed values
//! must equal both the committed golden files (blessed from the Rust encoder)
//! and the Rust encoder's, and the Rust verifier and replay must read a whole
//! store image it writes. (Rust writes, Python reads: second_verifier.rs.)
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

mod golden_values;

use golden_values::{hex, layout, record, stock_row, STORE};
use snaplab_workload::*;

/// Runs write_journal.py with `args` then `--option value` for each option; returns its stdout.
fn python(args: &[&str], options: &[(&str, String)]) -> String {
    let python = std::env::var("SNAPLAB_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients/write_journal.py");
    let out = Command::new(&python)
        .arg(script)
        .args(args)
        .args(options.iter().flat_map(|(k, v)| [format!("--{k}"), v.clone()]))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} ({e})"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn golden_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.hex"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Python's bytes, the golden file and Rust's bytes are one and the same.
fn three_agree(name: &str, python_hex: &str, rust_bytes: &[u8]) {
    assert_eq!(
        python_hex,
        golden_file(name),
        "write_journal.py disagrees with golden/{name}.hex"
    );
    assert_eq!(
        python_hex,
        hex(rust_bytes),
        "write_journal.py disagrees with the Rust encoder on {name}"
    );
}

#[test]
fn python_encodes_the_golden_superblock() {
    let l = layout();
    let py = python(
        &["superblock"],
        &[
            ("record-size", l.record_size.to_string()),
            ("inventory-offset", l.inventory_offset.to_string()),
            ("product-count", l.product_count.to_string()),
            ("journal-offset", l.journal_offset.to_string()),
            ("journal-capacity", l.journal_capacity.to_string()),
            ("initial-stock", l.initial_stock.to_string()),
            ("store-id", hex(&STORE).replace('\n', "")),
            ("formatted-at", l.formatted_at_us.to_string()),
        ],
    );
    three_agree("superblock", &py, &l.encode());
}

#[test]
fn python_encodes_the_golden_record() {
    let r = record();
    let py = python(
        &["record"],
        &[
            ("record-size", "512".into()),
            ("seq", r.seq.to_string()),
            ("prev-crc", r.prev_crc.to_string()),
            ("product-id", r.product_id.to_string()),
            ("quantity", r.quantity.to_string()),
            ("unit-price-cents", r.unit_price_cents.to_string()),
            ("begun-at", r.begun_at_us.to_string()),
            ("store-id", hex(&STORE).replace('\n', "")),
        ],
    );
    let mut b = vec![0u8; 512];
    r.encode(&STORE, &mut b);
    three_agree("record", &py, &b);
}

#[test]
fn python_encodes_the_golden_stock_row() {
    let row = stock_row();
    let py = python(
        &["row"],
        &[
            ("product-id", row.product_id.to_string()),
            ("stock", row.stock.to_string()),
            ("units-sold", row.units_sold.to_string()),
            ("last-order-seq", row.last_order_seq.to_string()),
            ("updated-at", row.updated_at_us.to_string()),
            ("store-id", hex(&STORE).replace('\n', "")),
        ],
    );
    three_agree("stock-row", &py, &row.encode(&STORE));
}

#[test]
fn rust_verifies_and_replays_a_store_the_python_writer_made() {
    const COMMITTED: u64 = 40;
    let path = std::env::temp_dir().join(format!("snaplab-python-written-{}.img", std::process::id()));
    let out = python(
        &["image", path.to_str().unwrap(), "--torn"],
        &[
            ("size", "4M".into()),
            ("record-size", "1024".into()),
            ("product-count", "10".into()),
            ("orders", COMMITTED.to_string()),
            ("seed", "5".into()),
        ],
    );
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    let orders = summary["orders"].as_array().unwrap();
    assert_eq!(orders.len() as u64, COMMITTED + 1);
    let torn = &orders[COMMITTED as usize];
    let mut device = FileDevice::open_or_create(&path, 0).unwrap();

    let report = verify(&device, &VerifyOptions::default()).unwrap();
    assert_eq!(report.layout.record_size, 1024);
    assert_eq!(report.layout.product_count, 10);
    assert_eq!(report.layout.journal_capacity, (4 << 20) / 1024 - 1024);
    assert_eq!(report.last_seq, COMMITTED + 1);
    assert_eq!(report.committed, COMMITTED);
    assert_eq!(report.torn.len(), 1, "{:?}", report.torn);
    assert_eq!(
        (report.torn[0].seq, report.torn[0].product_id, report.torn[0].quantity),
        (
            COMMITTED + 1,
            torn["product_id"].as_u64().unwrap() as u32,
            torn["quantity"].as_u64().unwrap() as u32
        )
    );
    assert!(report.is_intact(), "{report:?}");
    // Every order reads back as Python wrote it, and re-encodes to its bytes.
    let mut slot = vec![0u8; 1024];
    let mut encoded = vec![0u8; 1024];
    for o in orders {
        let seq = o["seq"].as_u64().unwrap();
        let want = if seq <= COMMITTED {
            OrderState::Committed
        } else {
            OrderState::Torn
        };
        assert_eq!(report.state_of(seq), want, "order {seq}");
        let r = report.record(seq).unwrap();
        let fields = [
            r.product_id.into(),
            r.quantity.into(),
            r.unit_price_cents.into(),
            r.begun_at_us,
        ];
        let python_fields =
            ["product_id", "quantity", "unit_price_cents", "begun_at_us"].map(|k| o[k].as_i64().unwrap());
        assert_eq!(fields, python_fields, "order {seq}");
        device.read_at(report.layout.record_offset(seq), &mut slot).unwrap();
        r.encode(&report.layout.store_id, &mut encoded);
        assert_eq!(
            slot, encoded,
            "order {seq}: Rust re-encodes other bytes than Python wrote"
        );
    }
    assert_eq!(report.state_of(COMMITTED + 2), OrderState::Absent);

    // Replay completes the torn order: Python's half-written store is whole.
    let clock: Clock = Arc::new(|| 1_795_954_600_000_000);
    assert_eq!(replay(&mut device, &clock).unwrap().replayed, vec![COMMITTED + 1]);
    let after = verify(&device, &VerifyOptions::default()).unwrap();
    assert_eq!(after.committed, COMMITTED + 1);
    assert!(after.torn.is_empty());
    assert!(after.is_intact(), "{after:?}");
    drop(device);
    std::fs::remove_file(&path).unwrap();
}
