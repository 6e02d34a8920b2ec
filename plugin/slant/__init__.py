"""slant: bias-and-rhetoric analysis for Label Studio."""

from .errors import DataError, InputError, ModelError, SlantError, StudioError, TaxonomyError
from .taxonomy import Taxonomy, check_taxonomy, load_taxonomy, render_config, render_docs

__version__ = "0.1.0"

__all__ = [
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
