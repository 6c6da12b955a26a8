-- The record of every run. Times are RFC 3339 text in UTC. No credential is
-- ever stored: targets are kept as kind and endpoint URL only.

CREATE TABLE learners (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    lab_id TEXT NOT NULL,
    lab_title TEXT NOT NULL,
    learner_id INTEGER NOT NULL REFERENCES learners(id),
    mode TEXT NOT NULL,
    consistency TEXT NOT NULL,
    pace TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_endpoint TEXT NOT NULL,
    shadow_disk INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'interrupted')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    heartbeat_at TEXT NOT NULL,
    pid INTEGER,
    steps_passed INTEGER NOT NULL DEFAULT 0,
    steps_total INTEGER NOT NULL DEFAULT 0,
    context_json TEXT NOT NULL,
    verification_json TEXT
);
CREATE INDEX runs_by_learner ON runs (learner_id, started_at);
CREATE INDEX runs_by_status ON runs (status);

CREATE TABLE steps (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'skipped')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (run_id, step_id)
);

CREATE TABLE checks (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    check_id TEXT NOT NULL,
    passed INTEGER NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX checks_by_run ON checks (run_id);

CREATE TABLE api_calls (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step_id TEXT,
    operation TEXT NOT NULL,
    request_id TEXT,
    duration_ms INTEGER NOT NULL,
    error TEXT,
    at TEXT NOT NULL
);
CREATE INDEX api_calls_by_run ON api_calls (run_id);

CREATE TABLE snapshot_progress (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    snapshot_id TEXT NOT NULL,
    state TEXT NOT NULL,
    percent INTEGER NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX snapshot_progress_by_run ON snapshot_progress (run_id);

CREATE TABLE workload_samples (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    orders_per_s REAL NOT NULL,
    acknowledged INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    paused INTEGER NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX workload_samples_by_run ON workload_samples (run_id);

-- The shop's own log: what it acknowledged and when (the verifier's reference).
CREATE TABLE orders (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    begun_at_us INTEGER NOT NULL,
    acked_at_us INTEGER,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE resources (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    resource_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    deleted_at TEXT,
    PRIMARY KEY (run_id, resource_id)
);

CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX notices_by_run ON notices (run_id);
