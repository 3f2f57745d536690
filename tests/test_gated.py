"""Estimator-level tests of GatedFusionClassifier / GatedFusionRegressor.

The shared behaviour (input forms, cloning, pickling, ...) is tested for every
estimator in test_base.py and test_sklearn_checks.py; this file tests what is
specific to gated fusion: the per-sample gates, the importances, training
with a mostly-missing modality, and the task gating is made for.
"""

import numpy as np
import pytest
import torch
from conftest import FAST, RecordNonFiniteGradients, with_missing
from sklearn.model_selection import GridSearchCV

from sklearn_mmfusion import (
    ConcatFusionClassifier,
    GatedFusionClassifier,
    GatedFusionRegressor,
    ModalityDict,
)
from sklearn_mmfusion.datasets import make_multimodal_classification


def make_switching_modalities(n_samples, n_candidates=6, width=8, n_signal=3,
                              sep=1.0, random_state=0):
    """Binary task whose informative modality changes from sample to sample.

    ``n_candidates`` modalities ``m0, m1, ...`` of ``width`` Gaussian features.
    Each sample draws which candidate is informative, ``s``: in that one the
    first ``n_signal`` features are shifted by ``+sep`` or ``-sep`` according
    to the label; in every other candidate they are shifted the same way but
    by the sign of a fresh coin flip. So each candidate, taken alone, has the
    same distribution whether it is informative or not, and the noise
    candidates look exactly like evidence for a random label. A context
    modality ``ctx`` (one-hot of ``s`` in {-1, +1}, plus a little noise) says
    which candidate to listen to: the label is predictable (Bayes accuracy
    about 0.96) only by weighting the candidates according to another
    modality, i.e. by a cross-modal gate.

    Returns ``X`` (ModalityDict), ``y`` and ``s`` (the informative candidate).
    """
    rng = np.random.RandomState(random_state)
    y = rng.randint(2, size=n_samples)
    s = rng.randint(n_candidates, size=n_samples)
    blocks = {}
    for m in range(n_candidates):
        informative = s == m
        block = rng.randn(n_samples, width)
        coin = rng.choice([-1, 1], size=n_samples)
        shift = np.where(informative, 2 * y - 1, coin)
        block[:, :n_signal] += sep * shift[:, None]
        blocks[f"m{m}"] = block
    blocks["ctx"] = (
        2.0 * np.eye(n_candidates)[s] - 1.0 + 0.1 * rng.randn(n_samples, n_candidates)
    )
    return ModalityDict(blocks), y, s


def _rows(X, rows):
    return ModalityDict({name: block[rows] for name, block in X.items()})


def test_gated_beats_concat_when_the_informative_modality_switches():
    # Measured 2026-12-02 with the robust-scaling recipe (held-out accuracy
    # gated / concat, this budget, data and model seed s): s=0 0.826 / 0.661,
    # s=1 0.765 / 0.656, s=2 0.835 / 0.711, s=3 0.795 / 0.630. Gate correlation
    # with the informative candidate 0.55-0.75, gate ratio informative / noise
    # 1.7-2.1 (2.08 at s=0, the seed tested: close to the bound of 2 below).
    n_train, seed = 400, 0
    X, y, s = make_switching_modalities(n_train + 1000, random_state=seed)
    train, test = slice(0, n_train), slice(n_train, None)
    X_train, X_test = _rows(X, train), _rows(X, test)
    # The same budget for both: fixed epochs, no early stopping.
    budget = dict(hidden_dim=16, max_epochs=60, batch_size=32, early_stopping=False,
                  random_state=seed)
    gated = GatedFusionClassifier(**budget).fit(X_train, y[train])
    concat = ConcatFusionClassifier(**budget).fit(X_train, y[train])
    gated_acc = gated.score(X_test, y[test])
    concat_acc = concat.score(X_test, y[test])
    assert gated_acc >= 0.80, (gated_acc, concat_acc)
    assert gated_acc - concat_acc >= 0.05, (gated_acc, concat_acc)

    # The gates follow the informative candidate, sample by sample.
    candidates = gated.gates(X_test)[:, :6]  # the ctx gate is left out
    informative = np.eye(6, dtype=bool)[s[test]]
    gate_informative = candidates[informative]
    gate_noise = candidates[~informative]
    assert gate_informative.mean() > 2 * gate_noise.mean()
    assert np.corrcoef(candidates.ravel(), informative.ravel())[0, 1] > 0.5
    # Largest candidate gate = the informative one (chance: 1/6).
    assert np.mean(candidates.argmax(1) == s[test]) > 0.5


@pytest.mark.parametrize("Est", [GatedFusionClassifier, GatedFusionRegressor])
@pytest.mark.parametrize("gate", ["softmax", "sigmoid"])
def test_gates_are_zero_for_missing_modalities(Est, gate, multimodal_data):
    X, y = multimodal_data
    X = with_missing(X, rate=0.4, seed=1)
    if Est is GatedFusionRegressor:
        y = np.nan_to_num(X["m0"][:, 0]) + y
    est = Est(gate=gate, **FAST).fit(X, y)
    # Predict on rows missing in ways unseen in training too: a sample with
    # nothing observed gets all gates 0.
    X_pred = ModalityDict({name: block.copy() for name, block in X.items()})
    for block in X_pred.values():
        block[:3] = np.nan
    gates = est.gates(X_pred)
    observed = np.stack([~np.isnan(block).all(1) for block in X_pred.values()], axis=1)
    assert gates.shape == (len(y), 3) and gates.dtype == np.float32
    assert np.all(gates[~observed] == 0.0)
    assert np.all(gates[observed] > 0.0)
    assert np.all(gates[:3] == 0.0)
    has_any = observed.any(1)
    if gate == "softmax":
        np.testing.assert_allclose(gates[has_any].sum(1), 1.0, rtol=0, atol=1e-5)
    else:
        assert np.all(gates <= 1.0)
        # Independent gates: their sums are not tied to 1.
        assert np.abs(gates[observed.all(1)].sum(1) - 1.0).max() > 0.05
    assert np.all(np.isfinite(est.predict(X_pred)))


@pytest.mark.parametrize("gate", ["softmax", "sigmoid"])
def test_modality_missing_in_90_percent_of_rows_never_gives_nan(gate):
    X, y = make_multimodal_classification(
        n_samples=300, modality_dims=(5, 4, 3), class_sep=2.0, random_state=3
    )
    rng = np.random.RandomState(0)
    hidden = rng.rand(len(y)) < 0.9
    X["m0"][hidden] = np.nan
    grads = RecordNonFiniteGradients()
    est = GatedFusionClassifier(
        gate=gate, modality_dropout=0.2, callbacks=[grads], **FAST
    ).fit(X, y)
    assert grads.n_batches > 0 and grads.n_bad == 0
    for name, param in est.module_.named_parameters():
        assert torch.isfinite(param).all(), name
    assert np.all(np.isfinite(est.history_[:, "train_loss"]))
    proba = est.predict_proba(X)
    assert np.all(np.isfinite(proba))
    assert np.all(np.isfinite(est.transform(X)))
    assert est.score(X, y) > 0.75
    gates = est.gates(X)
    assert np.all(np.isfinite(gates)) and np.all(gates[hidden, 0] == 0.0)

    importances = est.modality_importances_
    assert importances.shape == (3,)
    assert np.all(importances >= 0)
    assert importances.sum() == pytest.approx(1.0, abs=1e-6)
    # A modality with a gate of 0 in 90% of the rows matters least.
    assert importances[0] < importances[1:].min()
    # It is the normalised mean gate over the training data.
    mean_gate = gates.astype(float).mean(0)
    np.testing.assert_allclose(importances, mean_gate / mean_gate.sum(), atol=1e-6)


def test_grid_search_over_gate(multimodal_data):
    X, y = multimodal_data
    # The plain first layer ("auto" bins these 120-row folds): on Gaussian
    # classes and 8 epochs the piecewise encoding scores below the bar
    # checked here (0.68 against 0.7), which is about the search, not it.
    params = {**FAST, "max_epochs": 8, "numerical_embedding": None}
    search = GridSearchCV(
        GatedFusionClassifier(**params), {"gate": ["softmax", "sigmoid"]}, cv=2
    ).fit(X, y)
    assert search.best_params_["gate"] in {"softmax", "sigmoid"}
    assert len(search.cv_results_["params"]) == 2
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.cv_results_["mean_test_score"].max() > 0.7
    best = search.best_estimator_
    assert best.gate == search.best_params_["gate"]
    assert best.module_.gate == best.gate
    assert search.score(X, y) > 0.7
