"""Benchmark: the live ML backend (`slant serve`) under load while it retrains.

    python benchmarks/bench_server.py                    # 16 clients, 30 s per request size
    python benchmarks/bench_server.py --duration 10 --workers 2
    python benchmarks/bench_server.py --model-processes 0     # the model in a thread of the server

Starts `slant serve` as its own process on a free loopback port (fresh model registry and
journal in a temporary directory, the default seed model), journals 300 annotation
events through /webhook and keeps a background retrain running for the whole
measurement (START_TRAINING again whenever a run ends). Then, for 1-task and 100-task
/predict requests, `--clients` threads each send requests back to back over one
keep-alive connection for `--duration` seconds. Texts are the project's seed sentences,
shuffled, so no two consecutive requests carry the same batch.

Prints throughput, p50/p99 latency and errors per request size against the targets
(p99 <= 50 ms for 1 task, <= 400 ms for 100 tasks), and, measured in the same run:
- the bare model cost of one request (`SlantModel.predict` + `prediction_json`, no HTTP,
  one thread, nothing else running) and the ratio server p50 / bare cost;
- the HTTP stack alone: the same clients on GET /health;
- the peak resident memory of the server process and of its training child.
"""

import argparse
import base64
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

USER, PASSWORD = "bench", "bench-password-123"
HEADERS = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
           "Content-Type": "application/json"}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed_records():
    from slant.model.seed import read_seed

    records, _ = read_seed()
    return [r for r in records if r.get("text")]


def _rss_kb(pid, field="VmRSS"):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid):
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


class Server:
    def __init__(self, tmp, workers, model_processes):
        self.port = _free_port()
        self.url = f"127.0.0.1:{self.port}"
        env = {**os.environ, "SLANT_ML_USERNAME": USER, "SLANT_ML_PASSWORD": PASSWORD}
        cmd = [sys.executable, "-m", "slant", "serve", "--port", str(self.port), "--workers", str(workers),
               "--model-processes", str(model_processes),
               "--data-dir", str(tmp / "ml"), "--models", str(tmp / "models"), "--train-every", "0", "--debounce", "0.2"]
        self.log = open(tmp / "serve.log", "w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.peak_server_kb = self.peak_children_kb = 0
        self._stop = threading.Event()

    def request(self, method, path, body=None, timeout=120):
        conn = http.client.HTTPConnection(self.url, timeout=timeout)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=HEADERS)
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            conn.close()

    def wait_up(self, timeout=600):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"slant serve exited with {self.proc.returncode}; see its log")
            try:
                if self.request("GET", "/health", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit("slant serve did not come up")

    def sample_memory(self):
        while not self._stop.wait(0.5):
            pids = [self.proc.pid] + _children(self.proc.pid)
            grand = [g for p in pids[1:] for g in _children(p)]
            self.peak_server_kb = max(self.peak_server_kb, sum(_rss_kb(p) for p in pids[:1]))
            self.peak_children_kb = max(self.peak_children_kb, sum(_rss_kb(p) for p in pids[1:] + grand))

    def stop(self):
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _event(i, record):
    names = record.get("labels") or []
    from slant.taxonomy.core import load_taxonomy

    tax = _event.tax = getattr(_event, "tax", None) or load_taxonomy()
    choices = [tax.category(c).name for c in names if c in tax.ids]
    result = [{"from_name": "categories", "to_name": "text", "type": "choices", "value": {"choices": choices}}] if choices else []
    return {"action": "ANNOTATION_CREATED", "project": {"id": 1},
            "annotation": {"id": i, "task": i, "result": result, "was_cancelled": False, "completed_by": 1},
            "task": {"id": i, "data": {"text": record["text"], "doc_id": f"bench-doc-{i % 60}"}}}


class KeepTraining(threading.Thread):
    """Re-triggers a retrain whenever none is running; samples how often one is."""

    def __init__(self, server, records):
        super().__init__(daemon=True)
        self.server, self.records = server, records
        self.next_id, self.samples, self.busy, self.runs = 100_000, 0, 0, 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.5):
            status, health = self.server.request("GET", "/health")
            training = health.get("training", {})
            self.samples += 1
            self.busy += bool(training.get("running"))
            self.runs = training.get("runs", 0)
            if not training.get("running") and not training.get("requested"):
                # A new annotation makes a new version, so each run really trains.
                self.next_id += 1
                self.server.request("POST", "/webhook", _event(self.next_id, random.choice(self.records)))
                self.server.request("POST", "/webhook", {"action": "START_TRAINING", "project": {"id": 1}})


def load(server, path, make_body, clients, duration):
    """`clients` threads, each back to back on one keep-alive connection, for `duration` s."""
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.perf_counter() + duration

    def client(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(server.url, timeout=60)
        mine, bad = [], 0
        while time.perf_counter() < deadline:
            body = make_body(rng)
            began = time.perf_counter()
            try:
                if body is None:
                    conn.request("GET", path, headers=HEADERS)
                else:
                    conn.request("POST", path, body=body, headers=HEADERS)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(server.url, timeout=60)
            mine.append(time.perf_counter() - began)
            bad += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    return {"requests": len(latencies), "errors": errors[0], "rps": len(latencies) / elapsed,
            "p50": pick(0.50), "p99": pick(0.99), "max": latencies[-1] * 1000 if latencies else 0.0}


def bare_cost(texts, size, reps):
    """Median seconds of model.predict + prediction_json for one request of `size` tasks."""
    from slant.model.seed import load_model
    from slant.studio.lsformat import prediction_json
    from slant.taxonomy.core import load_taxonomy

    tax = load_taxonomy()
    model = load_model(None, taxonomy=tax)
    rng = random.Random(1)
    model.predict(rng.sample(texts, size))
    times = []
    for _ in range(reps):
        batch = rng.sample(texts, size)
        began = time.perf_counter()
        preds = model.predict(batch)
        [prediction_json(p, text=t, taxonomy=tax, model_version=model.model_version, key=str(i))
         for i, (p, t) in enumerate(zip(preds, batch))]
        times.append(time.perf_counter() - began)
    times.sort()
    return times[len(times) // 2]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per request size")
    ap.add_argument("--workers", type=int, default=1, help="slant serve --workers")
    ap.add_argument("--model-processes", type=int, default=2, help="slant serve --model-processes (0: a thread)")
    args = ap.parse_args(argv)

    records = _seed_records()
    texts = [r["text"] for r in records]
    targets = {1: 50.0, 100: 400.0}
    print(f"bare model cost (one thread, no HTTP, nothing else running; {len(texts)} seed sentences):", flush=True)
    bare = {size: bare_cost(texts, size, reps) for size, reps in ((1, 200), (100, 20))}
    for size, cost in bare.items():
        print(f"  {size:>3}-task request: {cost * 1000:7.1f} ms", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        server = Server(Path(tmp), args.workers, args.model_processes)
        try:
            server.wait_up()
            threading.Thread(target=server.sample_memory, daemon=True).start()
            for i, r in enumerate(random.Random(0).sample(records, 300)):
                status, _ = server.request("POST", "/webhook", _event(i, r))
                assert status == 201, status
            keeper = KeepTraining(server, records)
            keeper.start()
            deadline = time.monotonic() + 60
            while not server.request("GET", "/health")[1]["training"]["running"]:
                if time.monotonic() > deadline:
                    raise SystemExit("the background retrain did not start; see serve.log")
                time.sleep(0.2)

            stack = load(server, "/health", lambda rng: None, args.clients, min(5.0, args.duration))
            print(f"\nHTTP stack alone (GET /health, {args.clients} clients, 5 s): {stack['rps']:.0f} req/s, "
                  f"p50 {stack['p50']:.1f} ms, p99 {stack['p99']:.1f} ms, errors {stack['errors']}", flush=True)

            rows = {}
            for size in (1, 100):
                def body(rng, size=size):
                    return json.dumps({"tasks": [{"id": j, "data": {"text": t}} for j, t in enumerate(rng.sample(texts, size))]})

                load(server, "/predict", body, args.clients, 2.0)  # warm-up (connections, caches), not counted
                busy0, samples0 = keeper.busy, keeper.samples
                rows[size] = load(server, "/predict", body, args.clients, args.duration)
                rows[size]["training_share"] = (keeper.busy - busy0) / max(1, keeper.samples - samples0)
            keeper.stop.set()
            keeper.join(5)
        finally:
            server.stop()
        print(f"\n/predict, {args.clients} concurrent clients, {args.duration:.0f} s each, "
              f"slant serve --workers {args.workers} --model-processes {args.model_processes}, retraining in the background ({keeper.runs} runs finished):")
        print(f"{'tasks':>5} {'requests':>9} {'errors':>6} {'req/s':>7} {'tasks/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'max ms':>8} {'target':>8} {'p50/bare':>9} {'retraining':>10}")
        for size, r in rows.items():
            ok = "ok" if r["p99"] <= targets[size] and r["errors"] == 0 else "MISSED"
            print(f"{size:>5} {r['requests']:>9} {r['errors']:>6} {r['rps']:>7.1f} {r['rps'] * size:>8.0f} {r['p50']:>8.1f} "
                  f"{r['p99']:>8.1f} {r['max']:>8.1f} {'<=' + str(int(targets[size])):>6} {ok:<2} "
                  f"{r['p50'] / (bare[size] * 1000):>8.1f}x {r['training_share']:>9.0%}")
            floor = args.clients * bare[size] * 1000
            print(f"      closed-loop floor with one model thread: {args.clients} x {bare[size] * 1000:.1f} ms = {floor:.0f} ms")
        children = "training process" + (", worker processes" if args.workers > 1 else "") + (", model processes" if args.model_processes else "")
        print(f"peak memory (RSS): `slant serve` process {server.peak_server_kb / 1024:.0f} MB, its children "
              f"({children}) {server.peak_children_kb / 1024:.0f} MB together")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
