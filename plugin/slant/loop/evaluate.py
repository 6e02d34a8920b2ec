"""Evaluation: per-category precision/recall/F1 of a model on reviewed sentences, or of a
fresh model by cross-validation grouped by document (schemas/evaluation.schema.json).

>>> report = evaluate_model(model, load_reviewed("gold.jsonl", taxonomy=tax))
>>> report["macro"]["f1"]
"""

import hashlib
import json
import time
from datetime import datetime, timezone

import numpy as np
from sklearn.model_selection import GroupKFold

from slant._words import counted
from slant.agreement.coefficients import cohen_kappa
from slant.errors import DataError, ModelError
from slant.model.fit import prepare_records, record_spans, train_model, training_set
from slant.model.metrics import counts, prf, span_prf
from slant.model.seed import seed_records

__all__ = ["evaluate_model", "evaluate_files", "cross_validate", "render_evaluation", "scores_from_matrices"]


def _combined(ids, gold, pred, combine):
    """Scores of category unions: a sentence counts when it has any of the categories."""
    out = {}
    for spec in combine or ():
        parts = [p for p in spec.split("+") if p]
        unknown = [p for p in parts if p not in ids]
        if len(parts) < 2 or unknown:
            bad = unknown[0] if unknown else spec
            raise DataError(f"--combine {spec!r}: {bad!r} is not a category id (or fewer than two given); "
                            "use ids joined by '+', e.g. attribution_named+attribution_vague")
        cols = [ids.index(p) for p in parts]
        g, p = gold[:, cols].any(axis=1), pred[:, cols].any(axis=1)
        out["+".join(parts)] = _rounded(*counts(p, g)) | {"support": int(g.sum()), "predicted": int(p.sum())}
    return out


def scores_from_matrices(ids, gold, pred, combine=None):
    """Per-category and averaged scores from 0/1 matrices ``(n_sentences, n_categories)``.

    `combine` lists unions to score as one category ("attribution_named+attribution_vague").
    """
    gold, pred = np.asarray(gold, dtype=bool), np.asarray(pred, dtype=bool)
    kappas = np.nan_to_num(cohen_kappa(gold, pred), nan=0.0) if len(gold) else np.zeros(len(ids))
    cats = {}
    tp_all = fp_all = fn_all = 0
    for j, cid in enumerate(ids):
        g, p = gold[:, j], pred[:, j]
        tp, fp, fn = counts(p, g)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        cats[cid] = _rounded(tp, fp, fn) | {"support": int(g.sum()), "predicted": int(p.sum()), "kappa": round(float(kappas[j]), 4)}
    scored = [c for c in cats.values() if c["support"] > 0]
    macro = {k: round(float(np.mean([c[k] for c in scored])), 4) if scored else 0.0 for k in ("precision", "recall", "f1")}
    out = {"categories": cats, "micro": _rounded(tp_all, fp_all, fn_all), "macro": macro}
    if combine:
        out["combined"] = _combined(list(ids), gold, pred, combine)
    return out


def _rounded(tp, fp, fn):
    p, r, f = prf(tp, fp, fn)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def _gold(labels, ids):
    index = {c: j for j, c in enumerate(ids)}
    Y = np.zeros((len(labels), len(ids)), dtype=bool)
    for i, labs in enumerate(labels):
        for lab in labs:
            Y[i, index[lab]] = True
    return Y


def _data_section(texts, labels, groups, files):
    h = hashlib.sha256()
    for t, labs, g in zip(texts, labels, groups):
        h.update(json.dumps([g, t, sorted(labs)], ensure_ascii=False).encode())
    return {"files": [str(f) for f in files], "sentences": len(texts), "documents": len(set(groups)), "hash": h.hexdigest()}


def evaluate_model(model, records, *, files=(), batch_size=2000, combine=None):
    """Score `model` against reviewed records (their labels are the gold standard)."""
    taxonomy = model.taxonomy
    texts, labels, groups = prepare_records(list(records), taxonomy)
    ids = list(model.estimator.classes_)
    gold_spans = record_spans(records, taxonomy)
    explain = any(gold_spans)
    pred = np.zeros((len(texts), len(ids)), dtype=bool)
    pred_spans = []
    for i in range(0, len(texts), batch_size):
        _, chosen, spans = model.estimator.predict_explain(texts[i:i + batch_size], explain=explain)
        pred[i:i + batch_size] = chosen
        pred_spans.extend(spans or [])
    extra = {"spans": span_scores(pred_spans, gold_spans, taxonomy)} if explain else {}
    return {
        "method": "holdout",
        "model_version": model.model_version,
        "taxonomy": {"id": taxonomy.id, "version": taxonomy.version, "hash": taxonomy.hash},
        "data": _data_section(texts, labels, groups, files),
        "folds": None,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **scores_from_matrices(ids, _gold(labels, ids), pred, combine),
        **extra,
    }


def span_scores(pred_spans, gold_spans, taxonomy):
    """Character-overlap scores of predicted spans per span-level category, end to end (a
    span is predicted only for a ticked category); `slant.model.metrics.span_prf`."""
    return span_prf(pred_spans, gold_spans, sorted(taxonomy.id_sets[2]))


def cross_validate(records, *, taxonomy, cv=5, base=None, params=None, files=(), inner_cv=5, combine=None, progress=None):
    """Honest scores of a freshly trained model: K folds grouped by ``doc_id``.

    Each fold trains a full model (with its own inner cross-validation for thresholds
    and calibration) on the other folds' documents and predicts the held-out ones.
    `progress`, if given, is called after each fold with ``(fold, folds, sentences
    held out, seconds)``: with the encoder a fold takes minutes.
    """
    records = list(records)
    if base not in (None, "none", "seed"):
        raise ModelError(f"base {base!r} is not known; use 'seed' or 'none'")
    _combined(list(taxonomy.ids), *(np.zeros((0, len(taxonomy.ids)), dtype=bool),) * 2, combine)  # fail fast
    texts, labels, groups = prepare_records(records, taxonomy)
    n_docs = len(set(groups))
    if n_docs < 2 or cv < 2:
        raise DataError(f"cross-validation needs at least 2 documents and --cv 2 or more; got {counted(n_docs, 'document')}, cv={cv}")
    k = min(cv, n_docs)
    base_recs, base_files = seed_records(taxonomy) if base == "seed" else ([], [])
    ids = list(taxonomy.ids)
    pred = np.zeros((len(texts), len(ids)), dtype=bool)
    gold_spans = record_spans(records, taxonomy)
    explain = any(gold_spans)
    pred_spans = [[] for _ in texts]
    for fold, (train, test) in enumerate(GroupKFold(n_splits=k).split(texts, groups=groups), 1):
        started = time.perf_counter()
        data = training_set([records[i] for i in train], taxonomy=taxonomy, base=base_recs)
        model = train_model(data, taxonomy=taxonomy, cv=inner_cv, params=params, files=base_files, base=base or "none")
        _, chosen, spans = model.estimator.predict_explain([texts[i] for i in test], explain=explain)
        pred[test] = chosen
        for i, s in zip(test, spans or ()):
            pred_spans[i] = s
        if progress is not None:
            progress(fold, k, len(test), time.perf_counter() - started)
    return {
        "method": "cross-validation",
        "model_version": None,
        "taxonomy": {"id": taxonomy.id, "version": taxonomy.version, "hash": taxonomy.hash},
        "data": _data_section(texts, labels, groups, files),
        "folds": k,
        "grouped_by": "doc_id",
        "base": base or "none",
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **scores_from_matrices(ids, _gold(labels, ids), pred, combine),
        **({"spans": span_scores(pred_spans, gold_spans, taxonomy)} if explain else {}),
    }


def render_evaluation(report, fmt="table", *, color=False):
    """The report as JSON or as a text table (rich)."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    from rich.console import Console
    from rich.table import Table

    what = report["model_version"] or f"{report['folds']}-fold cross-validation grouped by doc_id"
    table = Table(title=f"{what} on {counted(report['data']['sentences'], 'sentence')} ({counted(report['data']['documents'], 'document')})")
    for col in ("category", "precision", "recall", "F1", "support", "predicted"):
        table.add_column(col, justify="left" if col == "category" else "right")
    for cid, s in report["categories"].items():
        table.add_row(cid, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", str(s["support"]), str(s["predicted"]))
    for name, sc in report.get("combined", {}).items():
        table.add_row(f"any of {name}", f"{sc['precision']:.3f}", f"{sc['recall']:.3f}", f"{sc['f1']:.3f}", str(sc["support"]), str(sc["predicted"]))
    for name in ("micro", "macro"):
        s = report[name]
        table.add_row(f"({name} average)", f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", "", "")
    for cid, s in report.get("spans", {}).items():
        table.add_row(f"spans of {cid} (characters)", f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}",
                      f"{s['gold_chars']} ch", "")
    console = Console(record=True, width=100, force_terminal=color, no_color=not color)
    with console.capture() as cap:
        console.print(table)
    return cap.get()


def evaluate_files(paths, *, taxonomy, model=None, cv=None, base="none", cache_dir=None, combine=None, params=None, progress=None):
    """`slant evaluate`: score a saved (or the default) model, or cross-validate with `cv`."""
    from slant.model.seed import load_model
    from slant.records.reviewed import load_reviewed

    paths = [paths] if isinstance(paths, str) else list(paths)
    records = load_reviewed(paths, taxonomy=taxonomy)
    if cv is not None:
        return cross_validate(records, taxonomy=taxonomy, cv=cv, base=None if base == "none" else base, files=paths,
                              combine=combine, params=params, progress=progress)
    return evaluate_model(load_model(model, taxonomy=taxonomy, cache_dir=cache_dir), records, files=paths, combine=combine)
