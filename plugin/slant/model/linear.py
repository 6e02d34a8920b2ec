"""Linear building blocks: label lists as a 0/1 matrix, and `NBLogisticRegression`."""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from slant.errors import DataError

__all__ = ["DUAL_TOL", "NBLogisticRegression", "binarize_labels"]

# liblinear's own default tolerance for the dual problem, for the CV fold models and the
# final model alike: the same cross-validated F1 on PTC as 1e-2 and 1e-4, in a fraction
# of the time (docs/performance.md, Retraining); see SlantClassifier._make_linear.
DUAL_TOL = 0.1


def binarize_labels(y, classes=None):
    """``(Y, classes)``: a 0/1 matrix from label lists (or an indicator matrix).

    `classes` fixes the column order (taxonomy order); unknown labels raise `DataError`.
    """
    if sp.issparse(y) or (isinstance(y, np.ndarray) and y.ndim == 2):
        Y = np.asarray(y.toarray() if sp.issparse(y) else y)
        if classes is None:
            classes = [str(i) for i in range(Y.shape[1])]
        if Y.shape[1] != len(classes):
            raise DataError(f"label matrix has {Y.shape[1]} columns but there are {len(classes)} classes; pass one column per class")
        if not np.isin(Y, (0, 1)).all():
            raise DataError("label matrix must hold only 0 and 1; pass label lists or an indicator matrix")
        return Y.astype(np.int8), list(classes)
    y = list(y)
    for i, labels in enumerate(y):
        if isinstance(labels, str) or not hasattr(labels, "__iter__"):
            raise DataError(f"labels of sentence {i} must be a list of category ids, got {labels!r}; use [] for none")
    if classes is None:
        classes = sorted({lab for labels in y for lab in labels})
    index = {c: j for j, c in enumerate(classes)}
    Y = np.zeros((len(y), len(classes)), dtype=np.int8)
    for i, labels in enumerate(y):
        for lab in labels:
            j = index.get(lab)
            if j is None:
                raise DataError(f"sentence {i} has label {lab!r}, which is not a class; known: {', '.join(classes)}")
            Y[i, j] = 1
    return Y, list(classes)


class NBLogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary logistic regression on features scaled by naive-Bayes log-count ratios.

    The NBSVM idea (Wang & Manning, 2012): a feature that is much more frequent in
    positive sentences gets a larger scale, so the L2 penalty lets rare but telling
    words ("thugs", "sham") carry more weight. The scaling folds into `coef_`, so the
    fitted model is an ordinary linear model.
    """

    def __init__(self, *, alpha=1.0, C=1.0, class_weight="balanced", tol=DUAL_TOL, random_state=0):
        self.alpha = alpha
        self.C = C
        self.class_weight = class_weight
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        X = sp.csr_matrix(X)
        y = np.asarray(y)
        # Sentences containing each feature, per class: counts over X's own index arrays
        # (row slicing and X @ diag(r) copied and re-sorted the whole matrix per class; a
        # 0/1 copy of the matrix and two mat-vecs cost 8 bytes a non-zero and 2x the time).
        nonzero = X.data != 0
        row_y = np.repeat(y, np.diff(X.indptr))
        p = self.alpha + np.bincount(X.indices[nonzero & (row_y == 1)], minlength=X.shape[1])
        q = self.alpha + np.bincount(X.indices[nonzero & (row_y == 0)], minlength=X.shape[1])
        del nonzero, row_y
        self.ratios_ = np.log(p / p.sum()) - np.log(q / q.sum())
        data = np.take(self.ratios_, X.indices)  # one new array, scaled in place
        data *= X.data
        scaled = sp.csr_matrix((data, X.indices, X.indptr), shape=X.shape)
        lr = LogisticRegression(C=self.C, class_weight=self.class_weight, solver="liblinear", dual=True,
                                max_iter=2000, tol=self.tol, random_state=self.random_state)
        lr.fit(scaled, y, sample_weight=sample_weight)
        self.classes_ = lr.classes_
        self.coef_ = lr.coef_ * self.ratios_
        self.intercept_ = lr.intercept_
        return self

    def decision_function(self, X):
        check_is_fitted(self, "coef_")
        return np.asarray(X @ self.coef_.ravel()).ravel() + self.intercept_[0]
