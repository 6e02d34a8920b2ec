"""Which corpus sentences go to Label Studio: the review sample and the audit sample.

The population is the corpus rows of kind title or body (the sentences `slant push`
pushes), read from a `slant analyze --out` dataset. Random choices are made by a hash of
``(seed, purpose, slant_id)``: every sentence gets a fixed pseudo-random key, and a random
sample of n is the n smallest keys (a simple random sample without replacement). The
same seed, corpus and n always give the same sentences, whatever the partitioning, so a
rerun pushes nothing new; a larger uniform sample keeps the smaller one and adds to it.

Designs:

- review ``uncertainty``: the n least certain sentences (the review queue's order);
- review ``random``: a simple random sample of n;
- review ``stratified``: a random sample per value of `by`, allocated as for the audit;
- audit ``uniform`` (no `by`): a simple random sample of n, inclusion probability n / N;
- audit ``stratified`` (`by`): per stratum h, n_h proportional to its size N_h (largest
  remainders; at least 1 per stratum while n allows), inclusion probability n_h / N_h.

Inclusion probabilities are computed here by hand: they are one division per stratum, and
`slant measure` reads them from the task data (ppi-python takes them as weights).
"""

import hashlib
import math
from dataclasses import dataclass, field

from slant.errors import InputError
from slant.studio.lsformat import PUSHED_KINDS

__all__ = ["MISSING", "STRATEGIES", "Sample", "allocate", "choose"]

STRATEGIES = ("uncertainty", "random", "stratified")
MISSING = "(missing)"


def _key(seed, purpose, sid):
    return int.from_bytes(hashlib.sha256(f"{seed}\x1f{purpose}\x1f{sid}".encode()).digest()[:8], "big")


def allocate(n, sizes):
    """``{stratum: n_h}``: `n` split in proportion to `sizes` (``{stratum: N_h}``) by largest
    remainders, then moved so that every stratum gets at least 1 while another has 2 or more."""
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    quota = {h: n * size / total for h, size in sizes.items()}
    alloc = {h: math.floor(q) for h, q in quota.items()}
    for h in sorted(sizes, key=lambda h: (-(quota[h] - alloc[h]), h))[: n - sum(alloc.values())]:
        alloc[h] += 1
    for h in sorted((h for h in sizes if alloc[h] == 0 and sizes[h] > 0), key=lambda h: (-sizes[h], h)):
        donors = [d for d in alloc if alloc[d] >= 2]
        if not donors:
            break
        donor = max(donors, key=lambda d: (alloc[d] - quota[d], alloc[d], d))
        alloc[donor] -= 1
        alloc[h] += 1
    return alloc


@dataclass
class Sample:
    """Chosen slant ids with the task-data fields each gets, and how they were chosen."""

    purpose: str                                   # "review" or "audit"
    design: str                                    # uncertainty | random | stratified | uniform
    population: int = 0
    chosen: dict = field(default_factory=dict)     # slant_id -> extra task data
    strata: dict = field(default_factory=dict)     # stratum -> (n_h, N_h)

    def summary(self):
        what = "audit" if self.purpose == "audit" else "review"
        s = f"{what} sample ({self.design}): {len(self.chosen):,} of {self.population:,} sentences"
        if self.strata:
            s += "; per stratum: " + ", ".join(f"{h} {n}/{size}" for h, (n, size) in sorted(self.strata.items())[:12])
            s += " ..." if len(self.strata) > 12 else ""
        return s


def _stratum(value):
    return MISSING if value is None else str(value)


def _random_n(rows, n, seed, purpose):
    return sorted(rows, key=lambda r: _key(seed, purpose, r["slant_id"]))[:n]


def choose(rows, *, n, purpose, strategy="random", by=None, seed=0):
    """A `Sample` of `n` from `rows` (dicts with slant_id, kind, uncertainty and `by`).

    ``purpose="audit"`` marks each chosen sentence with ``slant_audit``, ``slant_audit_p``,
    ``slant_audit_stratum`` and ``slant_audit_design``; review samples carry
    ``uncertainty`` and ``selection``.
    """
    if not isinstance(n, int) or n < 1:
        raise InputError(f"--{'audit' if purpose == 'audit' else 'sample'} {n}: choose at least 1 sentence")
    if purpose == "review" and strategy not in STRATEGIES:
        raise InputError(f"--strategy {strategy!r} with --from: use one of {', '.join(STRATEGIES)}")
    if purpose == "review" and strategy == "stratified" and not by:
        raise InputError("--strategy stratified needs --by FIELD (e.g. --by outlet)")
    if purpose == "review" and strategy != "stratified" and by:
        raise InputError(f"--by goes with --strategy stratified (or --audit); drop it for --strategy {strategy}")
    pool = {}
    for r in rows:  # one row per sentence, even when a corpus holds the same document twice
        if r["kind"] in PUSHED_KINDS:
            pool.setdefault(r["slant_id"], r)
    pool = list(pool.values())
    stratified = bool(by) and (purpose == "audit" or strategy == "stratified")
    design = ("stratified" if stratified else "uniform") if purpose == "audit" else strategy
    sample = Sample(purpose, design, population=len(pool))
    if purpose == "review" and strategy == "uncertainty":
        picked = sorted(pool, key=lambda r: (-float(r["uncertainty"]), r["slant_id"]))[:n]
        sample.chosen = {r["slant_id"]: {"uncertainty": round(float(r["uncertainty"]), 4), "selection": "uncertainty"}
                         for r in picked}
        return sample
    groups = {}
    for r in pool:
        groups.setdefault(_stratum(r.get(by)) if stratified else "", []).append(r)
    alloc = allocate(n, {h: len(g) for h, g in groups.items()})
    for h, g in sorted(groups.items()):
        if stratified:
            sample.strata[h] = (alloc[h], len(g))
        p = alloc[h] / len(g)
        for r in _random_n(g, alloc[h], seed, purpose):
            if purpose == "audit":
                sample.chosen[r["slant_id"]] = {"slant_audit": True, "slant_audit_p": p, "slant_audit_stratum": h,
                                                "slant_audit_design": design}
            else:
                sample.chosen[r["slant_id"]] = {"uncertainty": round(float(r["uncertainty"]), 4), "selection": design}
    return sample
