"""Simulated coders for the team load and crash tests and benchmarks/bench_team.py.

Each coder is a real account (made with `slant.studio.team.create_account`) and a thread
posting annotations through Label Studio's API with its own token, as the labeling UI does
on Submit. Every 201 answer is an acknowledged annotation, kept as ``(task id, email)``.
"""

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

from slant.studio.team import create_account


def make_accounts(studio, n, prefix="coder"):
    """`n` fresh `slant.studio.team.Account` logins on the server of `studio`."""
    tag = uuid.uuid4().hex[:6]
    return [create_account(studio, f"{prefix}{k}-{tag}@example.org") for k in range(n)]


def make_coders(studio, n, prefix="coder"):
    """`n` fresh accounts as ``[(email, api_key)]``."""
    return [(a.email, a.api_key) for a in make_accounts(studio, n, prefix)]


def make_tasks(sdk, project_id, n, tag=""):
    """Import `n` plain sentence tasks (every field the labeling config reads); their ids."""
    tasks = [{"text": f"Sentence {i} {tag}: critics say the plan is reckless.", "context_before": "", "context_after": "",
              "doc_id": f"load-{tag}-{i // 50}", "doc_title": "Load", "slant_id": f"load-{tag}-{i}"} for i in range(n)]
    resp = sdk.projects.import_tasks(id=project_id, request=tasks, return_task_ids=True)
    return sorted(resp.task_ids)


@dataclass
class LoadResult:
    seconds: float = 0.0
    acknowledged: Counter = field(default_factory=Counter)   # (task id, email) -> annotations acknowledged
    errors: Counter = field(default_factory=Counter)         # error kind -> count
    latencies: list = field(default_factory=list)

    @property
    def count(self):
        return sum(self.acknowledged.values())

    @property
    def rate(self):
        return self.count / self.seconds if self.seconds else 0.0

    def p95(self):
        xs = sorted(self.latencies)
        return xs[int(0.95 * (len(xs) - 1))] if xs else 0.0


def _coder(url, email, api_key, task_ids, offset, result, stop, out, lock):
    headers = {"Authorization": f"Token {api_key}"}
    i = offset
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        while not stop.is_set():
            tid = task_ids[i % len(task_ids)]
            i += 1
            t0 = time.perf_counter()
            try:
                r = client.post(f"/api/tasks/{tid}/annotations/", json={"result": result, "lead_time": 2.0})
            except httpx.HTTPError as exc:
                with lock:
                    out.errors[exc.__class__.__name__] += 1
                if isinstance(exc, httpx.TransportError):
                    time.sleep(0.2)  # the server is gone (crash test): do not spin
                continue
            with lock:
                if r.status_code == 201:
                    out.acknowledged[(tid, email)] += 1
                    out.latencies.append(time.perf_counter() - t0)
                else:
                    kind = "database is locked" if "database is locked" in r.text else f"HTTP {r.status_code}"
                    out.errors[kind] += 1


def run_coders(url, coders, task_ids, *, seconds, result, stop=None):
    """Every coder annotates `task_ids` (each from its own starting point) for `seconds`."""
    stop = stop or threading.Event()
    out, lock = LoadResult(), threading.Lock()
    step = max(1, len(task_ids) // max(1, len(coders)))
    threads = [threading.Thread(target=_coder, args=(url, email, key, task_ids, k * step, result, stop, out, lock),
                                daemon=True) for k, (email, key) in enumerate(coders)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    stop.wait(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    out.seconds = time.perf_counter() - t0
    return out


def pulled_counts(records):
    """``(task id, annotator) -> annotations`` in pulled reviewed records."""
    return Counter((r["task_id"], a["annotator"]) for r in records for a in r["annotations"])
