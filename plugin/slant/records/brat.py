"""Import brat standoff attribution relations (PolNeAR layout or flat) into reviewed JSONL:
a sentence with an attribution cue is labeled named or vague by `source_is_named` (`import_brat`)."""

import bisect
import csv
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

from slant.errors import DataError, InputError
from slant.records.common import ImportSummary, clip_span, corpus_map, finish_import, make_record, ordered_labels, read_exact
from slant.records.sources import RELATIVES, antecedent_phrase, source_is_named
from slant.text.segment import split_sentences

__all__ = ["import_brat"]

_ANN_LINE = re.compile(r"([TERAMN#*]\d*)\t")
_FRAGMENT = re.compile(r"(\d+) (\d+)")


def _parse_ann(path):
    """{T id: (type, [(start, end)], text)} and [relation role dicts] from a brat file.

    The text column of a T line may run over several lines; lines that do not start
    with an annotation id continue the previous one.
    """
    entities, relations, last = {}, [], None
    text = read_exact(path)
    for lineno, line in enumerate(text.split("\n"), 1):
        m = _ANN_LINE.match(line)
        if not m:
            if last is not None and last in entities:
                kind, frags, txt = entities[last]
                entities[last] = (kind, frags, txt + "\n" + line)
            elif line.strip():
                raise DataError(f"{path}:{lineno}: not a brat annotation line ({line[:40]!r}); "
                                "expected T<n>, E<n>, R<n>, A<n> or #<n> followed by a tab")
            continue
        ident = m.group(1)
        fields = line.split("\t")
        last = None
        if ident.startswith("T"):
            if len(fields) < 2 or " " not in fields[1]:
                raise DataError(f"{path}:{lineno}: {ident} needs '<type> <start> <end>'; found {line[:60]!r}")
            kind, _, offsets = fields[1].partition(" ")
            frags = [(int(a), int(b)) for a, b in _FRAGMENT.findall(offsets)]
            if not frags or any(a > b for a, b in frags):
                raise DataError(f"{path}:{lineno}: {ident} has bad offsets {offsets!r}; use '<start> <end>[;<start> <end>]'")
            entities[ident] = (kind, frags, "\t".join(fields[2:]))
            last = ident
        elif ident.startswith("E"):
            roles = {}
            for item in (fields[1] if len(fields) > 1 else "").split():
                role, _, ref = item.partition(":")
                roles.setdefault(re.sub(r"\d+$", "", role), []).append(ref)
            relations.append(roles)
    return entities, relations


def _find_brat(root):
    """[(text path, [(annotator, ann path), ...])] for text/ + attributions/ or a flat folder."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: no such directory; pass the folder with text/ and attributions/ (or .txt beside .ann)")
    text_dir = root / "text" if (root / "text").is_dir() else root
    ann_dir = next((root / d for d in ("attributions", "ann", "annotations") if (root / d).is_dir()), text_dir)
    texts = {p.stem: p for p in sorted(text_dir.glob("*.txt"))}
    if not texts:
        raise InputError(f"{text_dir}: no .txt files; pass the folder with text/ and attributions/")
    anns, orphans = defaultdict(list), []
    for ann in sorted(ann_dir.glob("*.ann")):
        if ann.stem in texts:
            anns[ann.stem].append(("annotator", ann))
        elif "_" in ann.stem and ann.stem.rsplit("_", 1)[0] in texts:
            name, annotator = ann.stem.rsplit("_", 1)
            anns[name].append((annotator, ann))
        else:
            orphans.append(ann.name)
    if not anns:
        raise InputError(f"{ann_dir}: no .ann files matching the texts; name them <text name>.ann or <text name>_<annotator>.ann")
    return [(texts[k], anns[k]) for k in texts if k in anns], orphans, len(texts)


def _read_metadata(root):
    meta = {}
    path = Path(root) / "metadata.tsv"
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                if row.get("filename"):
                    meta[row["filename"]] = {k: row.get(k) for k in ("publisher", "publication_date", "compartment") if row.get(k)}
    return meta


def _brat_labels(text, sentences, ann_path, mapping, lower_words, stats):
    """{sentence index: (set of ids, [spans])} for one annotator's relations."""
    entities, relations = _parse_ann(ann_path)
    starts = [s.start for s in sentences]
    out = defaultdict(lambda: (set(), []))

    def sentences_of(frags):
        idx = set()
        for a, b in frags:
            i = bisect.bisect_right(starts, a) - 1
            while 0 <= i < len(sentences) and sentences[i].start < max(b, a + 1):
                if sentences[i].end > a:
                    idx.add(i)
                i += 1
        return sorted(idx)

    for roles in relations:
        trigger = (roles.get("Attribution") or roles.get("Attribution-no-source") or [None])[0]
        cue_ids = roles.get("Cue") or ([trigger] if trigger else [])
        cue = [f for t in cue_ids if t in entities for f in entities[t][1]]
        if not cue:
            stats["relations without cue"] += 1
            continue
        src = [f for t in roles.get("Source", []) if t in entities for f in entities[t][1]]
        src_text = " ".join(text[a:b] for a, b in src)
        first = sentences_of(cue[:1])
        s0 = sentences[first[0]] if first else None
        initial = bool(src) and s0 is not None and text[s0.start:src[0][0]].strip(" \"'“‘(") == ""
        antecedent = antecedent_phrase(text, src[0][0]) if src and src_text.strip().lower() in RELATIVES else None
        kind = "named" if source_is_named(src_text, sentence_initial=initial, lower_words=lower_words, antecedent=antecedent) else "vague"
        stats[kind] += 1
        ids = mapping.get(kind)
        if not ids:
            stats[f"unmapped:{kind}"] += 1
            continue
        for i in sentences_of(cue):
            s = sentences[i]
            labels, spans = out[i]
            labels.update(ids)
            for a, b in src + cue:
                if a < s.end and b > s.start:
                    for label in ids:
                        span = {**clip_span(a, b, s.start, s.end, s.text), "label": label}
                        if span not in spans:
                            spans.append(span)
    return out


def import_brat(root, *, taxonomy, out):
    """Import brat attribution annotations (PolNeAR layout or flat) into reviewed JSONL.

    A sentence holding an attribution Cue gets ``mappings.polnear`` "named" or "vague"
    (attribution_named / attribution_vague in the default taxonomy) from
    `source_is_named`; Source and Cue spans within the sentence are kept. With several
    annotators of one text, the first (by name) gives `labels` and every annotator's
    labels go into `annotations`.
    """
    t0 = time.perf_counter()
    pairs, orphans, n_texts = _find_brat(root)
    mapping = corpus_map(taxonomy, "polnear")
    meta = _read_metadata(root)
    summary = ImportSummary("brat", str(out))
    stats = Counter()
    if orphans:
        summary.notes.append(f"{len(orphans)} .ann files match no text (e.g. {orphans[0]}); skipped")
    if n_texts > len(pairs):
        summary.notes.append(f"{n_texts - len(pairs)} texts have no .ann file; skipped")

    def records():
        for text_path, anns in pairs:
            text = read_exact(text_path)
            sentences = split_sentences(text)
            lower_words = frozenset(re.findall(r"\b[a-z][a-z'’-]+\b", text))
            per_annotator = [(name, _brat_labels(text, sentences, p, mapping, lower_words, stats)) for name, p in anns]
            summary.documents += 1
            title = sentences[0].text if sentences else None
            for s in sentences:
                labels, spans = per_annotator[0][1].get(s.index, (set(), []))
                annotations = []
                for name, got in per_annotator:
                    ann_labels, ann_spans = got.get(s.index, (set(), []))
                    annotations.append({"annotator": name, "labels": ordered_labels(ann_labels, taxonomy), "spans": ann_spans})
                summary.labels.update(labels)
                summary.spans += len(spans)
                yield make_record(
                    rid=f"{text_path.stem}-{s.index}", doc_id=text_path.stem, text=s.text, labels=labels,
                    spans=spans, annotations=annotations, source=text_path.name, taxonomy=taxonomy,
                    sentence_index=s.index, start=s.start, end=s.end,
                    data={"doc_title": title, "corpus": "brat", "kind": s.kind, "annotator": anns[0][0],
                          **meta.get(text_path.stem, {})},
                )

    summary = finish_import(summary, out, records(), t0)
    summary.unmapped.update({k.split(":", 1)[1]: v for k, v in stats.items() if k.startswith("unmapped:")})
    summary.notes.append(f"relations judged named: {stats['named']}, vague: {stats['vague']}"
                         + (f", without a cue (skipped): {stats['relations without cue']}" if stats["relations without cue"] else ""))
    return summary
