"""Import the Propaganda Techniques Corpus (SemEval-2020 task 11) into reviewed JSONL,
one record per line of an article (`import_ptc`)."""

import time
from collections import defaultdict
from pathlib import Path

from slant.errors import DataError, InputError
from slant.records.common import ImportSummary, clip_span, corpus_map, finish_import, make_record, read_exact

__all__ = ["import_ptc"]


def _find_ptc(root):
    """(articles dir, [label files]) for a PTC corpus root or its parts; lenient names."""
    root = Path(root)
    if not root.exists():
        raise InputError(f"{root}: no such directory; pass the PTC corpus folder (with train-articles/)")
    if not root.is_dir():
        raise InputError(f"{root}: not a directory; pass the PTC corpus folder (with train-articles/)")
    subdirs = [d for d in sorted(root.iterdir()) if d.is_dir()]
    articles = next((d for d in subdirs if d.name.endswith("articles")), None)
    if articles is None and any(root.glob("article*.txt")):
        articles = root
    if articles is None:
        raise InputError(f"{root}: no *-articles folder and no article<ID>.txt files; "
                         "pass the corpus root that holds train-articles/")
    label_dir = next((d for d in subdirs if "flc-tc" in d.name or d.name.endswith("labels-task-tc")), None)
    if label_dir is not None:
        files = sorted(label_dir.glob("*.labels"))
    else:
        files = sorted(f for f in root.glob("*.labels") if "task-si" not in f.name) or \
            sorted(articles.glob("*.labels"))
    if not files:
        raise InputError(f"{root}: no technique label files; expected a *-labels-task-flc-tc/ folder "
                         "or a *task-flc-tc.labels file beside the articles")
    return articles, files


def _read_ptc_labels(files):
    spans = defaultdict(list)
    for f in files:
        with f.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                parts = line.rstrip("\r\n").split("\t")
                if len(parts) != 4:
                    raise DataError(f"{f}:{lineno}: expected 4 tab-separated fields (article_id, technique, "
                                    f"start, end), found {len(parts)}; check the file is tab-separated")
                art, technique, start, end = parts
                try:
                    start, end = int(start), int(end)
                except ValueError:
                    raise DataError(f"{f}:{lineno}: start and end must be integers, got {parts[2]!r}, {parts[3]!r}") from None
                if not 0 <= start < end:
                    raise DataError(f"{f}:{lineno}: empty or reversed span {start}-{end}; start must be below end")
                spans[art.strip()].append((technique.strip(), start, end))
    return spans


def import_ptc(root, *, taxonomy, out):
    """Import the Propaganda Techniques Corpus into reviewed JSONL at `out`.

    Each non-empty line of an article is a sentence (line 1 is the title). A sentence
    gets the categories mapped (``mappings.ptc``) from every technique span overlapping
    it; spans are clipped to the sentence. Returns an `ImportSummary`.
    """
    t0 = time.perf_counter()
    articles, label_files = _find_ptc(root)
    spans_by_article = _read_ptc_labels(label_files)
    mapping = corpus_map(taxonomy, "ptc")
    summary = ImportSummary("ptc", str(out))
    paths = sorted(articles.glob("article*.txt"))
    if not paths:
        raise InputError(f"{articles}: no article<ID>.txt files; check the folder")
    known = {p.stem[len("article"):] for p in paths}
    stray = sorted(set(spans_by_article) - known)
    if stray:
        summary.notes.append(f"{len(stray)} label article ids have no article file (e.g. {stray[0]}); skipped")

    def records():
        for path in paths:
            text = read_exact(path)
            doc_id = path.stem
            art_spans = spans_by_article.get(doc_id[len("article"):], [])
            for _, start, end in art_spans:
                if end > len(text):
                    raise DataError(f"{path.name}: span {start}-{end} runs past the end of the article "
                                    f"({len(text)} characters); the labels belong to another version of the text")
            summary.documents += 1
            summary.unmapped.update(t for t, _, _ in art_spans if not mapping.get(t))
            title, index, pos = None, 0, 0
            for line in text.split("\n"):
                s_start = pos + len(line) - len(line.lstrip())
                sentence = line.strip()
                s_end = s_start + len(sentence)
                pos += len(line) + 1
                if not sentence:
                    continue
                title = title if title is not None else sentence
                labels, spans = set(), []
                for technique, start, end in art_spans:
                    if start >= s_end or end <= s_start:
                        continue
                    ids = mapping.get(technique)
                    for label in ids or [f"ptc:{technique}"]:
                        span = {**clip_span(start, end, s_start, s_end, sentence), "label": label}
                        if span not in spans and span["text"].strip():
                            spans.append(span)
                    labels.update(ids or [])
                summary.labels.update(labels)
                summary.spans += len(spans)
                yield make_record(
                    rid=f"{doc_id}-{index}", doc_id=doc_id, text=sentence, labels=labels, spans=spans,
                    source=path.name, taxonomy=taxonomy, sentence_index=index, start=s_start, end=s_end,
                    data={"doc_title": title, "corpus": "ptc", "kind": "title" if index == 0 else "body"},
                )
                index += 1

    return finish_import(summary, out, records(), t0)
