"""Cue counts as features: `CueFeatures`, a scikit-learn transformer with one column per
cue family (`slant.model.cues`) plus the sentence's shape; and `as_texts`, the input
check every text transformer shares.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from slant.errors import InputError
from slant.model.cues import NOT_NAMES, PRONOUNS, RHETORICAL, matcher
from slant.model.lexicons import load_lexicons
from slant.text.tokens import PUNCT

__all__ = ["CueFeatures", "as_texts"]


class CueFeatures(TransformerMixin, BaseEstimator):
    """Cue counts as features: ``log1p(count)`` per cue family, plus sentence length.

    Parameters
    ----------
    lexicons : dict or None
        ``{family: [phrase, ...]}``; None reads the packaged lexicons at `fit` time.
        The fitted transformer keeps its own copy (`lexicons_`), so a saved model
        does not change when the lexicon files do.
    """

    def __init__(self, *, lexicons=None):
        self.lexicons = lexicons

    def fit(self, X, y=None):
        lex = load_lexicons() if self.lexicons is None else self.lexicons
        self.lexicons_ = {str(f): tuple(str(p) for p in phrases) for f, phrases in lex.items()}
        self.families_ = tuple(matcher(self.lexicons_).families)
        return self

    @property
    def matcher_(self):
        return matcher(self.lexicons_)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "lexicons_")
        return np.array([f"cue_{f}" for f in self.families_] + [f"shape_{n}" for n in _SHAPES], dtype=object)

    def transform(self, X):
        """Sparse matrix of cue features, one row per sentence."""
        check_is_fitted(self, "lexicons_")
        texts = as_texts(X)
        return sp.csr_matrix(self._finish(self.matcher_.counts(texts), texts))

    def transform_tokens(self, texts, token_lists, keep=None):
        """`transform` for sentences already split by `tokens` (dense array); `keep` as in `CueMatcher.counts`."""
        return self._finish(self.matcher_.counts(texts, token_lists, keep), texts)

    @staticmethod
    def _finish(counts, texts):
        """log1p(counts) plus sentence shape: TF-IDF rows are length-normalised, yet
        longer sentences carry more rhetoric, and headlines lack final punctuation."""
        n = len(texts)
        n_words = np.fromiter((t.count(" ") + 1 for t in texts), dtype=np.float64, count=n)
        bins = np.digitize(n_words, _LENGTH_BINS)
        shape = np.zeros((n, len(_SHAPES)))
        shape[np.arange(n), bins] = 1.0
        shape[:, len(_LENGTH_BINS) + 1] = np.log1p(n_words) / 4
        shape[:, len(_LENGTH_BINS) + 2] = np.fromiter((not t.rstrip("\"'\u201d\u2019)").endswith((".", "!", "?", ":")) for t in texts), dtype=np.float64, count=n)
        # Who the sentence is about: a named or pronoun subject up front and the number
        # of capitalised words (people, organisations) are what attribution hangs on.
        subject = np.zeros((n, 3))
        for i, t in enumerate(texts):
            ws = t.lstrip("\"'\u201c\u2018(").split(None, 40)
            if ws:
                first = ws[0].strip(PUNCT).lower()
                subject[i, 0] = ws[0][:1].isupper() and first not in NOT_NAMES and first not in RHETORICAL
                subject[i, 1] = first in PRONOUNS
                subject[i, 2] = sum(map(str.isupper, "".join([w[0] for w in ws[1:]])))
        shape[:, len(_LENGTH_BINS) + 3: len(_LENGTH_BINS) + 5] = subject[:, :2]
        shape[:, len(_LENGTH_BINS) + 5] = np.log1p(subject[:, 2])
        return np.hstack([np.log1p(counts), shape])


_LENGTH_BINS = (6, 12, 20, 30, 45)
_SHAPES = ("len_lt6", "len_6_12", "len_12_20", "len_20_30", "len_30_45", "len_ge45", "log_len", "no_final_punct",
           "named_subject", "pronoun_subject", "capitalised")


def as_texts(X):
    if isinstance(X, str):
        raise InputError("expected a list of sentences, got a single string; wrap it in a list")
    texts = list(X)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InputError(f"sentence {i} is {type(t).__name__}, not str; pass a list of strings")
    return texts
