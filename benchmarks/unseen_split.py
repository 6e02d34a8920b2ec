"""Split an imported JSONL corpus into a dev half and a test half, by document.

A document is "dev" when int(sha256(doc_id).hexdigest(), 16) % 2 == 0, else "test", so
the split is fixed, needs no seed and keeps every document whole. Choose variants of
the default model on the dev half only; the test half is reported once, at the end.

    python benchmarks/unseen_split.py /tmp/slant-data/ptc.jsonl
    # -> /tmp/slant-data/ptc.dev.jsonl and /tmp/slant-data/ptc.test.jsonl
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path


def half(doc_id):
    """'dev' or 'test' for a document id."""
    return "dev" if int(hashlib.sha256(str(doc_id).encode("utf-8")).hexdigest(), 16) % 2 == 0 else "test"


def split(path, out_dir=None):
    """Write PATH's lines to <stem>.dev.jsonl and <stem>.test.jsonl; return the counts."""
    path = Path(path)
    out_dir = Path(out_dir) if out_dir is not None else path.parent
    stem = path.name[: -len(".jsonl")] if path.name.endswith(".jsonl") else path.stem
    lines = {"dev": [], "test": []}
    docs = {"dev": set(), "test": set()}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"error: {path} line {n}: not valid JSON ({exc.msg}); re-run the import") from None
        if "doc_id" not in rec:
            raise SystemExit(f"error: {path} line {n}: no doc_id; split needs documents, re-run the import")
        h = half(rec["doc_id"])
        lines[h].append(line)
        docs[h].add(rec["doc_id"])
    counts = {}
    for h in ("dev", "test"):
        (out_dir / f"{stem}.{h}.jsonl").write_text("".join(f"{line}\n" for line in lines[h]), encoding="utf-8")
        counts[h] = {"sentences": len(lines[h]), "documents": len(docs[h])}
    return counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("jsonl", nargs="+", help="imported corpus files (slant import ... --out FILE)")
    ap.add_argument("--out-dir", help="where to write the halves (default: beside each input)")
    args = ap.parse_args(argv)
    for p in args.jsonl:
        if not Path(p).is_file():
            raise SystemExit(f"error: {p}: no such file; import the corpus first (slant import ...)")
        print(json.dumps({"file": p, **split(p, args.out_dir)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
