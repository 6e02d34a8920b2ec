"""Taxonomies: schema checks, migrations, the labeling config rendered from them."""
