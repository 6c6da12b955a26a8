#!/usr/bin/env python3
"""A second SecureCart verifier, written from docs/journal.md alone (standard library only).

Usage: verify_journal.py IMAGE [--batch-bytes N]
Prints the verdict as JSON. It is tested against images written by the Rust writer
(crates/workload/tests/second_verifier.rs): the two must agree on every order.
"""
import json
import struct
import sys


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def sealed(b):
    return struct.unpack_from("<I", b, len(b) - 4)[0] == crc32c(b[:-4])


def read_superblock(f):
    f.seek(0)
    b = f.read(512)
    if len(b) < 512 or b[0:8] != b"SCARTJNL" or not sealed(b):
        return None
    version, record_size, inventory_offset, product_count, row_size, journal_offset, capacity, initial_stock = \
        struct.unpack_from("<IIQIIQQq", b, 8)
    if version != 1 or row_size != 512 or record_size % 512 or not 512 <= record_size <= 65536:
        return None
    return {
        "record_size": record_size, "inventory_offset": inventory_offset, "product_count": product_count,
        "journal_offset": journal_offset, "capacity": capacity, "initial_stock": initial_stock,
        "store_id": b[56:72],
    }


def read_rows(f, sb):
    f.seek(sb["inventory_offset"])
    table = f.read(sb["product_count"] * 512)
    rows = []
    for p in range(sb["product_count"]):
        b = table[p * 512:(p + 1) * 512]
        ok = len(b) == 512 and b[0:4] == b"STCK" and sealed(b) and b[40:56] == sb["store_id"]
        product_id, stock, units_sold, last_seq = struct.unpack_from("<IqQQ", b, 4) if ok else (None, 0, 0, 0)
        rows.append({"units_sold": units_sold, "last_order_seq": last_seq} if ok and product_id == p else None)
    return rows


def classify(b, position, sb, prev_valid_crc):
    """Returns (kind, detail): ("empty", None), ("corrupt", problem) or ("valid", (record, crc))."""
    if not any(b):
        return "empty", None
    if b[0:4] != b"ORDR":
        return "corrupt", "bad_magic"
    if struct.unpack_from("<I", b, 4)[0] != len(b) or not sealed(b):
        return "corrupt", "bad_checksum"
    if b[40:56] != sb["store_id"]:
        return "empty", None
    seq, prev_crc, product_id, quantity = struct.unpack_from("<QIII", b, 8)
    if seq != position:
        return "corrupt", "wrong_slot"
    if prev_valid_crc is not None and prev_valid_crc != prev_crc:
        return "corrupt", "broken_link"
    if product_id >= sb["product_count"]:
        return "corrupt", "unknown_product"
    crc = struct.unpack_from("<I", b, len(b) - 4)[0]
    return "valid", ({"seq": seq, "product_id": product_id, "quantity": quantity}, crc)


def verify(path, batch_bytes=8 * 1024 * 1024, scan_through=0):
    with open(path, "rb") as f:
        sb = read_superblock(f)
        if sb is None:
            return {"formatted": False}
        rows = read_rows(f, sb)
        rs = sb["record_size"]
        per_batch = max(1, batch_bytes // rs)
        slots = []
        seq = 1
        while seq <= sb["capacity"]:
            n = min(per_batch, sb["capacity"] - seq + 1)
            f.seek(sb["journal_offset"] + (seq - 1) * rs)
            data = f.read(n * rs).ljust(n * rs, b"\0")
            any_nonempty = False
            for k in range(n):
                prev = slots[-1] if slots else None
                prev_crc = prev[1][1] if prev and prev[0] == "valid" else None
                kind, detail = classify(data[k * rs:(k + 1) * rs], seq + k, sb, prev_crc)
                any_nonempty |= kind != "empty"
                slots.append((kind, detail))
            seq += n
            if not any_nonempty and seq > scan_through + 1:
                break
    while slots and slots[-1][0] == "empty":
        slots.pop()

    committed, torn, corrupt, missing = 0, [], [], []
    units = [0] * sb["product_count"]
    last_seq = 0
    for i, (kind, detail) in enumerate(slots):
        position = i + 1
        if kind == "empty":
            missing.append(position)
        elif kind == "corrupt":
            corrupt.append([position, detail])
        else:
            record = detail[0]
            last_seq = position
            row = rows[record["product_id"]]
            if row is not None and row["last_order_seq"] >= position:
                committed += 1
                units[record["product_id"]] += record["quantity"]
            else:
                torn.append(position)
    unreadable = [p for p, r in enumerate(rows) if r is None]
    mismatches = [[p, r["units_sold"], units[p]] for p, r in enumerate(rows) if r and r["units_sold"] != units[p]]
    return {
        "formatted": True, "last_seq": last_seq, "committed": committed, "torn": torn, "corrupt": corrupt,
        "missing": missing, "unreadable_rows": unreadable, "inventory_mismatches": mismatches,
        "intact": not corrupt and not missing and not unreadable and not mismatches,
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    batch = 8 * 1024 * 1024
    if "--batch-bytes" in args:
        i = args.index("--batch-bytes")
        batch = int(args[i + 1])
        del args[i:i + 2]
    print(json.dumps(verify(args[0], batch)))
