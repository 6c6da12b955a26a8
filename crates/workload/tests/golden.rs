//! Golden bytes of the format's three structures, from fixed values, so a
//! change to the encoding cannot slip by. Regenerate with SNAPLAB_BLESS=1.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod golden_values;

use std::path::PathBuf;

use golden_values::{hex, layout, record, stock_row, STORE};

fn golden(name: &str, bytes: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.hex"));
    let hex = hex(bytes);
    if std::env::var_os("SNAPLAB_BLESS").is_some() {
        std::fs::write(&path, &hex).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing; run with SNAPLAB_BLESS=1", path.display()));
    assert_eq!(
        hex, expected,
        "{name} encoding changed: the on-disk format is versioned, see docs/journal.md"
    );
}

#[test]
fn superblock_bytes_are_stable() {
    golden("superblock", &layout().encode());
}

#[test]
fn record_bytes_are_stable() {
    let record = record();
    let mut b = vec![0u8; 512];
    let crc = record.encode(&STORE, &mut b);
    assert_eq!(crc.to_le_bytes(), b[508..512]);
    golden("record", &b);
}

#[test]
fn stock_row_bytes_are_stable() {
    golden("stock-row", &stock_row().encode(&STORE));
}
