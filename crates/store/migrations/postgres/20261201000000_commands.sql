-- Commands a learner typed in the app's terminal: the line, its exit status
-- and times. Never its output, never the environment.
CREATE TABLE commands (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    -- The step going on when it finished (NULL before the first).
    step_id TEXT,
    command TEXT NOT NULL,
    exit_status BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
