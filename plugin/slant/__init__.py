"""slant: bias-and-rhetoric analysis for Label Studio.

The names below are imported on first use (PEP 562), so `import slant` — and every
`slant` command's start-up — pays only for what that command needs.
"""

from slant._version import __version__
from slant.errors import DataError, InputError, ModelError, SlantError, StudioError, TaxonomyError

_LAZY = {
    "agreement_from_file": "slant.agreement.core",
    "compute_agreement": "slant.agreement.core",
    "krippendorff_alpha": "slant.agreement.core",
    "import_brat": "slant.records.brat",
    "import_ptc": "slant.records.ptc",
    "iter_reviewed": "slant.records.reviewed",
    "load_reviewed": "slant.records.reviewed",
    "write_jsonl": "slant.records.reviewed",
    "import_csv": "slant.records.tabular",
    "Taxonomy": "slant.taxonomy",
    "check_taxonomy": "slant.taxonomy",
    "load_taxonomy": "slant.taxonomy",
    "render_config": "slant.taxonomy",
    "render_docs": "slant.taxonomy",
    "Document": "slant.text.documents",
    "make_document": "slant.text.documents",
    "read_documents": "slant.text.documents",
    "Sentence": "slant.text.segment",
    "split_sentences": "slant.text.segment",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'slant' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Document",
    "Sentence",
    "agreement_from_file",
    "compute_agreement",
    "krippendorff_alpha",
    "import_brat",
    "import_csv",
    "import_ptc",
    "iter_reviewed",
    "load_reviewed",
    "make_document",
    "read_documents",
    "split_sentences",
    "write_jsonl",
    "DataError",
    "InputError",
    "ModelError",
    "SlantError",
    "StudioError",
    "Taxonomy",
    "TaxonomyError",
    "check_taxonomy",
    "load_taxonomy",
    "render_config",
    "render_docs",
    "__version__",
]
