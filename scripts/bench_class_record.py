"""A class's record: each learner's own file, or a PostgreSQL class database too.

Usage: bench_class_record.py SNAPLAB N REPEATS   (SNAPLAB_TEST_POSTGRES: the server)

For each repeat, two classes of N learners run one after the other on a fresh
`snaplab emulator` (pace demo, guided, the whole SecureCart lab): first each
learner records into their own SQLite file only, then each also sends every
change to one class database (`--db postgres://… --local-db own.db`). A run
ends once its changes reached the class (or 10 s passed), so its length
includes the delivery. Then the class database is checked against every
learner's file, table by table: the same number of rows for each run
(nothing lost, nothing twice).
"""

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

from bench_class import emulator

TABLES = ["steps", "checks", "api_calls", "snapshot_progress", "workload_samples", "orders", "resources", "notices"]


def psql(url, sql):
    return subprocess.run(["psql", url, "-Atc", sql], check=True, capture_output=True, text=True).stdout.strip()


def one_class(snaplab, n, work, class_url):
    proc, endpoint = emulator(snaplab)
    runs = []
    for i in range(n):
        own = f"{work}/learner-{i}.db"
        record = ["--db", class_url, "--local-db", own] if class_url else ["--db", own]
        out = open(f"{work}/learner-{i}.jsonl", "w")
        err = open(f"{work}/learner-{i}.err", "w")
        p = subprocess.Popen(
            [snaplab, "run", "--endpoint", endpoint, "--learner", f"learner-{i}", "--json", *record],
            stdout=out, stderr=err, env={**os.environ, "NO_PROXY": "127.0.0.1"},
        )
        runs.append((p, out, err, time.monotonic()))
    durations, outcomes, delivered = [], [], 0
    for i, (p, out, err, t0) in enumerate(runs):
        p.wait()
        durations.append(time.monotonic() - t0)
        out.close()
        err.close()
        events = [json.loads(l) for l in open(f"{work}/learner-{i}.jsonl") if l.strip()]
        finished = [e for e in events if e.get("event") == "run_finished"]
        outcomes.append(finished[-1]["outcome"] if finished else f"exit {p.returncode}")
        delivered += "every change reached" in open(f"{work}/learner-{i}.err").read()
    proc.terminate()
    proc.wait()
    return {"passed": outcomes.count("passed"), "durations": durations, "delivered": delivered}


def same_rows(n, work, class_url):
    """Per run and table, the class database's row count equals the learner's file's."""
    mismatches, rows = [], 0
    for i in range(n):
        local = sqlite3.connect(f"{work}/learner-{i}.db")
        (run_id,) = local.execute("SELECT id FROM runs").fetchone()
        for table in TABLES:
            (mine,) = local.execute(f"SELECT COUNT(*) FROM {table} WHERE run_id = ?", (run_id,)).fetchone()
            theirs = int(psql(class_url, f"SELECT COUNT(*) FROM {table} WHERE run_id = '{run_id}'"))
            rows += mine
            if mine != theirs:
                mismatches.append(f"{run_id} {table}: file {mine}, class {theirs}")
        local.close()
    return mismatches, rows


def main():
    snaplab, n, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    server = os.environ["SNAPLAB_TEST_POSTGRES"]
    base = server.rsplit("/", 1)[0]
    files, linked, bad = [], [], []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as work:
            files.append(one_class(snaplab, n, work, None))
        db = f"bench_class_{os.getpid()}_{r}"
        psql(server, f"CREATE DATABASE {db}")
        with tempfile.TemporaryDirectory() as work:
            t = one_class(snaplab, n, work, f"{base}/{db}")
            t["mismatches"], t["rows"] = same_rows(n, work, f"{base}/{db}")
            t["class_runs"] = int(psql(f"{base}/{db}", "SELECT COUNT(*) FROM runs WHERE status = 'passed'"))
        linked.append(t)
        bad += t["mismatches"]
        print(f"repeat {r + 1}: files {files[-1]['passed']}/{n} passed, median run "
              f"{statistics.median(files[-1]['durations']):.2f} s; linked {t['passed']}/{n} passed, median run "
              f"{statistics.median(t['durations']):.2f} s, {t['delivered']}/{n} said every change reached, "
              f"{t['class_runs']} passed runs in the class database, {t['rows']} rows checked, "
              f"{len(t['mismatches'])} mismatches", file=sys.stderr)
    med = lambda trials, f: statistics.median(f(t) for t in trials)
    mf = med(files, lambda t: statistics.median(t["durations"]))
    ml = med(linked, lambda t: statistics.median(t["durations"]))
    lf = med(files, lambda t: max(t["durations"]))
    ll = med(linked, lambda t: max(t["durations"]))
    print()
    print("| record | runs passed | median run (s) | longest run (s) | runs whose changes all reached the class | passed runs in the class database | rows compared, mismatches |")
    print("|---|---|---|---|---|---|---|")
    print(f"| each learner's file | {sum(t['passed'] for t in files)}/{n * repeats} | {mf:.2f} | {lf:.2f} | — | — | — |")
    print(f"| file + class database | {sum(t['passed'] for t in linked)}/{n * repeats} | {ml:.2f} | {ll:.2f} "
          f"| {sum(t['delivered'] for t in linked)}/{n * repeats} | {sum(t['class_runs'] for t in linked)}/{n * repeats} "
          f"| {sum(t['rows'] for t in linked)}, {len(bad)} |")
    print(f"\nMedians of {repeats} classes of {n}; median run, linked ÷ file: {ml / mf:.3f}.")
    for m in bad:
        print(m, file=sys.stderr)
    ok = not bad and all(t["passed"] == n for t in files + linked)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
