//! Golden bytes of the format's three structures, from fixed values, so a
//! change to the encoding cannot slip by. Regenerate with SNAPLAB_BLESS=1.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::PathBuf;

use snaplab_workload::format::{Layout, OrderRecord, StockRow};

const STORE: [u8; 16] = *b"SecureCart-store";

fn golden(name: &str, bytes: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.hex"));
    let hex: String = bytes
        .chunks(32)
        .map(|line| line.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
        .collect();
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
    let layout = Layout {
        record_size: 512,
        inventory_offset: 4096,
        product_count: 64,
        journal_offset: 1 << 20,
        journal_capacity: 16_775_168,
        initial_stock: 1_000_000,
        store_id: STORE,
        formatted_at_us: 1_795_954_591_000_000,
    };
    golden("superblock", &layout.encode());
}

#[test]
fn record_bytes_are_stable() {
    let record = OrderRecord {
        seq: 1,
        prev_crc: 0,
        product_id: 7,
        quantity: 3,
        unit_price_cents: 1999,
        begun_at_us: 1_795_954_592_000_000,
    };
    let mut b = vec![0u8; 512];
    let crc = record.encode(&STORE, &mut b);
    assert_eq!(crc.to_le_bytes(), b[508..512]);
    golden("record", &b);
}

#[test]
fn stock_row_bytes_are_stable() {
    let row = StockRow {
        product_id: 7,
        stock: 999_997,
        units_sold: 3,
        last_order_seq: 1,
        updated_at_us: 1_795_954_592_000_100,
    };
    golden("stock-row", &row.encode(&STORE));
}
