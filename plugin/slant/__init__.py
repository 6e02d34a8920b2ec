"""slant: bias-and-rhetoric analysis for Label Studio."""

from slant._version import __version__
from slant.agreement.core import agreement_from_file, compute_agreement, krippendorff_alpha
from slant.errors import DataError, InputError, ModelError, SlantError, StudioError, TaxonomyError
from slant.records.brat import import_brat
from slant.records.ptc import import_ptc
from slant.records.reviewed import iter_reviewed, load_reviewed, write_jsonl
from slant.records.tabular import import_csv
from slant.taxonomy import Taxonomy, check_taxonomy, load_taxonomy, render_config, render_docs
from slant.text.documents import Document, make_document, read_documents
from slant.text.segment import Sentence, split_sentences

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
