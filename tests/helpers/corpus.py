"""A small news corpus with metadata, made from the project's seed sentences (labels/seed):
documents of three outlets for the corpus-scale tests (`slant analyze --out`, `push --from`;
their `corpus` and `analysed` fixtures are in tests/loop/conftest.py)."""

import json
import random

OUTLETS = ("Harbor Herald", "Valley Voice", "Coast Courier")


def corpus_documents(n_docs=30, per_doc=12, seed=0):
    """``[{"id", "title", "text", "outlet", "date", "url", "lean"}]``: a title line and
    `per_doc` seed sentences per document."""
    from slant.model.seed import read_seed

    recs, _ = read_seed()
    texts = [r["text"] for r in recs]
    rng = random.Random(seed)
    docs = []
    for i in range(n_docs):
        body = " ".join(rng.choice(texts) for _ in range(per_doc))
        docs.append({"id": f"doc-{seed}-{i}", "title": f"Council report {i}", "text": f"Council report {i}\n\n{body}",
                     "outlet": OUTLETS[i % len(OUTLETS)], "date": f"2024-{1 + i % 12:02d}-15",
                     "url": f"https://news.example/{seed}/{i}", "lean": (i % 5) - 2})
    return docs


def write_corpus(path, n_docs=30, per_doc=12, seed=0):
    """The corpus as JSONL at `path` (returned)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d) + "\n" for d in corpus_documents(n_docs, per_doc, seed)), encoding="utf-8")
    return path


def dataset_rows(out):
    """Every row of the dataset `slant analyze --out` wrote to `out`, as dicts, by slant id."""
    from slant.loop.corpus import open_corpus

    return sorted(open_corpus(out)[0].to_table().to_pylist(), key=lambda r: r["slant_id"])
