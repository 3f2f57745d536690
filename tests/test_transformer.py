"""Estimator-level tests of TransformerFusionClassifier / Regressor.

The shared behaviour (input forms, checks, pickling, bad input, ONNX) is
tested for every estimator elsewhere; here: it learns, it handles missing
modalities as well as early fusion does, and a width the heads cannot split
is refused before training.
"""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, r2_score

from sklearn_mmfusion import (
    ConcatFusionClassifier,
    ModalityDict,
    TransformerFusionClassifier,
    TransformerFusionRegressor,
)
from sklearn_mmfusion.datasets import make_multimodal_classification, mask_modalities


def split(X, y, n_train):
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


@pytest.mark.parametrize("rate", [0.0, 0.3])
def test_classifier_learns_and_keeps_up_with_early_fusion(rate):
    X, y = make_multimodal_classification(n_samples=400, random_state=0)
    X = mask_modalities(X, rate, random_state=0) if rate else X
    X_tr, y_tr, X_te, y_te = split(X, y, 300)
    params = dict(max_epochs=60, random_state=0)
    attention = TransformerFusionClassifier(**params).fit(X_tr, y_tr)
    concat = ConcatFusionClassifier(**params).fit(X_tr, y_tr)
    acc = accuracy_score(y_te, attention.predict(X_te))
    majority = np.bincount(y_te).max() / len(y_te)
    assert acc > majority + 0.2
    assert acc >= accuracy_score(y_te, concat.predict(X_te)) - 0.05
    assert attention.transform(X_te).shape == (100, attention.hidden_dim_)


def test_regressor_learns_a_target_of_one_modality():
    rng = np.random.RandomState(0)
    X = ModalityDict(a=rng.randn(300, 4), b=rng.randn(300, 3))
    y = X["a"][:, 0] - 0.5 * X["a"][:, 1]
    X_tr, y_tr, X_te, y_te = split(X, y, 240)
    reg = TransformerFusionRegressor(max_epochs=80, random_state=0).fit(X_tr, y_tr)
    assert r2_score(y_te, reg.predict(X_te)) > 0.8


def test_width_the_heads_cannot_split_is_refused_before_training():
    X, y = make_multimodal_classification(n_samples=60, random_state=0)
    est = TransformerFusionClassifier(hidden_dim=30, n_heads=4, max_epochs=2)
    with pytest.raises(ValueError, match=r"hidden_dim \(30\) must be a multiple of n_heads \(4\)"):
        est.fit(X, y)
    assert not hasattr(est, "module_")
