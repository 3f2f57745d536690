"""partial_fit (one pass per chunk, schema fixed by the first call) and
warm_start on every fusion estimator."""

import copy
import math
import pickle

import numpy as np
import pytest
from skorch.callbacks import Callback

from sklearn_mmfusion import (
    ConcatFusionClassifier,
    FusionClassifier,
    FusionRegressor,
    GatedFusionRegressor,
    ModalityDict,
)
from sklearn_mmfusion._discovery import all_fusion_estimators
from sklearn_mmfusion.datasets import make_multimodal_classification, mask_modalities

SMALL = dict(hidden_dim=8, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_multimodal_classification(
        n_samples=600, modality_dims=(5, 4, 3), n_informative=2, class_sep=1.5, random_state=0
    )
    return mask_modalities(X, 0.2, random_state=0), y


def target_for(Est, X, y):
    if issubclass(Est, FusionClassifier):
        return y
    if issubclass(Est, FusionRegressor):
        return y * 2.0 + 10.0
    return None


def chunk_call(est, X, y, rows, first):
    if isinstance(est, FusionClassifier):
        return est.partial_fit(X[rows], y[rows], classes=[0, 1] if first else None)
    if isinstance(est, FusionRegressor):
        return est.partial_fit(X[rows], y[rows])
    return est.partial_fit(X[rows])


@pytest.mark.parametrize("Est", all_fusion_estimators(), ids=lambda E: E.__name__)
def test_each_call_is_one_pass_over_its_chunk(Est, data):
    X, y = data
    target = target_for(Est, X, y)
    est = Est(**SMALL)
    chunks = [np.arange(0, 100), np.arange(100, 250), np.arange(250, 300)]
    for i, rows in enumerate(chunks):
        chunk_call(est, X, target, rows, first=i == 0)
        assert est.n_iter_ == i + 1 and len(est.history_) == i + 1
    assert [h["epoch"] for h in est.history_] == [1, 2, 3]
    assert est.history_[:, "phase"] == ["partial_fit"] * 3
    assert est.modalities_ == ["m0", "m1", "m2"]
    out = est.predict(X[:7]) if hasattr(est, "predict") else est.transform(X[:7])
    assert out.shape[0] == 7


def test_steps_per_call_and_schema_from_first_chunk(data):
    X, y = data
    steps = []

    class Record(Callback):
        def on_epoch_end(self, net, **kwargs):
            steps.append(sum(1 for b in net.history[-1]["batches"] if "train_loss" in b))

    est = ConcatFusionClassifier(**SMALL, callbacks=[Record()])
    first, second = np.arange(0, 200), np.arange(200, 270)
    est.partial_fit(X[first], y[first], classes=[0, 1])
    means = [m.copy() for m in est.schema_.means]
    shifted = ModalityDict({k: v + 100.0 for k, v in X[second].items()})
    est.partial_fit(shifted, y[second])
    assert steps == [math.ceil(200 / 32), math.ceil(70 / 32)]
    # The scaling statistics are those of the first chunk, never updated.
    present = ~np.isnan(X["m0"][first]).all(axis=1)
    np.testing.assert_allclose(means[0], np.nanmean(X["m0"][first][present], axis=0))
    for before, after in zip(means, est.schema_.means):
        np.testing.assert_array_equal(before, after)


def test_partial_fit_learns_and_is_reproducible(data):
    X, y = data
    train, test = np.arange(0, 480), np.arange(480, 600)

    def run():
        est = ConcatFusionClassifier(**SMALL)
        for epoch in range(6):
            for i, rows in enumerate(np.array_split(train, 4)):
                chunk_call(est, X, y, rows, first=epoch == 0 and i == 0)
        return est

    a, b = run(), run()
    np.testing.assert_array_equal(a.predict_proba(X[test]), b.predict_proba(X[test]))
    assert a.n_iter_ == 24
    # As good as fit() with as many epochs over the same rows (chance: 0.5).
    full = ConcatFusionClassifier(**SMALL, max_epochs=6, early_stopping=False)
    reference = full.fit(X[train], y[train]).score(X[test], y[test])
    assert a.score(X[test], y[test]) > max(0.65, reference - 0.05)
    losses = a.history_[:, "train_loss"]
    assert np.mean(losses[-4:]) < np.mean(losses[:4])


def test_lr_changed_between_calls_is_the_rate_used(data):
    """The AdamW state carried from one call to the next holds the rate of
    the first; a rate set in between (a hand-made decay) is the one used,
    and every epoch records it."""
    X, y = data
    rows = np.arange(0, 200)
    est = ConcatFusionClassifier(**SMALL, lr=1e-2)
    est.partial_fit(X[rows], y[rows], classes=[0, 1])
    before = [p.detach().clone() for p in est.module_.parameters()]
    est.set_params(lr=0.0, weight_decay=0.0)
    est.partial_fit(X[rows], y[rows])
    assert est.history_[:, "event_lr"] == [pytest.approx(1e-2), 0.0]
    # At a zero rate (and no decay) the weights do not move.
    for old, new in zip(before, est.module_.parameters()):
        np.testing.assert_array_equal(old, new.detach())


def test_optimizer_state_survives_pickling(data):
    # What dask does between two blocks: the model travels pickled.
    X, y = data
    est = ConcatFusionClassifier(**SMALL).partial_fit(X[:200], y[:200], classes=[0, 1])
    travelled = pickle.loads(pickle.dumps(est))
    est.partial_fit(X[200:400], y[200:400])
    travelled.partial_fit(X[200:400], y[200:400])
    np.testing.assert_array_equal(est.predict_proba(X), travelled.predict_proba(X))
    # ... and it matters: a fresh AdamW state gives another result.
    fresh = pickle.loads(pickle.dumps(est))
    del fresh._optimizer_state_
    fresh_again = copy.deepcopy(fresh)
    fresh.partial_fit(X[400:], y[400:])
    est.partial_fit(X[400:], y[400:])
    assert not np.allclose(fresh.predict_proba(X), est.predict_proba(X))
    assert fresh_again.n_iter_ == 2


def test_skops_round_trip_after_partial_fit(data, tmp_path):
    sio = pytest.importorskip("skops.io")
    import sklearn_mmfusion

    X, y = data
    est = ConcatFusionClassifier(**SMALL).partial_fit(X[:200], y[:200], classes=[0, 1])
    sio.dump(est, tmp_path / "m.skops")
    again = sklearn_mmfusion.load(tmp_path / "m.skops")
    again.partial_fit(X[200:400], y[200:400])
    est.partial_fit(X[200:400], y[200:400])
    np.testing.assert_array_equal(est.predict_proba(X), again.predict_proba(X))


def test_partial_fit_errors_leave_the_model_unchanged(data):
    X, y = data
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        ConcatFusionClassifier(**SMALL).partial_fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="balanced"):
        ConcatFusionClassifier(**SMALL, class_weight="balanced").partial_fit(
            X[:50], y[:50], classes=[0, 1])
    est = ConcatFusionClassifier(**SMALL).partial_fit(X[:100], y[:100], classes=[0, 1])
    before = est.predict_proba(X)
    with pytest.raises(ValueError, match=r"labels \[7\] that are not in classes"):
        est.partial_fit(X[:10], np.r_[y[:9], 7])
    with pytest.raises(ValueError, match="differs from the classes"):
        est.partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    wider = ModalityDict({**X[:10], "m2": np.zeros((10, 5))})
    with pytest.raises(ValueError, match="modality 'm2' has 5 columns, expected 3"):
        est.partial_fit(wider, y[:10])
    with pytest.raises(ValueError, match="samples but y has"):
        est.partial_fit(X[:10], y[:9])
    np.testing.assert_array_equal(est.predict_proba(X), before)
    assert est.n_iter_ == 1
    reg = GatedFusionRegressor(**SMALL).partial_fit(X[:50], y[:50].astype(float))
    with pytest.raises(ValueError, match="target"):
        reg.partial_fit(X[:50], np.c_[y[:50], y[:50]].astype(float))


def test_warm_start_continues_and_cold_fit_restarts(data):
    X, y = data
    params = dict(SMALL, max_epochs=4, early_stopping=False)
    cold = ConcatFusionClassifier(**params).fit(X, y)
    warm = copy.deepcopy(cold).set_params(warm_start=True).fit(X, y)
    assert warm.n_iter_ == 8 and len(warm.history_) == 8
    # It started where the first fit ended: its first loss is close to the
    # first fit's last one, far below the first fit's first one.
    first_losses = cold.history_[:, "train_loss"]
    assert warm.history_[4, "train_loss"] < first_losses[0]
    assert abs(warm.history_[4, "train_loss"] - first_losses[-1]) < abs(
        first_losses[0] - first_losses[-1])
    # warm_start=False: fit starts over.
    again = copy.deepcopy(warm).set_params(warm_start=False).fit(X, y)
    assert again.n_iter_ == 4
    np.testing.assert_array_equal(again.predict_proba(X), cold.predict_proba(X))
    # With early stopping on, the continuation holds data out like fit does.
    stopped = copy.deepcopy(cold).set_params(warm_start=True, early_stopping=True).fit(X, y)
    assert "valid_loss" in stopped.history_[-1]
    # Every epoch says how it was trained: the first fit, then the warm one.
    phases = stopped.history_[:, "phase"]
    assert len(phases) == stopped.n_iter_
    assert phases[:4] == ["schedule"] * 4 and set(phases[4:]) == {"warm_start"}
    # A warm fit on another width is refused, as at predict time.
    with pytest.raises(ValueError, match="modality 'm0'"):
        copy.deepcopy(cold).set_params(warm_start=True).fit(
            ModalityDict({**X, "m0": np.zeros((len(y), 2))}), y)
