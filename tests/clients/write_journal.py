#!/usr/bin/env python3
"""Golden bytes and whole store images from SecureCart's second implementation
(crates/aws/remote/securecart.py, written from docs/journal.md alone; standard library only).

It gives golden bytes that do not come from the Rust encoder:

  write_journal.py superblock --journal-capacity N ...   one superblock, as hex
  write_journal.py record --seq 1 --product-id 7 ...     one journal record, as hex
  write_journal.py row --product-id 7 --stock N ...      one stock row, as hex
  write_journal.py image PATH --orders N [--torn] ...    a whole store image

Hex is printed as the golden files hold it: 32 bytes per line, lowercase, each line ending
in a newline. `image` formats a store, commits N orders (deterministic: products, quantities and
prices come from --seed, times from --start-us and --step-us) and, with --torn, writes one more
order's journal record but not its stock row: a torn order, as a crash-consistent snapshot taken
between the order's two writes holds it. It prints what it wrote as JSON.
Run with --help (also after a command) for every option.
"""
import argparse
import json
import os
import random
import struct
import sys

# The encoders are SecureCart's own Python implementation (crates/aws/remote/securecart.py,
# written from docs/journal.md, and what runs on a real instance): the golden bytes it gives
# do not come from the Rust encoder.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "aws", "remote"))
from securecart import (  # noqa: E402
    INVENTORY_OFFSET, JOURNAL_OFFSET, Image, Store, encode_record, encode_row, encode_superblock,
)


def to_hex(data):
    """32 bytes per line, lowercase, every line newline-terminated (the golden .hex layout)."""
    return "".join(data[i:i + 32].hex() + "\n" for i in range(0, len(data), 32))


# --- A whole store ---

def write_image(path, size, record_size, product_count, initial_stock, store_id, formatted_at_us, orders, torn,
                seed, start_us, step_us):
    """Formats a store on a fresh file of `size` bytes, commits `orders` orders, then (if `torn`) writes one
    more order's record but not its row. Returns what was written."""
    if product_count < 1:
        raise ValueError("a store has at least one product")
    rng = random.Random(seed)
    written = []
    with open(path, "wb") as f:
        f.truncate(size)
    img = Image(path, writable=True)
    try:
        store = Store.format(img, record_size, product_count, initial_stock, store_id, formatted_at_us)
        for k in range(orders + (1 if torn else 0)):
            begun_at_us = start_us + k * step_us
            product_id = rng.randrange(product_count)
            quantity = rng.randint(1, 5)
            unit_price_cents = rng.randint(100, 99_999)
            seq = store.write_record(product_id, quantity, unit_price_cents, begun_at_us)
            order = {"seq": seq, "product_id": product_id, "quantity": quantity,
                     "unit_price_cents": unit_price_cents, "begun_at_us": begun_at_us}
            if k < orders:
                # Written at the midpoint between this order's start and the next one's.
                store.apply(seq, product_id, quantity, begun_at_us + step_us // 2)
                order["state"] = "committed"
            else:
                order["state"] = "torn"
            written.append(order)
    finally:
        img.close()
    journal_offset, journal_capacity = store.sb["journal_offset"], store.sb["capacity"]
    return {
        "size": size, "record_size": record_size, "product_count": product_count, "initial_stock": initial_stock,
        "journal_offset": journal_offset, "journal_capacity": journal_capacity, "store_id": store_id.hex(),
        "committed": [o["seq"] for o in written if o["state"] == "committed"],
        "torn": [o["seq"] for o in written if o["state"] == "torn"],
        "units_sold": [[p, units] for p, (units, _) in enumerate(store.rows) if units],
        "orders": written,
    }


# --- Command line ---

def store_id_arg(text):
    try:
        b = bytes.fromhex(text)
    except ValueError:
        b = b""
    if len(b) != 16:
        raise argparse.ArgumentTypeError("give 16 bytes as 32 hex digits")
    return b


def size_arg(text):
    """A byte count, optionally with a K, M or G suffix (binary: 1M = 1048576)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    if text and text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="Format specification: docs/journal.md")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    store_id_help = "store_id: 16 bytes as 32 hex digits"

    s = sub.add_parser("superblock", help="encode a superblock and print it as hex")
    s.add_argument("--record-size", type=int, default=512)
    s.add_argument("--inventory-offset", type=int, default=INVENTORY_OFFSET)
    s.add_argument("--product-count", type=int, required=True)
    s.add_argument("--journal-offset", type=int, default=JOURNAL_OFFSET)
    s.add_argument("--journal-capacity", type=int, required=True)
    s.add_argument("--initial-stock", type=int, required=True)
    s.add_argument("--store-id", type=store_id_arg, required=True, help=store_id_help)
    s.add_argument("--formatted-at", type=int, required=True, metavar="US", help="µs since the Unix epoch")

    r = sub.add_parser("record", help="encode a journal record and print it as hex")
    r.add_argument("--record-size", type=int, default=512)
    r.add_argument("--seq", type=int, required=True)
    r.add_argument("--prev-crc", type=lambda t: int(t, 0), default=0, help="crc of record seq − 1 (0 for seq 1)")
    r.add_argument("--product-id", type=int, required=True)
    r.add_argument("--quantity", type=int, required=True)
    r.add_argument("--unit-price-cents", type=int, required=True)
    r.add_argument("--begun-at", type=int, required=True, metavar="US", help="µs since the Unix epoch")
    r.add_argument("--store-id", type=store_id_arg, required=True, help=store_id_help)

    w = sub.add_parser("row", help="encode a stock row and print it as hex")
    w.add_argument("--product-id", type=int, required=True)
    w.add_argument("--stock", type=int, required=True)
    w.add_argument("--units-sold", type=int, required=True)
    w.add_argument("--last-order-seq", type=int, required=True)
    w.add_argument("--updated-at", type=int, required=True, metavar="US", help="µs since the Unix epoch")
    w.add_argument("--store-id", type=store_id_arg, required=True, help=store_id_help)

    i = sub.add_parser("image", help="format a store in a new image file and commit orders to it")
    i.add_argument("path", help="the image file (replaced if it exists)")
    i.add_argument("--size", type=size_arg, default=4 << 20, help="image size in bytes, e.g. 4M (default 4M)")
    i.add_argument("--record-size", type=int, default=512)
    i.add_argument("--product-count", type=int, default=64)
    i.add_argument("--initial-stock", type=int, default=1_000_000)
    i.add_argument("--store-id", type=store_id_arg, default=None, help=store_id_help + " (default: from --seed)")
    i.add_argument("--orders", type=int, default=10, help="orders to commit (default 10)")
    i.add_argument("--torn", action="store_true",
                   help="then write one more order's journal record, but not its stock row")
    i.add_argument("--seed", type=int, default=1, help="chooses products, quantities and prices (default 1)")
    i.add_argument("--formatted-at", type=int, default=1_795_954_591_000_000, metavar="US")
    i.add_argument("--start-us", type=int, default=1_795_954_592_000_000, help="the first order's begun_at")
    i.add_argument("--step-us", type=int, default=1000, help="time between orders' begun_at (default 1000)")

    a = p.parse_args(argv)
    try:
        return run(a)
    except ValueError as e:
        p.error(str(e))


def run(a):
    if a.command == "superblock":
        out = encode_superblock(a.record_size, a.inventory_offset, a.product_count, a.journal_offset,
                                a.journal_capacity, a.initial_stock, a.store_id, a.formatted_at)
    elif a.command == "record":
        out = encode_record(a.record_size, a.seq, a.prev_crc, a.product_id, a.quantity, a.unit_price_cents,
                            a.begun_at, a.store_id)
    elif a.command == "row":
        out = encode_row(a.product_id, a.stock, a.units_sold, a.last_order_seq, a.updated_at, a.store_id)
    else:
        store_id = a.store_id or random.Random(f"store-{a.seed}").randbytes(16)
        summary = write_image(a.path, a.size, a.record_size, a.product_count, a.initial_stock, store_id,
                              a.formatted_at, a.orders, a.torn, a.seed, a.start_us, a.step_us)
        print(json.dumps(summary))
        return 0
    sys.stdout.write(to_hex(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
