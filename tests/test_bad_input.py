"""Bad input for every public estimator and transformer, at fit and at predict.

Each case either works correctly (the "valid edge cases" below) or raises a
``ValueError``/``TypeError`` (or ``NotFittedError``, ``InvalidParameterError``:
both ``ValueError`` subclasses) whose message names the modality, column or
parameter and the problem. For every failing case we also check that

* the caller's ``X`` (and ``y``) are unchanged (compared with a deep copy);
* a failed first ``fit`` leaves no fitted attribute and the parameters as set;
* a failed call on a fitted estimator (``predict``/``transform``, or a refit)
  leaves every attribute the same object and the outputs bit-identical;
* no torch traceback reaches the user: no frame of the displayed traceback
  chain lies in torch or skorch (see ``_targets.assert_no_torch_frames``).

The last section is about diverging training (``TrainingDivergedError``).
"""

import copy
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from _targets import (
    COLUMNS,
    FACTORIES,
    FUSION,
    MAPPING_TARGETS,
    NAME_SPEC,
    SPEC,
    TINY,
    assert_no_torch_frames,
    assert_same_outputs,
    fit,
    fitted_attributes,
    make_data,
    output_methods,
    outputs,
    primary_method,
    target_for,
    to_table,
)
from skorch.callbacks import Callback
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from sklearn_mmfusion import (
    CLARGAClassifier,
    ConFuEmbedder,
    FusionClassifier,
    FusionRegressor,
    PerModality,
    TrainingDivergedError,
)

# -- helpers -----------------------------------------------------------------

_FITTED = {}


def fitted(name, form="mapping"):
    """A fitted estimator of ``name`` and its outputs on the training X.

    Fitted once per (class, input form) and shared: every test that uses it
    checks that it is left as it was. Fitted lazily inside a test, so that
    the one-torch-thread fixture is active.
    """
    key = (name, form)
    if key not in _FITTED:
        X, yc, yr = make_data()
        Xf, params = _in_form(X, form, name)
        est = fit(FACTORIES[name](**params), Xf, yc, yr)
        _FITTED[key] = (est, Xf, outputs(est, Xf))
        if hasattr(est, "module_"):
            _WEIGHTS[id(est.module_)] = {
                k: v.clone() for k, v in est.module_.state_dict().items()
            }
    return _FITTED[key]


_WEIGHTS = {}  # id(module_) -> a copy of its weights right after the fit


def _in_form(X, form, name):
    """``X`` as a mapping, a 2-D array or a DataFrame, with the parameters
    that split the table into the same modalities."""
    if form == "mapping":
        return X, {}
    table = to_table(X)
    if form == "array":
        return table, ({} if name == "ModalitySplitter" else {"modalities": SPEC})
    spec = {"modalities": NAME_SPEC}
    return pd.DataFrame(table, columns=COLUMNS), spec


def for_each(names, check):
    """Run ``check(name)`` for every target, naming the target on failure."""
    for name in names:
        try:
            check(name)
        except Exception as exc:
            raise AssertionError(f"[{name}] {type(exc).__name__}: {exc}") from exc


def assert_same_input(before, after):
    """``after`` (what the caller passed) still equals ``before`` (its copy)."""
    assert type(before) is type(after)
    if isinstance(before, dict):
        assert list(before) == list(after)
        for key in before:
            assert_same_input(before[key], after[key])
    elif isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(before, after)
    elif sp.issparse(before):
        assert before.dtype == after.dtype and before.shape == after.shape
        assert (before != after).nnz == 0
    elif isinstance(before, np.ndarray):
        assert before.dtype == after.dtype and before.shape == after.shape
        np.testing.assert_array_equal(before, after)
    elif isinstance(before, list):
        np.testing.assert_equal(before, after)
    else:
        assert before == after


def assert_untouched(est, attributes, X, expected):
    """Every attribute is the same object, the network weights are those of
    the fit, and the outputs of the primary method are bit-identical."""
    assert vars(est).keys() == attributes.keys()
    for key, value in attributes.items():
        assert vars(est)[key] is value, key
    module = getattr(est, "module_", None)
    if module is not None:
        for name, tensor in module.state_dict().items():
            assert torch.equal(tensor, _WEIGHTS[id(module)][name]), name
    method = primary_method(est)
    got = outputs(est, X, [method])
    assert_same_outputs(got, {k: v for k, v in expected.items() if k in got})


def check_fails_cleanly(call, args, error, match):
    """``call(*args)`` raises ``error`` matching ``match``; args unchanged."""
    before = copy.deepcopy(args)
    with pytest.raises(error, match=match) as info:
        call(*args)
    assert_no_torch_frames(info.value)
    for old, new in zip(before, args):
        assert_same_input(old, new)
    return info.value


def check_fit_fails(name, X, y_class, y_reg, error, match, form="mapping",
                    params=None, fit_params=None):
    """A fresh estimator stays unfitted; a fitted one keeps its model."""
    params = params or {}
    fit_params = fit_params or {}
    est = FACTORIES[name](**params)
    # No y for transformers; a y of None is the same call as no y.
    y = target_for(est, y_class, y_reg)
    param_values = est.get_params()
    args = (X,) if y is None else (X, y)
    check_fails_cleanly(lambda *a: est.fit(*a, **fit_params), args, error, match)
    assert fitted_attributes(est) == []
    assert est.get_params() == param_values
    with pytest.raises(NotFittedError):
        check_is_fitted(est)

    # The same failure on a fitted estimator leaves its model in place.
    refit_fails_cleanly(name, form, params, lambda est, *a: est.fit(*a, **fit_params),
                        args, error, match)


def refit_fails_cleanly(name, form, params, call, args, error, match):
    """``call(est, *args)`` fails on a fitted estimator whose parameters were
    set to ``params``: once they are set back, every attribute is the same
    object and the outputs are bit-identical. (They must be set back because
    predict reads the ``modalities`` parameter to split a 2-D X.)"""
    est, X_fit, expected = fitted(name, form)
    attributes = dict(vars(est))
    original = {key: getattr(est, key) for key in params}
    est.set_params(**params)
    check_fails_cleanly(lambda *a: call(est, *a), args, error, match)
    est.set_params(**original)
    assert_untouched(est, attributes, X_fit, expected)


def check_predict_fails(name, X, error, match, form="mapping"):
    """Every output method raises; the fitted estimator is left as it was."""
    est, X_fit, expected = fitted(name, form)
    attributes = dict(vars(est))
    for method in output_methods(est):
        check_fails_cleanly(getattr(est, method), (X,), error, match)
    assert_untouched(est, attributes, X_fit, expected)


def replace(X, name, value):
    return {**X, name: value}


def set_cell(X, name, row, col, value):
    block = X[name].copy()
    block[row, col] = value
    return replace(X, name, block)


# The fusion estimators take scipy.sparse modalities (and 2-D sparse X); the
# transformers do not.
_FUSION_NAMES = tuple(
    name for name in FACTORIES
    if name not in ("CalibratedModalityImputer", "PerModality", "ModalitySplitter")
)
_SPARSE_OK = ("fusion estimators accept scipy.sparse modalities "
              "(test_base.py::test_sparse_modality_matches_its_dense_twin)")


@dataclass
class Case:
    """Bad ``X`` built from good data: ``make(X) -> X_bad``."""

    id: str
    make: Callable
    error: type
    match: str
    paths: tuple = ("fit", "predict")
    skip: tuple = ()  # targets where the case does not apply (with the reason)
    why_skip: str = ""


def _dates(n):
    return np.array(pd.date_range("2024-01-01", periods=n)).reshape(-1, 1)


# -- 1. bad X in mapping form, every target that takes a mapping -------------

MAPPING_CASES = [
    Case("inf", lambda X: set_cell(X, "a", 2, 1, np.inf),
         ValueError, r"Modality 'a' contains infinity at row 2, column 1"),
    Case("minus-inf", lambda X: set_cell(X, "b", 4, 0, -np.inf),
         ValueError, r"Modality 'b' contains infinity at row 4, column 0"),
    Case("strings", lambda X: replace(X, "a", X["a"].astype(str)),
         TypeError, r"Modality 'a' holds non-numeric data \(dtype <U"),
    Case("bytes", lambda X: replace(X, "a", np.full((16, 3), b"x")),
         TypeError, r"Modality 'a' holds non-numeric data \(dtype \|S1\)"),
    Case("object-strings", lambda X: replace(X, "b", np.full((16, 2), "x", dtype=object)),
         TypeError, r"Modality 'b': could not convert to float"),
    Case("complex", lambda X: replace(X, "a", X["a"] + 1j),
         ValueError, r"Modality 'a': Complex data not supported"),
    Case("ragged-modality-lengths", lambda X: replace(X, "b", X["b"][:5]),
         ValueError, r"same number of samples; got 'a': 16, 'b': 5"),
    Case("zero-samples", lambda X: {k: v[:0] for k, v in X.items()},
         ValueError, r"Found array with 0 sample\(s\)"),
    Case("zero-features", lambda X: replace(X, "b", X["b"][:, :0]),
         ValueError, r"Modality 'b': found array with 0 feature\(s\)"),
    Case("sparse-modality", lambda X: replace(X, "a", sp.csr_matrix(np.nan_to_num(X["a"]))),
         TypeError, r"Modality 'a' is a sparse matrix, which is not supported",
         skip=_FUSION_NAMES, why_skip=_SPARSE_OK),
    Case("sparse-X", lambda X: sp.csr_matrix(np.nan_to_num(to_table(X))),
         TypeError, r"Sparse input is not supported", skip=_FUSION_NAMES, why_skip=_SPARSE_OK),
    Case("int-modality-name", lambda X: {0: X["a"], "b": X["b"]},
         TypeError, r"Modality names must be strings; got 0 of type int"),
    Case("3-D-modality", lambda X: replace(X, "a", X["a"][:, :, None]),
         ValueError, r"Modality 'a' must be 2-D .*got shape \(16, 3, 1\)"),
    Case("1-D-modality", lambda X: replace(X, "b", X["b"][:, 0]),
         ValueError, r"Modality 'b' must be 2-D .*got shape \(16,\)"),
    Case("3-D-X", lambda X: np.zeros((16, 5, 2)),
         ValueError, r"got a 3-D array of shape \(16, 5, 2\)"),
    Case("ragged-list-of-lists", lambda X: replace(X, "a", X["a"].tolist()[:-1] + [[1.0]]),
         ValueError, r"Modality 'a': could not build a 2-D array"),
    Case("nested-dict", lambda X: replace(X, "a", {"left": X["a"]}),
         TypeError, r"Modality 'a' is a nested mapping"),
    Case("dataframe-string-column",
         lambda X: replace(X, "a", pd.DataFrame(X["a"], columns=["u", "v", "w"])
                           .assign(w=["x", "y"] * 8)),
         TypeError, r"Modality 'a': column 'w' has dtype \w+, which is not numeric"),
    Case("dataframe-categorical-column",
         lambda X: replace(X, "a", pd.DataFrame(X["a"], columns=["u", "v", "w"])
                           .assign(w=pd.Categorical(["x", "y"] * 8))),
         TypeError, r"Modality 'a': column 'w' has dtype category"),
    Case("datetime-modality", lambda X: replace(X, "b", np.hstack([_dates(16), _dates(16)])),
         TypeError, r"Modality 'b' holds non-numeric data \(dtype datetime64"),
    Case("too-large-for-float32", lambda X: replace(X, "a", X["a"] * 1e300),
         ValueError, r"Modality 'a' has values too large for float32",
         skip=("PerModality",) + _FUSION_NAMES,
         why_skip="PerModality hands the values to its own transformer; the fusion "
                  "estimators' robust scaling brings them into (-3, 3) "
                  "(test_robust_scaling_trains_on_1e300_scale_features)"),
    Case("empty-mapping", lambda X: {},
         ValueError, r"X is an empty mapping: it needs at least one modality"),
    Case("string-X", lambda X: "a,b,c",
         TypeError, r"X must be a mapping of modality arrays.*got str"),
    Case("None-X", lambda X: None,
         TypeError, r"X must be a mapping of modality arrays.*got NoneType"),
    # Only at predict: a refit on other modalities is a valid new fit.
    Case("modality-missing-at-predict", lambda X: {"a": X["a"]},
         ValueError, r"missing modality\(ies\) \['b'\].*fitted on \['a', 'b'\]",
         paths=("predict",)),
    Case("extra-modality-at-predict", lambda X: {**X, "c": X["b"]},
         ValueError, r"unexpected modality\(ies\) \['c'\]", paths=("predict",)),
    Case("renamed-modality-at-predict", lambda X: {"a": X["a"], "B": X["b"]},
         ValueError, r"missing modality\(ies\) \['b'\]; unexpected modality\(ies\) \['B'\]",
         paths=("predict",)),
    Case("changed-width-at-predict", lambda X: replace(X, "a", X["a"][:, :2]),
         ValueError, r"expecting 5 features as input: modality 'a' has 2 columns, expected 3",
         paths=("predict",)),
    Case("table-for-a-mapping-fit", lambda X: to_table(X),
         ValueError, r"missing modality\(ies\) \['a', 'b'\]; unexpected modality\(ies\) \['x'\]",
         paths=("predict",)),
    # Only at fit: at predict a modality may be absent for every sample.
    Case("modality-missing-in-every-training-row",
         lambda X: replace(X, "b", np.full_like(X["b"], np.nan)),
         ValueError, r"Modality 'b' is missing \(all-NaN\) in every training sample",
         paths=("fit",)),
    Case("every-modality-missing-everywhere",
         lambda X: {k: np.full_like(v, np.nan) for k, v in X.items()},
         ValueError, r"Modality 'a' is missing \(all-NaN\) in every training sample",
         paths=("fit",)),
]


def _mapping_cases(path):
    return [pytest.param(case, id=case.id) for case in MAPPING_CASES if path in case.paths]


@pytest.mark.parametrize("case", _mapping_cases("fit"))
def test_bad_mapping_at_fit(case):
    X, yc, yr = make_data()
    targets = [n for n in MAPPING_TARGETS if n not in case.skip]
    for_each(targets, lambda name: check_fit_fails(
        name, case.make(X), yc, yr, case.error, case.match))


@pytest.mark.parametrize("case", _mapping_cases("predict"))
def test_bad_mapping_at_predict(case):
    X, _, _ = make_data()
    targets = [n for n in MAPPING_TARGETS if n not in case.skip]
    for_each(targets, lambda name: check_predict_fails(
        name, case.make(X), case.error, case.match))


# -- 2. bad targets and sample weights ----------------------------------------


@dataclass
class TargetCase:
    """``make(X, y_class, y_reg) -> (X, y, fit_params)`` for the given kinds."""

    id: str
    kinds: tuple
    make: Callable
    error: type
    match: str


def _with_nan(y, row=3):
    y = np.array(y, dtype=float)
    y[row] = np.nan
    return y


TARGET_CASES = [
    TargetCase("nan-label", ("classifier",), lambda X, yc, yr: (X, _with_nan(yc), {}),
               ValueError, r"y contains NaN at rows \[3\]"),
    TargetCase("None-label", ("classifier",),
               lambda X, yc, yr: (X, [None] + ["u", "v"] * 7 + ["u"], {}),
               ValueError, r"y contains missing labels \(None/NaN\) at rows \[0\]"),
    TargetCase("single-class", ("classifier",), lambda X, yc, yr: (X, np.full(16, "u"), {}),
               ValueError, r"needs samples of at least 2 classes.*only one class"),
    TargetCase("one-sample", ("classifier",),
               lambda X, yc, yr: ({k: v[1:2] for k, v in X.items()}, yc[1:2], {}),
               ValueError, r"at least 2 classes.*only one class"),
    TargetCase("continuous-labels", ("classifier",), lambda X, yc, yr: (X, yr, {}),
               ValueError, r"Unknown label type: continuous"),
    TargetCase("2-D-labels", ("classifier",), lambda X, yc, yr: (X, np.c_[yc, yc], {}),
               ValueError, r"y should be a 1d array, got an array of shape \(16, 2\)"),
    TargetCase("nan-target", ("regressor",), lambda X, yc, yr: (X, _with_nan(yr), {}),
               ValueError, r"Input y contains NaN"),
    TargetCase("None-target", ("regressor",), lambda X, yc, yr: (X, [None] + list(yr[1:]), {}),
               ValueError, r"Input y contains NaN"),
    TargetCase("inf-target", ("regressor",),
               lambda X, yc, yr: (X, np.where(np.arange(16) == 2, np.inf, yr), {}),
               ValueError, r"Input y contains infinity"),
    TargetCase("string-target", ("regressor",), lambda X, yc, yr: (X, np.array(["u"] * 16), {}),
               ValueError, r"y must be numeric for \w+Regressor"),
    TargetCase("complex-target", ("regressor",), lambda X, yc, yr: (X, yr + 1j, {}),
               ValueError, r"y has complex values"),
    TargetCase("y-None", ("classifier", "regressor"), lambda X, yc, yr: (X, None, {}),
               ValueError, r"requires y to be passed, but the target y is None"),
    TargetCase("y-wrong-length", ("classifier", "regressor", "PerModality"),
               lambda X, yc, yr: (X, yc[:5], {}),
               ValueError, r"X has 16 samples but y has 5"),
    TargetCase("sample-weight-wrong-length", ("classifier", "regressor"),
               lambda X, yc, yr: (X, None, {"sample_weight": np.ones(3)}),
               ValueError, r"sample_weight.shape == \(3,\), expected \(16,\)"),
    TargetCase("negative-sample-weight", ("classifier", "regressor"),
               lambda X, yc, yr: (X, None, {"sample_weight": -np.ones(16)}),
               ValueError, r"Negative values in data passed to `sample_weight`"),
    TargetCase("nan-sample-weight", ("classifier", "regressor"),
               lambda X, yc, yr: (X, None, {"sample_weight": np.full(16, np.nan)}),
               ValueError, r"Input sample_weight contains NaN"),
    TargetCase("zero-sample-weights", ("classifier", "regressor"),
               lambda X, yc, yr: (X, None, {"sample_weight": np.zeros(16)}),
               ValueError, r"Sample weights must contain at least one non-zero number"),
]


def _kind(name):
    est = FACTORIES[name]()
    if isinstance(est, FusionClassifier):
        return "classifier"
    if isinstance(est, FusionRegressor):
        return "regressor"
    return name


_KINDS = {name: _kind(name) for name in FACTORIES}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in TARGET_CASES])
def test_bad_target_at_fit(case):
    for_each([n for n in FACTORIES if _KINDS[n] in case.kinds],
             lambda name: _check_bad_target(case, name))


def _check_bad_target(case, name):
    X, yc, yr = make_data()
    X, y, fit_params = case.make(X, yc, yr)
    if y is None and fit_params:  # sample-weight cases: a valid target
        y = yc if _KINDS[name] == "classifier" else yr
    est = FACTORIES[name]()
    args = (X, y)
    check_fails_cleanly(lambda *a: est.fit(*a, **fit_params), args, case.error, case.match)
    assert fitted_attributes(est) == []

    refit_fails_cleanly(name, "mapping", {}, lambda est, *a: est.fit(*a, **fit_params),
                        args, case.error, case.match)


# -- 3. bad X as a table split by `modalities`, and bad `modalities` specs ----

TABLE_TARGETS = list(FACTORIES)


def _df(X):
    return pd.DataFrame(to_table(X), columns=COLUMNS)


def _table_cell(X, row, col, value):
    table = to_table(X)
    table[row, col] = value
    return table


SPEC_CASES = [  # (id, X form, spec, error, match); fit only
    ("overlapping-columns", "array", {"a": [0, 1, 2], "b": [2, 3, 4]},
     ValueError, r"Column 2 is assigned to both modality 'a' and modality 'b'"),
    ("column-out-of-range", "array", {"a": [0, 1, 2], "b": [3, 9]},
     ValueError, r"Modality 'b': column position 9 is out of range for X with 5 columns"),
    ("unknown-column-name", "frame", {"a": ["p", "q", "r"], "b": ["s", "zz"]},
     ValueError, r"Modality 'b': column 'zz' is not in X"),
    ("column-names-on-an-array", "array", NAME_SPEC,
     TypeError, r"Modality 'a' names columns \('p'\), which needs a pandas DataFrame"),
    ("spec-of-wrong-type", "array", {"a": 1.5, "b": [3, 4]},
     TypeError, r"Modality 'a': columns must be a list .*got 1.5 of type float"),
    ("spec-selecting-nothing", "array", {"a": [], "b": [3, 4]},
     ValueError, r"Modality 'a' selects no columns"),
    ("boolean-column", "array", {"a": [True, False], "b": [3, 4]},
     TypeError, r"Modality 'a': columns must be names or integer positions, got the boolean"),
    ("non-string-modality-name", "array", {0: [0, 1, 2], "b": [3, 4]},
     TypeError, r"Modality names in `modalities` must be strings; got 0"),
    ("spec-with-a-mapping-X", "mapping", SPEC,
     ValueError, r"X is already a mapping of modalities; leave modalities=None"),
    ("spec-not-a-dict", "array", [[0, 1, 2], [3, 4]],
     InvalidParameterError, r"'modalities' parameter of \w+ must be an instance of"),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in SPEC_CASES])
def test_bad_modalities_spec_at_fit(case):
    _, form, spec, error, match = case
    X, yc, yr = make_data()
    Xf = {"array": to_table(X), "frame": _df(X), "mapping": X}[form]
    for_each(TABLE_TARGETS, lambda name: check_fit_fails(
        name, Xf, yc, yr, error, match, form="array", params={"modalities": spec}))


TABLE_CASES = [  # (id, paths, fitted form, make(X) -> bad table, error, match)
    ("table-inf", ("fit", "predict"), "array", lambda X: _table_cell(X, 2, 4, np.inf),
     ValueError, r"Modality 'b' contains infinity at row 2, column 1"),
    ("table-complex", ("fit", "predict"), "array", lambda X: to_table(X) + 1j,
     ValueError, r"Complex data not supported"),
    ("table-1-D", ("fit", "predict"), "array", lambda X: to_table(X)[:, 0],
     ValueError, r"got a 1-D array of shape \(16,\)"),
    ("table-zero-samples", ("fit", "predict"), "array", lambda X: to_table(X)[:0],
     ValueError, r"0 sample\(s\)"),
    ("table-list-of-strings", ("fit", "predict"), "array",
     lambda X: [["x"] * 5] * 16, TypeError, r"Modality 'a' holds non-numeric data"),
    ("frame-categorical-column", ("fit", "predict"), "frame",
     lambda X: _df(X).assign(t=pd.Categorical(["x", "y"] * 8)),
     TypeError, r"Modality 'b': column 't' has dtype category"),
    ("frame-column-missing-at-predict", ("predict",), "frame",
     lambda X: _df(X).drop(columns="s"),
     ValueError, r"Feature names seen at fit time, yet now missing:\s+- s"),
    ("frame-column-renamed-at-predict", ("predict",), "frame",
     lambda X: _df(X).rename(columns={"s": "S"}),
     ValueError, r"Feature names unseen at fit time:\s+- S"),
    ("frame-columns-reordered-at-predict", ("predict",), "frame",
     lambda X: _df(X)[COLUMNS[::-1]],
     ValueError, r"Feature names must be in the same order as they were in fit"),
    ("table-changed-width-at-predict", ("predict",), "array", lambda X: to_table(X)[:, :4],
     ValueError, r"X has 4 features, but \w+ is expecting 5 features as input"),
    ("mapping-at-predict-for-a-table-fit", ("predict",), "array", lambda X: X,
     ValueError, r"fitted with `modalities` takes X as the same 2-D array or DataFrame"),
]


@pytest.mark.parametrize(
    "case, path",
    [pytest.param(case, path, id=f"{case[0]}-{path}") for case in TABLE_CASES
     for path in case[1]],
)
def test_bad_table(case, path):
    _, _, form, make, error, match = case
    X, yc, yr = make_data()
    bad = make(X)

    def check(name):
        if path == "fit":
            _, params = _in_form(X, form, name)
            check_fit_fails(name, bad, yc, yr, error, match, form=form, params=params)
        else:
            check_predict_fails(name, bad, error, match, form=form)

    for_each(TABLE_TARGETS, check)


# -- 4. bad parameter values (raised by fit, before any data is looked at) ----

COMMON_BAD_PARAMS = [
    ("hidden_dim", -4), ("hidden_dim", 0), ("hidden_dim", 2.5), ("dropout", 1.0),
    ("dropout", -0.1), ("modality_dropout", 1.0), ("missing", "drop"), ("lr", 0),
    ("lr", -1e-3), ("batch_size", 0), ("max_epochs", 0), ("validation_fraction", 1.0),
    ("patience", 0), ("tol", -1e-3), ("tol", 1.0), ("weight_decay", -1.0), ("scaling", "yes"),
    ("random_state", "seed"), ("callbacks", "print"), ("modalities", "a"),
]
METHOD_BAD_PARAMS = {
    "GatedFusion": [("gate", "relu")],
    "CLARGA": [("n_heads", 0), ("n_layers", 0), ("graph_k", 0), ("temperature", 0.0),
               ("contrastive_weight", -1.0)],
    "ConFu": [("temperature", 0.0), ("fused_weight", 2.0)],
    "ConFuClassifier": [("contrastive_weight", -1.0)],
    "ConFuRegressor": [("contrastive_weight", -1.0)],
    "Classifier": [("class_weight", "even")],
    "CalibratedModalityImputer": [("n_components", 0), ("max_iter", -1), ("tol", -1.0),
                                  ("standardize", "no"), ("modalities", "a")],
    "PerModality": [("transformer", "scaler"), ("modalities", 3)],
    "ModalitySplitter": [("modalities", None), ("modalities", ["a"])],
}


def _bad_params(name):
    params = list(COMMON_BAD_PARAMS) if name in {E.__name__ for E in FUSION} else []
    for key, values in METHOD_BAD_PARAMS.items():
        if key in name:
            params += values
    return params


@pytest.mark.parametrize("name", list(FACTORIES))
def test_invalid_parameters_raise_at_fit(name):
    X, yc, yr = make_data()
    if name == "ModalitySplitter":
        X = to_table(X)
    cases = {f"{param}={value!r}": (param, value) for param, value in _bad_params(name)}

    def check(label):
        param, value = cases[label]
        match = rf"The '{param}' parameter of {name} must be .*Got {re.escape(repr(value))}"
        check_fit_fails(name, X, yc, yr, InvalidParameterError, match,
                        form="array" if name == "ModalitySplitter" else "mapping",
                        params={param: value})

    for_each(list(cases), check)


class _NotACallback:
    pass


FIT_TIME_PARAM_ERRORS = [  # checked by fit beyond the declared constraints
    ({"device": "gpu9"}, ValueError, r"device='gpu9' is not a valid torch device"),
    ({"callbacks": [_NotACallback()]}, TypeError,
     r"callbacks must hold skorch callbacks .*got <.*_NotACallback"),
    ({"callbacks": [("name", 3)]}, TypeError, r"callbacks must hold skorch callbacks"),
]


@pytest.mark.parametrize("params, error, match", FIT_TIME_PARAM_ERRORS,
                         ids=["device", "callback-object", "named-callback"])
def test_bad_runtime_parameter_raises_before_training(params, error, match):
    X, yc, yr = make_data()
    for_each([E.__name__ for E in FUSION], lambda name: check_fit_fails(
        name, X, yc, yr, error, match, params=params))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_device_without_gpu_raises_a_clear_error():
    X, yc, yr = make_data()
    match = r"device='cuda' but PyTorch sees no CUDA device here; use device='cpu'"
    for_each([E.__name__ for E in FUSION], lambda name: check_fit_fails(
        name, X, yc, yr, ValueError, match, params={"device": "cuda"}))


def test_clarga_heads_must_divide_hidden_dim_when_stacking_layers():
    X, yc, _ = make_data()
    est = CLARGAClassifier(**{**TINY, "hidden_dim": 6}, n_heads=4, n_layers=2)
    check_fails_cleanly(est.fit, (X, yc), ValueError,
                        r"hidden_dim \(6\) must be a multiple of n_heads \(4\)")
    assert fitted_attributes(est) == []


# -- 5. not fitted, and bad arguments of the extra methods ---------------------

EXTRA_METHODS = {
    "GatedFusion": [("gates", ())],
    "CLARGA": [("attention_graph", ())],
    "ConFuEmbedder": [("embed", ("a",)), ("retrieval_scores", ("a", "b"))],
}


def _all_methods(name):
    est = FACTORIES[name]()
    calls = [(m, ()) for m in output_methods(est)]
    if hasattr(est, "score"):
        calls.append(("score", (make_data()[1],)))
    for key, extra in EXTRA_METHODS.items():
        if key in name:
            calls += extra
    return calls


def test_methods_before_fit_raise_not_fitted():
    for_each(list(FACTORIES), _check_not_fitted)


def _check_not_fitted(name):
    X, _, _ = make_data()
    if name == "ModalitySplitter":
        X = to_table(X)
    est = FACTORIES[name]()
    for method, extra in _all_methods(name):
        check_fails_cleanly(lambda X: getattr(est, method)(X, *extra), (X,),
                            NotFittedError, rf"This {name} instance is not fitted yet")
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()
    assert fitted_attributes(est) == []


@pytest.mark.parametrize("name", [n for n in FACTORIES if any(k in n for k in EXTRA_METHODS)])
def test_extra_methods_reject_bad_x(name):
    """gates / attention_graph / embed / retrieval_scores share the data contract."""
    X, _, _ = make_data()
    est, X_fit, expected = fitted(name)
    attributes = dict(vars(est))
    bad = set_cell(X, "a", 0, 0, np.inf)
    for method, extra in _all_methods(name):
        if method in ("predict", "predict_proba", "transform", "score"):
            continue
        check_fails_cleanly(lambda X: getattr(est, method)(X, *extra), (bad,),
                            ValueError, r"Modality 'a' contains infinity")
    assert_untouched(est, attributes, X_fit, expected)


@pytest.mark.parametrize(
    "call, match",
    [(lambda e, X: e.embed(X, "zz"), r"Unknown modality\(ies\) \['zz'\]; choose from \['a', 'b'\]"),
     (lambda e, X: e.embed(X, []), r"Unknown modality\(ies\) \[\]"),
     (lambda e, X: e.retrieval_scores(X, "a", ["b", "c"]), r"Unknown modality\(ies\) \['c'\]"),
     (lambda e, X: e.retrieval_scores(X, "a", "b", k=0), r"k must be a positive int"),
     (lambda e, X: e.retrieval_scores({k: v[:1] for k, v in X.items()}, "a", "b"),
      r"retrieval needs at least 2 samples where all of \['a', 'b'\] are observed")],
    ids=["unknown-modality", "no-modality", "unknown-target", "k=0", "one-complete-row"],
)
def test_embedder_method_arguments(call, match):
    X, _, _ = make_data()
    est, X_fit, expected = fitted("ConFuEmbedder")
    attributes = dict(vars(est))
    check_fails_cleanly(lambda X: call(est, X), (X,), ValueError, match)
    assert_untouched(est, attributes, X_fit, expected)


# -- 6. valid edge cases: they must work, and work correctly -------------------


def _check_outputs_are_valid(est, X, n):
    """Right number of rows; finite values (a transformer keeps the all-NaN
    rows of the modalities it does not impute)."""
    for key, out in outputs(est, X).items():
        assert out.shape[0] == n, key
        if isinstance(est, PerModality):
            name = key.split("[")[1].rstrip("]")
            missing = np.isnan(np.asarray(X[name], dtype=float)).all(axis=1)
            assert np.isnan(out[missing]).all() and np.isfinite(out[~missing]).all()
        elif out.dtype.kind in "fc":
            assert np.isfinite(out).all(), key
        if key == "predict_proba":
            np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("name", MAPPING_TARGETS)
def test_samples_missing_every_modality_are_valid(name):
    """Fit data has such a sample (row 0); predict on rows that miss all
    modalities, alone and among others, and on a modality absent everywhere."""
    X, _, _ = make_data()
    est, X_fit, expected = fitted(name)
    nothing = {k: np.full((1, v.shape[1]), np.nan) for k, v in X.items()}
    _check_outputs_are_valid(est, nothing, 1)
    mixed = {k: np.vstack([np.full((3, v.shape[1]), np.nan), v]) for k, v in X.items()}
    _check_outputs_are_valid(est, mixed, 19)
    # The same row gives the same output alone or within a batch.
    alone, within = outputs(est, nothing), outputs(est, mixed)
    for key in alone:
        np.testing.assert_allclose(alone[key][0], within[key][1], rtol=1e-5, atol=1e-6)
    b_absent = replace(X, "b", np.full_like(X["b"], np.nan))
    _check_outputs_are_valid(est, b_absent, 16)
    assert_same_outputs(outputs(est, X_fit), expected)


def _equivalent_forms(X):
    """Inputs that must be read exactly like ``X`` (float64 arrays, NaN rows)."""
    ints = {"a": np.arange(48).reshape(16, 3) % 7, "b": np.arange(32).reshape(16, 2) % 5}
    bools = {"a": ints["a"] > 2, "b": ints["b"] > 1}
    with_none = X["b"].astype(object)
    with_none[np.isnan(X["b"])] = None
    return [
        ("list-of-lists", {k: v.tolist() for k, v in X.items()}, X),
        ("dataframes", {k: pd.DataFrame(v) for k, v in X.items()}, X),
        ("float32", {k: v.astype(np.float32) for k, v in X.items()},
         {k: v.astype(np.float32).astype(float) for k, v in X.items()}),
        ("object-dtype-with-None", replace(X, "b", with_none), X),
        ("nullable-Int64-with-NA",
         replace(ints, "b", pd.DataFrame(ints["b"]).astype("Int64").mask(ints["b"] == 0)),
         replace(ints, "b", np.where(ints["b"] == 0, np.nan, ints["b"]).astype(float))),
        ("int-dtype", ints, {k: v.astype(float) for k, v in ints.items()}),
        ("bool-dtype", bools, {k: v.astype(float) for k, v in bools.items()}),
        ("reordered-keys", {"b": X["b"], "a": X["a"]}, X),
    ]


@pytest.mark.parametrize("name", MAPPING_TARGETS)
def test_equivalent_input_forms_give_identical_outputs(name):
    """Lists, DataFrames, other dtypes, None/pd.NA and another key order are
    read exactly like the float64 arrays they stand for (at fit as well)."""
    X, yc, yr = make_data()
    est, X_fit, expected = fitted(name)
    for label, form, reference in _equivalent_forms(X):
        if label == "float32" and name == "PerModality":
            continue  # StandardScaler keeps float32 input in float32
        before = copy.deepcopy(form)
        got = outputs(est, form)  # a ModalityDict output keeps the fit order
        assert_same_input(before, form)
        assert_same_outputs(got, outputs(est, reference))
    for label, form, _ in _equivalent_forms(X)[:2]:  # lists, DataFrames
        assert_same_outputs(outputs(fit(FACTORIES[name](), form, yc, yr), X_fit), expected)


@pytest.mark.parametrize("name", MAPPING_TARGETS)
def test_one_sample(name):
    """Predicting one sample works for all; fitting on one works for all but
    classifiers (one sample is one class: see ``test_bad_target_at_fit``)."""
    X, yc, yr = make_data()
    est, _, _ = fitted(name)
    one = {k: v[1:2] for k, v in X.items()}
    _check_outputs_are_valid(est, one, 1)
    if _KINDS[name] != "classifier":
        single = fit(FACTORIES[name](), one, yc[1:2], yr[1:2])
        _check_outputs_are_valid(single, X, 16)


@pytest.mark.parametrize("name", MAPPING_TARGETS)
def test_huge_but_finite_values(name):
    """1e30-scale features train and predict finitely (standardised first)."""
    X, yc, yr = make_data()
    big = {k: v * 1e30 for k, v in X.items()}
    est = fit(FACTORIES[name](), big, yc, yr)
    _check_outputs_are_valid(est, big, 16)


def test_robust_scaling_trains_on_1e300_scale_features():
    """Too large for float32 once standardised, yet the default robust scaling
    (median / IQR, then smooth clipping) makes them ordinary inputs."""
    X, yc, yr = make_data()
    huge = replace(X, "a", X["a"] * 1e300)
    est = fit(FACTORIES["ConcatFusionClassifier"](), huge, yc, yr)
    _check_outputs_are_valid(est, huge, 16)
    with pytest.raises(ValueError, match=r"Modality 'a' has values too large for float32"):
        fit(FACTORIES["ConcatFusionClassifier"]().set_params(scaling="standard"), huge, yc, yr)


# -- 7. diverging training ----------------------------------------------------

DIVERGING = [  # (id, parameters, data scale, what the message reports)
    ("valid-loss", dict(lr=1e40, max_epochs=3), 1.0, r"the valid loss became (nan|inf)"),
    ("train-loss", dict(lr=1e40, early_stopping=False, batch_size=4), 1.0,
     r"the train loss became (nan|inf)"),
    ("last-step-overflow", dict(lr=1e40, early_stopping=False, max_epochs=1), 1.0,
     r"the network weights became non-finite"),
    # With the plain first layer: the piecewise encoding ("auto" picks it on
    # these 16 samples) bins the raw values and stays bounded on them.
    ("unscaled-huge-input", dict(scaling=None, numerical_embedding=None), 1e30,
     r"the train loss became (nan|inf)"),
]


def _diverged_match(what, lr):
    return (rf"Training diverged at epoch 1: {what}\. Use a smaller learning rate "
            rf"\(lr={lr:g} now, try lr={lr / 10:g}\)").replace("+", r"\+")


@pytest.mark.parametrize("Est", FUSION, ids=lambda E: E.__name__)
@pytest.mark.parametrize("scenario", DIVERGING, ids=[d[0] for d in DIVERGING])
def test_diverging_training_raises_and_keeps_no_nan_model(Est, scenario, monkeypatch):
    """Stopped with the epoch and a smaller lr named; never a NaN model: a
    fresh estimator stays unfitted, a fitted one keeps its previous model."""
    # 16 samples hold out 2: allow early stopping on them, so that the
    # valid-loss path is exercised (the default needs 50 held-out samples).
    monkeypatch.setattr("sklearn_mmfusion._base.MIN_VALIDATION_SAMPLES", 1)
    _, params, scale, what = scenario
    X, yc, yr = make_data()
    big = {k: v * scale for k, v in X.items()}
    match = _diverged_match(what, params.get("lr", TINY.get("lr", 1e-3)))
    est = Est(**{**TINY, **params})
    error = check_fails_cleanly(lambda X: fit(est, X, yc, yr), (big,),
                                TrainingDivergedError, match)
    assert isinstance(error, FloatingPointError)
    assert fitted_attributes(est) == []

    refit_fails_cleanly(Est.__name__, "mapping", params, lambda est, X: fit(est, X, yc, yr),
                        (big,), TrainingDivergedError, match)


class _BlowUpAfterFirstEpoch(Callback):
    """Sets the optimiser's lr to 1e40 once epoch 1 has ended."""

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 1:
            for group in net.optimizer_.param_groups:
                group["lr"] = 1e40


@pytest.mark.parametrize("Est", [FUSION[0], ConFuEmbedder], ids=lambda E: E.__name__)
def test_divergence_names_the_epoch_it_happened_in(Est):
    X, yc, yr = make_data()
    est = Est(**{**TINY, "max_epochs": 4, "early_stopping": False, "batch_size": 4,
                 "callbacks": [_BlowUpAfterFirstEpoch()]})
    with pytest.raises(TrainingDivergedError,
                       match=r"Training diverged at epoch 2: the train loss became") as info:
        fit(est, X, yc, yr)
    assert_no_torch_frames(info.value)
    assert fitted_attributes(est) == []

