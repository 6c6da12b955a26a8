#!/usr/bin/env python3
"""The emulator with a state directory (every change journaled), two builds side by side.

For each `snaplab` binary given (e.g. before and after a change to how the
journal is written), in alternating rounds, an emulator with `--state-dir` at
pace instant takes wrk load (-t2 -c4, keep-alive) of
  - journaled data-plane writes: PUT 4 KiB at a rotating offset of the attached data volume
  - journaled EC2 changes: CreateTags on the data volume
  - DescribeSnapshots for one id (not journaled: the lock's other users)
Medians of the rounds; prints a Markdown table. Usage:
  bench_journal.py NAME=SNAPLAB_BIN [NAME=SNAPLAB_BIN ...]
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import post, query_lua, wrk as run_wrk

DURATION = os.environ.get("BENCH_DURATION", "8s")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
VOLUME = "vol-0123456789abcdef0"


def wrk(url, lua):
    return run_wrk(url, lua, DURATION)


WRITES = """
wrk.method = "PUT"
wrk.body = string.rep("x", 4096)
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/_snaplab/volumes/%s/data?offset=" .. ((n %% 4096) * 4096))
end
""" % VOLUME

def one_round(binary, port):
    state = tempfile.mkdtemp(prefix="snaplab-bench-journal-")
    proc = subprocess.Popen([binary, "emulator", "--bind", f"127.0.0.1:{port}", "--pace", "instant",
                             "--state-dir", state], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        t0 = time.time()
        while True:
            try:
                post(endpoint, "Action=DescribeAvailabilityZones&Version=2016-11-15")
                break
            except Exception:
                if time.time() - t0 > 30:
                    raise
                time.sleep(0.01)
        snap = re.search(r"<snapshotId>(snap-[0-9a-f]+)</snapshotId>",
                         post(endpoint, f"Action=CreateSnapshot&Version=2016-11-15&VolumeId={VOLUME}")).group(1)
        writes = wrk(endpoint, WRITES)
        tags = wrk(endpoint + "/", query_lua(
            f"Action=CreateTags&Version=2016-11-15&ResourceId.1={VOLUME}&Tag.1.Key=bench&Tag.1.Value=1"))
        reads = wrk(endpoint + "/", query_lua(f"Action=DescribeSnapshots&Version=2016-11-15&SnapshotId.1={snap}"))
        journal = os.path.getsize(os.path.join(state, "journal.snaplab"))
        return {"writes": writes, "tags": tags, "reads": reads, "journal_mib": journal / 2**20}
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(state, ignore_errors=True)


def main(pairs):
    builds = [p.split("=", 1) for p in pairs]
    results = {name: [] for name, _ in builds}
    for r in range(ROUNDS):
        order = builds if r % 2 == 0 else list(reversed(builds))
        for i, (name, binary) in enumerate(order):
            results[name].append(one_round(binary, 4710 + i))
    med = lambda name, key, idx: statistics.median(x[key][idx] for x in results[name])
    names = [n for n, _ in builds]
    print("| measure (median of %d rounds, wrk -t2 -c4 -d%s) | %s |" % (ROUNDS, DURATION, " | ".join(names)))
    print("|---|" + "---|" * len(names))
    for key, label in [("writes", "data-plane PUT 4 KiB, journaled"), ("tags", "CreateTags, journaled"),
                       ("reads", "DescribeSnapshots, not journaled")]:
        print(f"| {label}: req/s | " + " | ".join(f"{med(n, key, 0):,.0f}" for n in names) + " |")
        print(f"| {label}: p99 ms | " + " | ".join(f"{med(n, key, 1):.2f}" for n in names) + " |")
    for n in names:
        print(f"{n} rounds: " + "; ".join(
            f"writes {x['writes'][0]:,.0f}/s, tags {x['tags'][0]:,.0f}/s, reads {x['reads'][0]:,.0f}/s, journal {x['journal_mib']:.0f} MiB"
            for x in results[n]))


if __name__ == "__main__":
    main(sys.argv[1:])
