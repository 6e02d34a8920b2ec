"""Open a multiply-coded project's disagreements for an adjudicator (`slant adjudicate`).

A disagreement is a task with two or more coders' annotations whose category sets differ
(on any category). Each such task gets three data fields, written through Label Studio's
task API (its annotations stay as they are):

- ``slant_adjudicate``: ``"open"``, what the Data Manager tab "Adjudication — coders
  disagree" filters on;
- ``slant_coders``: every coder's choices side by side (``ana@x: loaded_language | bo@y:
  none``), a column of that tab;
- ``slant_adjudicator``: the user id of the adjudicator, whose newest annotation of the task
  becomes its label in ``slant pull --policy adjudicated`` (see `slant.loop.pull`).

A rerun changes only tasks whose coders or adjudicator changed: nothing is written twice.

>>> summary = open_adjudication(studio, project="Harbor", taxonomy=tax)   # doctest: +SKIP
>>> print(summary.format())                                              # doctest: +SKIP
"""

from dataclasses import dataclass

from slant.errors import StudioError
from slant.loop.pull import ADJUDICATOR_FIELD, pull_records
from slant.studio.projects import resolve_project
from slant.studio.team import ensure_adjudication_view, list_members, update_task_data

__all__ = ["CODERS_FIELD", "FLAG_FIELD", "OPEN", "AdjudicationSummary", "coder_summary", "disagreements",
           "open_adjudication"]

FLAG_FIELD = "slant_adjudicate"
CODERS_FIELD = "slant_coders"
OPEN = "open"


def disagreements(records):
    """The records with at least two coders whose category sets differ."""
    return [r for r in records
            if len(r.get("annotations") or ()) >= 2 and len({frozenset(a["labels"]) for a in r["annotations"]}) > 1]


def coder_summary(annotations):
    """``"ana@x: a, b | bo@y: none"``: every coder's categories, in annotation order."""
    return " | ".join(f"{a['annotator']}: {', '.join(sorted(a['labels'])) or 'none'}" for a in annotations)


@dataclass
class AdjudicationSummary:
    project: str
    tasks: int
    multi_coded: int
    disagreements: int
    updated: int
    adjudicated: int
    adjudicator: str
    url: str

    def format(self):
        return (f"project {self.project!r}: {self.disagreements} of {self.multi_coded} multiply-coded tasks "
                f"(of {self.tasks}) have coders who differ; {self.updated} tasks updated, {self.adjudicated} "
                f"already adjudicated\n  adjudicator: {self.adjudicator}; open the tab at {self.url}\n"
                f"  when the adjudicator is done: slant pull --project {self.project!r} --policy adjudicated "
                "--out reviewed.jsonl")


def _adjudicator(studio, email):
    if email is None:
        uid, me = studio.whoami()
        return uid, me
    for m in list_members(studio):
        if m.email.lower() == email.lower():
            return m.id, m.email
    raise StudioError(f"--adjudicator {email!r} has no account on {studio.url}; create it with "
                      f"`slant team add {email}` or pass one of `slant team list`")


def open_adjudication(studio, *, project, taxonomy, adjudicator=None):
    """Flag the disagreements of `project` for `adjudicator` (an email; default: the token's user)."""
    proj = resolve_project(studio, project)
    judge_id, judge = _adjudicator(studio, adjudicator)
    records, _ = pull_records(studio, project=proj.id, taxonomy=taxonomy, policy="majority")
    multi = [r for r in records if len(r["annotations"]) >= 2]
    found = disagreements(records)
    updated = 0
    for r in found:
        wanted = {**r["data"], "text": r["text"], FLAG_FIELD: OPEN, CODERS_FIELD: coder_summary(r["annotations"]),
                  ADJUDICATOR_FIELD: judge_id}
        if {k: r["data"].get(k) for k in (FLAG_FIELD, CODERS_FIELD, ADJUDICATOR_FIELD)} != {
                k: wanted[k] for k in (FLAG_FIELD, CODERS_FIELD, ADJUDICATOR_FIELD)}:
            update_task_data(studio, r["task_id"], wanted)
            updated += 1
    view = ensure_adjudication_view(studio, proj, FLAG_FIELD, OPEN)
    return AdjudicationSummary(project=proj.title, tasks=len(records), multi_coded=len(multi),
                               disagreements=len(found), updated=updated,
                               adjudicated=sum(1 for r in found if r.get("adjudication")), adjudicator=judge,
                               url=studio.project_url(proj, view))
