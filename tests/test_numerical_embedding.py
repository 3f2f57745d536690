"""The estimators' numerical_embedding: "piecewise" (quantile bins learned in
fit), and "auto", which picks it on small data."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sklearn_mmfusion import (
    ConcatFusionClassifier,
    GatedFusionClassifier,
    LateFusionRegressor,
    TransformerFusionClassifier,
)
from sklearn_mmfusion._base import AUTO_PIECEWISE_MAX_ROWS
from sklearn_mmfusion._discovery import all_fusion_estimators
from sklearn_mmfusion.nn import DEFAULTS, PiecewiseLinearEncoding


def _first_layers(est):
    return [encoder[0] for encoder in est.module_.encoder.encoders]


def _step_data(n, seed):
    """A class that is a step of one feature of "a"; "b" is noise."""
    rng = np.random.default_rng(seed)
    X = {"a": rng.standard_normal((n, 4)), "b": rng.standard_normal((n, 3))}
    y = (X["a"][:, 0] > 0.4).astype(int)
    return X, y


def test_bins_each_narrow_dense_modality_from_its_present_rows():
    rng = np.random.default_rng(0)
    n = 120
    wide = DEFAULTS["embedding_max_width"] + 1
    X = {"a": rng.standard_normal((n, 3)), "wide": rng.standard_normal((n, wide)),
         "sparse": sp.random(n, 5, density=0.3, format="csr", random_state=0)}
    hidden = rng.random(n) < 0.4
    X["a"][hidden] = np.nan
    y = rng.integers(0, 2, n)
    est = ConcatFusionClassifier(numerical_embedding="piecewise", n_ensemble=1, max_epochs=2,
                                 random_state=0).fit(X, y)
    binned, wide_layer, sparse_layer = _first_layers(est)
    assert isinstance(binned, PiecewiseLinearEncoding)
    assert isinstance(wide_layer, torch.nn.Linear) and isinstance(sparse_layer, torch.nn.Linear)
    # Edges from the present rows alone: the lowest and highest edges are the
    # extremes of the scaled present values (the missing rows' filler is 0).
    present = est.fitted_input_.schema.encode(*est._split_input(X))[0][0]
    present = present[~hidden]
    edges = est._network_init_["kwargs"]["bin_edges"][0]
    assert edges.shape == (3, min(DEFAULTS["n_bins"], len(present) // 3) + 1)
    np.testing.assert_allclose(np.nanmin(edges, 1), present.min(0), rtol=1e-6)
    np.testing.assert_allclose(np.nanmax(edges, 1), present.max(0), rtol=1e-6)
    assert est._network_init_["kwargs"]["bin_edges"][1:] == [None, None]


def test_small_data_gets_fewer_bins():
    # At most one bin per MIN_ROWS_PER_BIN (3) present rows.
    X, y = _step_data(40, 0)
    X["b"][:25] = np.nan
    est = ConcatFusionClassifier(numerical_embedding="piecewise", n_ensemble=1, max_epochs=2,
                                 random_state=0).fit(X, y)
    assert [layer.n_bins for layer in _first_layers(est)] == [13, 5]


def test_learns_a_step_that_the_raw_features_blur():
    X, y = _step_data(300, 1)
    X_test, y_test = _step_data(1000, 2)
    est = GatedFusionClassifier(numerical_embedding="piecewise", random_state=0).fit(X, y)
    assert est.score(X_test, y_test) >= 0.97


def test_pickle_and_partial_fit_keep_the_edges():
    X, y = _step_data(200, 3)
    est = ConcatFusionClassifier(numerical_embedding="piecewise", max_epochs=5,
                                 random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    # partial_fit bins from the first chunk; later chunks train the same network.
    stream = LateFusionRegressor(numerical_embedding="piecewise", random_state=0)
    stream.partial_fit({k: v[:100] for k, v in X.items()}, y[:100].astype(float))
    edges = stream._network_init_["kwargs"]["bin_edges"]
    stream.partial_fit({k: v[100:] for k, v in X.items()}, y[100:].astype(float))
    assert stream._network_init_["kwargs"]["bin_edges"] is edges
    assert np.isfinite(stream.predict(X)).all()


@pytest.mark.parametrize("value", ["Piecewise", "quantile"])
def test_unknown_value_is_rejected_before_training(value):
    X, y = _step_data(20, 0)
    with pytest.raises(ValueError, match="numerical_embedding"):
        ConcatFusionClassifier(numerical_embedding=value).fit(X, y)


@pytest.mark.parametrize("n, expected", [(AUTO_PIECEWISE_MAX_ROWS - 1, "piecewise"),
                                         (AUTO_PIECEWISE_MAX_ROWS, None)])
def test_auto_bins_below_the_row_threshold(n, expected):
    X, y = _step_data(n, 4)
    est = ConcatFusionClassifier(n_ensemble=1, max_epochs=1, early_stopping=False,
                                 random_state=0)
    assert est.numerical_embedding == "auto"  # the default
    est.fit(X, y)
    assert est.numerical_embedding_ == expected
    assert est.get_params()["numerical_embedding"] == "auto"  # the parameter is kept
    kinds = {type(layer) for layer in _first_layers(est)}
    assert kinds == ({PiecewiseLinearEncoding} if expected else {torch.nn.Linear})


def test_auto_counts_the_training_rows_not_the_held_out_ones():
    # 200 rows, 60 held out for early stopping: 140 training rows, binned.
    X, y = _step_data(200, 5)
    assert len(y) >= AUTO_PIECEWISE_MAX_ROWS
    est = ConcatFusionClassifier(n_ensemble=1, max_epochs=1, validation_fraction=0.3,
                                 random_state=0).fit(X, y)
    assert est.n_validation_ == 60
    assert est.numerical_embedding_ == "piecewise"


def test_auto_is_plain_for_a_stream_and_explicit_values_are_kept():
    X, y = _step_data(60, 6)
    stream = TransformerFusionClassifier(random_state=0).partial_fit(X, y, classes=[0, 1])
    assert stream.numerical_embedding_ is None
    est = ConcatFusionClassifier(numerical_embedding=None, n_ensemble=1, max_epochs=1,
                                 random_state=0).fit(X, y)
    assert est.numerical_embedding_ is None
    est = ConcatFusionClassifier(numerical_embedding="periodic", n_ensemble=1, max_epochs=1,
                                 random_state=0).fit(X, y)
    assert est.numerical_embedding_ == "periodic"


def test_the_docstring_states_the_auto_threshold():
    assert f"on fewer than {AUTO_PIECEWISE_MAX_ROWS:,} training" in " ".join(
        ConcatFusionClassifier.__doc__.split())


@pytest.mark.parametrize("Est", all_fusion_estimators("classifier"))
def test_auto_leaves_wide_and_sparse_modalities_exactly_as_before(Est):
    # Bags of words are never binned, so on them "auto" trains the very
    # network None does: the wide real data sets' results stand.
    rng = np.random.default_rng(7)
    n, wide = 60, DEFAULTS["embedding_max_width"] + 1
    X = {"a": sp.random(n, wide, density=0.05, format="csr", random_state=0),
         "b": rng.standard_normal((n, wide))}
    y = rng.integers(0, 3, n)
    fits = [Est(numerical_embedding=value, n_ensemble=2, max_epochs=2, random_state=0).fit(X, y)
            for value in (None, "auto")]
    assert fits[1].numerical_embedding_ == "piecewise"
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))


def test_the_auto_choice_stays_with_the_network():
    # warm_start, later partial_fit calls and a pickle keep the network, so
    # they keep its embedding whatever the size of the new data.
    X, y = _step_data(60, 8)
    big_X, big_y = _step_data(300, 9)
    est = ConcatFusionClassifier(n_ensemble=1, max_epochs=2, warm_start=True,
                                 random_state=0).fit(X, y)
    assert est.numerical_embedding_ == "piecewise"
    est.fit(big_X, big_y)
    assert est.numerical_embedding_ == "piecewise"
    assert isinstance(_first_layers(est)[0], PiecewiseLinearEncoding)
    assert pickle.loads(pickle.dumps(est)).numerical_embedding_ == "piecewise"
    stream = ConcatFusionClassifier(numerical_embedding="piecewise", random_state=0)
    stream.partial_fit(X, y, classes=[0, 1]).partial_fit(big_X, big_y)
    assert stream.numerical_embedding_ == "piecewise"
