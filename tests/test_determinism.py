"""Determinism, and no global torch state leaking to or from the caller.

* Same ``random_state`` on CPU => bit-identical outputs: across two fits of
  one instance, across ``clone``, across fresh ``RandomState`` objects, and
  under ``GridSearchCV(n_jobs=2)`` (the same results as ``n_jobs=1``).
* Different states give different models; ``random_state=None`` works.
* Fitting runs with the caller's ``torch.set_num_threads`` setting, and
  fitting, predicting and unpickling leave the caller's torch state as it
  was: thread counts, default dtype, global RNG, grad mode.
"""

import pickle

import numpy as np
import pytest
import torch
from _targets import FACTORIES, FUSION, TINY, fit, make_data, outputs
from skorch.callbacks import Callback
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_mmfusion import ModalityDict

FUSION_NAMES = [E.__name__ for E in FUSION]
SEEDED = FUSION_NAMES + ["CalibratedModalityImputer"]


def assert_identical(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def _stochastic(name, **params):
    """Dropout and modality dropout on, so that every random draw matters."""
    if name in FUSION_NAMES:
        params = {"dropout": 0.2, "modality_dropout": 0.3, **params}
    return FACTORIES[name](**params)


def _losses(est):
    if hasattr(est, "history_"):
        return [(e["train_loss"], e.get("valid_loss")) for e in est.history_]
    return list(est.loglik_)  # the imputer's EM


@pytest.mark.parametrize("name", SEEDED)
def test_same_random_state_gives_bit_identical_outputs(name):
    X, yc, yr = make_data()
    est = fit(_stochastic(name), X, yc, yr)
    first, losses = outputs(est, X), _losses(est)
    fit(est, X, yc, yr)  # refit, same instance
    assert_identical(outputs(est, X), first)
    assert _losses(est) == losses
    cloned = fit(clone(est), X, yc, yr)
    assert_identical(outputs(cloned, X), first)
    assert _losses(cloned) == losses
    # Two fresh RandomState objects with the same seed are the same seed.
    a = fit(_stochastic(name, random_state=np.random.RandomState(3)), X, yc, yr)
    b = fit(_stochastic(name, random_state=np.random.RandomState(3)), X, yc, yr)
    assert_identical(outputs(a, X), outputs(b, X))


@pytest.mark.parametrize("name", FUSION_NAMES)
def test_other_random_states_give_other_models(name):
    X, yc, yr = make_data()
    a = fit(_stochastic(name, random_state=0), X, yc, yr).transform(X)
    b = fit(_stochastic(name, random_state=1), X, yc, yr).transform(X)
    assert not np.array_equal(a, b)
    # random_state=None draws a fresh seed each time (from numpy's global RNG).
    c = fit(_stochastic(name, random_state=None), X, yc, yr)
    d = fit(_stochastic(name, random_state=None), X, yc, yr)
    for est in (c, d):
        for key, out in outputs(est, X).items():
            assert out.shape[0] == len(X["a"])
            if out.dtype.kind == "f":
                assert np.isfinite(out).all(), key
    assert not np.array_equal(c.transform(X), d.transform(X))


def test_grid_search_with_two_jobs_matches_one_job():
    """Worker processes (loky) train bit-identically to the main process: the
    same scores, the same best parameters, the same refitted model."""
    X, y, _ = make_data(n=32)
    X = ModalityDict(X)
    est = FACTORIES["GatedFusionClassifier"](modality_dropout=0.2)
    grid = {"hidden_dim": [4, 8], "dropout": [0.0, 0.3]}
    cv = KFold(n_splits=2, shuffle=True, random_state=0)
    searches = [GridSearchCV(est, grid, cv=cv, n_jobs=jobs).fit(X, y) for jobs in (1, 2)]
    one, two = searches
    np.testing.assert_array_equal(one.cv_results_["mean_test_score"],
                                  two.cv_results_["mean_test_score"])
    assert one.best_params_ == two.best_params_
    assert_identical(outputs(one.best_estimator_, X), outputs(two.best_estimator_, X))


def test_fits_in_threads_of_one_process_match_serial_fits():
    """Fits share torch's process-wide RNG; in threads (joblib's threading
    backend, dask thread workers) they must still reproduce serial fits."""
    from joblib import Parallel, delayed, parallel_backend

    X, y, _ = make_data(n=48)

    def fit_proba(hidden_dim):
        est = _stochastic("GatedFusionClassifier", hidden_dim=hidden_dim)
        return est.fit(X, y).predict_proba(X)

    sizes = (4, 8, 4, 8)
    serial = [fit_proba(h) for h in sizes]
    with parallel_backend("threading", n_jobs=4):
        threaded = Parallel()(delayed(fit_proba)(h) for h in sizes)
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)


# -- threads and global torch state -------------------------------------------


class _RecordThreads(Callback):
    """Records torch's intra-op thread count during training."""

    def __init__(self):
        self.seen = []

    def on_epoch_end(self, net, **kwargs):
        self.seen.append(torch.get_num_threads())


@pytest.mark.parametrize("name", FUSION_NAMES)
@pytest.mark.parametrize("threads", [1, 2])
def test_training_uses_the_callers_thread_setting(name, threads):
    X, yc, yr = make_data()
    torch.set_num_threads(threads)  # the conftest fixture restores it after
    recorder = _RecordThreads()
    fit(FACTORIES[name](callbacks=[recorder]), X, yc, yr)
    assert recorder.seen == [threads] * TINY["max_epochs"]
    assert torch.get_num_threads() == threads


def _global_state():
    return {
        "threads": torch.get_num_threads(),
        "interop threads": torch.get_num_interop_threads(),
        "default dtype": torch.get_default_dtype(),
        "torch rng": torch.random.get_rng_state(),
        "numpy rng": np.random.get_state()[1].copy(),
        "grad enabled": torch.is_grad_enabled(),
        "inference mode": torch.is_inference_mode_enabled(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
    }


def _assert_same_state(before, after):
    for key, value in before.items():
        if isinstance(value, (torch.Tensor, np.ndarray)):
            assert np.array_equal(np.asarray(after[key]), np.asarray(value)), key
        else:
            assert after[key] == value, key


@pytest.mark.parametrize("name", SEEDED)
def test_fit_predict_and_unpickle_leave_global_torch_state_alone(name):
    X, yc, yr = make_data()
    torch.manual_seed(1234)
    before = _global_state()
    est = fit(_stochastic(name), X, yc, yr)
    expected = outputs(est, X)
    again = pickle.loads(pickle.dumps(est))
    assert_identical(outputs(again, X), expected)
    _assert_same_state(before, _global_state())


@pytest.mark.parametrize("name", SEEDED)
def test_callers_float64_default_dtype_is_respected_and_kept(name):
    """A caller who set float64 as torch's default gets the same float32
    model, and keeps their default."""
    X, yc, yr = make_data()
    expected = outputs(fit(_stochastic(name), X, yc, yr), X)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        est = fit(_stochastic(name), X, yc, yr)
        got = outputs(est, X)
        again = outputs(pickle.loads(pickle.dumps(est)), X)
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(previous)
    assert_identical(got, expected)
    assert_identical(again, expected)
