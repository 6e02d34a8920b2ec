"""Reviewed-label records: reading and writing them, and importers of public corpora."""
