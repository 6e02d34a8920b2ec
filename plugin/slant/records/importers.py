"""Importers: public corpora to reviewed-label records.

- `import_ptc`: Propaganda Techniques Corpus (SemEval-2020 task 11), one record per line.
- `import_brat`: brat standoff attribution relations (PolNeAR), named vs vague sources.
- `import_csv`: any CSV/TSV with a text column and a label column.

Labels map to taxonomy ids through each category's ``mappings`` ({"ptc": [...],
"polnear": [...]}). A span whose corpus label maps to no category keeps the corpus name
with a prefix, e.g. ``"ptc:Flag-Waving"``: it carries the information but is no taxonomy
id, so training ignores it; sentence `labels` only ever hold taxonomy ids.
"""

import bisect
import csv
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from slant.errors import DataError, InputError
from slant.records.reviewed import write_jsonl

__all__ = [
    "ImportSummary",
    "import_brat",
    "import_csv",
    "import_ptc",
    "parse_mapping",
    "source_is_named",
]


# --- import summaries and helpers -----------------------------------------------------

@dataclass
class ImportSummary:
    corpus: str
    out: str
    documents: int = 0
    sentences: int = 0
    labels: Counter = field(default_factory=Counter)
    spans: int = 0
    unmapped: Counter = field(default_factory=Counter)
    notes: list = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self):
        return {"corpus": self.corpus, "out": self.out, "documents": self.documents,
                "sentences": self.sentences, "labels": dict(self.labels.most_common()),
                "spans": self.spans, "unmapped": dict(self.unmapped.most_common()),
                "notes": self.notes, "seconds": round(self.seconds, 2)}

    def format(self):
        lines = [f"{self.corpus}: {self.documents} documents, {self.sentences} sentences, "
                 f"{self.spans} spans -> {self.out} ({self.seconds:.1f} s)"]
        for k, v in self.labels.most_common():
            lines.append(f"  {k}: {v} sentences")
        if self.unmapped:
            names = ", ".join(f"{k} ({v})" for k, v in self.unmapped.most_common())
            lines.append(f"  not mapped to the taxonomy (kept as prefixed spans only): {names}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def _corpus_map(taxonomy, corpus):
    """{corpus label name: [category ids]} from the categories' mappings."""
    out = defaultdict(list)
    for c in taxonomy.categories:
        for name in c.mappings.get(corpus, []):
            out[name].append(c.id)
    return dict(out)


def _record(*, rid, doc_id, text, labels, spans, source, taxonomy, annotations=(), **extra):
    rec = {"id": rid, "doc_id": doc_id, "text": text,
           "labels": _ordered(labels, taxonomy), "spans": spans,
           "annotations": list(annotations), "policy": "import", "source": source}
    rec.update(extra)
    rec["taxonomy"] = {"id": taxonomy.id, "version": taxonomy.version}
    return rec


def _ordered(labels, taxonomy):
    """Label ids in taxonomy order (the ids tuple is rebuilt on each access, so cache it)."""
    if not labels:
        return []
    order = _ORDER.get(id(taxonomy))
    if order is None or order[0] is not taxonomy:
        order = _ORDER[id(taxonomy)] = (taxonomy, {c: i for i, c in enumerate(taxonomy.ids)})
    return sorted((label for label in set(labels) if label in order[1]), key=order[1].get)


_ORDER = {}


def _clip(start, end, s_start, s_end, text):
    a, b = max(start, s_start) - s_start, min(end, s_end) - s_start
    return {"start": a, "end": b, "text": text[a:b]}


def _read_exact(path):
    """Text with offsets as in the file: no newline translation."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 (byte {exc.start}); convert it, e.g. iconv -f latin1 -t utf-8") from None


def _finish(summary, out, records, t0):
    summary.sentences = write_jsonl(records, out)
    summary.seconds = time.perf_counter() - t0
    return summary


# --- PTC ------------------------------------------------------------------------------

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
    mapping = _corpus_map(taxonomy, "ptc")
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
            text = _read_exact(path)
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
                        span = {**_clip(start, end, s_start, s_end, sentence), "label": label}
                        if span not in spans and span["text"].strip():
                            spans.append(span)
                    labels.update(ids or [])
                summary.labels.update(labels)
                summary.spans += len(spans)
                yield _record(
                    rid=f"{doc_id}-{index}", doc_id=doc_id, text=sentence, labels=labels, spans=spans,
                    source=path.name, taxonomy=taxonomy, sentence_index=index, start=s_start, end=s_end,
                    data={"doc_title": title, "corpus": "ptc", "kind": "title" if index == 0 else "body"},
                )
                index += 1

    return _finish(summary, out, records(), t0)


# --- brat / PolNeAR -------------------------------------------------------------------

_ANN_LINE = re.compile(r"([TERAMN#*]\d*)\t")
_FRAGMENT = re.compile(r"(\d+) (\d+)")

PRONOUNS = frozenset("""
    he she they i we you him her them me us his hers their theirs its it our my your
    himself herself themselves itself ourselves
""".split())
RELATIVES = frozenset("who whom whose which that".split())
# Heads that leave the source unidentified, whatever modifies them.
GENERIC = frozenset("""
    official source critic expert analyst observer people person persons someone somebody anyone
    anybody everyone everybody some many others other most few several all both one none majority
    minority aide adviser advisor insider supporter opponent resident voter member witness
    percent poll survey democrats republicans conservatives liberals progressives americans
    evangelicals independents moderates europeans
""".split())
_FUNCTION = frozenset("""
    the a an this that these those some many several one two three his her their its our
    monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december
""".split())  # capitalised but no names
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$")
_POSTMOD = frozenset("""
    of at in from for with on who whom whose that which familiar close involved according to inside
    within under among between across about
""".split())
_DEFINITE = frozenset("the this that these those his her its their our my your".split())
_WORD = re.compile(r"[\w][\w.'’&-]*|[,(—–;:]")


def _generic(low):
    return low in GENERIC or (low.endswith("s") and (low[:-1] in GENERIC or low[:-2] in GENERIC))


def _is_proper(token, sentence_initial, lower_words):
    core = _POSSESSIVE.sub("", token).rstrip(".")
    if not core or not core[0].isupper() or core.lower() in _FUNCTION or _generic(core.lower()):
        return False
    if len(core) > 1 and core.isupper():
        return True  # FBI, CNN
    # A capital at the start of a sentence proves nothing if the word also occurs in
    # lower case in the article ("Witnesses said ...").
    return not (sentence_initial and core.lower() in lower_words)


def _plural_common(head, lower_words):
    low = _POSSESSIVE.sub("", head).lower()
    if _generic(low):
        return True
    plural = low.endswith("s") and not low.endswith(("ss", "us", "is")) and len(low) > 3
    return plural and (head[0].islower() or low in lower_words)


def source_is_named(source, *, sentence_initial=False, lower_words=frozenset(), antecedent=None):
    """Heuristic: does an attribution `source` (text) name who is speaking?

    Named: a proper noun or acronym in the source ("Sen. Ruiz", "the Labor Department",
    "a Pfizer spokesperson"), a pronoun ("he", "they": in the article it refers back to
    someone introduced earlier, usually by name, so it counts as named), or a definite
    singular description ("the senator", "the campaign"). Vague: no source, a generic or
    plural head ("officials", "White House officials", "people familiar with ..."), a
    quantifier ("some", "many"), or an indefinite ("a source", "one official").
    Relative pronouns ("who", "which") are judged by their `antecedent` when given.
    """
    if not source or not source.strip():
        return False
    parts = re.split(r",?\s+(?:and|&|or)\s+", source.strip())
    return any(_part_named(p, sentence_initial and i == 0, lower_words, antecedent) for i, p in enumerate(parts))


def _part_named(part, sentence_initial, lower_words, antecedent):
    tokens = _WORD.findall(part)
    words = [t for t in tokens if t[0].isalnum()]
    if not words:
        return False
    pre = []
    for t in tokens:
        if t.lower() in _POSTMOD or not t[0].isalnum():
            if pre:
                break
            continue
        pre.append(t)
    head = _POSSESSIVE.sub("", (pre or words)[-1])
    if sentence_initial and len(words) > 1 and words[1][0].islower() and _plural_common(words[0], lower_words):
        return False  # "Figures reported on Sunday": a common plural, capitalised by position
    low = head.lower()
    if low in RELATIVES and len(words) == 1:
        if not antecedent:
            return True
        # "news from the Bank of Japan, which": the nearest noun phrase decides too.
        tail = re.split(r"\b(?:of|from|at|with|by|for|as|than)\s+", antecedent)[-1]
        return source_is_named(antecedent, lower_words=lower_words) or source_is_named(tail, lower_words=lower_words)
    if low in PRONOUNS:
        return True
    if _plural_common(head, lower_words):
        return False
    if any(_is_proper(t, sentence_initial and i == 0, lower_words) for i, t in enumerate(words)):
        return True
    det = words[0].lower()
    return det in _DEFINITE or det.endswith(("'s", "’s"))


def _antecedent(text, start):
    """The phrase before a relative pronoun: 'Sen. Ruiz, who said' -> 'Sen. Ruiz'."""
    before = text[max(0, start - 120):start].rstrip().rstrip(",").rstrip()
    cut = max(before.rfind(ch) for ch in ".;:(—\n\"“")
    phrase = before[cut + 1:]
    phrase = phrase.split(",")[-1]
    return " ".join(phrase.split()[-8:])


def _parse_ann(path):
    """{T id: (type, [(start, end)], text)} and [relation role dicts] from a brat file.

    The text column of a T line may run over several lines; lines that do not start
    with an annotation id continue the previous one.
    """
    entities, relations, last = {}, [], None
    text = _read_exact(path)
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
        antecedent = _antecedent(text, src[0][0]) if src and src_text.strip().lower() in RELATIVES else None
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
                        span = {**_clip(a, b, s.start, s.end, s.text), "label": label}
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
    from slant.text.segment import split_sentences

    t0 = time.perf_counter()
    pairs, orphans, n_texts = _find_brat(root)
    mapping = _corpus_map(taxonomy, "polnear")
    meta = _read_metadata(root)
    summary = ImportSummary("brat", str(out))
    stats = Counter()
    if orphans:
        summary.notes.append(f"{len(orphans)} .ann files match no text (e.g. {orphans[0]}); skipped")
    if n_texts > len(pairs):
        summary.notes.append(f"{n_texts - len(pairs)} texts have no .ann file; skipped")

    def records():
        for text_path, anns in pairs:
            text = _read_exact(text_path)
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
                    annotations.append({"annotator": name, "labels": _ordered(ann_labels, taxonomy), "spans": ann_spans})
                summary.labels.update(labels)
                summary.spans += len(spans)
                yield _record(
                    rid=f"{text_path.stem}-{s.index}", doc_id=text_path.stem, text=s.text, labels=labels,
                    spans=spans, annotations=annotations, source=text_path.name, taxonomy=taxonomy,
                    sentence_index=s.index, start=s.start, end=s.end,
                    data={"doc_title": title, "corpus": "brat", "kind": s.kind, "annotator": anns[0][0],
                          **meta.get(text_path.stem, {})},
                )

    summary = _finish(summary, out, records(), t0)
    summary.unmapped.update({k.split(":", 1)[1]: v for k, v in stats.items() if k.startswith("unmapped:")})
    summary.notes.append(f"relations judged named: {stats['named']}, vague: {stats['vague']}"
                         + (f", without a cue (skipped): {stats['relations without cue']}" if stats["relations without cue"] else ""))
    return summary


# --- CSV / TSV ------------------------------------------------------------------------

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
    text = _read_exact(path)
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
            yield _record(rid=rid, doc_id=doc_id, text=sentence, labels=labels, spans=[],
                          source=path.name, taxonomy=taxonomy, data=extra)

    return _finish(summary, out, records(), t0)
