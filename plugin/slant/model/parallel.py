"""The pieces of `SlantClassifier.fit` that run in forked worker processes: the final
fit and the CV fold fits (`fit_part`), and the cue features beside the n-grams.

Workers are forked, sharing the feature matrix copy-on-write (`FIT_STATE`), and return
only scores and coefficients: the fitted model is the same as with one process.
"""

import multiprocessing as mp
import os

import numpy as np
import scipy.sparse as sp

from slant.errors import InputError

__all__ = ["FIT_STATE", "PARALLEL_MIN_NNZ", "cue_worker", "fit_features", "fit_part", "map_parts", "n_workers"]

# Forking fit workers costs ~0.1 s and a share of memory: below this many non-zeros in the
# feature matrix (~3,000 sentences) the fits run in the calling process.
PARALLEL_MIN_NNZ = 1_000_000

FIT_STATE = None  # set in each forked fit worker by `init_fit_worker`


def init_fit_worker(state):
    global FIT_STATE  # one worker process, one fit
    FIT_STATE = state


def fit_worker(part):
    return fit_part(FIT_STATE, part)


def cue_worker():
    cues, texts = FIT_STATE
    return cues.transform(texts)


def fit_part(state, part):
    """One independent piece of `SlantClassifier.fit`.

    ``part == -1``: the final fit on all rows, returned as ``(coef, intercept)`` for the
    `active` classes. ``part == i``: fold `i`'s fit, returned as ``(test rows, class
    columns, out-of-fold decision scores)``; a class without both outcomes in the fold's
    training rows scores +-5 (always / never). A class with contrast rows (`slant.model.evidence.Contrast`)
    is fitted on its own with those whose source sentence is among the training rows.
    """
    est, X, Y, w, active, folds, contrast = state
    train, test = (np.arange(X.shape[0]), None) if part < 0 else folds[part]
    Ytr = Y[train][:, active]
    ok = (Ytr.sum(axis=0) > 0) & (Ytr.sum(axis=0) < len(train))
    own = np.isin(active, contrast.classes) if contrast is not None else np.zeros(len(active), dtype=bool)
    Xtr = X if part < 0 else X[train]
    wtr = None if w is None else w[train]
    coef = np.zeros((len(active), X.shape[1]))
    intercept = np.zeros(len(active))
    shared = np.flatnonzero(ok & ~own)
    if len(shared):
        ovr = est._fit_linear(Xtr, Ytr[:, shared], wtr)
        coef[shared] = np.vstack([e.coef_.ravel() for e in ovr.estimators_])
        intercept[shared] = [e.intercept_[0] for e in ovr.estimators_]
    for a in np.flatnonzero(ok & own):
        m = contrast.fit(est, Xtr, Ytr[:, a], wtr, train, active[a], w)
        coef[a], intercept[a] = m.coef_.ravel(), m.intercept_[0]
    if part < 0:
        return coef, intercept
    scores = np.where(Ytr.all(axis=0), 5.0, -5.0) * np.ones((len(test), 1))
    scores[:, ok] = (X[test] @ coef[ok].T) + intercept[ok]
    return test, active, np.asarray(scores)


def n_workers(n_jobs, n_parts, nnz):
    """How many processes fit: `n_jobs` (None = 1, -1 = every core), capped by the work."""
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0):
        raise InputError(f"n_jobs={n_jobs!r} is not supported; use None (one process), a positive count or -1 for every core")
    if n_jobs is None or n_jobs == 1 or n_parts < 2 or nnz < PARALLEL_MIN_NNZ:
        return 1
    if "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
        return 1  # no copy-on-write sharing here (or a daemon process, which may not fork)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    jobs = n_jobs if n_jobs > 0 else max(1, cpus + 1 + n_jobs)
    return min(jobs, n_parts)


def map_parts(n_jobs, state, parts, nnz):
    """`fit_part` over `parts`, in order: in forked workers sharing `state` copy-on-write
    (nothing big is pickled; a worker returns scores or coefficients), else in this process."""
    jobs = n_workers(n_jobs, len(parts), nnz)
    if jobs == 1:
        return [fit_part(state, part) for part in parts]
    pool = mp.get_context("fork").Pool(jobs, initializer=init_fit_worker, initargs=(state,))
    try:
        out = pool.map(fit_worker, parts, chunksize=1)
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.close()
        pool.join()  # reaped workers count in RUSAGE_CHILDREN (benchmarks/bench_train.py)
    return out


def fit_features(union, texts, n_jobs):
    """``union.fit_transform(texts)`` as CSR. With workers (`n_jobs`), the cue features are
    computed in a forked worker while this process builds the n-grams: the same matrix
    as the union's own `fit_transform` (tested), ~5 s sooner at 50,000 sentences."""
    # About two feature non-zeros per character of text: the same gate as the fits.
    if n_workers(n_jobs, 2, 2 * sum(map(len, texts))) == 1:
        return sp.csr_matrix(union.fit_transform(texts))
    (_, ngrams), (_, cues) = union.transformer_list
    cues.fit(texts)
    weights = union.transformer_weights
    pool = mp.get_context("fork").Pool(1, initializer=init_fit_worker, initargs=((cues, texts),))
    try:
        pending = pool.apply_async(cue_worker)
        Xn = ngrams.fit_transform(texts) * weights["ngrams"]
        Xc = pending.get() * weights["cues"]
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.close()
        pool.join()
    return sp.csr_matrix(sp.hstack([Xn, Xc]).tocsr())
