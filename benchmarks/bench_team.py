"""Benchmark: eight coders annotating at once, Label Studio on SQLite against PostgreSQL.

    .venv/bin/python benchmarks/bench_team.py                  # 3 minutes per database
    .venv/bin/python benchmarks/bench_team.py --seconds 30     # quicker

For each database a fresh `slant studio` server is started (SQLite, then its own
PostgreSQL cluster), a project gets `--tasks` sentence tasks, `--coders` accounts are made
through the invite sign-up (`slant team add`'s path), and each coder posts annotations
from its own thread with its own token for `--seconds`, as the labeling UI does on Submit.
Then `slant pull`'s reader runs over the project, and every acknowledged (HTTP 201)
annotation must be in it. Printed per database: annotations/s, p95 latency, errors by kind
("database is locked" is SQLite's), pulled == acknowledged, and the peak memory (VmHWM) of
the Label Studio process; the ratio is PostgreSQL's rate over SQLite's (the baseline).

Targets: no error and nothing lost on either database; PostgreSQL at least as fast as
SQLite (ratio >= 1.0). Exits 1 when a target is missed.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.coders import make_coders, make_tasks, pulled_counts, run_coders
from slant.loop.pull import pull_records
from slant.studio.client import connect
from slant.studio.projects import ensure_project
from slant.studio.server import start_studio
from slant.taxonomy.core import load_taxonomy


def _peak_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(database, args, port):
    work = Path(tempfile.mkdtemp(prefix=f"bench-team-{database}-"))  # /tmp: reachable by the postgres user
    t0 = time.perf_counter()
    server = start_studio(data_dir=work, port=port, database=database, timeout=900)
    print(f"{database}: Label Studio up in {time.perf_counter() - t0:.0f} s at {server.url}", flush=True)
    try:
        studio = connect(server.url, server.api_key)
        tax = load_taxonomy()
        project, _, _ = ensure_project(studio, f"bench team {uuid.uuid4().hex[:6]}", tax)
        task_ids = make_tasks(studio.sdk, project.id, args.tasks, tag=database)
        coders = make_coders(studio, args.coders, prefix=f"bench-{database}-")
        choice = [{"from_name": "categories", "to_name": "text", "type": "choices",
                   "value": {"choices": [tax.category("loaded_language").name]}}]
        result = run_coders(server.url, coders, task_ids, seconds=args.seconds, result=choice)
        load = os.getloadavg()[1]  # the machine is shared: say how busy it was
        peak = _peak_kib(server.process.pid)
        t1 = time.perf_counter()
        records, _ = pull_records(studio, project=project.id, taxonomy=tax)
        pull_s = time.perf_counter() - t1
        pulled = pulled_counts(records)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    row = {"database": database, "annotations": result.count, "seconds": result.seconds, "rate": result.rate,
           "p95_ms": result.p95() * 1000, "errors": dict(result.errors), "pulled": sum(pulled.values()),
           "complete": pulled == result.acknowledged, "peak_mib": peak / 1024, "pull_s": pull_s}
    print(f"{database}: {row['annotations']} annotations in {row['seconds']:.0f} s = {row['rate']:.2f}/s, "
          f"p95 {row['p95_ms']:.0f} ms, errors {row['errors'] or 'none'}, pulled {row['pulled']} "
          f"({'all acknowledged' if row['complete'] else 'MISMATCH'}) in {pull_s:.1f} s, "
          f"Label Studio peak RSS {row['peak_mib']:.0f} MiB; load average (5 min) {load:.1f} on {os.cpu_count()} CPUs",
          flush=True)
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--coders", type=int, default=8)
    ap.add_argument("--tasks", type=int, default=500)
    args = ap.parse_args(argv)
    sqlite = measure("sqlite", args, 18230)
    pg = measure("postgresql", args, 18240)
    ratio = pg["rate"] / sqlite["rate"] if sqlite["rate"] else float("inf")
    print(f"\n{args.coders} coders, {args.seconds:.0f} s each: SQLite {sqlite['rate']:.2f}/s, PostgreSQL "
          f"{pg['rate']:.2f}/s, ratio PostgreSQL/SQLite {ratio:.2f}")
    missed = [f"{r['database']}: {r['errors']}" for r in (sqlite, pg) if r["errors"]]
    missed += [f"{r['database']}: pulled annotations differ from acknowledged" for r in (sqlite, pg) if not r["complete"]]
    if ratio < 1.0:
        missed.append(f"PostgreSQL slower than SQLite (ratio {ratio:.2f} < 1.0)")
    for m in missed:
        print(f"TARGET MISSED: {m}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
