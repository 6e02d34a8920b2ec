"""A fitted model in use: `SlantModel` (estimator, model card, taxonomy) and the
`Prediction` it gives per sentence.

>>> model = load_model(taxonomy=tax)               # slant.model.seed.load_model
>>> model.predict(["Critics say the scheme is a disaster."])[0].labels
['loaded_language', 'attribution_vague']
"""

from dataclasses import dataclass, field
from itertools import compress

import numpy as np

__all__ = ["Prediction", "SlantModel"]


@dataclass
class Prediction:
    labels: list          # predicted category ids, taxonomy order
    scores: dict          # calibrated probability per category id
    spans: list = field(default_factory=list)  # [{start, end, label, text, weight, cue}]
    uncertainty: float = 0.0  # 0..1, higher = less certain; orders the review queue


class SlantModel:
    """A fitted `SlantClassifier` with its model card and the taxonomy it was built for."""

    def __init__(self, estimator, card, taxonomy):
        self.estimator = estimator
        self.card = card
        self.taxonomy = taxonomy

    @property
    def model_version(self):
        return self.card["model_version"]

    def __repr__(self):
        return f"SlantModel({self.model_version!r}, taxonomy={self.taxonomy.id!r})"

    def predict(self, texts, *, explain=True):
        """One `Prediction` per sentence: labels, calibrated scores, spans, uncertainty."""
        texts = list(texts)
        if not texts:
            return []
        est = self.estimator
        proba, chosen, spans = est.predict_explain(texts, explain=explain)
        ids = list(est.classes_)
        t = est.thresholds_
        # Distance of each probability from its threshold, scaled to 0..1 on each side;
        # the least certain category decides how uncertain the sentence is.
        margin = np.where(proba >= t, (proba - t) / np.maximum(1 - t, 1e-9), (t - proba) / np.maximum(t, 1e-9))
        uncertainty = np.round(1.0 - np.clip(margin.min(axis=1), 0.0, 1.0), 4).tolist()
        rounded = np.round(proba, 4).tolist()
        chosen = chosen.tolist()
        if spans is None:
            spans = [[] for _ in texts]
        return [Prediction(list(compress(ids, chosen[i])), dict(zip(ids, rounded[i])), spans[i], uncertainty[i])
                for i in range(len(texts))]
