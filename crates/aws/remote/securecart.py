#!/usr/bin/env python3
"""SecureCart on a real instance: the order writer and the verifier of docs/journal.md,
in one standard-library file that snaplab sends to the instance through SSM Run Command.

  securecart.py write  --device DEV --state DIR [--rate N] [--seed N] [--record-size N] [--history N]
        format the store on DEV (or open it, replaying torn orders) and take orders until
        DIR/stop appears; DIR/pause pauses (the order in flight finishes, the device is
        closed: it may be detached) until the file goes. Every acknowledged order is a line
        of DIR/orders.log: seq product_id quantity begun_at_us acknowledged_at_us.
  securecart.py log    --state DIR [--offset N] [--max-bytes N]
        whole lines of the order log from byte N, at most N bytes (SSM keeps 24,000 characters).
  securecart.py status --state DIR
        the writer's state as JSON: running, paused, stopped, last_seq, log_bytes.
  securecart.py verify --device DEV [--scan-through SEQ] [--replay]
        the verifier's verdict on DEV as JSON; --replay then completes torn orders and
        verifies again (what SecureCart does on opening a store).

It is the second implementation of the format (the first is crates/workload, in Rust);
crates/aws/tests/python_securecart.rs holds them to each other.
"""
import argparse
import json
import os
import random
import struct
import sys
import time

VERSION = 1
ROW_SIZE = 512
SUPERBLOCK_SIZE = 512
INVENTORY_OFFSET = 4096
JOURNAL_OFFSET = 1024 * 1024
PAYLOAD_MULTIPLIER = 2654435761
RECORD_SIZE = 512
PRODUCT_COUNT = 64
INITIAL_STOCK = 1_000_000


# --- CRC-32C (Castagnoli, reflected: polynomial 0x1EDC6F41 reversed is 0x82F63B78) ---

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


assert crc32c(b"123456789") == 0xE3069283, "CRC-32C check value (docs/journal.md, Conventions)"


def seal(body):
    """A structure's bytes: its body followed by the CRC-32C of that body, as a u32."""
    return bytes(body) + struct.pack("<I", crc32c(body))


def sealed(b):
    return struct.unpack_from("<I", b, len(b) - 4)[0] == crc32c(b[:-4])


def _store_id(store_id):
    if len(store_id) != 16:
        raise ValueError(f"store_id must be 16 bytes, not {len(store_id)}")
    return bytes(store_id)


def now_us():
    return time.time_ns() // 1000


# --- The three structures ---

def encode_superblock(record_size, inventory_offset, product_count, journal_offset, journal_capacity,
                      initial_stock, store_id, formatted_at_us):
    """The 512-byte superblock at offset 0."""
    if record_size % 512 or not 512 <= record_size <= 65536:
        raise ValueError(f"record_size {record_size}: must be a multiple of 512 from 512 to 65536")
    body = struct.pack("<8sIIQIIQQq16sq", b"SCARTJNL", VERSION, record_size, inventory_offset, product_count,
                       ROW_SIZE, journal_offset, journal_capacity, initial_stock, _store_id(store_id),
                       formatted_at_us)
    body += bytes(SUPERBLOCK_SIZE - 4 - len(body))  # 80..508: zero
    return seal(body)


def encode_row(product_id, stock, units_sold, last_order_seq, updated_at_us, store_id):
    """A 512-byte stock row (it lives at inventory_offset + product_id × 512)."""
    body = struct.pack("<4sIqQQq16s", b"STCK", product_id, stock, units_sold, last_order_seq, updated_at_us,
                       _store_id(store_id))
    body += bytes(ROW_SIZE - 4 - len(body))  # 56..508: zero
    return seal(body)


def payload(seq, length):
    """The order's details: byte i is (seq × 2654435761 + i) mod 256, in 64-bit unsigned arithmetic."""
    base = (seq * PAYLOAD_MULTIPLIER) % (1 << 64)
    return bytes(((base + i) % (1 << 64)) & 0xFF for i in range(length))


def encode_record(record_size, seq, prev_crc, product_id, quantity, unit_price_cents, begun_at_us, store_id):
    """A journal record of record_size bytes. Its crc (the last 4 bytes) links the next record."""
    if record_size % 512 or not 512 <= record_size <= 65536:
        raise ValueError(f"record_size {record_size}: must be a multiple of 512 from 512 to 65536")
    if seq < 1:
        raise ValueError("seq counts from 1")
    body = struct.pack("<4sIQIIIIq16s", b"ORDR", record_size, seq, prev_crc, product_id, quantity,
                       unit_price_cents, begun_at_us, _store_id(store_id))
    body += payload(seq, record_size - 60)  # 56..record_size − 4
    return seal(body)


def record_crc(record):
    return struct.unpack_from("<I", record, len(record) - 4)[0]


def unit_price_cents(product_id):
    """Fixed per product, as the Rust writer prices them."""
    return 499 + (product_id * 7919) % 9500


# --- Reading an image ---

class Image:
    """A device or file, read and written at offsets."""

    def __init__(self, path, writable=False, sync=False):
        flags = os.O_RDWR if writable else os.O_RDONLY
        if sync:
            flags |= getattr(os, "O_DSYNC", 0)
        self.fd = os.open(path, flags)
        self.size = os.lseek(self.fd, 0, os.SEEK_END)

    def read(self, offset, length):
        data = os.pread(self.fd, length, offset)
        return data.ljust(length, b"\0")

    def write(self, offset, data):
        done = 0
        while done < len(data):
            done += os.pwrite(self.fd, data[done:], offset + done)

    def flush(self):
        os.fsync(self.fd)

    def close(self):
        os.close(self.fd)


def read_superblock(img):
    b = img.read(0, 512)
    if b[0:8] != b"SCARTJNL" or not sealed(b):
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


def read_rows(img, sb):
    table = img.read(sb["inventory_offset"], sb["product_count"] * 512)
    rows = []
    for p in range(sb["product_count"]):
        b = table[p * 512:(p + 1) * 512]
        ok = b[0:4] == b"STCK" and sealed(b) and b[40:56] == sb["store_id"]
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


def scan(img, sb, batch_bytes=8 * 1024 * 1024, scan_through=0):
    """Every journal slot up to the last non-empty one, classified."""
    rs = sb["record_size"]
    per_batch = max(1, batch_bytes // rs)
    slots = []
    seq = 1
    while seq <= sb["capacity"]:
        n = min(per_batch, sb["capacity"] - seq + 1)
        data = img.read(sb["journal_offset"] + (seq - 1) * rs, n * rs)
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
    return slots


def verify_image(img, batch_bytes=8 * 1024 * 1024, scan_through=0):
    sb = read_superblock(img)
    if sb is None:
        return {"formatted": False}
    rows = read_rows(img, sb)
    slots = scan(img, sb, batch_bytes, scan_through)
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


# --- Writing: the store ---

class Store:
    """A store as the doc's "How the writer writes an order" says."""

    def __init__(self, img, sb, rows, seq, last_crc):
        self.img = img
        self.sb = sb
        self.rows = rows  # per product: [units_sold, last_order_seq]
        self.seq = seq  # the last sequence number used
        self.last_crc = last_crc  # the crc field of record `seq`

    @classmethod
    def format(cls, img, record_size, product_count, initial_stock, store_id, formatted_at_us):
        """Every row fresh, then the superblock. The journal is left as it is."""
        if INVENTORY_OFFSET + product_count * ROW_SIZE > JOURNAL_OFFSET:
            raise ValueError(f"{product_count} stock rows do not fit between 4 KiB and the journal at 1 MiB")
        if img.size < JOURNAL_OFFSET + record_size:
            raise ValueError(f"{img.size} bytes leave no room for a journal")
        sb = {"record_size": record_size, "inventory_offset": INVENTORY_OFFSET, "product_count": product_count,
              "journal_offset": JOURNAL_OFFSET, "capacity": (img.size - JOURNAL_OFFSET) // record_size,
              "initial_stock": initial_stock, "store_id": store_id}
        store = cls(img, sb, [[0, 0] for _ in range(product_count)], 0, 0)
        for p in range(product_count):
            store.write_row(p, formatted_at_us)
        img.write(0, encode_superblock(record_size, INVENTORY_OFFSET, product_count, JOURNAL_OFFSET,
                                       sb["capacity"], initial_stock, store_id, formatted_at_us))
        return store

    @classmethod
    def open(cls, img, now):
        """Opens the store on `img`, completing torn orders (journal replay). Returns (store, replayed)."""
        sb = read_superblock(img)
        if sb is None:
            return None, []
        rows = read_rows(img, sb)
        if any(r is None for r in rows):
            raise ValueError("the store has unreadable stock rows: it is damaged, not just torn")
        store = cls(img, sb, [[r["units_sold"], r["last_order_seq"]] for r in rows], 0, 0)
        replayed = []
        for i, (kind, detail) in enumerate(scan(img, sb)):
            if kind != "valid":
                continue
            record, crc = detail
            store.seq, store.last_crc = i + 1, crc
            row = store.rows[record["product_id"]]
            if row[1] < record["seq"]:
                store.apply(record["seq"], record["product_id"], record["quantity"], now())
                replayed.append(record["seq"])
        return store, replayed

    def write_row(self, product_id, updated_at_us):
        units_sold, last_order_seq = self.rows[product_id]
        row = encode_row(product_id, self.sb["initial_stock"] - units_sold, units_sold, last_order_seq,
                         updated_at_us, self.sb["store_id"])
        self.img.write(self.sb["inventory_offset"] + product_id * ROW_SIZE, row)

    def write_record(self, product_id, quantity, unit_price, begun_at_us):
        """Step 1 of an order: append its journal record. Returns its seq."""
        if self.seq >= self.sb["capacity"]:
            raise ValueError("the journal is full")
        seq = self.seq + 1
        rs = self.sb["record_size"]
        record = encode_record(rs, seq, self.last_crc, product_id, quantity, unit_price, begun_at_us,
                               self.sb["store_id"])
        self.img.write(self.sb["journal_offset"] + (seq - 1) * rs, record)
        self.seq, self.last_crc = seq, record_crc(record)
        return seq

    def apply(self, seq, product_id, quantity, updated_at_us):
        """Step 2 of an order: update the product's row and write it."""
        row = self.rows[product_id]
        row[0] += quantity
        row[1] = seq
        self.write_row(product_id, updated_at_us)


# --- The writer process ---

def _exists(path):
    return os.path.exists(path)


def _write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def open_store(device, seed, record_size=RECORD_SIZE):
    img = Image(device, writable=True, sync=True)
    store, replayed = Store.open(img, now_us)
    if store is None:
        store_id = random.Random(f"store-{seed}-{now_us()}").randbytes(16)
        store = Store.format(img, record_size, PRODUCT_COUNT, INITIAL_STOCK, store_id, now_us())
    return store, replayed


def wait_for(path, seconds):
    deadline = time.monotonic() + seconds
    while not _exists(path):
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} did not appear within {seconds} s: is the volume attached?")
        time.sleep(0.05)


def begin_order(store, rng):
    """An order's first half: its journal record."""
    product_id = rng.randrange(store.sb["product_count"])
    quantity = rng.randint(1, 5)
    begun = now_us()
    seq = store.write_record(product_id, quantity, unit_price_cents(product_id), begun)
    return seq, product_id, quantity, begun


def finish_order(store, log, order):
    """Its second half: the stock row; then it is acknowledged (logged)."""
    seq, product_id, quantity, begun = order
    store.apply(seq, product_id, quantity, now_us())
    acked = now_us()
    log.write(f"{seq} {product_id} {quantity} {begun} {acked}\n")
    log.flush()


def take_order(store, rng, log):
    """One order: its journal record, then its stock row; then it is acknowledged (logged)."""
    finish_order(store, log, begin_order(store, rng))


def write(a):
    os.makedirs(a.state, exist_ok=True)
    log_path = os.path.join(a.state, "orders.log")
    pause, paused, stop = (os.path.join(a.state, n) for n in ("pause", "paused", "stop"))
    hold, held = (os.path.join(a.state, n) for n in ("hold", "held"))
    rng = random.Random(a.seed)
    store, replayed = open_store(a.device, a.seed, a.record_size)
    running = os.path.join(a.state, "running")
    if store.seq == 0 and a.history > 0:
        # A new store takes its trading history at once. It says so while it
        # does (a restart then stops this writer like any other), and is
        # ready only after: whoever waits for it sees the history in place.
        _write_file(running, json.dumps({"pid": os.getpid(), "replayed": replayed, "last_seq": 0, "history": True}))
        with open(log_path, "a") as log:
            for _ in range(a.history):
                if _exists(stop):
                    break
                take_order(store, rng, log)
    _write_file(running, json.dumps({"pid": os.getpid(), "replayed": replayed, "last_seq": store.seq}))
    interval = 1.0 / a.rate if a.rate > 0 else 0.0
    next_at = time.monotonic()
    with open(log_path, "a") as log:
        while not _exists(stop):
            if _exists(hold):
                # The next order held half-written: its journal record on the
                # volume (flushed), its stock row not, until the hold goes.
                order = begin_order(store, rng)
                store.img.flush()
                _write_file(held, str(order[0]))
                while _exists(hold) and not _exists(stop):
                    time.sleep(0.01)
                if _exists(stop):
                    break  # it stays torn, as after a crash; opening the store replays it
                finish_order(store, log, order)
                os.remove(held)
                next_at = time.monotonic()
                continue
            if _exists(pause):
                # The order in flight is done; flush and let go of the device: it may be detached.
                store.img.flush()
                store.img.close()
                _write_file(paused, str(store.seq))
                while _exists(pause) and not _exists(stop):
                    time.sleep(0.02)
                if _exists(stop):
                    break
                wait_for(a.device, a.reattach_wait)
                store.img = Image(a.device, writable=True, sync=True)
                os.remove(paused)
                next_at = time.monotonic()
                continue
            take_order(store, rng, log)
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()
    if not _exists(paused):
        store.img.flush()
        store.img.close()
    summary = {"last_seq": store.seq, "replayed": replayed}
    _write_file(os.path.join(a.state, "stopped"), json.dumps(summary))
    print(json.dumps(summary))
    return 0


def log(a):
    path = os.path.join(a.state, "orders.log")
    try:
        with open(path, "rb") as f:
            f.seek(a.offset)
            chunk = f.read(a.max_bytes)
    except FileNotFoundError:
        chunk = b""
    end = chunk.rfind(b"\n") + 1  # whole lines only
    sys.stdout.write(chunk[:end].decode("ascii"))
    return 0


def status(a):
    def read(name):
        try:
            with open(os.path.join(a.state, name)) as f:
                return f.read()
        except FileNotFoundError:
            return None
    try:
        log_bytes = os.path.getsize(os.path.join(a.state, "orders.log"))
    except FileNotFoundError:
        log_bytes = 0
    running = json.loads(read("running") or "null")
    print(json.dumps({
        "running": running is not None and read("stopped") is None,
        "ready": running is not None and not running.get("history", False),
        "paused": read("paused") is not None,
        "stopped": json.loads(read("stopped")) if read("stopped") else None,
        "replayed": running["replayed"] if running else [],
        "opened_at_seq": running["last_seq"] if running else 0,
        "log_bytes": log_bytes,
    }))
    return 0


def verify(a):
    img = Image(a.device, writable=a.replay)
    try:
        verdict = verify_image(img, batch_bytes=a.batch_bytes, scan_through=a.scan_through)
        verdict["replayed"] = []
        if a.replay and verdict.get("formatted") and verdict["torn"]:
            _, replayed = Store.open(img, now_us)
            img.flush()
            verdict["replayed"] = replayed
            verdict["torn_after_replay"] = len(verify_image(img, scan_through=a.scan_through)["torn"])
    finally:
        img.close()
    print(json.dumps(verdict))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Format: docs/journal.md")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    w = sub.add_parser("write", help="take orders on the device until DIR/stop appears")
    w.add_argument("--device", required=True)
    w.add_argument("--state", required=True, help="directory for the order log and the control files")
    w.add_argument("--rate", type=float, default=20.0, help="orders per second (default 20; 0: as fast as it can)")
    w.add_argument("--seed", type=int, default=1)
    w.add_argument("--record-size", type=int, default=RECORD_SIZE,
                   help="bytes per journal record when formatting (a multiple of 512, 512 to 65536)")
    w.add_argument("--history", type=int, default=0,
                   help="orders a new store takes at once before orders flow at --rate")
    w.add_argument("--reattach-wait", type=float, default=300.0, help="seconds to wait for the device after a pause")
    g = sub.add_parser("log", help="print whole lines of the order log from a byte offset")
    g.add_argument("--state", required=True)
    g.add_argument("--offset", type=int, default=0)
    g.add_argument("--max-bytes", type=int, default=20_000)
    s = sub.add_parser("status", help="the writer's state as JSON")
    s.add_argument("--state", required=True)
    v = sub.add_parser("verify", help="the verifier's verdict on a device or image, as JSON")
    v.add_argument("--device", required=True)
    v.add_argument("--scan-through", type=int, default=0, help="scan at least this far (the log's last seq)")
    v.add_argument("--replay", action="store_true", help="then complete torn orders and verify again")
    v.add_argument("--batch-bytes", type=int, default=8 * 1024 * 1024, help="journal bytes per read (default 8 MiB)")
    a = p.parse_args(argv)
    try:
        return {"write": write, "log": log, "status": status, "verify": verify}[a.command](a)
    except (OSError, ValueError) as e:
        print(f"securecart: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
