//! The SecureCart store's on-disk format (specified in docs/journal.md):
//! a superblock, an inventory table of stock rows, and an append-only order
//! journal. Every structure is little-endian and ends with a CRC-32C of the
//! bytes before it, so a verifier reading a raw image can judge each alone.

pub const SUPERBLOCK_MAGIC: &[u8; 8] = b"SCARTJNL";
pub const RECORD_MAGIC: &[u8; 4] = b"ORDR";
pub const ROW_MAGIC: &[u8; 4] = b"STCK";
pub const FORMAT_VERSION: u32 = 1;

/// Superblocks and stock rows are one 512-byte sector each.
pub const SECTOR: usize = 512;
pub const SUPERBLOCK_OFFSET: u64 = 0;
pub const DEFAULT_INVENTORY_OFFSET: u64 = 4096;
pub const DEFAULT_JOURNAL_OFFSET: u64 = 1024 * 1024;
pub const MIN_RECORD_SIZE: u32 = 512;
pub const MAX_RECORD_SIZE: u32 = 64 * 1024;
/// Header bytes of a record before its payload.
pub const RECORD_HEADER: usize = 56;

pub type StoreId = [u8; 16];

/// CRC-32C (Castagnoli), the checksum of every structure.
pub fn crc(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

fn i64_at(b: &[u8], at: usize) -> i64 {
    u64_at(b, at) as i64
}

fn id_at(b: &[u8], at: usize) -> StoreId {
    let mut id = [0u8; 16];
    id.copy_from_slice(&b[at..at + 16]);
    id
}

/// Writes the trailing CRC of a structure of `b.len()` bytes.
fn seal(b: &mut [u8]) {
    let n = b.len();
    let c = crc(&b[..n - 4]);
    b[n - 4..].copy_from_slice(&c.to_le_bytes());
}

fn sealed(b: &[u8]) -> bool {
    let n = b.len();
    u32_at(b, n - 4) == crc(&b[..n - 4])
}

/// Where everything is: the superblock's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    pub record_size: u32,
    pub inventory_offset: u64,
    pub product_count: u32,
    pub journal_offset: u64,
    pub journal_capacity: u64,
    pub initial_stock: i64,
    pub store_id: StoreId,
    pub formatted_at_us: i64,
}

impl Layout {
    pub fn record_offset(&self, seq: u64) -> u64 {
        self.journal_offset + (seq - 1) * u64::from(self.record_size)
    }

    pub fn row_offset(&self, product_id: u32) -> u64 {
        self.inventory_offset + u64::from(product_id) * SECTOR as u64
    }

    pub fn encode(&self) -> [u8; SECTOR] {
        let mut b = [0u8; SECTOR];
        b[0..8].copy_from_slice(SUPERBLOCK_MAGIC);
        b[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&self.record_size.to_le_bytes());
        b[16..24].copy_from_slice(&self.inventory_offset.to_le_bytes());
        b[24..28].copy_from_slice(&self.product_count.to_le_bytes());
        b[28..32].copy_from_slice(&(SECTOR as u32).to_le_bytes());
        b[32..40].copy_from_slice(&self.journal_offset.to_le_bytes());
        b[40..48].copy_from_slice(&self.journal_capacity.to_le_bytes());
        b[48..56].copy_from_slice(&self.initial_stock.to_le_bytes());
        b[56..72].copy_from_slice(&self.store_id);
        b[72..80].copy_from_slice(&self.formatted_at_us.to_le_bytes());
        seal(&mut b);
        b
    }

    /// Decodes a superblock, or says why the sector is not one.
    pub fn decode(b: &[u8]) -> Result<Self, &'static str> {
        if b.len() < SECTOR || &b[0..8] != SUPERBLOCK_MAGIC {
            return Err("no SecureCart superblock (magic SCARTJNL) at offset 0");
        }
        if !sealed(&b[..SECTOR]) {
            return Err("the superblock's checksum does not match");
        }
        if u32_at(b, 8) != FORMAT_VERSION {
            return Err("unsupported journal format version");
        }
        let layout = Self {
            record_size: u32_at(b, 12),
            inventory_offset: u64_at(b, 16),
            product_count: u32_at(b, 24),
            journal_offset: u64_at(b, 32),
            journal_capacity: u64_at(b, 40),
            initial_stock: i64_at(b, 48),
            store_id: id_at(b, 56),
            formatted_at_us: i64_at(b, 72),
        };
        let rs = layout.record_size;
        if !(MIN_RECORD_SIZE..=MAX_RECORD_SIZE).contains(&rs)
            || !rs.is_multiple_of(SECTOR as u32)
            || u32_at(b, 28) != SECTOR as u32
        {
            return Err("the superblock describes an impossible layout");
        }
        Ok(layout)
    }
}

/// One order in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderRecord {
    pub seq: u64,
    /// The CRC field of record `seq - 1` (0 for the first): the chain link.
    pub prev_crc: u32,
    pub product_id: u32,
    pub quantity: u32,
    pub unit_price_cents: u32,
    pub begun_at_us: i64,
}

/// Byte `i` of a record's payload (the order's details) — deterministic, so
/// the CRC covers content a verifier could also recompute.
pub fn payload_byte(seq: u64, i: usize) -> u8 {
    (seq.wrapping_mul(2_654_435_761).wrapping_add(i as u64) & 0xff) as u8
}

impl OrderRecord {
    /// Encodes into `out` (exactly the layout's record size); returns its CRC.
    pub fn encode(&self, store_id: &StoreId, out: &mut [u8]) -> u32 {
        let n = out.len();
        out[0..4].copy_from_slice(RECORD_MAGIC);
        out[4..8].copy_from_slice(&(n as u32).to_le_bytes());
        out[8..16].copy_from_slice(&self.seq.to_le_bytes());
        out[16..20].copy_from_slice(&self.prev_crc.to_le_bytes());
        out[20..24].copy_from_slice(&self.product_id.to_le_bytes());
        out[24..28].copy_from_slice(&self.quantity.to_le_bytes());
        out[28..32].copy_from_slice(&self.unit_price_cents.to_le_bytes());
        out[32..40].copy_from_slice(&self.begun_at_us.to_le_bytes());
        out[40..56].copy_from_slice(store_id);
        for (i, b) in out[RECORD_HEADER..n - 4].iter_mut().enumerate() {
            *b = payload_byte(self.seq, i);
        }
        seal(out);
        u32_at(out, n - 4)
    }
}

/// What a journal slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Never written, or left over from an earlier store (another store id).
    Empty,
    Valid {
        record: OrderRecord,
        crc: u32,
    },
    Corrupt(Corruption),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Corruption {
    BadMagic,
    BadChecksum,
    /// A valid record whose sequence number does not match its slot.
    WrongSlot,
    /// A valid record whose link does not match the record before it.
    BrokenLink,
    /// A valid record for a product the inventory does not have.
    UnknownProduct,
}

impl Corruption {
    pub fn explain(self) -> &'static str {
        match self {
            Self::BadMagic => "the slot holds data that is not an order record",
            Self::BadChecksum => "the record's checksum does not match its bytes (a partial or damaged write)",
            Self::WrongSlot => "the record's sequence number does not match its position",
            Self::BrokenLink => "the record does not link to the record before it",
            Self::UnknownProduct => "the record names a product the inventory does not have",
        }
    }
}

/// Judges one slot of `record_size` bytes at position `slot_seq`.
pub fn read_slot(b: &[u8], slot_seq: u64, store_id: &StoreId) -> Slot {
    if b.iter().all(|x| *x == 0) {
        return Slot::Empty;
    }
    if &b[0..4] != RECORD_MAGIC {
        return Slot::Corrupt(Corruption::BadMagic);
    }
    if u32_at(b, 4) as usize != b.len() || !sealed(b) {
        return Slot::Corrupt(Corruption::BadChecksum);
    }
    if &id_at(b, 40) != store_id {
        return Slot::Empty;
    }
    let record = OrderRecord {
        seq: u64_at(b, 8),
        prev_crc: u32_at(b, 16),
        product_id: u32_at(b, 20),
        quantity: u32_at(b, 24),
        unit_price_cents: u32_at(b, 28),
        begun_at_us: i64_at(b, 32),
    };
    if record.seq != slot_seq {
        return Slot::Corrupt(Corruption::WrongSlot);
    }
    Slot::Valid {
        record,
        crc: u32_at(b, b.len() - 4),
    }
}

/// A product's row in the inventory table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StockRow {
    pub product_id: u32,
    pub stock: i64,
    pub units_sold: u64,
    /// The last order applied to this row: the commit mark of that order.
    pub last_order_seq: u64,
    pub updated_at_us: i64,
}

impl StockRow {
    pub fn fresh(product_id: u32, initial_stock: i64, now_us: i64) -> Self {
        Self {
            product_id,
            stock: initial_stock,
            units_sold: 0,
            last_order_seq: 0,
            updated_at_us: now_us,
        }
    }

    /// This row after applying order `r`.
    pub fn apply(&self, r: &OrderRecord, now_us: i64) -> Self {
        Self {
            stock: self.stock - i64::from(r.quantity),
            units_sold: self.units_sold + u64::from(r.quantity),
            last_order_seq: r.seq,
            updated_at_us: now_us,
            ..*self
        }
    }

    pub fn encode(&self, store_id: &StoreId) -> [u8; SECTOR] {
        let mut b = [0u8; SECTOR];
        b[0..4].copy_from_slice(ROW_MAGIC);
        b[4..8].copy_from_slice(&self.product_id.to_le_bytes());
        b[8..16].copy_from_slice(&self.stock.to_le_bytes());
        b[16..24].copy_from_slice(&self.units_sold.to_le_bytes());
        b[24..32].copy_from_slice(&self.last_order_seq.to_le_bytes());
        b[32..40].copy_from_slice(&self.updated_at_us.to_le_bytes());
        b[40..56].copy_from_slice(store_id);
        seal(&mut b);
        b
    }

    pub fn decode(b: &[u8], store_id: &StoreId) -> Option<Self> {
        if b.len() != SECTOR || &b[0..4] != ROW_MAGIC || !sealed(b) || &id_at(b, 40) != store_id {
            return None;
        }
        Some(Self {
            product_id: u32_at(b, 4),
            stock: i64_at(b, 8),
            units_sold: u64_at(b, 16),
            last_order_seq: u64_at(b, 24),
            updated_at_us: i64_at(b, 32),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORE: StoreId = *b"0123456789abcdef";

    fn layout() -> Layout {
        Layout {
            record_size: 1024,
            inventory_offset: DEFAULT_INVENTORY_OFFSET,
            product_count: 64,
            journal_offset: DEFAULT_JOURNAL_OFFSET,
            journal_capacity: 1000,
            initial_stock: 1_000_000,
            store_id: STORE,
            formatted_at_us: 42,
        }
    }

    #[test]
    fn superblock_round_trips_and_detects_damage() {
        let l = layout();
        let mut b = l.encode();
        assert_eq!(Layout::decode(&b), Ok(l));
        b[100] ^= 1;
        assert!(Layout::decode(&b).is_err());
        assert!(Layout::decode(&[0u8; SECTOR]).is_err());
    }

    #[test]
    fn crc32c_matches_the_published_check_value() {
        // CRC-32C of "123456789" is 0xE3069283 (RFC 3720, appendix B.4).
        assert_eq!(crc(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn records_round_trip_and_every_damage_is_named() {
        let r = OrderRecord {
            seq: 7,
            prev_crc: 99,
            product_id: 3,
            quantity: 2,
            unit_price_cents: 1999,
            begun_at_us: 123,
        };
        let mut b = vec![0u8; 1024];
        let c = r.encode(&STORE, &mut b);
        assert_eq!(read_slot(&b, 7, &STORE), Slot::Valid { record: r, crc: c });
        assert_eq!(read_slot(&b, 8, &STORE), Slot::Corrupt(Corruption::WrongSlot));
        assert_eq!(
            read_slot(&b, 7, b"fedcba9876543210"),
            Slot::Empty,
            "another store's leftovers"
        );
        let mut torn = b.clone();
        torn[600..].fill(0);
        assert_eq!(read_slot(&torn, 7, &STORE), Slot::Corrupt(Corruption::BadChecksum));
        let mut junk = b.clone();
        junk[0] = b'X';
        assert_eq!(read_slot(&junk, 7, &STORE), Slot::Corrupt(Corruption::BadMagic));
        assert_eq!(read_slot(&[0u8; 1024], 7, &STORE), Slot::Empty);
    }

    #[test]
    fn rows_round_trip_and_apply_orders() {
        let row = StockRow::fresh(3, 100, 0);
        let r = OrderRecord {
            seq: 5,
            prev_crc: 0,
            product_id: 3,
            quantity: 4,
            unit_price_cents: 1,
            begun_at_us: 0,
        };
        let after = row.apply(&r, 9);
        assert_eq!((after.stock, after.units_sold, after.last_order_seq), (96, 4, 5));
        assert_eq!(StockRow::decode(&after.encode(&STORE), &STORE), Some(after));
        assert_eq!(StockRow::decode(&after.encode(&STORE), b"fedcba9876543210"), None);
    }
}
