"""Tests of the synthetic XOR modalities generator."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sklearn_mmfusion.datasets._xor import make_xor_modalities


def _cv_accuracy(model, features, y):
    return cross_val_score(model, features, y, cv=3).mean()


def _bits(random_state, **kwargs):
    """(b1, b2, b3) of a draw, recovered from the ``"bits"`` label."""
    _, y_bits = make_xor_modalities(label="bits", random_state=random_state, **kwargs)
    b1, b2 = y_bits // 2, y_bits % 2
    return b1, b2, b1 ^ b2


def test_shapes_dtypes_and_default_widths():
    X, y = make_xor_modalities(n_samples=50, random_state=0)
    assert list(X) == ["m0", "m1", "m2"]
    assert [X[name].shape for name in X] == [(50, 8), (50, 12), (50, 16)]
    assert all(X[name].dtype == np.float64 for name in X)
    assert y.shape == (50,) and np.issubdtype(y.dtype, np.integer)
    assert set(np.unique(y)) <= {0, 1}

    X, _ = make_xor_modalities(n_samples=10, n_modalities=5, random_state=0)
    assert [X[name].shape[1] for name in X] == [8, 12, 16, 8, 12]
    X, _ = make_xor_modalities(n_samples=10, widths=(3, 4, 5), random_state=0)
    assert [X[name].shape[1] for name in X] == [3, 4, 5]


def test_determinism():
    X1, y1 = make_xor_modalities(n_samples=100, random_state=3)
    X2, y2 = make_xor_modalities(n_samples=100, random_state=3)
    X3, y3 = make_xor_modalities(n_samples=100, random_state=4)
    np.testing.assert_array_equal(y1, y2)
    for name in X1:
        np.testing.assert_array_equal(X1[name], X2[name])
        assert not np.allclose(X1[name], X3[name])


def test_bits_label_is_consistent_with_xor_label():
    X_xor, y_xor = make_xor_modalities(n_samples=200, random_state=1)
    X_bits, y_bits = make_xor_modalities(n_samples=200, label="bits", random_state=1)
    assert set(np.unique(y_bits)) == {0, 1, 2, 3}
    np.testing.assert_array_equal(y_xor, (y_bits // 2) ^ (y_bits % 2))
    np.testing.assert_array_equal(X_xor["m0"], X_bits["m0"])


def test_bits_are_pairwise_independent():
    b1, b2, b3 = _bits(random_state=0, n_samples=8000)
    for u, v in [(b1, b2), (b1, b3), (b2, b3)]:
        for a in (0, 1):
            for b in (0, 1):
                assert abs(np.mean((u == a) & (v == b)) - 0.25) < 0.025


def test_label_needs_both_first_modalities():
    X, y = make_xor_modalities(n_samples=1200, noise=0.3, random_state=0)
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    # No single feature of modality 0 or 1 is correlated with the label ...
    n = len(y)
    for name in ("m0", "m1"):
        corr = [abs(np.corrcoef(col, y)[0, 1]) for col in X[name].T]
        assert max(corr) < 4 / np.sqrt(n)
        # ... and a probe on either alone is at chance.
        assert _cv_accuracy(linear, X[name], y) < 0.6
    # The third modality carries the label on its own.
    assert _cv_accuracy(linear, X["m2"], y) > 0.95
    # Modalities 0 and 1 together determine it, through their interaction.
    both = np.hstack([X["m0"], X["m1"]])
    interactions = make_pipeline(
        StandardScaler(),
        PolynomialFeatures(2, interaction_only=True, include_bias=False),
        LogisticRegression(max_iter=2000),
    )
    assert _cv_accuracy(interactions, both, y) > 0.9


def test_shared_strength_controls_pairwise_dependence():
    def max_cross_corr(X):
        a, b = X["m0"], X["m1"]
        c = np.corrcoef(a.T, b.T)[: a.shape[1], a.shape[1] :]
        return np.abs(c).max()

    X0, _ = make_xor_modalities(n_samples=2000, shared_strength=0.0, random_state=0)
    X5, _ = make_xor_modalities(n_samples=2000, shared_strength=0.5, random_state=0)
    assert max_cross_corr(X0) < 0.1
    assert max_cross_corr(X5) > 0.3


def test_extra_modalities_are_distractors():
    X, y = make_xor_modalities(n_samples=1000, n_modalities=4, random_state=0)
    b1, b2, b3 = _bits(random_state=0, n_samples=1000, n_modalities=4)
    np.testing.assert_array_equal(y, b3)
    corr = [abs(np.corrcoef(col, y)[0, 1]) for col in X["m3"].T]
    assert max(corr) < 4 / np.sqrt(len(y))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_modalities": 2},
        {"widths": (8, 12)},
        {"noise": -1.0},
        {"shared_strength": 1.5},
        {"label": "parity"},
        {"n_samples": 0},
    ],
)
def test_invalid_parameters(kwargs):
    with pytest.raises(ValueError):
        make_xor_modalities(**kwargs)
