"""Every public estimator and transformer, tiny, for the reliability tests.

Shared by ``test_bad_input.py``, ``test_properties.py``, ``test_determinism.py``
and ``test_persistence.py``: one factory per public class (tiny networks, two
epochs, so a fit takes a few hundredths of a second), tiny data, and helpers
that fit any of them and collect every output it produces.
"""

import os
import traceback

import numpy as np
import skorch
import torch
from sklearn.preprocessing import StandardScaler

from sklearn_mmfusion import (
    CalibratedModalityImputer,
    FusionClassifier,
    FusionRegressor,
    ModalitySplitter,
    PerModality,
)
from sklearn_mmfusion._discovery import all_fusion_estimators

FUSION = all_fusion_estimators()  # classifiers, regressors and ConFuEmbedder
# Tiny: 8 hidden units (a multiple of CLARGA's default 4 heads), 2 epochs.
TINY = dict(hidden_dim=8, n_ensemble=1, max_epochs=2, batch_size=16, random_state=0)

N_SAMPLES = 16
WIDTHS = {"a": 3, "b": 2}
SPEC = {"a": [0, 1, 2], "b": [3, 4]}  # the same modalities as columns of one table
COLUMNS = ["p", "q", "r", "s", "t"]
NAME_SPEC = {"a": ["p", "q", "r"], "b": ["s", "t"]}


def make_factories():
    """``{id: factory(**params)}`` for every public estimator and transformer."""
    factories = {Est.__name__: (lambda Est=Est, **kw: Est(**{**TINY, **kw})) for Est in FUSION}
    factories["CalibratedModalityImputer"] = lambda **kw: CalibratedModalityImputer(
        **{"n_components": 2, "max_iter": 3, "random_state": 0, **kw}
    )
    factories["PerModality"] = lambda **kw: PerModality(**{"transformer": StandardScaler(), **kw})
    factories["ModalitySplitter"] = lambda **kw: ModalitySplitter(**{"modalities": SPEC, **kw})
    return factories


FACTORIES = make_factories()
# Everything that takes a mapping X (the splitter takes 2-D input only).
MAPPING_TARGETS = [name for name in FACTORIES if name != "ModalitySplitter"]


def make_data(n=N_SAMPLES, seed=0, missing=True):
    """``(X, y_class, y_reg)``: two modalities; with ``missing``, sample 0
    misses every modality and a few others miss one."""
    rng = np.random.RandomState(seed)
    X = {name: rng.randn(n, width) for name, width in WIDTHS.items()}
    if missing:
        X["a"][0] = np.nan
        X["b"][0] = np.nan
        X["a"][[3, 7]] = np.nan
        X["b"][[5]] = np.nan
    y_class = np.arange(n) % 2
    y_reg = np.nan_to_num(X["b"][:, 0]) + 0.1 * np.arange(n)
    return X, y_class, y_reg


def to_table(X):
    """The mapping ``X`` as one 2-D array, columns in ``SPEC`` order."""
    return np.hstack([np.asarray(X[name], dtype=float) for name in WIDTHS])


def target_for(est, y_class, y_reg):
    if isinstance(est, FusionClassifier):
        return y_class
    if isinstance(est, FusionRegressor):
        return y_reg
    return None


def fit(est, X, y_class=None, y_reg=None, **fit_params):
    """Fit ``est`` with the target its kind needs (none for transformers)."""
    y = target_for(est, y_class, y_reg)
    if y is None:
        return est.fit(X, **fit_params)
    return est.fit(X, y, **fit_params)


def output_methods(est):
    """Names of the methods that turn a fitted ``est`` and an X into outputs."""
    names = [m for m in ("predict", "predict_proba", "transform") if hasattr(est, m)]
    return names


def primary_method(est):
    """The most informative output method: probabilities, predictions, or
    the transform."""
    for name in ("predict_proba", "predict", "transform"):
        if hasattr(est, name):
            return name


def outputs(est, X, methods=None):
    """``{method: output}`` of every output method (or of ``methods``), as
    numpy arrays."""
    result = {}
    for name in methods or output_methods(est):
        out = getattr(est, name)(X)
        if isinstance(out, dict):  # ModalityDict output of the transformers
            for key, value in out.items():
                result[f"{name}[{key}]"] = np.asarray(value)
        else:
            result[name] = np.asarray(out)
    return result


def assert_same_outputs(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


# -- "no torch traceback" ----------------------------------------------------

_FOREIGN_DIRS = tuple(os.path.dirname(m.__file__) + os.sep for m in (torch, skorch))


def displayed_chain(exc):
    """The exceptions Python prints for ``exc``: itself, then its ``__cause__``,
    or its ``__context__`` unless suppressed (``raise ... from None``)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        if exc.__cause__ is not None:
            exc = exc.__cause__
        elif not exc.__suppress_context__:
            exc = exc.__context__
        else:
            exc = None


def assert_no_torch_frames(exc):
    """No frame of the traceback the user would see lies in torch or skorch.

    This is stronger than "raised before any forward pass": the error may
    not even pass through torch or skorch code on its way to the user (which
    also rules out torch errors re-wrapped with ``raise ... from exc``).
    """
    for link in displayed_chain(exc):
        files = [frame.f_code.co_filename for frame, _ in traceback.walk_tb(link.__traceback__)]
        foreign = [f for f in files if f.startswith(_FOREIGN_DIRS)]
        assert not foreign, (
            f"{type(link).__name__}: {link} passed through torch/skorch frames {foreign}"
        )


def fitted_attributes(est):
    """Names of the attributes fit sets (scikit-learn's trailing underscore)."""
    return sorted(k for k in vars(est) if k.endswith("_") and not k.startswith("__"))
