"""Taxonomies: schema checks, migrations, the labeling config rendered from them.

>>> from slant.taxonomy import load_taxonomy, render_config
"""

from slant.taxonomy.config import render_config, render_docs
from slant.taxonomy.core import Taxonomy, check_taxonomy, load_taxonomy, taxonomy_from_data

__all__ = ["Taxonomy", "check_taxonomy", "load_taxonomy", "render_config", "render_docs", "taxonomy_from_data"]
