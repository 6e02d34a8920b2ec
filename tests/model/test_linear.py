"""NBLogisticRegression and label binarisation (slant.model.linear)."""

import pytest


def test_nb_logistic_ratios_and_scaling_equal_the_matrix_form():
    import numpy as np
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from slant.model.linear import NBLogisticRegression

    rng = np.random.default_rng(3)
    X = sp.random(300, 80, density=0.1, format="csr", random_state=4)
    X.data[::7] = 0.0  # explicit zeros count as absent
    y = (rng.random(300) < 0.3).astype(int)
    present = (X != 0).astype(np.float64)
    p = 1.0 + present.T @ (y == 1)
    q = 1.0 + present.T @ (y == 0)
    r = np.log(p / p.sum()) - np.log(q / q.sum())
    lr = LogisticRegression(class_weight="balanced", solver="liblinear", dual=True, max_iter=2000, tol=1e-2,
                            random_state=0).fit(X @ sp.diags(r), y)
    nb = NBLogisticRegression(tol=1e-2).fit(X, y)
    np.testing.assert_allclose(nb.ratios_, r, rtol=0, atol=1e-12)
    np.testing.assert_allclose(nb.coef_, lr.coef_ * r, rtol=0, atol=1e-9)
    assert nb.intercept_[0] == pytest.approx(lr.intercept_[0], abs=1e-9)
    assert NBLogisticRegression(tol=0.1).fit(X, y).get_params()["tol"] == 0.1
