"""`slant analyze --out DIR`: a corpus as a partitioned Parquet dataset, one row per sentence.

The inputs are cut into partitions of about `partition_sentences` sentences (whole
documents, in input order, the same cut on every run). Each partition is analysed by one
call of `analyze_partition` (in this process, a local process pool or a Dask cluster:
`slant.loop.engine`) and written by this process as ``part-NNNNN-DIGEST.parquet`` through
a temporary file and a rename, so a partition is either whole or absent. A rerun skips the
partitions whose file exists: resume after Ctrl-C, a crash or a lost worker, with no
sentence written twice. ``_slant_manifest.json`` lists the partitions of the inputs, the
model and the taxonomy; `open_corpus` reads only what it lists.

Columns (in this order): ``slant_id`` (the key of the Label Studio task,
`slant.studio.lsformat.slant_id`), ``doc_id``, ``sentence_index``, ``start``, ``end``,
``text``, ``kind``, the metadata columns (``title``, ``source`` and every other field of
the documents, as strings; a field named like a column here gets the prefix ``meta_``),
``labels`` (list<string>), ``scores`` (map<string, double>: category id -> probability;
a map, not a struct, so one schema serves any taxonomy), ``spans`` (list of struct
label, start, end, text, score: offsets within the sentence, score = the span's weight),
``uncertainty`` and ``model_version``.

>>> analyze_corpus(["corpus/"], model=model, out="preds/")          # doctest: +SKIP
"""

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from slant._files import atomic_write_text
from slant.errors import InputError
from slant.loop.partition import RESERVED, arrow, meta_column, row_schema
from slant.text.documents import read_raw

__all__ = ["MANIFEST", "CorpusResult", "Partition", "analyze_corpus", "iter_partitions", "open_corpus"]

MANIFEST = "_slant_manifest.json"
FORMAT = "slant-corpus/1"


# --- partitions -------------------------------------------------------------------------

@dataclass
class Partition:
    index: int
    digest: str
    items: list
    sentences: int      # estimated before splitting (`RawDocument.size`)
    documents: int = 0

    @property
    def file(self):
        return f"part-{self.index:05d}-{self.digest[:16]}.parquet"


def iter_partitions(paths, partition_sentences, *, salt=""):
    """`Partition` objects of whole documents, about `partition_sentences` each, in input
    order; the same inputs (and `salt`) give the same partitions and digests."""
    if partition_sentences < 1:
        raise InputError(f"--partition-size {partition_sentences} must be at least 1 sentence")
    for p in _cut(paths, partition_sentences):
        if salt:
            p.digest = hashlib.sha1(f"{salt}\x1f{p.digest}".encode()).hexdigest()
        yield p


def _cut(paths, partition_sentences):
    items, size, h, index = [], 0, hashlib.sha1(), 0
    for item in read_raw(paths):
        items.append(item)
        size += item.size()
        h.update(item.digest().encode())
        if size >= partition_sentences:
            yield Partition(index, h.hexdigest(), items, size, len(items))
            items, size, h, index = [], 0, hashlib.sha1(), index + 1
    if items:
        yield Partition(index, h.hexdigest(), items, size, len(items))


# --- the manifest ---------------------------------------------------------------------

def _read_manifest(out):
    path = Path(out) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: unreadable ({exc}); it is not a slant corpus manifest: use another directory") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path}: not written by `slant analyze --out` (format {data.get('format') if isinstance(data, dict) else '?'!r}); "
                         "use another directory")
    return data


def _check_target(out, header):
    """The partition files already done in `out`, after checking it is ours and of this model."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file; give a directory for the Parquet dataset")
    old = _read_manifest(out) if out.is_dir() else None
    if old is None:
        if out.is_dir() and any(p for p in out.iterdir() if not p.name.startswith(".")):
            raise InputError(f"--out {out}: the directory holds other files and no {MANIFEST}; "
                             "give a new or empty directory for the Parquet dataset")
        return set()
    for key, what in (("model_version", "model"), ("taxonomy", "taxonomy"), ("partition_sentences", "partition size")):
        if old.get(key) != header[key]:
            raise InputError(f"--out {out}: holds a run with another {what} ({old.get(key)!r}, now {header[key]!r}); "
                             "give a new directory, or delete this one to start over")
    return {p.name for p in out.glob("part-*.parquet")}


def _write_manifest(out, data):
    atomic_write_text(Path(out) / MANIFEST, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


@dataclass
class CorpusResult:
    out: str
    partitions: int = 0
    written: int = 0            # partitions analysed in this run
    skipped: int = 0            # partitions already done by an earlier run
    removed: int = 0            # stale partition files of earlier inputs
    documents: int = 0
    sentences: int = 0
    labelled: int = 0
    new_sentences: int = 0      # sentences analysed in this run
    seconds: float = 0.0
    engine: str = ""
    written_files: list = field(default_factory=list)

    def summary(self):
        rate = self.new_sentences / self.seconds if self.seconds > 0 else 0.0
        return (f"wrote {self.out}: {self.sentences:,} sentences from {self.documents:,} documents in {self.partitions} "
                f"partitions ({self.written} analysed now, {self.skipped} already done"
                + (f", {self.removed} stale removed" if self.removed else "")
                + f"), {self.labelled:,} with a category; {self.new_sentences:,} sentences in {self.seconds:,.1f} s "
                f"({rate:,.0f} sentences/s, {self.engine})")


def _finish(out, header, plan, result):
    """Totals from the written files' footers; stale files removed; the manifest completed."""
    import pyarrow.parquet as pq

    out = Path(out)
    wanted = {p["file"] for p in plan}
    for stale in out.glob("part-*.parquet"):
        if stale.name not in wanted:
            stale.unlink()
            result.removed += 1
    meta_columns = set()
    for p in plan:
        md = pq.read_metadata(out / p["file"])
        p["rows"] = md.num_rows
        meta_columns.update(n for n in md.schema.to_arrow_schema().names if n not in RESERVED)
        result.sentences += md.num_rows
    labelled = pq.read_table([str(out / p["file"]) for p in plan], columns=["labels"]) if plan else None
    if labelled is not None:
        import pyarrow.compute as pc

        result.labelled = int(pc.sum(pc.greater(pc.list_value_length(labelled.column("labels")), 0)).as_py() or 0)
    _write_manifest(out, {**header, "complete": True, "rows": result.sentences, "documents": result.documents,
                          "meta_columns": sorted(meta_columns), "partitions": plan})


def analyze_corpus(paths, *, model, out, scheduler=None, jobs=1, partition_sentences=5000, batch_size=2000,
                   progress=None):
    """Analyse `paths` (files, directories, globs) into the Parquet dataset `out`.

    `scheduler` is a Dask scheduler address (tcp://host:8786) or None for this machine
    (`jobs` processes). `progress(done_sentences, total_estimate, result)` is called after
    each partition is written. Returns a `CorpusResult`.
    """
    from slant.loop.engine import run_partitions

    arrow()
    began = time.perf_counter()
    out = Path(out)
    header = {"format": FORMAT, "model_version": str(model.model_version),
              "taxonomy": {"id": model.taxonomy.id, "version": model.taxonomy.version},
              "partition_sentences": int(partition_sentences), "inputs": [str(p) for p in paths]}
    done = _check_target(out, header)
    parts, fields = [], {"title", "source"}
    for p in iter_partitions(paths, partition_sentences):
        parts.append(p)
        fields.update(meta_column(f) for item in p.items for f in item.fields())
        p.items = None  # read again when the partition is analysed: memory stays flat
    # Every partition gets every metadata column, so any Parquet reader sees one schema; the
    # columns are part of each partition's key, so new columns mean new partition files.
    meta_columns = sorted(fields)
    salt = json.dumps(meta_columns)
    plan = []
    for p in parts:
        p.digest = hashlib.sha1(f"{salt}\x1f{p.digest}".encode()).hexdigest()
        plan.append({"index": p.index, "digest": p.digest, "file": p.file, "documents": p.documents,
                     "estimate": p.sentences})
    del parts
    if not plan:
        raise InputError("no documents in the inputs; pass .txt, .md, .html, .jsonl(.gz), .csv or .parquet files")
    out.mkdir(parents=True, exist_ok=True)
    _write_manifest(out, {**header, "complete": False, "partitions": plan})
    result = CorpusResult(out=str(out), partitions=len(plan), documents=sum(p["documents"] for p in plan))
    total = sum(p["estimate"] for p in plan)
    todo_files = {p["file"] for p in plan if p["file"] not in done}
    result.skipped = len(plan) - len(todo_files)
    finished = [sum(p["estimate"] for p in plan if p["file"] not in todo_files)]

    def write(part, table):
        import pyarrow.parquet as pq

        tmp = out / f".{part.file}.{os.getpid()}.tmp"
        try:
            pq.write_table(table, tmp, compression="zstd")
            os.replace(tmp, out / part.file)
        finally:
            tmp.unlink(missing_ok=True)
        result.written += 1
        result.new_sentences += table.num_rows
        result.written_files.append(part.file)
        finished[0] += part.sentences
        if progress:
            progress(finished[0], total, result)

    todo = (p for p in iter_partitions(paths, partition_sentences, salt=salt) if p.file in todo_files)
    jobs = jobs if not isinstance(jobs, int) or jobs < 1 else min(jobs, max(1, len(todo_files)))  # no idle workers
    result.engine = run_partitions(todo, model, write, scheduler=scheduler, jobs=jobs, batch_size=batch_size,
                                   meta_columns=meta_columns)
    result.seconds = time.perf_counter() - began
    _finish(out, header, plan, result)
    return result


# --- reading --------------------------------------------------------------------------

def open_corpus(directory):
    """``(pyarrow.dataset.Dataset, manifest)`` of a finished `slant analyze --out` directory;
    `InputError` naming the problem when it is not one, or not finished."""
    arrow()
    import pyarrow.dataset as ds

    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"--from {directory}: {'is a file' if directory.exists() else 'no such directory'}; "
                         "pass the directory written by `slant analyze FILES --out DIR`")
    manifest = _read_manifest(directory)
    if manifest is None:
        raise InputError(f"--from {directory}: no {MANIFEST}, so not a dataset written by `slant analyze --out`; "
                         "run `slant analyze FILES --out DIR` first")
    if not manifest.get("complete"):
        raise InputError(f"--from {directory}: the analysis did not finish; rerun the same `slant analyze ... --out "
                         f"{directory}` to complete it (finished partitions are kept)")
    files = [directory / p["file"] for p in manifest["partitions"]]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise InputError(f"--from {directory}: {len(missing)} partition files are missing ({missing[0]}, ...); "
                         "rerun `slant analyze` with the same inputs and --out to write them again")
    pa = arrow()
    schema = row_schema(pa, manifest.get("meta_columns", []))
    return ds.dataset([str(f) for f in files], schema=schema, format="parquet"), manifest
