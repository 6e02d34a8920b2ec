"""Forked fit workers (slant.model.parallel): the same model as one process."""

import pytest


def _fit_with_pids(monkeypatch, tmp_path, n_jobs, records, name):
    """Fit a SlantClassifier, recording which processes ran the fold / final fits."""
    import os

    import numpy as np

    import slant.model.classifier as clf_mod
    import slant.model.parallel as parallel

    log = tmp_path / f"{name}.pids"
    real = parallel.fit_part

    def spy(state, part):
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {part}\n")
        return real(state, part)

    monkeypatch.setattr(parallel, "fit_part", spy)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_NNZ", 0)  # the test data is small
    weights = np.where(np.arange(len(records)) % 3 == 0, 2.0, 1.0)
    # Each label marked on the sentence's first word: contrast rows take part in the fits too.
    spans = [[{"start": 0, "end": r["text"].index(" "), "label": lab} for lab in r["labels"]] for r in records]
    est = clf_mod.SlantClassifier(cv=3, min_df=1, n_jobs=n_jobs).fit(
        [r["text"] for r in records], [r["labels"] for r in records], groups=[r["doc_id"] for r in records],
        sample_weight=weights, spans=spans)
    runs = [line.split() for line in log.read_text().splitlines()]
    return est, {int(pid) for pid, _ in runs}, sorted(int(part) for _, part in runs)


def test_parallel_fit_equals_one_process(monkeypatch, tmp_path, reviewed):
    import os

    import numpy as np

    records = reviewed(n_docs=9, per_doc=12, seed=4)
    one, pids_one, parts_one = _fit_with_pids(monkeypatch, tmp_path, None, records, "one")
    two, pids_two, parts_two = _fit_with_pids(monkeypatch, tmp_path, 2, records, "two")
    assert pids_one == {os.getpid()} and parts_one == [-1, 0, 1, 2]
    assert os.getpid() not in pids_two and len(pids_two) == 2 and parts_two == [-1, 0, 1, 2]
    for attr in ("coef_", "intercept_", "calibration_", "thresholds_"):
        assert np.array_equal(getattr(one, attr), getattr(two, attr)), attr
    assert one.cv_scores_ == two.cv_scores_ and one.n_splits_ == two.n_splits_ == 3
    assert one.n_contrast_ == two.n_contrast_ > 0
    assert one.get_params()["n_jobs"] is None and two.get_params()["n_jobs"] == 2


def test_parallel_fit_falls_back_to_one_process_without_fork(monkeypatch, tmp_path, reviewed):
    import multiprocessing
    import os

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    _, pids, parts = _fit_with_pids(monkeypatch, tmp_path, -1, reviewed(n_docs=4, per_doc=10, seed=5), "spawn")
    assert pids == {os.getpid()} and parts == [-1, 0, 1, 2]


@pytest.mark.parametrize("n_jobs", [0, 1.5, "2", True])
def test_bad_n_jobs(n_jobs, reviewed):
    from slant.errors import InputError
    from slant.model.classifier import SlantClassifier

    records = reviewed(n_docs=4, per_doc=6, seed=6)
    with pytest.raises(InputError, match=rf"n_jobs={n_jobs!r} is not supported; use None .* or -1 for every core"):
        SlantClassifier(cv=2, min_df=1, n_jobs=n_jobs).fit([r["text"] for r in records], [r["labels"] for r in records])


def _spy_cue_worker():
    import os

    import slant.model.parallel as parallel

    with open(os.environ["SLANT_TEST_PID_FILE"], "w") as fh:
        fh.write(str(os.getpid()))
    cues, texts = parallel.FIT_STATE
    return cues.transform(texts)


def test_parallel_features_equal_the_unions_fit_transform(monkeypatch, tmp_path, reviewed):
    import os

    import numpy as np

    import slant.model.classifier as clf_mod
    import slant.model.parallel as parallel

    texts = [r["text"] for r in reviewed(n_docs=6, per_doc=10, seed=7)]
    serial = clf_mod.SlantClassifier(min_df=1)
    serial.features_ = serial._make_features(len(texts))
    expected = parallel.fit_features(serial.features_, texts, serial.n_jobs)

    pids = tmp_path / "cue-worker.pid"
    monkeypatch.setenv("SLANT_TEST_PID_FILE", str(pids))
    monkeypatch.setattr(parallel, "cue_worker", _spy_cue_worker)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_NNZ", 0)
    par = clf_mod.SlantClassifier(min_df=1, n_jobs=2, cue_weight=1.0)
    par.features_ = par._make_features(len(texts))
    got = parallel.fit_features(par.features_, texts, par.n_jobs)
    assert int(pids.read_text()) != os.getpid()  # the cue features came from the worker
    assert got.shape == expected.shape and (got != expected).nnz == 0
    assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
    # The fitted union transforms new text the same way either way.
    new = ["Critics call the plan a disaster, officials said."]
    assert (par.features_.transform(new) != serial.features_.transform(new)).nnz == 0
