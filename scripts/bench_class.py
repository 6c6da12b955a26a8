"""N learners' guided runs at once against one `snaplab emulator`.

Usage: bench_class.py SNAPLAB "1 5 10 20 30" [REPEATS]

For each N: a fresh emulator (pace demo), N `snaplab run --endpoint … --learner
learner-i` processes started together, each with its own SQLite record (as
each learner's computer has). Every run must pass: the verify step finds
every acknowledged order on the restored volume, so a pass means nothing was
lost. Then the emulator's own figures: request latency from
/_snaplab/metrics (server side, arrival to response), CPU time and peak
resident memory from /proc. The learners run on the same 2 cores as the
emulator here, so the figures are an upper bound for a real class, where
each learner has a computer of their own.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

TICKS = os.sysconf("SC_CLK_TCK")


def emulator(snaplab):
    proc = subprocess.Popen(
        [snaplab, "emulator", "--bind", "127.0.0.1:0", "--pace", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()
    endpoint = next(w for w in line.split() if w.startswith("http://"))
    return proc, endpoint


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def one_class(snaplab, n, work):
    proc, endpoint = emulator(snaplab)
    cpu_before = cpu_seconds(proc.pid)
    started = time.monotonic()
    runs = []
    for i in range(n):
        out = open(f"{work}/learner-{i}.jsonl", "w")
        p = subprocess.Popen(
            [snaplab, "run", "--endpoint", endpoint, "--learner", f"learner-{i}",
             "--json", "--db", f"{work}/learner-{i}.db"],
            stdout=out, stderr=subprocess.DEVNULL,
            env={**os.environ, "NO_PROXY": "127.0.0.1"},
        )
        runs.append((p, out, time.monotonic()))
    durations, outcomes, failed_checks = [], [], 0
    for i, (p, out, t0) in enumerate(runs):
        p.wait()
        durations.append(time.monotonic() - t0)
        out.close()
        events = [json.loads(l) for l in open(f"{work}/learner-{i}.jsonl") if l.strip()]
        finished = [e for e in events if e.get("event") == "run_finished"]
        outcomes.append(finished[-1]["outcome"] if finished else f"exit {p.returncode}")
        failed_checks += sum(1 for e in events if e.get("event") == "check_result" and not e.get("passed"))
    wall = time.monotonic() - started
    metrics = json.load(urllib.request.urlopen(f"{endpoint}/_snaplab/metrics"))
    cpu = cpu_seconds(proc.pid) - cpu_before
    rss = peak_rss_mib(proc.pid)
    proc.terminate()
    proc.wait()
    return {
        "n": n, "passed": outcomes.count("passed"), "outcomes": outcomes, "failed_checks": failed_checks,
        "wall": wall, "median_run": statistics.median(durations), "cpu": cpu, "rss": rss,
        "metrics": metrics,
    }


def main():
    snaplab, sizes = sys.argv[1], [int(x) for x in sys.argv[2].split()]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rows = []
    for n in sizes:
        trials = []
        for r in range(repeats):
            with tempfile.TemporaryDirectory() as work:
                t = one_class(snaplab, n, work)
            trials.append(t)
            print(f"N={n} trial {r + 1}: {t['passed']}/{n} passed, wall {t['wall']:.1f} s, "
                  f"emulator CPU {t['cpu']:.1f} s, p99 aws {t['metrics']['aws']['p99_us']} us, "
                  f"p99 data {t['metrics']['data_plane']['p99_us']} us, 5xx {t['metrics']['server_errors']}",
                  file=sys.stderr)
        rows.append(trials)
    med = lambda trials, f: statistics.median(f(t) for t in trials)
    print()
    print("| learners | runs passed | failed checks | 5xx | longest run (s) | median run (s) | emulator CPU (s) | CPU per learner (s) | emulator CPU, share of one core | peak RSS (MiB) | requests AWS / data plane | AWS p50 / p99 (ms) | data plane p50 / p99 (ms) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for trials in rows:
        n = trials[0]["n"]
        passed = sum(t["passed"] for t in trials)
        failed = sum(t["failed_checks"] for t in trials)
        errors = sum(t["metrics"]["server_errors"] for t in trials)
        wall = med(trials, lambda t: t["wall"])
        cpu = med(trials, lambda t: t["cpu"])
        m = lambda k, q: med(trials, lambda t: t["metrics"][k][q]) / 1000
        count = lambda k: int(med(trials, lambda t: t["metrics"][k]["count"]))
        print(f"| {n} | {passed}/{n * len(trials)} | {failed} | {errors} | {wall:.1f} | {med(trials, lambda t: t['median_run']):.1f} "
              f"| {cpu:.2f} | {cpu / n:.2f} | {100 * cpu / wall:.0f}% | {med(trials, lambda t: t['rss']):.1f} "
              f"| {count('aws')} / {count('data_plane')} | {m('aws', 'p50_us'):.2f} / {m('aws', 'p99_us'):.2f} "
              f"| {m('data_plane', 'p50_us'):.2f} / {m('data_plane', 'p99_us'):.2f} |")
    if repeats > 1:
        print(f"\nMedians of {repeats} classes per size.")
    bad = [t for trials in rows for t in trials if t["passed"] != t["n"]]
    for t in bad:
        print(f"N={t['n']}: outcomes {t['outcomes']}", file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
