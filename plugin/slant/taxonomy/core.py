"""Taxonomies: load, validate, migrate (rendering them is `slant.taxonomy.config`).

>>> tax = load_taxonomy()            # the default, labels/rhetoric.json
>>> tax.ids[:2]
('loaded_language', 'name_calling')
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from jsonschema import Draft202012Validator

from slant._files import default_taxonomy_path, schema
from slant.errors import TaxonomyError

__all__ = [
    "Category",
    "Problem",
    "Taxonomy",
    "check_taxonomy",
    "load_taxonomy",
    "read_json_file",
    "taxonomy_from_data",
    "CHOICES_NAME",
    "SPANS_NAME",
    "NOTE_NAME",
    "TEXT_NAME",
]

# Control and object names in the generated labeling config (config.py); the studio
# and the predictions use the same names.
TEXT_NAME = "text"
CHOICES_NAME = "categories"
SPANS_NAME = "spans"
NOTE_NAME = "note"


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    group: str
    description: str
    level: str
    positive: tuple = ()
    negative: tuple = ()
    hotkey: str = None
    color: str = None
    mappings: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def sentence_level(self):
        return self.level in ("sentence", "both")

    @property
    def span_level(self):
        return self.level in ("span", "both")


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self):
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Taxonomy:
    id: str
    version: str
    title: str
    groups: tuple
    categories: tuple
    migrations: tuple = ()
    source: str = "<memory>"
    raw: dict = field(default_factory=dict, hash=False, compare=False, repr=False)

    @cached_property
    def ids(self):
        return tuple(c.id for c in self.categories)

    @cached_property
    def sentence_ids(self):
        return tuple(c.id for c in self.categories if c.sentence_level)

    @cached_property
    def span_ids(self):
        return tuple(c.id for c in self.categories if c.span_level)

    @cached_property
    def id_sets(self):
        """``(all ids, sentence-level ids, span-level ids)`` as frozensets, for fast membership tests."""
        return frozenset(self.ids), frozenset(self.sentence_ids), frozenset(self.span_ids)

    @cached_property
    def _by_id(self):
        return {c.id: c for c in self.categories}

    def category(self, category_id):
        found = self._by_id.get(category_id)
        if found is not None:
            return found
        raise TaxonomyError(
            f"taxonomy {self.id} {self.version} has no category {category_id!r}; "
            f"known ids: {', '.join(self.ids)}"
        )

    def id_for_name(self, name):
        """The category id behind a Label Studio choice or label value (its display name)."""
        for c in self.categories:
            if c.name == name or c.id == name:
                return c.id
        return None

    @cached_property
    def hash(self):
        """Hash of what a model depends on: taxonomy id and the category ids and levels.

        Descriptions, names and colours can change without invalidating a model.
        """
        key = json.dumps([self.id, [[c.id, c.level] for c in self.categories]])
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def migrate_labels(self, labels):
        """Map label ids of earlier versions to this version.

        Returns ``(migrated, unknown)``: ids this taxonomy knows (in taxonomy order)
        and the ids nothing maps. A split maps an old id to all of its successors,
        which a reviewer should narrow down; retired ids are dropped.
        """
        known, unknown, retired = set(), [], set()
        mapping = {}
        for m in self.migrations:
            olds = m["from"] if isinstance(m["from"], list) else [m["from"]]
            news = m.get("to", [])
            news = news if isinstance(news, list) else [news]
            for old in olds:
                if m["op"] == "retire":
                    retired.add(old)
                else:
                    mapping[old] = news
        ids = set(self.ids)
        for label in labels:
            if label in ids:
                known.add(label)
            elif label in mapping:
                known.update(mapping[label])
            elif label not in retired:
                unknown.append(label)
        return [i for i in self.ids if i in known], unknown


def _version_tuple(version):
    core = version.split("+")[0].split("-")[0]
    return tuple(int(p) for p in core.split("."))


def _json_path(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


_FIXES = {
    "required": "add the missing field",
    "additionalProperties": "remove it or fix its spelling",
    "pattern": "use the documented format",
    "enum": "use one of the allowed values",
    "type": "change the value's type",
    "minItems": "add at least one entry",
    "minLength": "write a longer value",
}


def _snake_hint(value):
    if not isinstance(value, str):
        return ""
    suggestion = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    return f", e.g. {suggestion!r}" if suggestion else ""


def _schema_problems(data):
    validator = Draft202012Validator(schema("taxonomy"))
    problems = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = _json_path(list(err.absolute_path))
        if err.validator == "pattern" and path.endswith(".id") or path.endswith(".group") and err.validator == "pattern":
            msg = f"{err.instance!r} must be snake_case{_snake_hint(err.instance)}"
        elif err.validator == "pattern" and path == "version":
            msg = f"{err.instance!r} must be a semantic version such as '1.0.0'"
        elif err.validator == "not" and isinstance(err.instance, str):
            bad = next((ch for ch in err.instance if ord(ch) < 32 or 127 <= ord(ch) < 160 or 0xD800 <= ord(ch) < 0xE000), "?")
            where = "a name" if path.endswith("name") else "this text"
            msg = (f"{err.instance!r} holds the control character U+{ord(bad):04X}, which {where} may not contain "
                   "(the labeling config is XML, and Label Studio refuses it); remove it")
        elif err.validator == "required":
            msg = f"{err.message}; {_FIXES['required']}"
        else:
            msg = f"{err.message}; {_FIXES.get(err.validator, 'see schemas/taxonomy.schema.json')}"
        problems.append(Problem(path, msg))
    return problems


def _semantic_problems(data):
    """Checks a schema cannot express: uniqueness, references, version order."""
    problems = []
    groups = [g.get("id") for g in data.get("groups", []) if isinstance(g, dict)]
    seen_groups = set()
    for i, g in enumerate(groups):
        if g in seen_groups:
            problems.append(Problem(f"groups[{i}].id", f"duplicate group id {g!r}; give each group its own id"))
        seen_groups.add(g)
    seen_ids, seen_names, seen_keys = {}, {}, {}
    cats = [c for c in data.get("categories", []) if isinstance(c, dict)]
    for i, c in enumerate(cats):
        cid, name, key = c.get("id"), c.get("name"), c.get("hotkey")
        if cid in seen_ids:
            problems.append(Problem(f"categories[{i}].id", f"duplicate id {cid!r} (also categories[{seen_ids[cid]}]); rename one of them"))
        else:
            seen_ids[cid] = i
        if name in seen_names:
            problems.append(Problem(f"categories[{i}].name", f"duplicate name {name!r} (also categories[{seen_names[name]}]); annotators could not tell them apart"))
        else:
            seen_names[name] = i
        if isinstance(name, str) and name.startswith("$"):
            problems.append(Problem(f"categories[{i}].name", f"{name!r} starts with '$', which Label Studio reads as a data variable; drop the '$'"))
        if key is not None:
            if key in seen_keys:
                problems.append(Problem(f"categories[{i}].hotkey", f"duplicate hotkey {key!r} (also categories[{seen_keys[key]}]); pick an unused key or remove it"))
            else:
                seen_keys[key] = i
        if c.get("group") is not None and c.get("group") not in seen_groups:
            problems.append(Problem(f"categories[{i}].group", f"unknown group {c.get('group')!r}; use one of {sorted(g for g in seen_groups if g)} or add it to groups"))
    version = data.get("version")
    try:
        current = _version_tuple(version)
    except (AttributeError, ValueError):
        current = None
    for i, m in enumerate(data.get("migrations", []) or []):
        if not isinstance(m, dict):
            continue
        try:
            old = _version_tuple(m.get("from_version", ""))
        except ValueError:
            problems.append(Problem(f"migrations[{i}].from_version", f"{m.get('from_version')!r} is not a semantic version; use e.g. '1.0.0'"))
            old = None
        if current is not None and old is not None and old >= current:
            problems.append(Problem(f"migrations[{i}].from_version", f"{m.get('from_version')} is not older than the taxonomy "
                                    f"version {version}; raise 'version' when you add a migration"))
        targets = m.get("to", [])
        for t in targets if isinstance(targets, list) else [targets]:
            if t not in seen_ids:
                problems.append(Problem(f"migrations[{i}].to", f"{t!r} is not a category of this version; migrations must point at existing ids"))
        sources = m.get("from", [])
        for s in sources if isinstance(sources, list) else [sources]:
            if s in seen_ids and m.get("op") in ("retire", "merge", "split") and s not in (targets if isinstance(targets, list) else [targets]):
                problems.append(Problem(f"migrations[{i}].from", f"{s!r} still exists in this version; an id that is {m.get('op')}d must be removed from categories"))
    return problems


def read_json_file(path, what="file"):
    """Read a UTF-8 JSON file with one clear error for each way it can fail."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TaxonomyError(f"{what} {path}: no such file; check the path") from None
    except IsADirectoryError:
        raise TaxonomyError(f"{what} {path}: is a directory; pass the .json file inside it") from None
    except OSError as exc:
        raise TaxonomyError(f"{what} {path}: cannot be read ({exc.strerror}); check its permissions") from None
    if not raw.strip():
        raise TaxonomyError(f"{what} {path}: the file is empty; it must hold a JSON object (see labels/rhetoric.json)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TaxonomyError(
            f"{what} {path}: not UTF-8 (byte {exc.start}); re-save it as UTF-8, e.g. iconv -f latin1 -t utf-8"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TaxonomyError(f"{what} {path}: not valid JSON at line {exc.lineno} column {exc.colno} ({exc.msg}); fix the syntax") from None


def check_taxonomy(data):
    """All problems in a taxonomy dict, schema and semantic, as a list of `Problem`."""
    if not isinstance(data, dict):
        return [Problem("(top level)", f"must be a JSON object, not {type(data).__name__}; see labels/rhetoric.json")]
    problems = _schema_problems(data)
    return problems + _semantic_problems(data)


def load_taxonomy(path=None):
    """Load and validate a taxonomy file; the default taxonomy when `path` is None.

    Raises `TaxonomyError` listing every problem at once.
    """
    if path is None:
        source = default_taxonomy_path()
        data = json.loads(source.read_text(encoding="utf-8"))
        label = "labels/rhetoric.json"
    else:
        data = read_json_file(path, "taxonomy")
        label = str(path)
    return taxonomy_from_data(data, label)


def taxonomy_from_data(data, source="<memory>"):
    """A validated `Taxonomy` from its parsed JSON (`Taxonomy.raw` round-trips through this:
    the ML backend's model processes rebuild the server's taxonomy from it)."""
    label = source
    problems = check_taxonomy(data)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise TaxonomyError(
            f"taxonomy {label}: {len(problems)} problem{'s' if len(problems) > 1 else ''}\n{lines}",
            problems,
        )
    cats = tuple(
        Category(
            id=c["id"], name=c["name"], group=c["group"], description=c["description"],
            level=c["level"], positive=tuple(c["examples"]["positive"]),
            negative=tuple(c["examples"]["negative"]), hotkey=c.get("hotkey"),
            color=c.get("color"), mappings=dict(c.get("mappings", {})),
        )
        for c in data["categories"]
    )
    return Taxonomy(
        id=data["id"], version=data["version"], title=data["title"],
        groups=tuple(dict(g) for g in data["groups"]), categories=cats,
        migrations=tuple(data.get("migrations", [])), source=label, raw=data,
    )
