"""The sentence classifier: word and character n-grams plus cue features, one linear model
per category, calibrated probabilities, per-category thresholds and explanation spans.

>>> clf = SlantClassifier(cv=2).fit(texts, [["loaded_language"], [], ...], groups=doc_ids)
>>> clf.predict_proba(["The council rammed the budget through."])   # one column per class
>>> clf.explain(["The council rammed the budget through."])          # spans per sentence

Training on records is `slant.model.fit`; saving and loading `slant.model.persist`; the
model card `slant.model.card`; the default model `slant.model.seed`.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, GroupShuffleSplit, KFold, ShuffleSplit
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from slant.errors import DataError, InputError, ModelError
from slant.model import parallel
from slant.model.consistency import apply_tagger
from slant.model.cuefeatures import CueFeatures, as_texts
from slant.model.defaults import DEFAULT_PARAMS
from slant.model.evidence import Contrast, valid_span
from slant.model.explain import explain_rows
from slant.model.features import NgramFeatures, Scorer
from slant.model.linear import DUAL_TOL, NBLogisticRegression, binarize_labels
from slant.model.metrics import binary_scores
from slant.model.spantagger import SpanTagger
from slant.model.thresholds import OFF, calibrate, choose_threshold, floors

__all__ = ["DEFAULT_PARAMS", "SlantClassifier"]



class SlantClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label sentence classifier over taxonomy category ids.

    Features (a `FeatureUnion`): word 1–2-gram and character 2–5-gram TF-IDF
    (`NgramFeatures`) and cue-family counts plus sentence shape (`CueFeatures`, scaled
    by `cue_weight`). One linear model per category (`OneVsRestClassifier`): by default
    logistic regression on naive-Bayes-scaled features (`NBLogisticRegression`; +0.03 F1
    on PTC loaded language under grouped cross-validation), or plain logistic
    regression / linear SVM. Out-of-fold decision scores (grouped by document when
    `groups` is given) fit a sigmoid calibration and the F1-maximising threshold per
    category.

    `n_jobs`: processes for the CV fold fits and the final fit (None: this process, -1:
    one per core). Workers are forked, sharing the feature matrix copy-on-write, and
    return only scores and coefficients: the fitted model is the same as with one process.
    Without the fork start method (Windows), or on small data, the fits stay in process.

    `span_contrast`, `span_C`: when `fit` gets the marked spans of the labels (`spans`),
    each labelled sentence with its category's spans cut out is added as a negative for
    that category with weight `span_contrast` (0: off), and those categories' models use
    `span_C` (less regularisation: the contrast pairs say which words matter). See
    `Contrast`.

    `encoder="minilm"` (optional extra ``slant[encoder]``) also fine-tunes a sentence
    encoder (`slant.model.encoder.SentenceEncoder`, `encoder_epochs`) on the documents outside a
    held-out share (`encoder_holdout`); on the held-out sentences, a logistic regression
    per category stacks the encoder's score with the linear model's out-of-fold score, and
    its probability and F1-best threshold replace the linear ones (`stack_`,
    `encoder_classes_`; `cv_scores_` then holds the held-out figures). Explanation spans
    still come from the linear model. Minutes per epoch on a CPU instead of seconds.

    `threshold_beta`: thresholds maximise out-of-fold F-beta (1: F1, the default).
    `min_precision` (None: off): each threshold is raised to the lowest cut whose
    out-of-fold precision reaches it; a category that cannot reach it is not predicted
    (threshold `OFF`, listed in `off_`). One number for every category, or a mapping of
    category id to its floor (None or absent: no floor for that category). With
    `span_model` on and marked spans, a `SpanTagger` marks where each span category sits
    (its spans replace the explanations); attribution is decided over the sources found.

    Parameters are keyword-only and stored as given (scikit-learn conventions).
    """

    def __init__(self, *, classes=None, word_ngram_range=(1, 2), char_ngram_range=(2, 5), min_df=2,
                 max_char_features=300_000, cue_weight=1.0, lexicons=None, linear="nb-logistic", C=1.0,
                 class_weight="balanced", cv=5, random_state=0, max_spans=3, n_jobs=None, span_contrast=2.0,
                 span_C=4.0, encoder=None, encoder_epochs=1.0, encoder_holdout=0.1, span_model=True, threshold_beta=1.0,
                 min_precision=None):
        self.classes = classes
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_char_features = max_char_features
        self.cue_weight = cue_weight
        self.lexicons = lexicons
        self.linear = linear
        self.C = C
        self.class_weight = class_weight
        self.cv = cv
        self.random_state = random_state
        self.max_spans = max_spans
        self.n_jobs = n_jobs
        self.span_contrast = span_contrast
        self.span_C = span_C
        self.encoder = encoder
        self.encoder_epochs = encoder_epochs
        self.encoder_holdout = encoder_holdout
        self.span_model = span_model
        self.threshold_beta = threshold_beta
        self.min_precision = min_precision

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.multi_class = False
        tags.target_tags.multi_output = True
        return tags

    # -- building blocks ------------------------------------------------------------
    def _make_features(self, n_docs):
        # min_df above the corpus size would leave an empty vocabulary on tiny data.
        min_df = self.min_df if isinstance(self.min_df, float) or self.min_df <= max(1, n_docs // 2) else 1
        return FeatureUnion(
            [
                ("ngrams", NgramFeatures(word_ngram_range=tuple(self.word_ngram_range),
                                         char_ngram_range=tuple(self.char_ngram_range), min_df=min_df,
                                         max_char_features=self.max_char_features)),
                ("cues", CueFeatures(lexicons=self.lexicons)),
            ],
            transformer_weights={"ngrams": 1.0, "cues": float(self.cue_weight)},
        )

    def _make_linear(self, tol=DUAL_TOL):
        if self.linear == "logistic":
            # The dual problem is ~50x faster here: far more features than sentences; scikit-
            # learn's tol=1e-4 for it cost several times liblinear's own 0.1 (`DUAL_TOL`)
            # for the same cross-validated F1 (docs/performance.md, Retraining).
            base = LogisticRegression(C=self.C, class_weight=self.class_weight, solver="liblinear", dual=True,
                                      max_iter=2000, tol=tol, random_state=self.random_state)
        elif self.linear == "nb-logistic":
            base = NBLogisticRegression(C=self.C, class_weight=self.class_weight, tol=tol, random_state=self.random_state)
        elif self.linear == "svm":
            base = LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state, max_iter=5000)
        else:
            raise InputError(f"linear={self.linear!r} is not supported; use 'logistic', 'nb-logistic' or 'svm'")
        return OneVsRestClassifier(base)

    def _splitter(self, n, groups):
        if groups is not None:
            n_groups = len(set(groups))
            k = min(self.cv, n_groups)
            return (GroupKFold(n_splits=k) if k >= 2 else None), k
        k = min(self.cv, n)
        return (KFold(n_splits=k, shuffle=True, random_state=self.random_state) if k >= 2 else None), k

    @staticmethod
    def _scores(ovr, X, n_classes, active):
        out = np.zeros((X.shape[0], n_classes))
        out[:, active] = ovr.decision_function(X).reshape(X.shape[0], -1)
        return out

    # -- fit ----------------------------------------------------------------------
    def _fit_linear(self, X, Y, sample_weight=None, tol=DUAL_TOL):
        """One-vs-rest fit; `sample_weight` reaches each binary model by metadata routing;
        `tol`: the liblinear dual tolerance (the logistic variants)."""
        if sample_weight is None:
            return self._make_linear(tol).fit(X, Y)
        from sklearn import config_context

        with config_context(enable_metadata_routing=True):
            ovr = self._make_linear(tol)
            ovr.estimator.set_fit_request(sample_weight=True)
            return ovr.fit(X, Y, sample_weight=sample_weight)

    def _contrast(self, texts, Y, classes, spans):
        """The contrast rows (`Contrast`) from `spans`, featurised; None when there are none."""
        if spans is None or not self.span_contrast:
            return None
        if isinstance(self.span_contrast, bool) or not isinstance(self.span_contrast, (int, float)) or self.span_contrast < 0 \
                or isinstance(self.span_C, bool) or not isinstance(self.span_C, (int, float)) or not self.span_C > 0:
            raise InputError(f"span_contrast={self.span_contrast!r}, span_C={self.span_C!r}: use a weight >= 0 (0 = off) and a C > 0")
        spans = list(spans)
        if len(spans) != len(texts):
            raise DataError(f"{len(spans)} span lists for {len(texts)} sentences; pass one list (or None) per sentence")
        for i, sent_spans in enumerate(spans):
            for s_ in sent_spans or ():
                if not valid_span(s_, len(texts[i])):
                    raise DataError(f"sentence {i}: span {s_!r} needs a 'label' and 0 <= start < end <= {len(texts[i])} "
                                    "(character offsets into the sentence); fix or drop the span")
        contrast = Contrast(texts, Y, classes, spans)
        if not len(contrast):
            return None
        contrast.X = sp.csr_matrix(self.features_.transform(contrast.texts))
        return contrast

    def fit(self, X, y, groups=None, sample_weight=None, spans=None):
        """Learn features, one linear model per class, calibration and thresholds.

        `y`: label lists (category ids) or an indicator matrix; `groups`: document ids
        so that cross-validation never splits a document; `sample_weight`: per-sentence
        weights for the linear models (retraining weights reviewed sentences above seed ones);
        `spans`: per sentence, the marked spans of its labels (``[{"start", "end", "label"},
        ...]`` with offsets into the sentence, or None) for contrast rows (`span_contrast`).
        """
        self._check_encoder()
        texts = as_texts(X)
        Y, classes = binarize_labels(y, None if self.classes is None else list(self.classes))
        floor = floors(getattr(self, "min_precision", None), classes)  # a bad floor is named before the n-gram fit
        if len(texts) != Y.shape[0]:
            raise DataError(f"{len(texts)} sentences but {Y.shape[0]} label rows; pass one label list per sentence")
        if len(texts) < 2:
            raise DataError(f"need at least 2 sentences to train, got {len(texts)}; add reviewed sentences")
        if groups is not None:
            groups = np.asarray(list(groups), dtype=object)
            if len(groups) != len(texts):
                raise DataError(f"{len(groups)} group ids for {len(texts)} sentences; pass one doc_id per sentence")
        w = None
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64).ravel()
            if len(w) != len(texts) or not np.all(np.isfinite(w)) or (w <= 0).any():
                raise DataError(f"sample_weight needs one positive weight per sentence ({len(texts)}), got {len(w)} values "
                                f"(min {w.min() if len(w) else 'none'}); pass positive numbers")
        self.classes_ = np.array(classes, dtype=object)
        n, K = Y.shape
        pos = Y.sum(axis=0)
        # A class needs positives and negatives to learn from; others get a constant.
        active = np.flatnonzero((pos >= 2) & (pos <= n - 2))
        self.features_ = self._make_features(n)
        Xf = parallel.fit_features(self.features_, texts, self.n_jobs)
        contrast = self._contrast(texts, Y, classes, spans)
        self.n_contrast_ = 0 if contrast is None else len(contrast)
        self.contrast_rows_ = {} if contrast is None else {
            classes[j]: int((contrast.cls == j).sum()) for j in contrast.classes.tolist()}

        oof = np.zeros((n, K))
        splitter, k = self._splitter(n, groups)
        self.n_splits_ = k if splitter is not None else 0
        folds = list(splitter.split(Xf, Y, groups)) if splitter is not None and len(active) else []
        # The final fit and the CV folds are independent: part -1 is the final fit, 0..k-1
        # the folds, largest first so that two workers finish together.
        parts = [-1] + list(range(len(folds))) if len(active) else []
        final = None
        state = (self, Xf, Y, w, active, folds, contrast)
        for part, got in zip(parts, parallel.map_parts(self.n_jobs, state, parts, Xf.nnz)):
            if part < 0:
                final = got
            else:
                test, cols, scores = got
                oof[np.ix_(test, cols)] = scores

        self.calibration_, self.thresholds_, scores, self.cv_pred_ = calibrate(  # cv_pred_: not saved
            oof, Y, active, splitter is not None, self.threshold_beta, floor)
        self.cv_scores_ = {classes[j]: s for j, s in scores.items()}

        self.coef_ = np.zeros((K, Xf.shape[1]))
        self.intercept_ = np.zeros(K)
        if len(active):
            self.coef_[active], self.intercept_[active] = final
            if splitter is None:
                self.calibration_[active] = (1.0, 0.0)
        self._scorer = None
        self.encoder_ = None
        self.encoder_classes_ = np.zeros(0, dtype=np.int64)
        self.stack_ = np.zeros((K, 3))
        if self.encoder is not None:
            self._fit_encoder(texts, Y, groups, w, oof, active)
        self.span_tagger_ = None
        marked = {s["label"] for row in spans or () for s in row or ()}
        if self.span_model and marked & set(classes):
            labels = [[classes[j] for j in np.flatnonzero(row)] for row in Y]
            self.span_tagger_ = SpanTagger(categories=tuple(c for c in classes if c in marked)).fit(texts, labels, spans)
        return self

    @property
    def off_(self):
        """Categories never predicted: their out-of-fold precision never reached `min_precision`."""
        return [str(c) for c, t in zip(self.classes_, self.thresholds_) if t >= OFF]

    def _check_encoder(self):
        """Encoder settings, checked before the (long) n-gram fit rather than after it."""
        if self.encoder is None:
            return
        if self.encoder != "minilm":
            raise InputError(f"encoder={self.encoder!r} is not supported; use None or 'minilm'")
        h = self.encoder_holdout
        if isinstance(h, bool) or not isinstance(h, (int, float)) or not 0 < h < 1:
            raise InputError(f"encoder_holdout={h!r}: use a share of the documents between 0 and 1, e.g. 0.1")
        e = self.encoder_epochs
        if isinstance(e, bool) or not isinstance(e, (int, float)) or not e > 0:
            raise InputError(f"encoder_epochs={e!r}: use a positive number of epochs, e.g. 1")

    def _fit_encoder(self, texts, Y, groups, w, oof, active):
        """Fine-tune the encoder outside a held-out share of documents; stack its scores with
        the linear out-of-fold scores on the held-out sentences (see the class docstring)."""
        h = self.encoder_holdout
        from slant.model.encoder import SentenceEncoder

        n, K = Y.shape
        idx = np.arange(n)
        if groups is not None and len(set(groups)) >= 2:
            fit_i, held = next(GroupShuffleSplit(n_splits=1, test_size=h, random_state=self.random_state).split(idx, groups=groups))
        else:
            fit_i, held = next(ShuffleSplit(n_splits=1, test_size=h, random_state=self.random_state).split(idx))
        enc = SentenceEncoder(K, epochs=self.encoder_epochs, random_state=self.random_state)
        enc.fit([texts[i] for i in fit_i], Y[fit_i], None if w is None else w[fit_i])
        E = enc.decision_function([texts[i] for i in held])
        cols = []
        floor = floors(getattr(self, "min_precision", None), self.classes_)
        for j in active:
            yj = Y[held, j].astype(bool)
            if yj.sum() < 3 or (~yj).sum() < 3:
                continue  # too few held-out examples to place a threshold: the linear model decides
            Z = np.column_stack([E[:, j], oof[held, j]])
            stack = LogisticRegression(C=1.0).fit(Z, yj)
            p = stack.predict_proba(Z)[:, 1]
            t = choose_threshold(p, yj, self.threshold_beta, floor[j])
            self.stack_[j] = (*stack.coef_[0], stack.intercept_[0])
            self.thresholds_[j] = t
            self.cv_scores_[self.classes_[j]] = {**binary_scores(p >= t, yj), "threshold": t}
            cols.append(j)
        self.encoder_ = enc
        self.encoder_classes_ = np.array(cols, dtype=np.int64)

    # -- prediction -----------------------------------------------------------------
    def _get_scorer(self):
        if getattr(self, "_scorer", None) is None:
            self._scorer = Scorer(self.features_, self.coef_, self.intercept_)
        return self._scorer

    def transform(self, X):
        """The feature matrix (`FeatureUnion` output) the linear models read."""
        check_is_fitted(self, "coef_")
        return self.features_.transform(as_texts(X))

    def _run(self, texts, explain):
        scorer = self._get_scorer()
        batch = scorer.score(texts)
        scores = batch.scores
        proba = self._calibrate(scores)
        cols = getattr(self, "encoder_classes_", ())
        if len(cols):
            if getattr(self, "encoder_", None) is None:
                raise ModelError("this model's encoder weights are not loaded; load it with `slant.model.seed.load_model`, "
                                 "which reads encoder.safetensors beside model.skops")
            a = self.stack_[cols]
            z = a[:, 0] * self.encoder_.decision_function(texts)[:, cols] + a[:, 1] * scores[:, cols] + a[:, 2]
            scores = scores.copy()
            scores[:, cols] = z
            proba[:, cols] = 1 / (1 + np.exp(-z))
        spans = None
        if explain:
            rows = [np.flatnonzero(r) for r in self._decide(proba)]
            spans = explain_rows(self, scorer, texts, batch, rows)
        return scores, proba, spans

    def decision_function(self, X):
        """Raw linear scores per class, shape ``(n_sentences, n_classes)``; for the
        `encoder_classes_`, the stacked logit."""
        check_is_fitted(self, "coef_")
        return self._run(as_texts(X), False)[0]

    def _calibrate(self, scores):
        a, b = self.calibration_[:, 0], self.calibration_[:, 1]
        return 1 / (1 + np.exp(-(scores * a + b)))

    def _decide(self, proba):
        return (proba >= self.thresholds_) & (self.thresholds_ < OFF)

    def predict_proba(self, X):
        """Calibrated probability per class, shape ``(n_sentences, n_classes)``."""
        check_is_fitted(self, "coef_")
        return self._run(as_texts(X), False)[1]

    def predict(self, X):
        """Indicator matrix: 1 where the probability reaches the class threshold (and, with
        a span model, attribution decided over the sources it finds)."""
        return self.predict_explain(X, explain=False)[1].astype(np.int64)

    def explain(self, X, labels=None):
        """Character spans that drove each predicted category, per sentence.

        Returns ``[[{"start", "end", "label", "text", "weight", "cue"}, ...], ...]`` with
        offsets within the sentence (``text[start:end] == span["text"]``), ranked by
        weight within each label. `labels` (class ids per sentence) overrides the
        predicted labels.
        """
        check_is_fitted(self, "coef_")
        texts = as_texts(X)
        if labels is None:
            return self._run(texts, True)[2]
        index = {c: j for j, c in enumerate(self.classes_)}
        scorer = self._get_scorer()
        batch = scorer.score(texts)
        rows = []
        for labs in labels:
            unknown = [lab for lab in labs if lab not in index]
            if unknown:
                raise DataError(f"cannot explain {unknown[0]!r}: not a class of this model; known: {', '.join(self.classes_)}")
            rows.append(np.array([index[lab] for lab in labs], dtype=int))
        return explain_rows(self, scorer, texts, batch, rows)

    def predict_explain(self, X, explain=True):
        """``(proba, labels, spans)`` in one pass: what `slant analyze` needs. With a span
        model (`span_tagger_`), labels and spans agree (`consistency.apply_tagger`)."""
        check_is_fitted(self, "coef_")
        texts = as_texts(X)
        _, proba, spans = self._run(texts, explain)
        chosen = self._decide(proba)
        if getattr(self, "span_tagger_", None) is not None:
            chosen, spans = apply_tagger(self.span_tagger_, texts, self.classes_, proba, chosen, spans)
        return proba, chosen, spans

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ hands out __dict__ itself
        state.pop("_scorer", None)  # a cache, rebuilt on first use
        state.pop("cv_pred_", None)  # one row per training sentence: for the card and the gate, not the file
        state.pop("encoder_", None)  # torch weights: saved beside the model (slant.model.persist.save_model)
        return state
