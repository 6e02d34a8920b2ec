"""Inter-annotator agreement for reviewed-label records.

Units are sentences (records), coders are annotators; each sentence-level category is a
binary one-vs-rest variable. Every coefficient is computed from per-unit counts with
numpy, so 100,000 units and 1,000 bootstrap replicates take seconds. docs/agreement.md
gives the formulas and their references.

>>> rep = compute_agreement(records)                      # doctest: +SKIP
>>> rep["categories"][0]["alpha"], rep["categories"][0]["alpha_ci"]   # doctest: +SKIP
"""

import gc
from collections import Counter
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from slant._words import counted
from slant.agreement.coefficients import (
    annotator_agreement,
    binary_coefficients,
    bootstrap_sums,
    cohen_kappas,
    json_number,
    krippendorff_alpha,
    nanmean,
    percentile_ci,
    quiet_warnings,
    set_alphas,
    unit_counts,
    unit_stats,
)
from slant.agreement.spans import model_agreement, pairwise_span_f1, span_agreement
from slant.errors import DataError, InputError

__all__ = ["agreement_from_file", "compute_agreement", "krippendorff_alpha", "span_agreement"]

_NOTE_TWO = "agreement needs at least two annotators per unit"


# --- ratings: long arrays, one row per annotation ---------------------------------------

@dataclass
class _Ratings:
    unit: np.ndarray      # (rows,) compact unit index, sorted
    coder: np.ndarray     # (rows,) annotator index
    Y: np.ndarray         # (rows, categories) bool
    spans: dict           # row -> [(span category index, start, end)]
    coders: list          # annotator names
    n_units: int

    def subset(self, keep_units):
        """The ratings of the units where `keep_units` (bool, per unit) is true."""
        rows = keep_units[self.unit]
        remap = np.cumsum(keep_units) - 1
        old_rows = np.flatnonzero(rows)
        new_index = {int(r): i for i, r in enumerate(old_rows)} if self.spans else {}
        return _Ratings(remap[self.unit[rows]], self.coder[rows], self.Y[rows],
                        {new_index[r]: s for r, s in self.spans.items() if r in new_index},
                        self.coders, int(keep_units.sum()))


def _label_columns(taxonomy, ids):
    """Every accepted label value (id, display name, migrated id) -> its columns in `ids`."""
    col = {c: i for i, c in enumerate(ids)}
    lookup = {}
    for c in taxonomy.categories:
        lookup[c.id] = lookup[c.name] = (c.id,)
    for m in taxonomy.migrations:
        for old in m["from"] if isinstance(m["from"], list) else [m["from"]]:
            lookup.setdefault(old, tuple(taxonomy.migrate_labels([old])[0]))
    return {label: tuple(col[c] for c in cids if c in col) for label, cids in lookup.items()}


class _Columns:
    """Label lists -> column indices; unknown labels are counted, not dropped silently."""

    def __init__(self, taxonomy, ids, where):
        self.map, self.where, self.unknown = _label_columns(taxonomy, ids), where, Counter()

    def __call__(self, labels, i, what, j=None):
        if type(labels) is list:
            try:
                return [c for label in labels for c in self.map[label]]
            except (KeyError, TypeError):
                pass
        # the slow path: say what is wrong
        what = what if j is None else what.format(j)
        if not isinstance(labels, list):
            raise DataError(f"{self.where(i)}: {what} must be a list of category ids, "
                            f"not {type(labels).__name__}; fix the record")
        known = [x for x in labels if isinstance(x, str) and x in self.map]
        self.unknown.update(str(x) for x in labels if not (isinstance(x, str) and x in self.map))
        return [c for label in known for c in self.map[label]]


def _span_rows(spans, cols, i, j):
    if not isinstance(spans, list):
        raise DataError(f"{cols.where(i)}: annotations[{j}].spans must be a list of {{start, end, label}}")
    out = []
    for s in spans:
        if not (isinstance(s, dict) and type(s.get("start")) is int and type(s.get("end")) is int):
            raise DataError(f"{cols.where(i)}: annotations[{j}].spans entries need integer 'start', 'end' and a 'label'")
        if isinstance(s.get("label"), str) and ":" in s["label"]:
            continue  # a corpus label kept on purpose by the importers ("ptc:Slogans"), no category
        out.extend((c, s["start"], s["end"]) for c in cols([s.get("label")], i, "span label"))
    return out


def _parse(records, taxonomy, where, ids):
    """Records -> (_Ratings, unit -> record, adjudicated, predicted, model versions, repeats)."""
    cols, span_cols = _Columns(taxonomy, ids, where), _Columns(taxonomy, taxonomy.span_ids, where)
    span_cols.unknown, label_map = cols.unknown, cols.map
    coders, rows_u, rows_c, row_len, cells_c, spans = {}, [], [], [], [], {}
    unit_record, adj_len, adj_c, pred_len, pred_c, versions, duplicates = [], [], [], [], [], [], 0
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise DataError(f"{where(i)}: expected a JSON object (a reviewed-label record), got {type(rec).__name__}")
        anns = rec.get("annotations") or []
        if not isinstance(anns, list):
            raise DataError(f"{where(i)}: 'annotations' must be a list of {{annotator, labels, spans}} objects")
        rec_tax = rec.get("taxonomy")
        if isinstance(rec_tax, dict) and rec_tax.get("id", taxonomy.id) != taxonomy.id:
            raise DataError(f"{where(i)}: record was labelled with taxonomy {rec_tax['id']!r}, not "
                            f"{taxonomy.id!r}; pass --taxonomy FILE with the taxonomy the project used")
        per_coder = {}
        for j, a in enumerate(anns):
            try:
                name, labels = a["annotator"], a["labels"]
            except (KeyError, TypeError):
                name = None
            if name is None or name == "":
                raise DataError(f"{where(i)}: annotations[{j}] needs 'annotator' and 'labels' "
                                "(see schemas/reviewed.schema.json)")
            try:  # the common case inline; cols() explains anything else
                cs = [c for label in labels for c in label_map[label]] if type(labels) is list else None
            except (KeyError, TypeError):
                cs = None
            cs = cols(labels, i, "annotations[{}].labels", j) if cs is None else cs
            sp = a.get("spans")
            name = str(name)
            duplicates += name in per_coder
            # a repeated annotator: the last annotation counts
            per_coder[name] = (cs, _span_rows(sp, span_cols, i, j) if sp else ())
        pred = rec.get("prediction")
        if pred is not None and not isinstance(pred, dict):
            raise DataError(f"{where(i)}: 'prediction' must be an object {{labels, scores, model_version}} or null")
        versions.append(str(pred.get("model_version") or rec.get("model_version") or "unknown") if pred else None)
        for labels, what, lens, out in ((rec.get("labels", []), "labels", adj_len, adj_c),
                                        (pred.get("labels", []) if pred else [], "prediction.labels", pred_len, pred_c)):
            try:
                found = [c for label in labels for c in label_map[label]] if type(labels) is list else None
            except (KeyError, TypeError):
                found = None
            found = cols(labels, i, what) if found is None else found
            lens.append(len(found))
            out.extend(found)
        if not per_coder:
            continue
        u = len(unit_record)
        unit_record.append(i)
        for name, (cs, sp) in per_coder.items():
            r = len(rows_c)
            rows_u.append(u)
            rows_c.append(coders.setdefault(name, len(coders)))
            row_len.append(len(cs))
            cells_c.extend(cs)
            if sp:
                spans[r] = sp
    if cols.unknown:
        shown = ", ".join(f"{k!r} ({v})" for k, v in cols.unknown.most_common(10))
        raise DataError(f"labels unknown to taxonomy {taxonomy.id} {taxonomy.version}: {shown}"
                        f"{' and more' if len(cols.unknown) > 10 else ''}; these records come from another taxonomy "
                        "(or a renamed category): pass --taxonomy FILE for the taxonomy they were labelled with")
    k = len(ids)
    names = sorted(coders)  # report annotators in name order, whatever order the file has
    rank = np.empty(len(names), dtype=np.intp)
    rank[[coders[x] for x in names]] = np.arange(len(names))
    ratings = _Ratings(np.asarray(rows_u, dtype=np.intp), rank[np.asarray(rows_c, dtype=np.intp)],
                       _matrix(k, row_len, cells_c), spans, names, len(unit_record))
    return (ratings, np.asarray(unit_record, dtype=np.intp), _matrix(k, adj_len, adj_c),
            _matrix(k, pred_len, pred_c), versions, duplicates)


def _matrix(n_cols, lengths, cols):
    """Bool matrix with one row per entry of `lengths`, True at that row's `cols`."""
    out = np.zeros((len(lengths), n_cols), dtype=bool)
    out[np.repeat(np.arange(len(lengths)), lengths), np.asarray(cols, dtype=np.intp)] = True
    return out


# --- the report -------------------------------------------------------------------------

def _category_table(r, taxonomy, ids, bootstrap, seed, confidence, warnings, label="", adjudicated=None):
    m, K1 = unit_counts(r)
    stats = unit_stats(m, K1)
    point = {k: v[0] for k, v in binary_coefficients(stats.sum(0), len(ids)).items()}
    kappa, shared = cohen_kappas(r)
    with quiet_warnings():
        pairs = np.triu(shared > 0, 1)
        cohen = np.array([np.nanmean(kappa[c][pairs]) if pairs.any() else np.nan for c in range(len(ids))])
    # Means cover the categories that vary (alpha defined): a category nobody used carries no
    # information and would pull AC1 and observed agreement towards 1.
    used = np.isfinite(point["alpha"])
    ci = {}
    if bootstrap:
        coef = binary_coefficients(bootstrap_sums(stats, bootstrap, seed), len(ids))
        for key in ("alpha", "ac1"):
            reps = np.column_stack([coef[key], nanmean(coef[key][:, used], axis=1)])
            lo, hi, dropped = percentile_ci(reps, confidence)
            ci[key] = (lo, hi)
            for c in np.flatnonzero(dropped[:-1] > 0):
                warnings.append(f"{label}{ids[c]}: {key} undefined in {dropped[c]} of {bootstrap} bootstrap "
                                "replicates (no unit marked the category); its interval uses the others")
    rated = m >= 1
    prevalence = K1[rated].sum(0) / max(m.sum(), 1)
    cats = []
    for c, cid in enumerate(ids):
        cat = taxonomy.category(cid)
        row = {"id": cid, "name": cat.name, "level": cat.level, "units": int((m >= 2).sum()),
               "prevalence": json_number(prevalence[c]),
               "prevalence_adjudicated": None if adjudicated is None else json_number(adjudicated[c]),
               "observed_agreement": json_number(point["observed_agreement"][c]), "cohen_kappa": json_number(cohen[c]),
               "cohen_pairs": int(np.isfinite(kappa[c][pairs]).sum()), "fleiss_kappa": json_number(point["fleiss_kappa"][c]),
               "alpha": json_number(point["alpha"][c]), "alpha_ci": None, "ac1": json_number(point["ac1"][c]), "ac1_ci": None}
        for key in ci:
            lo, hi = ci[key][0][c], ci[key][1][c]
            row[f"{key}_ci"] = [json_number(lo), json_number(hi)] if np.isfinite(lo) and np.isfinite(hi) else None
        cats.append(row)
    flat = [c["id"] for c in cats if c["alpha"] is None and c["units"]]
    if flat:
        warnings.append(f"{label}no variation in {', '.join(flat)}: every annotator gave the same answer on every "
                        "unit, so alpha and kappa are undefined, AC1 is 1 by construction, and the means leave "
                        "these categories out")
    mean = {k: json_number(nanmean(point[k][used])) for k in ("observed_agreement", "fleiss_kappa", "alpha", "ac1")}
    mean.update(cohen_kappa=json_number(nanmean(cohen[used])), alpha_ci=None, ac1_ci=None, categories=int(used.sum()))
    for key in ci:
        lo, hi = ci[key][0][-1], ci[key][1][-1]
        mean[f"{key}_ci"] = [json_number(lo), json_number(hi)] if np.isfinite(lo) and np.isfinite(hi) else None
    return cats, mean, (m, K1, kappa, shared)


def _check_units(r, source):
    if r.n_units == 0:
        raise DataError(f"{source}: no record has annotations, so there are no units to compare; "
                        f"{_NOTE_TWO}: pull a Label Studio project whose tasks were annotated by two or more people")
    multi = np.bincount(r.unit, minlength=r.n_units) >= 2
    if not multi.any():
        who = ", ".join(r.coders[:5]) + (" ..." if len(r.coders) > 5 else "")
        what = (f"only one annotator ({who}) labelled the {counted(r.n_units, 'unit')}" if len(r.coders) == 1 else
                f"none of the {counted(r.n_units, 'annotated unit')} was labelled by two annotators ({who})")
        raise DataError(f"{source}: {_NOTE_TWO}; {what}. Have a second annotator label the same tasks "
                        "(Label Studio: Settings > Annotation > overlap) and pull again")


def compute_agreement(records, taxonomy=None, *, by=None, bootstrap=1000, seed=0, confidence=0.95,
                      source="records", where=None):
    """The agreement report (a dict following schemas/agreement.schema.json).

    `records` are reviewed-label records (schemas/reviewed.schema.json) with
    ``annotations: [{annotator, labels, spans}]``; `taxonomy` a `Taxonomy` (default:
    the built-in one). `by` names a task-data field to repeat the table for each of its
    values; `bootstrap` replicates (0 for none) give percentile intervals for alpha and
    AC1. `where(i)` names record i in error messages (default "record i+1").
    """
    from slant.taxonomy.core import load_taxonomy

    if not (isinstance(bootstrap, (int, np.integer)) and bootstrap >= 0):
        raise InputError(f"bootstrap={bootstrap!r}: the number of replicates must be 0 (no intervals) or more, e.g. 1000")
    if not 0 < confidence < 1:
        raise InputError(f"confidence={confidence!r}: must lie between 0 and 1, e.g. 0.95")
    taxonomy = taxonomy or load_taxonomy()
    where = where or (lambda i: f"record {i + 1}")
    records = records if isinstance(records, list) else list(records)
    if not records:
        raise DataError(f"{source}: no records; run `slant pull` first or check the file")
    # One BLAS thread: the matrix products here are small, and idle BLAS threads spin,
    # doubling CPU time and stalling on a busy machine.
    with threadpool_limits(1):
        return _compute(records, taxonomy, by, bootstrap, seed, confidence, source, where)


def _compute(records, taxonomy, by, bootstrap, seed, confidence, source, where):
    from slant._version import __version__
    ids = list(taxonomy.sentence_ids)
    r, unit_record, adjudicated, predicted, versions, duplicates = _parse(records, taxonomy, where, ids)
    _check_units(r, source)
    warnings = []
    if duplicates:
        warnings.append(f"{duplicates} repeated annotations by the same annotator on a unit: the last one was used")
    # Gold labels exist only where somebody annotated: a task nobody annotated is no
    # "none of the categories" for the model to be scored against, nor for prevalence.
    annotated = np.zeros(len(records), dtype=bool)
    annotated[unit_record] = True
    cats, mean, (m, K1, kappa, shared) = _category_table(r, taxonomy, ids, bootstrap, seed, confidence, warnings,
                                                         adjudicated=adjudicated[annotated].mean(0))
    set_nominal, set_masi, n_sets = set_alphas(r, m)
    with quiet_warnings():
        kappa_mean = np.nanmean(kappa, axis=0) if len(ids) else np.full(shared.shape, np.nan)
    per_unit = np.bincount(m[m >= 1])
    return {
        "schema_version": "1.0", "generator": f"slant {__version__}", "source": str(source),
        "taxonomy": {"id": taxonomy.id, "version": taxonomy.version},
        "settings": {"bootstrap": int(bootstrap), "seed": int(seed), "confidence": float(confidence), "by": by},
        "summary": {"records": len(records), "units": r.n_units, "units_multi": int((m >= 2).sum()),
                    "annotators": len(r.coders), "annotations": int(len(r.unit)),
                    "annotators_per_unit": {str(k): int(v) for k, v in enumerate(per_unit) if k and v}},
        "categories": cats,
        "overall": {"mean": mean, "alpha_label_sets": json_number(set_nominal), "alpha_masi": json_number(set_masi),
                    "distinct_label_sets": int(n_sets)},
        "pairwise": {"annotators": r.coders, "shared_units": shared.tolist(),
                     "cohen_kappa_mean": [[json_number(x) for x in row] for row in kappa_mean],
                     "cohen_kappa": {cid: [[json_number(x) for x in row] for row in kappa[c]] for c, cid in enumerate(ids)}},
        "annotators": annotator_agreement(r, m, K1),
        "spans": pairwise_span_f1(r, list(taxonomy.span_ids)) if taxonomy.span_ids else None,
        "model": model_agreement(predicted[annotated], adjudicated[annotated], [versions[i] for i in unit_record], ids,
                                 {c["id"]: c["alpha"] for c in cats}),
        "groups": _groups(records, r, unit_record, adjudicated, by, taxonomy, ids, bootstrap, seed, confidence, warnings,
                          annotated),
        "warnings": warnings,
    }


def _group_value(rec, field):
    data = rec.get("data") if isinstance(rec.get("data"), dict) else {}
    value = data.get(field, rec.get(field))
    return "(missing)" if value is None else str(value)


def _groups(records, r, unit_record, adjudicated, by, taxonomy, ids, bootstrap, seed, confidence, warnings, annotated):
    if not by:
        return None
    record_value = np.array([_group_value(rec, by) for rec in records], dtype=object)
    unit_values, record_values = record_value[unit_record], Counter(record_value)
    if set(record_values) == {"(missing)"}:
        raise DataError(f"--by {by}: no record has a data field {by!r}; use a field of the task data, e.g. "
                        f"{', '.join(sorted((records[0].get('data') or {}).keys())[:5]) or 'doc_id'}")
    out = []
    for value in sorted(record_values):
        keep = unit_values == value
        sub = r.subset(keep)
        in_group = (record_value == value) & annotated
        entry = {"value": value, "records": record_values[value], "units": int(keep.sum())}
        if (np.bincount(sub.unit, minlength=sub.n_units) >= 2).any():
            cats, mean, _ = _category_table(sub, taxonomy, ids, bootstrap, seed, confidence, warnings,
                                            f"{by}={value}: ", adjudicated[in_group].mean(0))
            entry.update(units_multi=cats[0]["units"] if cats else 0, categories=cats, mean=mean)
        else:
            entry.update(units_multi=0, categories=[], mean=None)
            warnings.append(f"{by}={value}: no unit with two annotators; no agreement figures")
        out.append(entry)
    return {"field": by, "values": out}


def agreement_from_file(path, *, taxonomy=None, by=None, bootstrap=1000, seed=0, confidence=0.95):
    """`compute_agreement` over a reviewed-label JSONL file.

    `dataset.iter_reviewed` reads and validates the lines against
    schemas/reviewed.schema.json, so malformed records are reported as file:line.
    `taxonomy` is a `Taxonomy` or the path of a taxonomy file (default: built-in).
    """
    from slant.records.reviewed import iter_reviewed
    from slant.taxonomy.core import load_taxonomy

    tax = taxonomy if taxonomy is None or hasattr(taxonomy, "categories") else load_taxonomy(taxonomy)
    # Hundreds of thousands of small dicts and lists, none in a reference cycle: the cyclic
    # garbage collector would walk them again and again while they pile up (it was over
    # half of the reading time); reference counting frees them all the same.
    was = gc.isenabled()
    gc.disable()
    try:
        records = list(iter_reviewed(path))  # labels stay as found: unknown ones are reported below, by name
        return compute_agreement(records, tax, by=by, bootstrap=bootstrap, seed=seed, confidence=confidence,
                                 source=str(path), where=lambda i: f"{path}: record {i + 1}")
    finally:
        if was:
            gc.enable()
