"""Estimator-level tests of CLARGAClassifier / CLARGARegressor.

The shared behaviour is tested for every estimator in test_base.py and
test_sklearn_checks.py, the network alone in test_nn_clarga.py; this file
tests the attention graphs, the importances, the contrastive weight, training
with a mostly-missing modality and the grid search over the graph.
"""

import numpy as np
import pytest
import torch
from conftest import FAST, RecordNonFiniteGradients, with_missing
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_mmfusion import CLARGAClassifier, CLARGARegressor, ModalityDict
from sklearn_mmfusion.datasets import make_multimodal_classification

# Six modalities: graph_k="auto" keeps ceil(sqrt(6)) + 1 = 4 of the 6 senders,
# so the default graph is sparse (with 3 modalities it would be dense).
SIX = (3, 4, 2, 3, 4, 2)


@pytest.fixture(scope="module")
def six_modalities():
    X, y = make_multimodal_classification(
        n_samples=240, modality_dims=SIX, n_informative=1, class_sep=1.5, random_state=0
    )
    return with_missing(X, rate=0.3, seed=2), y


def _observed(X):
    return np.stack([~np.isnan(block).all(1) for block in X.values()], axis=1)


def _check_graph(attention, observed):
    """The invariants of attention_graph for any graph_k."""
    n, n_mod = observed.shape
    assert attention.shape == (n, n_mod, n_mod)
    assert attention.dtype == np.float32
    assert np.all(np.isfinite(attention)) and np.all(attention >= 0)
    # Rows of present receivers sum to 1; rows of missing receivers are 0.
    rows = attention.sum(2)
    np.testing.assert_allclose(rows[observed], 1.0, rtol=0, atol=1e-5)
    assert np.all(attention[~observed] == 0.0)
    # Missing senders send nothing: their columns are 0.
    senders = np.broadcast_to(observed[:, None, :], attention.shape)
    assert np.all(attention[~senders] == 0.0)
    # The self-loop of every present node is kept.
    diagonal = np.diagonal(attention, axis1=1, axis2=2)
    assert np.all(diagonal[observed] > 0.0)


@pytest.mark.parametrize("Est", [CLARGAClassifier, CLARGARegressor])
def test_attention_graph_default_is_sparse_and_masked(Est, six_modalities):
    X, y = six_modalities
    if Est is CLARGARegressor:
        y = y + np.nan_to_num(X["m1"][:, 0])
    est = Est(n_heads=2, **FAST).fit(X, y)
    assert est.module_.n_neighbors == 4  # "auto" with M = 6
    attention = est.attention_graph(X)
    observed = _observed(X)
    _check_graph(attention, observed)
    # At most k = 4 senders per receiver, and all 4 when enough are present.
    nonzero = (attention > 0).sum(2)
    assert nonzero.max() <= 4
    enough = observed & (observed.sum(1) >= 4)[:, None]
    assert np.all(nonzero[enough] == 4)

    importances = est.modality_importances_
    assert importances.shape == (6,) and np.all(importances >= 0)
    assert importances.sum() == pytest.approx(1.0, abs=1e-6)
    sent = attention.astype(float).sum(1).mean(0)
    np.testing.assert_allclose(importances, sent / sent.sum(), atol=1e-5)


def test_graph_k_none_gives_a_dense_graph(six_modalities):
    X, y = six_modalities
    est = CLARGAClassifier(n_heads=2, graph_k=None, **FAST).fit(X, y)
    assert est.module_.n_neighbors == 6
    attention = est.attention_graph(X)
    observed = _observed(X)
    _check_graph(attention, observed)
    # Every present sender has a non-zero weight in every present receiver's row.
    edges = observed[:, :, None] & observed[:, None, :]
    assert np.all(attention[edges] > 0.0)
    assert np.all(attention[~edges] == 0.0)


def test_graph_k_int_keeps_k_senders(six_modalities):
    X, y = six_modalities
    est = CLARGAClassifier(n_heads=2, graph_k=2, **FAST).fit(X, y)
    attention = est.attention_graph(X)
    observed = _observed(X)
    _check_graph(attention, observed)
    nonzero = (attention > 0).sum(2)
    assert nonzero.max() <= 2
    # Self-loop plus one other sender wherever another one is present.
    assert np.all(nonzero[observed & (observed.sum(1) >= 2)[:, None]] == 2)


def test_trains_without_the_contrastive_term():
    X, y = make_multimodal_classification(
        n_samples=400, modality_dims=(5, 4, 6), n_informative=2, class_sep=1.5,
        flip_y=0.0, random_state=1,
    )
    idx_train, idx_test = train_test_split(
        np.arange(len(y)), test_size=0.4, stratify=y, random_state=0
    )
    X_train = ModalityDict({k: v[idx_train] for k, v in X.items()})
    X_test = ModalityDict({k: v[idx_test] for k, v in X.items()})
    est = CLARGAClassifier(contrastive_weight=0.0, **FAST).fit(X_train, y[idx_train])
    # Chance is 0.5; measured 1.0 (as logistic regression on all features).
    assert est.score(X_test, y[idx_test]) > 0.8
    # The weight is wired into the loss: with the InfoNCE term the first
    # epoch's loss is far higher (measured 9.1 against 0.65).
    one_epoch = {**FAST, "max_epochs": 1, "early_stopping": False}
    without = CLARGAClassifier(contrastive_weight=0.0, **one_epoch).fit(X_train, y[idx_train])
    with_nce = CLARGAClassifier(contrastive_weight=1.0, **one_epoch).fit(X_train, y[idx_train])
    assert with_nce.history_[0, "train_loss"] > without.history_[0, "train_loss"] + 1.0


def test_modality_missing_in_90_percent_of_rows_never_gives_nan():
    X, y = make_multimodal_classification(
        n_samples=300, modality_dims=(5, 4, 3, 4), class_sep=2.0, random_state=3
    )
    rng = np.random.RandomState(0)
    hidden = rng.rand(len(y)) < 0.9
    X["m0"][hidden] = np.nan
    grads = RecordNonFiniteGradients()
    est = CLARGAClassifier(
        n_heads=2, n_layers=2, graph_k=2, contrastive_weight=0.1, modality_dropout=0.2,
        callbacks=[grads], **FAST,
    ).fit(X, y)
    assert grads.n_batches > 0 and grads.n_bad == 0
    for name, param in est.module_.named_parameters():
        assert torch.isfinite(param).all(), name
    assert np.all(np.isfinite(est.history_[:, "train_loss"]))
    assert np.all(np.isfinite(est.predict_proba(X)))
    assert np.all(np.isfinite(est.transform(X)))
    assert est.score(X, y) > 0.75
    attention = est.attention_graph(X)
    _check_graph(attention, _observed(X))
    importances = est.modality_importances_
    assert importances.sum() == pytest.approx(1.0, abs=1e-6)
    # Sending nothing in 90% of the rows, m0 gets the least attention mass.
    assert importances[0] < importances[1:].min()


def test_grid_search_over_heads_and_graph(six_modalities):
    X, y = six_modalities
    grid = {"n_heads": [2, 4], "graph_k": [2, None]}
    search = GridSearchCV(
        CLARGAClassifier(**{**FAST, "max_epochs": 6}), grid, cv=2
    ).fit(X, y)
    assert set(search.best_params_) == {"n_heads", "graph_k"}
    assert search.best_params_["n_heads"] in (2, 4)
    assert search.best_params_["graph_k"] in (2, None)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_
    assert best.n_heads == search.best_params_["n_heads"]
    expected_k = 6 if search.best_params_["graph_k"] is None else 2
    assert best.module_.n_neighbors == expected_k
    assert best.module_.layers[-1].heads == best.n_heads
    assert search.score(X, y) > 0.6
