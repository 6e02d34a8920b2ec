"""Corpus-level rates with prediction-powered intervals, per group and over time (docs/measure.md)."""

from slant.measure.core import measure, measure_files

__all__ = ["measure", "measure_files"]
