"""Pull reviewed labels out of Label Studio: export snapshot -> adjudicated records.

`slant.studio.export` takes a project's full JSON export and streams it back task by
task; `reviewed_records` turns tasks into reviewed-label records
(schemas/reviewed.schema.json), reading each annotation with `slant.studio.lsformat.read_result`.

Adjudication policies (the record's ``policy`` names the one that produced its labels):

- ``majority``: a label wins when more than half of the task's non-cancelled annotations
  carry it; a tie (exactly half) does not include it.
- ``unanimous``: a label wins when every annotation carries it; when the annotators'
  label sets differ the record is flagged ``adjudicated: false`` (no unanimous decision)
  and does not train.
- ``ground-truth``: the newest annotation flagged ground truth wins; a task with none
  falls back to ``majority`` (and its record says ``majority``).
- ``any``: the union of all annotations.
- ``adjudicated``: the newest annotation of the task's adjudicator (the user named in the
  task's ``slant_adjudicator`` field by `slant adjudicate`) wins; a task without one falls
  back to ``majority``. Under every policy the adjudicator's annotations of such a task go
  to the record's ``adjudication`` field, not ``annotations``: they are no coder's vote
  and count in no agreement figure.

Spans are adjudicated the same way, a span being its ``(start, end, label)``. Cancelled
(skipped) annotations are counted in ``cancelled`` and never used as labels. Choices the
taxonomy does not know (taxonomy drift) are kept by name in ``unknown_labels`` and
counted in the summary, never dropped silently. A task of an audit sample (task data
``slant_audit``) keeps its mark as ``audit: {p, stratum}`` for `slant measure`. Tasks with fewer than `min_annotators`
non-cancelled annotations are skipped and counted; the default 0 writes every task, so
tasks nobody annotated appear with ``annotations: []`` and ``adjudicated: false``
(`slant train` leaves them out and says so).

>>> summary = pull(studio, project="Harbor review", out="reviewed.jsonl", taxonomy=tax)  # doctest: +SKIP
>>> print(summary.format())                                                            # doctest: +SKIP
"""

import difflib
import json
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from slant._files import atomic_write
from slant._words import counted
from slant.errors import DataError, InputError, StudioError
from slant.studio.export import export_snapshot, iter_export
from slant.studio.lsformat import label_lookup, read_result
from slant.studio.projects import project_list, resolve_project, user_emails

__all__ = ["POLICIES", "PullSummary", "adjudicate", "audit_mark", "agreement_from_project", "pull", "pull_export", "pull_records",
           "reviewed_records"]

POLICIES = ("majority", "unanimous", "ground-truth", "any", "adjudicated")
ADJUDICATOR_FIELD = "slant_adjudicator"  # task data: the user id whose annotation adjudicates
_TASK_FIELDS = ("doc_id", "sentence_index", "start", "end")


# --- one task -> one record -------------------------------------------------------------

def _annotator(a, emails):
    """``(annotator, user id)``: the email when known (export object or `emails`), else the id."""
    who = a.get("completed_by")
    if isinstance(who, dict):
        uid = who.get("id")
        return (who.get("email") or emails.get(uid) or (uid if uid is not None else "unknown")), uid
    return (emails.get(who) or (who if who is not None else "unknown")), who


def adjudicate(label_sets, policy, ground_truth=None):
    """``(labels, policy used, decided)`` for one task's annotations.

    `label_sets` are the annotations' sets of hashable labels; `ground_truth` the index
    of the annotation flagged ground truth (or None). See the module docstring.
    """
    n = len(label_sets)
    if n == 0:
        return [], policy, False
    counts = Counter(x for s in label_sets for x in set(s))
    if policy == "ground-truth":
        if ground_truth is not None:
            return sorted(label_sets[ground_truth]), "ground-truth", True
        policy = "majority"
    if policy == "adjudicated":  # reviewed_records applies the adjudicator's answer where there is one
        policy = "majority"
    if policy == "majority":
        return sorted(x for x, c in counts.items() if 2 * c > n), "majority", True
    if policy == "unanimous":
        return sorted(x for x, c in counts.items() if c == n), "unanimous", all(c == n for c in counts.values())
    if policy == "any":
        return sorted(counts), "any", True
    raise InputError(f"policy {policy!r}: choose one of {', '.join(POLICIES)}")


def audit_mark(data):
    """``{"p", "stratum"}`` for a task of an audit sample (task data ``slant_audit``), else None.

    `p` is the sentence's inclusion probability (None when the task does not say; `slant
    measure` then asks for ``--assume-uniform``) and `stratum` the value it was drawn within.
    """
    if not data.get("slant_audit"):
        return None
    p = data.get("slant_audit_p")
    try:
        p = float(p) if p is not None and not isinstance(p, bool) else None
    except (TypeError, ValueError):
        p = None
    return {"p": p if p is not None and 0 < p <= 1 else None, "stratum": str(data.get("slant_audit_stratum") or "")}


def _prediction(task, lookup, model_version):
    preds = [p for p in task.get("predictions") or () if isinstance(p, dict)]
    if not preds:
        return None
    chosen = [p for p in preds if model_version and p.get("model_version") == model_version]
    p = chosen[-1] if chosen else max(preds, key=lambda p: (str(p.get("created_at") or ""), p.get("id") or 0))
    read = read_result(p.get("result"), lookup)
    return {"labels": read.labels, "scores": read.scores, "model_version": p.get("model_version")}


@dataclass
class PullSummary:
    """What a pull found: counts by outcome, policy and label, and unknown label names."""

    policy: str = "majority"
    min_annotators: int = 0
    tasks: int = 0
    written: int = 0
    skipped: int = 0           # fewer than min_annotators non-cancelled annotations
    cancelled: int = 0
    annotations: int = 0
    annotated_tasks: int = 0
    undecided: int = 0         # adjudicated: false (no annotation, or no unanimous decision)
    annotators: set = field(default_factory=set)
    policies: Counter = field(default_factory=Counter)
    labels: Counter = field(default_factory=Counter)
    unknown: Counter = field(default_factory=Counter)
    project: str = ""
    out: str = ""

    def to_dict(self):
        return {"tasks": self.tasks, "written": self.written, "skipped": self.skipped, "cancelled": self.cancelled,
                "annotations": self.annotations, "annotated_tasks": self.annotated_tasks, "undecided": self.undecided,
                "annotators": len(self.annotators), "policies": dict(self.policies), "labels": dict(self.labels),
                "unknown_labels": dict(self.unknown)}

    def format(self):
        where = f"project {self.project!r}" if self.project else "the export"
        lines = [f"pulled {counted(self.tasks, 'task')} from {where}: wrote {counted(self.written, 'record')}"
                 + (f" to {self.out}" if self.out else "")
                 + f"; {self.annotated_tasks} annotated ({counted(self.annotations, 'annotation')} by {counted(len(self.annotators), 'annotator')}), "
                 f"{counted(self.cancelled, 'cancelled annotation')} not used",
                 f"  skipped {counted(self.skipped, 'task')} with fewer than {counted(self.min_annotators, 'annotation')}"
                 if self.min_annotators else f"  {counted(self.tasks - self.annotated_tasks, 'task')} without annotations written "
                 "with adjudicated: false (use --min-annotators 1 to skip them)",
                 "  policy (--policy " + self.policy + "): "
                 + (", ".join(f"{k} {v}" for k, v in self.policies.most_common()) or "-")
                 + (f"; {counted(self.undecided, 'record')} without a decision" if self.undecided else ""),
                 "  labels: " + (", ".join(f"{k} {v}" for k, v in self.labels.most_common()) or "none")]
        if self.unknown:
            names = ", ".join(f"{k!r} ({v})" for k, v in self.unknown.most_common())
            lines.append(f"  labels unknown to the taxonomy (taxonomy drift): {names}; kept in each record's "
                         "unknown_labels and not trained on: pass --taxonomy FILE with the project's taxonomy "
                         "or add a migration")
        return "\n".join(lines)


def reviewed_records(tasks, *, taxonomy, policy="majority", min_annotators=0, model_version=None, summary=None,
                     emails=None):
    """Reviewed-label records from Label Studio export tasks (a generator).

    `summary` (a `PullSummary`) is updated as records are produced; `emails` maps user
    ids to emails for exports that name annotators by id only (snapshots do).
    """
    emails = emails or {}
    if policy not in POLICIES:
        raise InputError(f"--policy {policy!r}: choose one of {', '.join(POLICIES)}")
    if not isinstance(min_annotators, int) or min_annotators < 0:
        raise InputError(f"--min-annotators {min_annotators!r}: must be 0 or more (0 writes every task)")
    s = summary if summary is not None else PullSummary(policy=policy, min_annotators=min_annotators)
    tax_meta = {"id": taxonomy.id, "version": taxonomy.version}
    lookup = label_lookup(taxonomy)
    for task in tasks:
        s.tasks += 1
        data = task.get("data") if isinstance(task.get("data"), dict) else {}
        text, task_id = data.get("text"), task.get("id")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"task {task_id}: no text in its data; slant pulls projects made by `slant push` "
                            "(task data with a 'text' field)")
        anns, cancelled, gt, unknown, judged = [], 0, None, Counter(), []
        judge = data.get(ADJUDICATOR_FIELD)
        for a in task.get("annotations") or ():
            if not isinstance(a, dict):
                continue
            if a.get("was_cancelled"):
                cancelled += 1
                continue
            read = read_result(a.get("result"), lookup)
            unknown.update(read.unknown)
            name, uid = _annotator(a, emails)
            ann = {"annotator": name, "annotator_id": uid, "labels": read.labels, "spans": read.spans,
                   "ground_truth": bool(a.get("ground_truth")), "note": read.note,
                   "created_at": a.get("created_at"), "lead_time": a.get("lead_time")}
            if read.unknown:
                ann["unknown_labels"] = sorted(set(read.unknown))
            if judge is not None and str(uid) == str(judge):
                judged.append(ann)
                continue
            if ann["ground_truth"]:  # the newest ground truth wins
                at = str(a.get("updated_at") or a.get("created_at") or "")
                if gt is None or at >= gt[0]:
                    gt = (at, len(anns))
            anns.append(ann)
        s.cancelled += cancelled
        if len(anns) < min_annotators:
            s.skipped += 1
            continue
        gt = None if gt is None else gt[1]
        labels, used, decided = adjudicate([set(a["labels"]) for a in anns], policy, gt)
        keys = [{(x["start"], x["end"], x["label"]) for x in a["spans"]} for a in anns]
        span_keys, _, _ = adjudicate(keys, policy, gt)
        final = max(judged, key=lambda a: str(a.get("created_at") or "")) if judged else None
        if policy == "adjudicated" and final is not None:
            labels, used, decided = sorted(final["labels"]), "adjudicated", True
            span_keys = sorted({(x["start"], x["end"], x["label"]) for x in final["spans"]})
        texts = {(x["start"], x["end"], x["label"]): x.get("text") for a in [*anns, *judged] for x in a["spans"]}
        slant_id = data.get("slant_id")
        record = {
            "id": str(slant_id) if slant_id else f"task-{task_id}",
            "doc_id": data.get("doc_id") if data.get("doc_id") is not None else f"task-{task_id}",
            "text": text, "labels": labels,
            "spans": [dict({"start": a, "end": b, "label": c}, **({"text": texts[(a, b, c)]} if texts.get((a, b, c)) else {}))
                      for a, b, c in span_keys],
            "annotations": anns, "policy": used, "adjudicated": decided and bool(anns or final),
            "source": "label-studio", "cancelled": cancelled,
            "prediction": _prediction(task, lookup, model_version),
            "task_id": task_id, "project_id": task.get("project"),
            **{k: data.get(k) for k in _TASK_FIELDS[1:]},
            "data": {k: v for k, v in data.items() if k != "text"},
            "taxonomy": tax_meta,
        }
        record["model_version"] = (record["prediction"] or {}).get("model_version")
        if judged:
            record["adjudication"] = final
        if (mark := audit_mark(data)) is not None:
            record["audit"] = mark
        if unknown:
            record["unknown_labels"] = sorted(unknown)
            s.unknown.update(unknown)
        s.written += 1
        s.annotations += len(anns)
        s.annotated_tasks += bool(anns)
        s.undecided += not record["adjudicated"]
        s.annotators.update(str(a["annotator"]) for a in anns)
        if anns or final:
            s.policies[used] += 1
            s.labels.update(labels)
        yield record


# --- files and projects --------------------------------------------------------------------

def _write_jsonl(records, out, check=None):
    """Write JSON lines through a temporary file beside `out`, renamed over it at the end;
    `check()` runs before the rename, so when it raises `out` is left as it was."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False))
            fh.write("\n")
        if check is not None:
            check()


def pull_export(path, out, *, taxonomy, policy="majority", min_annotators=0, model_version=None, project="",
                emails=None):
    """A Label Studio JSON export file -> reviewed-label JSONL at `out`; returns a `PullSummary`.

    Nothing is written when the export has no tasks or no annotations.
    """
    s = PullSummary(policy=policy, min_annotators=min_annotators, project=project, out=str(out))
    _write_jsonl(reviewed_records(iter_export(path), taxonomy=taxonomy, policy=policy, min_annotators=min_annotators,
                                   model_version=model_version, summary=s, emails=emails), out,
                 check=lambda: _check_summary(s, project or str(path)))
    return s


def _check_summary(s, where):
    if s.tasks == 0:
        raise DataError(f"{where}: no tasks; add sentences with `slant push FILE --project NAME` and annotate them")
    if s.annotations == 0:
        raise DataError(f"{where}: {s.tasks} tasks but no annotations"
                        + (f" ({s.cancelled} cancelled)" if s.cancelled else "")
                        + "; annotate tasks in Label Studio, then pull again")


def _project(studio, name):
    try:
        return resolve_project(studio, name)
    except StudioError:
        if str(name).isdigit():
            projects = project_list(studio)
            listed = ", ".join(f"{pid} {title!r}" for pid, title in projects[:10])
            raise StudioError(f"no project with id {name} on {studio.url}; "
                              + (f"projects there: {listed}" if projects else "the server has no projects")
                              + "; pass --project with one of these ids or titles") from None
        titles = [title for _, title in project_list(studio)]
        close = difflib.get_close_matches(str(name), titles, n=5, cutoff=0.5) or [
            t for t in titles if str(name).lower() in t.lower()][:5]
        hint = f"similar names: {', '.join(repr(t) for t in close)}" if close else (
            f"projects there: {', '.join(repr(t) for t in titles[:10])}" if titles else "the server has no projects")
        raise StudioError(f"no project called {name!r} on {studio.url}; {hint}; pass --project with the exact title "
                          "or the project id") from None


def _snapshot(studio, project, workdir):
    proj = _project(studio, project)
    if proj.task_count == 0:
        raise DataError(f"project {proj.title!r} (id {proj.id}) has no tasks; add sentences with "
                        f"`slant push FILE --project {proj.title!r}`, annotate them, then pull")
    path = Path(workdir) / f"export-{proj.id}.json"
    export_snapshot(studio, proj, path)
    return proj, path, user_emails(studio)


def pull(studio, *, project, out, taxonomy, policy="majority", min_annotators=0):
    """Export `project` (title or id) from Label Studio and write reviewed records to `out`.

    The snapshot goes to a temporary file and is read back streamed; returns a `PullSummary`.
    """
    with tempfile.TemporaryDirectory(prefix="slant-pull-") as tmp:
        proj, path, emails = _snapshot(studio, project, tmp)
        return pull_export(path, out, taxonomy=taxonomy, policy=policy, min_annotators=min_annotators,
                           model_version=proj.model_version or None, project=proj.title, emails=emails)


def pull_records(studio, *, project, taxonomy, policy="majority", min_annotators=0):
    """``(records, summary)``: `pull` into memory (for `slant agreement --project`)."""
    with tempfile.TemporaryDirectory(prefix="slant-pull-") as tmp:
        proj, path, emails = _snapshot(studio, project, tmp)
        s = PullSummary(policy=policy, min_annotators=min_annotators, project=proj.title)
        records = list(reviewed_records(iter_export(path), taxonomy=taxonomy, policy=policy,
                                        min_annotators=min_annotators, model_version=proj.model_version or None,
                                        summary=s, emails=emails))
    _check_summary(s, f"project {proj.title!r}")
    return records, s


def agreement_from_project(studio, *, project, taxonomy, policy="majority", by=None, bootstrap=1000, seed=0,
                           confidence=0.95):
    """`agreement.compute_agreement` over a project pulled into memory; ``(report, summary)``.

    Choices the taxonomy does not know stop it with a clear message: agreement over a
    subset of what annotators chose would be wrong without saying so.
    """
    from slant.agreement.core import compute_agreement

    records, s = pull_records(studio, project=project, taxonomy=taxonomy, policy=policy)
    if s.unknown:
        names = ", ".join(f"{k!r} ({v})" for k, v in s.unknown.most_common(10))
        raise DataError(f"project {s.project!r}: labels unknown to taxonomy {taxonomy.id} {taxonomy.version}: {names}; "
                        "the project was labelled with another taxonomy (or a renamed category): pass --taxonomy FILE "
                        "with the taxonomy the project used")
    report = compute_agreement(records, taxonomy, by=by, bootstrap=bootstrap, seed=seed, confidence=confidence,
                               source=f"project {s.project!r}",
                               where=lambda i: f"project {s.project!r}: task {records[i].get('task_id')}")
    return report, s
