"""Tests of CalibratedModalityImputer (the scikit-learn transformer).

The EM itself is tested in test_nn_calibrator.py; here: what the transformer
adds (standardisation and its inverse, input and output forms, observed rows,
errors) and the issue's acceptance properties on data drawn from the model.
"""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import assert_unchanged, with_missing
from scipy.linalg import subspace_angles
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mmfusion import ModalityDict
from sklearn_mmfusion.impute import CalibratedModalityImputer

DIMS = {"a": 8, "b": 6, "c": 5}
Q = 2
NOISE = 0.3


def model_data(n=600, rate=0.3, scales=None, seed=0):
    """Draw from the shared-latent model; hide whole modality rows.

    Returns the full data, the masked ModalityDict and the true loadings.
    ``scales`` multiplies each feature (then the model holds up to that
    per-feature scaling).
    """
    rng = np.random.default_rng(seed)
    beta = rng.normal(size=(n, Q))
    full, Ws = {}, {}
    for name, d in DIMS.items():
        W = rng.normal(size=(d, Q))
        mu = 3 * rng.normal(size=d)
        x = beta @ W.T + mu + NOISE * rng.normal(size=(n, d))
        if scales is not None:
            s = scales[name]
            x, W = x * s, W * s[:, None]
        full[name], Ws[name] = x, W
    full = ModalityDict(full)
    return full, with_missing(full, rate, seed=seed), Ws


def hidden_mse(X_full, X_masked, X_out):
    errors = []
    for name in X_full:
        hidden = np.isnan(X_masked[name]).all(1)
        errors.append(((X_out[name][hidden] - X_full[name][hidden]) ** 2).ravel())
    return np.concatenate(errors).mean()


def max_angle(W_true, W_fit):
    """Largest principal angle (degrees) between the stacked loadings."""
    return np.degrees(subspace_angles(np.vstack(W_true), np.vstack(W_fit)).max())


# -- the model -----------------------------------------------------------------


@pytest.mark.parametrize("standardize", [False, True])
def test_em_recovers_subspace_and_loglik_never_decreases(standardize):
    _, Xm, Ws = model_data()
    imp = CalibratedModalityImputer(n_components=Q, standardize=standardize).fit(Xm)
    names = imp.modalities_
    assert imp.n_components_ == Q
    if standardize:  # the fit lives in the standardised space
        Ws = {n: Ws[n] / imp.schema_.scales[m][:, None] for m, n in enumerate(names)}
    fitted = [imp.components_[n] for n in names]
    assert max_angle([Ws[n] for n in names], fitted) < 3.0
    ll = np.asarray(imp.loglik_)
    assert imp.n_iter_ == len(ll) - 1 >= 1
    assert np.all(np.diff(ll) >= -1e-9 * np.abs(ll[:-1]))
    if not standardize:
        noise = np.array([imp.noise_variance_[n] for n in names])
        np.testing.assert_allclose(noise, NOISE**2, rtol=0.2)


def test_imputation_beats_mean_imputation():
    X, Xm, _ = model_data()
    out = CalibratedModalityImputer(n_components=Q, random_state=0).fit_transform(Xm)
    mean_out = {
        name: SimpleImputer().fit_transform(Xm[name]) for name in Xm
    }
    ours, baseline = hidden_mse(X, Xm, out), hidden_mse(X, Xm, mean_out)
    assert ours < 0.5 * baseline
    assert ours < 3 * NOISE**2  # close to the noise floor


def test_destandardises_imputations():
    # standardize=True makes the model blind to each feature's unit: the
    # imputations of rescaled, shifted data are the rescaled, shifted ones.
    _, Xm, _ = model_data(n=300)
    rng = np.random.default_rng(1)
    a = {n: 10.0 ** rng.uniform(-3, 3, size=d) for n, d in DIMS.items()}
    b = {n: rng.normal(scale=100, size=d) for n, d in DIMS.items()}
    Xs = ModalityDict({n: Xm[n] * a[n] + b[n] for n in Xm})
    params = dict(n_components=Q, max_iter=15, tol=0)
    out = CalibratedModalityImputer(**params).fit_transform(Xm)
    out_s = CalibratedModalityImputer(**params).fit_transform(Xs)
    for n in Xm:
        np.testing.assert_allclose(
            (out_s[n] - b[n]) / a[n], out[n], rtol=1e-4, atol=1e-4
        )


def test_sample_with_no_modality_gets_the_prior_mean():
    _, Xm, _ = model_data()
    imp = CalibratedModalityImputer(n_components=Q).fit(Xm)
    empty = ModalityDict({n: np.full((1, d), np.nan) for n, d in DIMS.items()})
    out = imp.transform(empty)
    for m, n in enumerate(imp.modalities_):
        mean, scale = imp.schema_.centers[m], imp.schema_.scales[m]
        # The prior mean mu, taken back to the original scale...
        np.testing.assert_allclose(out[n][0], imp.means_[n] * scale + mean)
        # ... which is close to the training mean of the present rows.
        np.testing.assert_allclose(out[n][0], np.nanmean(Xm[n], 0), atol=0.1 * scale.max())


def test_2d_input_fills_missing_rows_with_training_mean():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=5, size=(50, 3))
    X[:10] = np.nan
    imp = CalibratedModalityImputer(n_components=2).fit(X)
    out = imp.transform(X)
    assert imp.modalities_ == ["x"]
    np.testing.assert_allclose(out[:10], np.tile(np.nanmean(X, 0), (10, 1)))
    np.testing.assert_array_equal(out[10:], X[10:])


# -- observed rows, caller's data, output forms ----------------------------------


def test_observed_rows_unchanged_and_partial_nans_get_training_mean():
    _, Xm, _ = model_data(n=200)
    Xm["a"][0, :] = np.nan  # a missing row
    Xm["a"][1, 2] = np.nan  # a missing feature inside a present row
    Xm["b"][1, :] = 1.0
    Xm["a"] = Xm["a"].astype(np.float32)
    before = {n: v.copy() for n, v in Xm.items()}
    imp = CalibratedModalityImputer(n_components=Q)
    out = imp.fit_transform(Xm)
    assert_unchanged(before, Xm)  # the caller's arrays are untouched
    for n in Xm:
        present = ~np.isnan(Xm[n]).all(1)
        block = out[n]
        assert block.dtype == np.float64 and np.isfinite(block).all()
        complete = present & ~np.isnan(Xm[n]).any(1)
        np.testing.assert_array_equal(block[complete], Xm[n][complete])
    present_a = ~np.isnan(Xm["a"]).all(1)
    assert out["a"][1, 2] == pytest.approx(np.nanmean(Xm["a"][present_a, 2]), rel=1e-6)
    np.testing.assert_array_equal(np.delete(out["a"][1], 2), np.delete(Xm["a"][1], 2))


def test_modalitydict_in_modalitydict_out():
    _, Xm, _ = model_data(n=100)
    out = CalibratedModalityImputer(n_components=Q, add_indicator=True).fit_transform(Xm)
    assert isinstance(out, ModalityDict)
    assert list(out) == list(DIMS)  # no indicator key
    # It also reads as the 2-D array of its blocks.
    assert out.shape == (100, sum(DIMS.values()))
    np.testing.assert_array_equal(np.asarray(out), np.hstack(list(out.values())))
    assert isinstance(out[:5], ModalityDict) and out[:5].shape == (5, 19)
    # A plain dict works too.
    out_dict = CalibratedModalityImputer(n_components=Q).fit_transform(dict(Xm))
    np.testing.assert_allclose(np.asarray(out_dict), np.asarray(out))


def test_2d_input_with_spec_and_indicators():
    _, Xm, _ = model_data(n=120)
    table = np.hstack([Xm[n] for n in DIMS])  # columns a0..a7 b0..b5 c0..c4
    columns = [f"{n}{j}" for n, d in DIMS.items() for j in range(d)]
    df = pd.DataFrame(table, columns=columns)
    # Modalities in another order than the columns, selected by name.
    spec = {"c": columns[14:], "a": columns[:8], "b": columns[8:14]}
    imp = CalibratedModalityImputer(n_components=Q, add_indicator=True, modalities=spec)
    out = imp.fit_transform(df)
    assert isinstance(out, np.ndarray) and out.shape == (120, 19 + 3)
    names = imp.get_feature_names_out()
    assert list(names) == spec["c"] + spec["a"] + spec["b"] + [
        "missingindicator_c", "missingindicator_a", "missingindicator_b"
    ]
    np.testing.assert_array_equal(out[:, -3:], np.isnan(table[:, [14, 0, 8]]))
    # Same imputations as with the ModalityDict.
    out_md = CalibratedModalityImputer(n_components=Q).fit_transform(Xm)
    np.testing.assert_allclose(
        out[:, :19], np.hstack([out_md["c"], out_md["a"], out_md["b"]]), rtol=1e-6, atol=1e-8
    )
    # Positions on a plain array, without indicators.
    spec_pos = {"a": slice(0, 8), "b": list(range(8, 14)), "c": slice(14, 19)}
    imp2 = CalibratedModalityImputer(n_components=Q, modalities=spec_pos).fit(table)
    assert imp2.get_feature_names_out()[[0, 8, 18]].tolist() == ["x0", "x8", "x18"]
    np.testing.assert_allclose(imp2.transform(table), np.asarray(out_md), rtol=1e-6, atol=1e-8)


def test_pipeline_with_hist_gradient_boosting_on_a_modalitydict(multimodal_data):
    X, y = multimodal_data
    Xm = with_missing(ModalityDict(X), 0.3)
    pipe = make_pipeline(
        CalibratedModalityImputer(n_components=3, random_state=0),
        HistGradientBoostingClassifier(max_iter=20, random_state=0),
    )
    pipe.fit(Xm, y)
    assert pipe.score(Xm, y) > 0.7
    assert pipe.predict(Xm[:7]).shape == (7,)


def test_is_deterministic_and_leaves_global_torch_state_alone():
    _, Xm, _ = model_data(n=150)
    state = torch.random.get_rng_state()
    a = CalibratedModalityImputer(n_components=Q, random_state=0).fit_transform(Xm)
    b = CalibratedModalityImputer(n_components=Q, random_state=0).fit_transform(Xm)
    assert torch.equal(state, torch.random.get_rng_state())
    for n in a:
        np.testing.assert_array_equal(a[n], b[n])


def test_n_components_is_clipped():
    X = ModalityDict(a=np.random.default_rng(0).normal(size=(30, 2)),
                     b=np.random.default_rng(1).normal(size=(30, 1)))
    X["b"][:5] = np.nan
    imp = CalibratedModalityImputer(n_components=16).fit(X)
    assert imp.n_components_ == 2  # 3 features in all, minus one
    assert imp.components_["a"].shape == (2, 2)
    assert np.isfinite(np.asarray(imp.transform(X))).all()


# -- errors -----------------------------------------------------------------------


def test_inf_raises_naming_the_modality():
    _, Xm, _ = model_data(n=50)
    Xm["b"][3, 1] = np.inf
    with pytest.raises(ValueError, match="'b'.*infinity"):
        CalibratedModalityImputer(n_components=Q).fit(Xm)


def test_missing_modality_at_transform_raises():
    _, Xm, _ = model_data(n=50)
    imp = CalibratedModalityImputer(n_components=Q).fit(Xm)
    with pytest.raises(ValueError, match=r"missing modality\(ies\) \['c'\]"):
        imp.transform(ModalityDict(a=Xm["a"], b=Xm["b"]))


def test_modality_never_observed_raises():
    _, Xm, _ = model_data(n=50)
    Xm["c"][:] = np.nan
    with pytest.raises(ValueError, match="'c' is missing .* in every training sample"):
        CalibratedModalityImputer(n_components=Q).fit(Xm)


@pytest.mark.parametrize("params", [{"n_components": 0}, {"tol": -1.0}, {"max_iter": 1.5}])
def test_bad_parameters_raise(params):
    _, Xm, _ = model_data(n=50)
    with pytest.raises(ValueError, match=next(iter(params))):
        CalibratedModalityImputer(**params).fit(Xm)


# -- scikit-learn's estimator checks (2-D input: one modality "x") ---------------


@parametrize_with_checks([CalibratedModalityImputer(n_components=2, max_iter=20)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
