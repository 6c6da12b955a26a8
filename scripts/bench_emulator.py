#!/usr/bin/env python3
"""snaplab's emulator beside moto, in one run, with the same client.

Measures, for each server:
  - DescribeSnapshots for one snapshot id over keep-alive: wrk -t2 -c4 (requests/s, p99), 3 rounds, median
  - process start to first answered EC2 request, 7 runs, median
  - resident memory after start and one request (idle), and after the wrk load
Prints a Markdown table. Usage: bench_emulator.py SNAPLAB_BIN MOTO_SERVER_BIN
"""
import os
import re
import statistics
import subprocess
import sys
import time

from benchlib import post, query_lua, wrk as run_wrk

DURATION = os.environ.get("BENCH_DURATION", "10s")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return kb / 1024


class Server:
    def __init__(self, name, argv, port, env=None):
        self.name, self.argv, self.port, self.env = name, argv, port, env
        self.endpoint = f"http://127.0.0.1:{port}"

    def start(self):
        env = dict(os.environ, **(self.env or {}))
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        while True:
            try:
                post(self.endpoint, "Action=DescribeAvailabilityZones&Version=2016-11-15")
                return time.perf_counter() - t0
            except Exception:
                if time.perf_counter() - t0 > 60:
                    raise RuntimeError(f"{self.name} did not answer within 60 s")
                time.sleep(0.002)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wrk(endpoint, body):
    return run_wrk(endpoint + "/", query_lua(body), DURATION)


def measure(server):
    starts = []
    for _ in range(7):
        starts.append(server.start())
        server.stop()
    server.start()
    idle = rss_mib(server.proc.pid)
    # The same set-up on both: a new volume, one snapshot of it.
    vol = re.search(r"<volumeId>(vol-[0-9a-f]+)</volumeId>", post(
        server.endpoint, "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=8")).group(1)
    created = post(server.endpoint, "Action=CreateSnapshot&Version=2016-11-15&VolumeId=" + vol)
    snap = re.search(r"<snapshotId>(snap-[0-9a-f]+)</snapshotId>", created).group(1)
    body = f"Action=DescribeSnapshots&Version=2016-11-15&SnapshotId.1={snap}"
    assert snap in post(server.endpoint, body)
    rounds = [wrk(server.endpoint, body) for _ in range(3)]
    loaded = rss_mib(server.proc.pid)
    server.stop()
    return {
        "start_ms": statistics.median(starts) * 1000,
        "idle_mib": idle,
        "loaded_mib": loaded,
        "rps": statistics.median(r[0] for r in rounds),
        "p99_ms": statistics.median(r[1] for r in rounds),
        "rounds": rounds,
    }


def main(snaplab, moto):
    snap_srv = Server("snaplab", [snaplab, "emulator", "--bind", "127.0.0.1:4701", "--pace", "instant"], 4701)
    moto_srv = Server("moto", [moto, "-H", "127.0.0.1", "-p", "4702"], 4702, {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"})
    results = {srv.name: measure(srv) for srv in (snap_srv, moto_srv)}
    s, m = results["snaplab"], results["moto"]
    print("| measure | snaplab | moto | ratio |")
    print("|---|---|---|---|")
    print(f"| DescribeSnapshots, one id, wrk -t2 -c4 -d{DURATION} (median of 3) | {s['rps']:,.0f} req/s | {m['rps']:,.0f} req/s | {s['rps'] / m['rps']:,.0f}x |")
    print(f"| p99 latency (median of 3) | {s['p99_ms']:.2f} ms | {m['p99_ms']:.2f} ms | {m['p99_ms'] / s['p99_ms']:,.0f}x lower |")
    print(f"| start to first answered request (median of 7) | {s['start_ms']:.1f} ms | {m['start_ms']:.0f} ms | {m['start_ms'] / s['start_ms']:,.0f}x faster |")
    print(f"| resident memory, idle after start | {s['idle_mib']:.1f} MiB | {m['idle_mib']:.0f} MiB | {m['idle_mib'] / s['idle_mib']:,.0f}x less |")
    print(f"| resident memory after the load | {s['loaded_mib']:.1f} MiB | {m['loaded_mib']:.0f} MiB | |")
    print()
    for name, r in results.items():
        print(f"{name} wrk rounds (req/s, p99 ms): " + ", ".join(f"({a:,.0f}, {b:.2f})" for a, b in r["rounds"]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
