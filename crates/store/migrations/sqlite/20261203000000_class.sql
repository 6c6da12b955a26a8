-- A class record on PostgreSQL. On the learner's side, `outbox` holds each
-- write not yet delivered to the class database (in the transaction that made
-- it here) and `record_meta` the record's own id, its origin there. On the
-- class side, `delivered` names each write that arrived (in the transaction
-- that applied it), so a write sent twice is applied once.
CREATE TABLE outbox (
    -- AUTOINCREMENT: a sequence number is never reused once delivered and gone.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    queued_at TEXT NOT NULL
);

CREATE TABLE delivered (
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (origin, seq)
);

CREATE TABLE record_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
