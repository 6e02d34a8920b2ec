"""Benchmark: `slant push` against a raw import (the floor) and a naive per-task push.

    .venv/bin/python benchmarks/bench_push.py                     # starts its own Label Studio
    .venv/bin/python benchmarks/bench_push.py --url http://localhost:8080 --api-key TOKEN
    .venv/bin/python benchmarks/bench_push.py --sentences 2000 --naive 200   # quicker

Synthetic news-like documents (50 sentences each, generated here) are pre-labelled by the
default model once; the pushes replay those predictions so that the ratios measure the
push itself (splitting, hashing, reading existing ids, batching, HTTP) rather than the
model. One extra push runs the model inside (end to end), for information. In the same
run, against the same server:

- floor: the same task JSON (data + predictions) in ONE raw POST to /api/projects/{id}/import;
  floor and push run twice each, interleaved (floor, push, push, floor) on fresh projects,
  and their means are compared;
- naive: one POST per task, on `--naive` tasks;
- re-push: the same documents again (all duplicates), with and without the local ledger.

Targets: push <= 1.3 x floor; push >= 20 x faster per task than naive; re-push <= 15% of
the first push. Exits 1 when a target is missed.
"""

import argparse
import json
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import httpx

from slant.loop.prelabel import tasks_with_predictions
from slant.loop.push import push
from slant.model.seed import load_model
from slant.studio.client import connect
from slant.studio.lsformat import task_data
from slant.studio.server import start_studio
from slant.taxonomy.core import load_taxonomy
from slant.text.documents import read_documents

SUBJECTS = ["The council", "The ministry", "Port officials", "The union", "Regulators", "The mayor's office",
            "Local traders", "The commission", "Health inspectors", "The school board", "Residents", "The utility"]
VERBS = ["approved", "delayed", "questioned", "defended", "slashed", "reviewed", "rejected", "announced",
         "criticised", "expanded", "postponed", "funded"]
OBJECTS = ["the harbour budget", "a plan to widen the bridge", "new parking fees", "the audit of the tunnel",
           "a scheme to sell the depot", "the tram extension", "cuts to library hours", "the water contract"]
TAILS = ["on Tuesday", "after a long debate", "critics say", "according to a spokesperson", "by 5 votes to 4",
         "despite warnings from experts", "in a closed session", "for the third time this year",
         "officials said", "which opponents called a disaster", "with little notice", "at a cost of $4.2 million"]


def make_corpus(path, n_sentences, per_doc=50, seed=0):
    """Write `n_sentences` synthetic sentences as .jsonl documents; every sentence unique."""
    rng = random.Random(seed)
    n_docs = (n_sentences + per_doc - 1) // per_doc
    with open(path, "w", encoding="utf-8") as fh:
        left = n_sentences
        for d in range(n_docs):
            k = min(per_doc, left)
            left -= k
            paragraphs, para = [], []
            for i in range(k):
                s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)} (item {d}-{i})."
                para.append(s)
                if len(para) == 5:
                    paragraphs.append(" ".join(para))
                    para = []
            if para:
                paragraphs.append(" ".join(para))
            fh.write(json.dumps({"id": f"doc{d}", "text": "\n\n".join(paragraphs)}) + "\n")


class Replay:
    """The default model's predictions, computed once, served by text."""

    def __init__(self, model, texts):
        self.model_version = model.model_version
        self._by_text = dict(zip(texts, model.predict(texts)))

    def predict(self, texts):
        return [self._by_text[t] for t in texts]


def timed(fn):
    began = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - began


def raw_headers(api_key):
    return {"Authorization": f"Token {api_key}", "Content-Type": "application/json"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=int, default=10_000)
    ap.add_argument("--naive", type=int, default=500, help="tasks for the one-request-per-task baseline")
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--url")
    ap.add_argument("--api-key", help="a legacy token (the raw requests send 'Token <key>')")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-push-"))
    server = None
    if args.url:
        url, key = args.url.rstrip("/"), args.api_key
    else:
        server, t = timed(lambda: start_studio(data_dir=work / "studio", port=18200))
        url, key = server.url, server.api_key
        print(f"Label Studio started at {url} in {t:.0f} s")
    try:
        return run(args, url, key, work)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def run(args, url, key, work):
    tax = load_taxonomy()
    corpus = work / "corpus.jsonl"
    make_corpus(corpus, args.sentences)
    docs = list(read_documents([corpus]))
    datas = [d for doc in docs for d in task_data(doc, taxonomy=tax)]
    texts = [d["text"] for d in datas]
    model = load_model(None, taxonomy=tax)
    replay, t_model = timed(lambda: Replay(model, texts))
    print(f"corpus: {len(docs)} documents, {len(datas)} sentences; model {model.model_version} "
          f"predicted them in {t_model:.1f} s ({len(datas) / t_model:,.0f} sentences/s)")
    studio = connect(url, key)
    stamp = time.strftime("%H%M%S")
    http = httpx.Client(base_url=url, headers=raw_headers(key), timeout=1800)

    def new_project(title):
        from slant.studio.projects import project_config
        r = http.post("/api/projects/", json={"title": f"{title} {stamp}", "label_config": project_config(tax)})
        r.raise_for_status()
        return r.json()["id"]

    # Floor (the exact task JSON slant sends, in one raw request) and slant push, with the
    # predictions replayed: each twice, interleaved floor, push, push, floor, on fresh
    # projects, so the database's growth and any change of machine load hit both alike.
    tasks = tasks_with_predictions(datas, model=replay, taxonomy=tax)
    body = json.dumps(tasks).encode()
    floor_times, push_times, pushed = [], [], []
    for k, kind in enumerate(("floor", "push", "push", "floor")):
        if kind == "floor":
            pid = new_project(f"bench floor {k}")
            r, t = timed(lambda b=body, p=pid: http.post(f"/api/projects/{p}/import", content=b))
            r.raise_for_status()
            assert r.json()["task_count"] == len(tasks), r.text[:300]
            floor_times.append(t)
        else:
            title = f"bench push {k} {stamp}"
            result, t = timed(lambda ti=title, c=work / f"cache{k}": push(studio, [corpus], project=ti, taxonomy=tax,
                                                                         model=replay, batch_size=args.batch_size,
                                                                         cache_dir=c))
            assert result.new_tasks == len(datas), result.summary()
            push_times.append(t)
            pushed.append((title, work / f"cache{k}"))
    del tasks, body
    t_floor, t_push = sum(floor_times) / 2, sum(push_times) / 2
    print(f"floor runs {', '.join(f'{t:.1f}' for t in floor_times)} s; push runs {', '.join(f'{t:.1f}' for t in push_times)} s")
    title, cache = pushed[0]
    again, t_repush = timed(lambda: push(studio, [corpus], project=title, taxonomy=tax, model=replay, cache_dir=cache))
    assert again.new_tasks == 0 and again.duplicates == len(datas)
    cold, t_cold = timed(lambda: push(studio, [corpus], project=title, taxonomy=tax, model=replay, cache_dir=work / "cold"))
    assert cold.new_tasks == 0

    # End to end, the model running inside the push.
    e2e, t_e2e = timed(lambda: push(studio, [corpus], project=f"bench e2e {stamp}", taxonomy=tax, model=model,
                                    batch_size=args.batch_size, cache_dir=cache))
    assert e2e.new_tasks == len(datas)

    # Naive: one request per task.
    naive_tasks = tasks_with_predictions(datas[: args.naive], model=replay, taxonomy=tax)
    pid = new_project("bench naive")

    def naive():
        for task in naive_tasks:
            http.post(f"/api/projects/{pid}/import", json=[task]).raise_for_status()

    _, t_naive = timed(naive)

    # Peak Python memory of a push (separate run: tracing slows it down).
    tracemalloc.start()
    push(studio, [corpus], project=f"bench memory {stamp}", taxonomy=tax, model=replay, batch_size=args.batch_size)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    n = len(datas)
    per_push, per_naive = t_push / n, t_naive / len(naive_tasks)
    rows = [
        ("floor: one raw POST of all tasks (mean of 2)", t_floor, n / t_floor),
        (f"slant push, batches of {args.batch_size} (mean of 2)", t_push, n / t_push),
        ("slant push, model inside (end to end)", t_e2e, n / t_e2e),
        ("re-push, all duplicates (ledger)", t_repush, n / t_repush),
        ("re-push, all duplicates (ids read from server)", t_cold, n / t_cold),
        (f"naive: one POST per task ({len(naive_tasks)} tasks)", t_naive, len(naive_tasks) / t_naive),
    ]
    print(f"\n{'':52} {'seconds':>8} {'tasks/s':>9}")
    for name, secs, rate in rows:
        print(f"{name:52} {secs:8.2f} {rate:9,.0f}")
    ratio_floor, speedup, repush = t_push / t_floor, per_naive / per_push, t_repush / t_push
    print(f"\npush / floor            {ratio_floor:6.2f}   (target <= 1.30)")
    print(f"naive / push per task   {speedup:6.1f}x  (target >= 20)")
    print(f"re-push / push          {repush:6.1%}   (target <= 15%; without ledger {t_cold / t_push:.1%})")
    print(f"end to end / floor      {t_e2e / t_floor:6.2f}   (model time {t_model:.1f} s, overlapped with imports)")
    print(f"peak traced memory of a push: {peak:.0f} MiB; process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    ok = ratio_floor <= 1.3 and speedup >= 20 and repush <= 0.15
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
