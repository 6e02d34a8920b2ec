"""A fitted model in use: `SlantModel` (estimator, model card, taxonomy) and the
`Prediction` it gives per sentence.

>>> model = load_model(taxonomy=tax)               # slant.model.seed.load_model
>>> model.predict(["Critics say the scheme is a disaster."])[0].labels
['loaded_language', 'attribution_vague']
"""

from dataclasses import dataclass, field
from itertools import compress

import numpy as np

__all__ = ["Prediction", "SlantModel", "uncertainty"]


@dataclass
class Prediction:
    labels: list          # predicted category ids, taxonomy order
    scores: dict          # calibrated probability per category id
    spans: list = field(default_factory=list)  # [{start, end, label, text, weight, cue}]
    uncertainty: float = 0.0  # 0..1, higher = less certain; orders the review queue


def uncertainty(proba, thresholds):
    """Per-sentence uncertainty in 0..1 (1 = a probability exactly at its threshold).

    Each category's distance from its threshold is scaled by ``min(t, 1 - t)`` on both
    sides, i.e. measured relative to the threshold: 0.16 against a threshold of 0.14 is as
    far (14%) as 0.57 against 0.5. The least certain category decides. (Scaling the side
    above a low threshold by ``1 - t`` made every tick just above 0.14 look almost
    maximally uncertain, so near-threshold noise of low-threshold categories filled the
    top of the review queue.)
    """
    t = np.asarray(thresholds, dtype=float)
    margin = np.abs(np.asarray(proba, dtype=float) - t) / np.maximum(np.minimum(t, 1 - t), 1e-9)
    return 1.0 - np.clip(margin.min(axis=1), 0.0, 1.0)


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
        unsure = np.round(uncertainty(proba, t), 4).tolist()
        rounded = np.round(proba, 4).tolist()
        chosen = chosen.tolist()
        if spans is None:
            spans = [[] for _ in texts]
        return [Prediction(list(compress(ids, chosen[i])), dict(zip(ids, rounded[i])), spans[i], unsure[i])
                for i in range(len(texts))]
