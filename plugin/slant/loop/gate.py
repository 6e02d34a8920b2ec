"""The promotion gate: a candidate version replaces the current model only when it is not
worse on reviewed sentences that neither model saw in training.

Held-out set (frozen): every registered version's held-out reviewed sentences (kept out
by document in `slant.loop.train.heldout_documents`, the same documents for every
version), each with the labels it had when first held out, plus the candidate's new ones,
minus every document either model trained on. Both models predict those sentences; the
gate refuses when

- macro-F1 (over categories with at least one positive) drops by more than
  `tolerance` (default 0.01), or
- any category with at least `min_positives` (20) positives loses more than
  `category_tolerance` (0.05) F1,
- the candidate is near chance: its macro-F1 beats blind guessing at the same rates by
  less than 0.05, on its cross-validated reviewed training sentences or on the held-out
  set (a model trained on shuffled labels is refused even when the current model does
  no better on those labels),
- or there is no held-out sentence to judge on,

unless forced. See docs/retraining.md.
"""

from dataclasses import dataclass, field

import numpy as np

from slant._words import counted
from slant.errors import ModelError
from slant.loop.evaluate import scores_from_matrices
from slant.model.metrics import binary_scores, chance_f1
from slant.model.seed import read_seed

__all__ = ["GateResult", "compare_models", "gate_records", "promote", "rollback"]

TOLERANCE = 0.01
CATEGORY_TOLERANCE = 0.05
MIN_POSITIVES = 20
SIGNAL_MARGIN = 0.05  # macro-F1 a candidate must beat blind guessing by


@dataclass
class GateResult:
    version: str                   # the candidate
    current: str                   # the model it was compared with ("seed-..." = default)
    promoted: bool
    forced: bool = False
    table: list = field(default_factory=list)  # per category: see `compare_models`
    macro: dict = field(default_factory=dict)  # {"current", "candidate", "change"}
    reasons: list = field(default_factory=list)  # why the gate refuses (empty = passes)
    sentences: int = 0             # held-out sentences judged on
    documents: int = 0
    note: str = ""

    @property
    def passed(self):
        return not self.reasons

    def to_dict(self):
        return {"version": self.version, "current": self.current, "promoted": self.promoted, "forced": self.forced,
                "passed": self.passed, "reasons": list(self.reasons), "macro": dict(self.macro),
                "sentences": self.sentences, "documents": self.documents, "table": list(self.table)}

    def format(self):
        """The per-category table and the verdict, as plain text."""
        lines = [f"{self.version} vs current {self.current} on {counted(self.sentences, 'held-out reviewed sentence')} "
                 f"from {counted(self.documents, 'document')}"]
        if self.note:
            lines.append(self.note)
        if self.table:
            w = max(12, *(len(r["category"]) for r in self.table))
            lines.append(f"{'category':<{w}}  positives  current F1  candidate F1  change  gate")
            for r in self.table:
                mark = "FAIL" if r["failed"] else ("ok" if r["checked"] else "-")
                lines.append(f"{r['category']:<{w}}  {r['positives']:>9}  {r['current_f1']:>10.3f}  "
                             f"{r['candidate_f1']:>12.3f}  {r['change']:>+6.3f}  {mark}")
            if self.macro:
                m = self.macro
                lines.append(f"{'macro F1':<{w}}  {'':>9}  {m['current']:>10.3f}  {m['candidate']:>12.3f}  "
                             f"{m['change']:>+6.3f}  {'FAIL' if m.get('failed') else 'ok'}")
        for why in self.reasons:
            lines.append(f"refused: {why}")
        if self.promoted:
            lines.append(f"promoted {self.version}" + (" (forced past the gate)" if self.forced and self.reasons else ""))
        elif self.reasons:
            lines.append(f"not promoted; promote anyway with `slant models promote {self.version} --force`")
        return "\n".join(lines)


def _predict(model, texts, batch_size=2000):
    out = np.zeros((len(texts), len(model.estimator.classes_)), dtype=bool)
    for i in range(0, len(texts), batch_size):
        _, chosen, _ = model.estimator.predict_explain(texts[i:i + batch_size], explain=False)
        out[i:i + batch_size] = chosen
    return out


def compare_models(candidate, current, records, *, tolerance=TOLERANCE, category_tolerance=CATEGORY_TOLERANCE,
                   min_positives=MIN_POSITIVES):
    """``(table, macro, reasons)`` for two models on the same reviewed `records`.

    `table` rows: category, positives, current_f1, candidate_f1, change, checked (has
    enough positives to be gated), failed.
    """
    ids = list(candidate.taxonomy.ids)
    texts = [r["text"] for r in records]
    gold = np.zeros((len(records), len(ids)), dtype=bool)
    index = {c: j for j, c in enumerate(ids)}
    for i, r in enumerate(records):
        for lab in r["labels"]:
            gold[i, index[lab]] = True
    new = scores_from_matrices(ids, gold, _predict(candidate, texts))
    old = scores_from_matrices(ids, gold, _predict(current, texts))
    table, reasons = [], []
    for cid in ids:
        pos = int(gold[:, index[cid]].sum())
        a, b = old["categories"][cid]["f1"], new["categories"][cid]["f1"]
        checked = pos >= min_positives
        failed = checked and b - a < -category_tolerance
        table.append({"category": cid, "positives": pos, "current_f1": a, "candidate_f1": b,
                      "change": round(b - a, 4), "checked": checked, "failed": failed})
        if failed:
            reasons.append(f"{cid} F1 falls from {a:.3f} to {b:.3f} on {pos} positives (more than {category_tolerance})")
    change = round(new["macro"]["f1"] - old["macro"]["f1"], 4)
    macro = {"current": old["macro"]["f1"], "candidate": new["macro"]["f1"], "change": change,
             "failed": change < -tolerance}
    if macro["failed"]:
        reasons.insert(0, f"macro F1 falls from {macro['current']:.3f} to {macro['candidate']:.3f} "
                          f"(by {-change:.3f}, tolerance {tolerance})")
    return table, macro, reasons


def chance_reasons(candidate, records, *, margin=SIGNAL_MARGIN, min_positives=5):
    """Why a candidate is no better than chance, or []: on its own cross-validated decisions
    over its reviewed training sentences (the card's ``reviewed_cv``), and on the held-out
    sentences of the gate, its macro-F1 must beat the F1 of blind predictions at the same
    rates (`slant.model.metrics.chance_f1`) by `margin`. Labels that do not belong to
    their sentences (shuffled, misaligned, another taxonomy's) fail this."""
    reasons = []
    cv = candidate.card.get("reviewed_cv") or {}
    checked = [c for c in cv.get("categories", {}).values() if c["positives"] >= min_positives]
    if checked and cv["macro_f1"] - cv["macro_chance_f1"] < margin:
        reasons.append(f"cross-validated on its {cv['sentences']} reviewed training sentences, the candidate scores macro-F1 "
                       f"{cv['macro_f1']:.3f} where blind guessing at the same rates scores {cv['macro_chance_f1']:.3f}: "
                       "the reviewed labels look unrelated to their sentences (shuffled, misaligned or from another "
                       "taxonomy?); check them, e.g. with `slant agreement` or `slant evaluate`")
    ids = list(candidate.taxonomy.ids)
    gold = np.array([[cid in set(r["labels"]) for cid in ids] for r in records], dtype=bool)
    pred = _predict(candidate, [r["text"] for r in records])
    cols = [j for j in range(len(ids)) if gold[:, j].sum() >= min_positives]
    if cols:
        f1 = float(np.mean([binary_scores(pred[:, j], gold[:, j])["f1"] for j in cols]))
        chance = float(np.mean([chance_f1(pred[:, j], gold[:, j]) for j in cols]))
        if f1 - chance < margin:
            reasons.append(f"on the {len(records)} held-out reviewed sentences the candidate scores macro-F1 {f1:.3f} where "
                           f"blind guessing at the same rates scores {chance:.3f} (needs {margin} more): near chance")
    return reasons


def _trained_docs(registry, version):
    """Document ids a version (None = the default seed model) trained on."""
    seed_docs = {f"base:{r.get('doc_id', r['id'])}" for r in read_seed()[0]}
    if version is None:
        return seed_docs
    docs = {f"rev:{r['doc_id']}" for r in registry.records(version, "train")}
    if registry.card(version)["training_data"].get("base") == "seed":
        docs |= seed_docs
    return docs


def gate_records(registry, version, current_version):
    """The reviewed sentences both models are judged on (see the module docstring): the
    frozen evaluation set, i.e. every registered version's held-out sentences, each with
    the labels it had when it was first held out (oldest version first), then the
    candidate's new ones; minus every document either model trained on."""
    held = {}
    for info in registry.versions():
        if info.version != version:
            for r in registry.records(info.version, "heldout"):
                held.setdefault(str(r["id"]), r)
    for r in registry.records(version, "heldout"):
        held.setdefault(str(r["id"]), r)
    seen = _trained_docs(registry, version) | _trained_docs(registry, current_version)
    return [r for r in held.values() if f"rev:{r['doc_id']}" not in seen and f"base:{r['doc_id']}" not in seen]


def promote(registry, version, *, taxonomy, force=False, tolerance=TOLERANCE, category_tolerance=CATEGORY_TOLERANCE,
            min_positives=MIN_POSITIVES, cache_dir=None):
    """Run the gate for `version` ("latest" allowed) and promote it if it passes (or `force`).

    Returns a `GateResult`; a refusal is ``promoted=False`` with its `reasons` (the CLI
    turns it into an error). Promoting the current version again changes nothing.
    """
    if tolerance < 0 or category_tolerance < 0:
        raise ModelError(f"--tolerance {tolerance}: tolerances are F1 differences of 0 or more, e.g. 0.01")
    version = registry.resolve(version)
    current_version = registry.current_version()
    current = registry.current_model(taxonomy, cache_dir=cache_dir)
    if version == current_version:
        return GateResult(version=version, current=version, promoted=True, note=f"{version} is already the current model")
    candidate = registry.load(version, taxonomy)
    records = gate_records(registry, version, current_version)
    result = GateResult(version=version, current=current.model_version, promoted=False, forced=force,
                        sentences=len(records), documents=len({str(r["doc_id"]) for r in records}))
    if records:
        result.table, result.macro, result.reasons = compare_models(
            candidate, current, records, tolerance=tolerance, category_tolerance=category_tolerance,
            min_positives=min_positives)
        result.reasons += chance_reasons(candidate, records)
    else:
        result.reasons = ["no held-out reviewed sentence that neither model trained on; train with a held-out share "
                          "(--holdout, default 0.2) on reviewed data from at least two documents"]
    if result.passed or force:
        summary = {"passed": result.passed, "macro": result.macro, "sentences": result.sentences, "reasons": result.reasons}
        registry.set_current(version, forced=force and not result.passed, gate=summary)
        result.promoted = True
    return result


def rollback(registry):
    """Undo the last promotion; returns the version now current (None = the default seed model)."""
    return registry.pop_current()
