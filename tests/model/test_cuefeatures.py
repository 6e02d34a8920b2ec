"""CueFeatures: the scikit-learn transformer of cue counts."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from slant.errors import InputError
from slant.model.cuefeatures import CueFeatures
from slant.model.lexicons import load_lexicons

LEX = {
    "charged": ("scheme", "slammed", "power grab"),
    "derogatory": ("so-called", "thugs", "so-called experts"),
    "reporting_verbs": ("said", "say", "told", "according to", "argued"),
    "vague_sources": ("officials said", "critics say", "it is believed"),
    "hedges": ("claimed",),
    "intensifiers": ("never", "everyone"),
}


def test_cue_features_transformer_conventions():
    est = CueFeatures(lexicons=LEX)
    assert est.get_params() == {"lexicons": LEX}
    assert not hasattr(est, "lexicons_")
    fitted = est.fit(["a"])
    assert fitted is est
    X = est.transform(["Critics say the scheme is a scheme.", "Plain words."])
    names = est.get_feature_names_out()
    assert X.shape == (2, len(names))
    assert X[0, list(names).index("cue_charged")] == pytest.approx(np.log1p(2))
    cue_cols = [i for i, n in enumerate(names) if n.startswith("cue_")]
    assert X[1, cue_cols].sum() == 0 and X[1, list(names).index("shape_len_lt6")] == 1
    assert clone(est).get_params() == est.get_params()
    check_no_attributes_set_in_init("CueFeatures", CueFeatures())
    check_parameters_default_constructible("CueFeatures", CueFeatures())
    check_get_params_invariance("CueFeatures", CueFeatures())
    check_set_params("CueFeatures", CueFeatures())


def test_cue_features_default_lexicons_and_errors():
    est = CueFeatures().fit(["x"])
    assert set(est.lexicons_) == set(load_lexicons())
    with pytest.raises(InputError, match="expected a list of sentences, got a single string; wrap it in a list"):
        est.transform("one sentence")
    with pytest.raises(InputError, match="sentence 1 is int, not str; pass a list of strings"):
        est.transform(["ok", 3])
