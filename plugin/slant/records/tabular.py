"""Import any CSV/TSV with a text column and a label column into reviewed JSONL
(`import_csv`); `parse_mapping` reads the ``--map VALUE=category_id`` option."""

import csv
import re
import time
from collections import Counter
from pathlib import Path

from slant.errors import DataError, InputError
from slant.records.common import ImportSummary, finish_import, make_record, read_exact

__all__ = ["import_csv", "parse_mapping"]


_LABEL_SEP = re.compile(r"[|;]")


def parse_mapping(spec, *, taxonomy):
    """``"SUBJ=epistemic_framing,OBJ="`` -> {"SUBJ": ["epistemic_framing"], "OBJ": []}.

    An empty target means "no label"; several targets are joined with "+".
    """
    if isinstance(spec, dict):
        items = spec.items()
    else:
        items = []
        for pair in filter(None, (p.strip() for p in (spec or "").split(","))):
            if "=" not in pair:
                raise DataError(f"--map {pair!r}: expected VALUE=category_id (empty target for no label), e.g. 'OBJ='")
            k, _, v = pair.partition("=")
            items.append((k.strip(), v.strip()))
    mapping = {}
    for k, v in items:
        targets = v if isinstance(v, list) else [t for t in re.split(r"[+]", v or "") if t.strip()]
        for t in targets:
            if t not in taxonomy.ids:
                raise DataError(f"--map {k}={t}: {t!r} is not a category of taxonomy {taxonomy.id} {taxonomy.version}; "
                                f"known ids: {', '.join(taxonomy.ids)}")
        mapping[k] = list(targets)
    return mapping


def import_csv(path, *, text_col, label_col, taxonomy, out, mapping=None, sep=None,
               quoting=None, id_col=None, doc_col=None):
    """Import a CSV/TSV of labeled sentences into reviewed JSONL.

    `sep` defaults to a tab for .tsv/.tab and is sniffed otherwise. `quoting` ("none" or
    "minimal") defaults to "none" for tab-separated files, whose sentences often hold
    quote marks, and "minimal" for CSV. A label cell may hold several values separated
    by "|" or ";". Values map through `mapping` (see `parse_mapping`) or must be
    taxonomy ids or display names. Without `id_col` the id is <file stem>-<row>; without
    `doc_col` each row is its own document.
    """
    t0 = time.perf_counter()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {'is a directory' if path.is_dir() else 'no such file'}; pass the CSV/TSV file")
    text = read_exact(path)
    if not text.strip():
        raise InputError(f"{path}: the file is empty; it needs a header row and labeled rows")
    if sep is None:
        if path.suffix.lower() in (".tsv", ".tab"):
            sep = "\t"
        else:
            try:
                sep = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
            except csv.Error:
                sep = ","
    if quoting is None:
        quoting = "none" if sep == "\t" else "minimal"
    if quoting not in ("none", "minimal"):
        raise DataError(f"quoting {quoting!r}: use 'none' or 'minimal'")
    reader = csv.reader(text.splitlines(), delimiter=sep,
                        quoting=csv.QUOTE_NONE if quoting == "none" else csv.QUOTE_MINIMAL)
    header = next(reader)
    for col, what in ((text_col, "--text-col"), (label_col, "--label-col"), (id_col, "--id-col"), (doc_col, "--doc-col")):
        if col is not None and col not in header:
            raise DataError(f"{path}: no column {col!r} for {what}; columns are {', '.join(map(repr, header))}")
    mapping = parse_mapping(mapping, taxonomy=taxonomy) if mapping else {}
    idx = {c: header.index(c) for c in header}
    rows, unknown, seen = [], Counter(), {}
    for lineno, row in enumerate(reader, 2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            hint = " (a quote mark inside a cell? try quoting='none', --quoting none)" if quoting == "minimal" else \
                " (a separator inside a sentence? try quoting='minimal', --quoting minimal)"
            raise DataError(f"{path}:{lineno}: {len(row)} fields, the header has {len(header)}{hint}")
        sentence = row[idx[text_col]].strip()
        if not sentence:
            raise DataError(f"{path}:{lineno}: empty {text_col!r}; remove the row or fill in the sentence")
        labels = set()
        for value in filter(None, (v.strip() for v in _LABEL_SEP.split(row[idx[label_col]]))):
            if value in mapping:
                labels.update(mapping[value])
            elif taxonomy.id_for_name(value):
                labels.add(taxonomy.id_for_name(value))
            else:
                unknown[value] += 1
        rid = row[idx[id_col]].strip() if id_col else f"{path.stem}-{lineno - 1}"
        if rid in seen:
            raise DataError(f"{path}:{lineno}: duplicate id {rid!r} (first on line {seen[rid]}); pick another --id-col")
        seen[rid] = lineno
        extra = {k: row[i] for k, i in idx.items() if k not in (text_col, label_col, id_col, doc_col)}
        extra["corpus"] = "csv"
        extra["label_values"] = row[idx[label_col]]
        rows.append((rid, row[idx[doc_col]].strip() if doc_col else rid, sentence, labels, extra))
    if unknown:
        values = ", ".join(f"{k!r} ({v})" for k, v in unknown.most_common())
        example = ",".join(f"{k}=" for k, _ in unknown.most_common(3))
        raise DataError(f"{path}: label values the taxonomy does not know: {values}; map them with "
                        f"--map \"{example}\" (VALUE=category_id, empty for no label)")
    summary = ImportSummary("csv", str(out))
    summary.documents = len({r[1] for r in rows})

    def records():
        for rid, doc_id, sentence, labels, extra in rows:
            summary.labels.update(labels)
            yield make_record(rid=rid, doc_id=doc_id, text=sentence, labels=labels, spans=[],
                          source=path.name, taxonomy=taxonomy, data=extra)

    return finish_import(summary, out, records(), t0)
