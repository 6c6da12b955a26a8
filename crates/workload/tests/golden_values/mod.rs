//! The fixed values the golden files are made from, shared by golden.rs
//! (Rust's encoder) and python_golden.rs (the independent Python encoder).
#![allow(dead_code)] // each test file uses its part

use snaplab_workload::format::{Layout, OrderRecord, StockRow};

pub const STORE: [u8; 16] = *b"SecureCart-store";

pub fn layout() -> Layout {
    Layout {
        record_size: 512,
        inventory_offset: 4096,
        product_count: 64,
        journal_offset: 1 << 20,
        journal_capacity: 16_775_168,
        initial_stock: 1_000_000,
        store_id: STORE,
        formatted_at_us: 1_795_954_591_000_000,
    }
}

pub fn record() -> OrderRecord {
    OrderRecord {
        seq: 1,
        prev_crc: 0,
        product_id: 7,
        quantity: 3,
        unit_price_cents: 1999,
        begun_at_us: 1_795_954_592_000_000,
    }
}

pub fn stock_row() -> StockRow {
    StockRow {
        product_id: 7,
        stock: 999_997,
        units_sold: 3,
        last_order_seq: 1,
        updated_at_us: 1_795_954_592_000_100,
    }
}

/// The golden files' layout: 32 bytes per line, lowercase, newline-terminated.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(32)
        .map(|line| line.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
        .collect()
}
