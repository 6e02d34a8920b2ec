"""slant: bias-and-rhetoric analysis for Label Studio."""

from .errors import DataError, InputError, ModelError, SlantError, StudioError, TaxonomyError
from .taxonomy import Taxonomy, check_taxonomy, load_taxonomy, render_config, render_docs
from .segment import Document, Sentence, make_document, read_documents, split_sentences
from .dataset import iter_reviewed, load_reviewed, write_jsonl
from .importers import import_brat, import_csv, import_ptc
from .agreement import agreement_from_file, compute_agreement, krippendorff_alpha

__version__ = "0.1.0"

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
