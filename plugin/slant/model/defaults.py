"""Settings that name a model without building it, kept apart from the estimator so that
finding a model's version (`slant.model.seed.default_key`) imports no scikit-learn."""

__all__ = ["DEFAULT_PARAMS"]

# Default estimator settings (chosen with grouped CV on PTC and PolNeAR; docs/performance.md).
DEFAULT_PARAMS = {}
