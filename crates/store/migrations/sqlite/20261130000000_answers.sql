-- Knowledge checks: one row per question a run reached (asked or not).
CREATE TABLE answers (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    prompt TEXT NOT NULL,
    -- The choice given; NULL when not asked or skipped.
    answer TEXT,
    correct INTEGER NOT NULL,
    asked INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, question_id)
);
