"""Property tests (hypothesis) of the multimodal data contract.

Random modality counts, widths, sample counts and missing patterns (whole
missing rows, partial NaNs, samples missing every modality):

* ``ModalityDict`` row indexing agrees with numpy indexing of every array;
* ``split_modalities`` reads every input form to the same float arrays and
  never writes to them; the observation mask is exactly "row not all-NaN";
* ``ModalitySchema`` encodes to finite float32 blocks, zeros for missing rows;
* every fitted estimator predicts the right shape with no NaN for any
  missing pattern, and a sample's output does not depend on the others.

Examples are few and derandomised (the suite runs on two shared cores);
the predict property reuses one small fitted estimator per class.
"""

import numpy as np
import pandas as pd
import pytest
from _targets import FACTORIES, FUSION, TINY, fit, outputs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sklearn_mmfusion import (
    CalibratedModalityImputer,
    FusionClassifier,
    ModalityDict,
    PerModality,
)
from sklearn_mmfusion._data import ModalitySchema, observation_mask, split_modalities

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples on every run: no flaky CI
    database=None,  # nothing written to the shared working tree
    # The autouse one-torch-thread fixture is function-scoped; it is meant to
    # hold for all the examples of a test.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def modalities(draw, n=None, names=None, widths=None, max_samples=10):
    """``{name: (n, d) float array}`` with random missing rows and partial NaNs."""
    if n is None:
        n = draw(st.integers(1, max_samples))
    if names is None:
        m = draw(st.integers(1, 4))
        names = draw(st.lists(st.text("abcxyz_", min_size=1, max_size=3),
                              min_size=m, max_size=m, unique=True))
    if widths is None:
        widths = draw(st.lists(st.integers(1, 4), min_size=len(names), max_size=len(names)))
    arrays = {}
    for name, width in zip(names, widths):
        values = draw(hnp.arrays(np.float64, (n, width), elements=finite))
        partial = draw(hnp.arrays(np.bool_, (n, width), elements=st.booleans()))
        missing = draw(hnp.arrays(np.bool_, n, elements=st.booleans()))
        values[partial & draw(st.booleans())] = np.nan
        values[missing] = np.nan
        arrays[name] = values
    return arrays


def _row_keys(n):
    ints = st.integers(-n, n - 1)
    return st.one_of(
        ints,
        st.builds(slice, st.none() | st.integers(-n - 2, n + 2),
                  st.none() | st.integers(-n - 2, n + 2),
                  st.none() | st.integers(1, 3) | st.integers(-3, -1)),
        hnp.arrays(np.bool_, n, elements=st.booleans()),
        hnp.arrays(np.int64, st.integers(0, 2 * n), elements=ints),
        st.lists(ints, max_size=2 * n),
    )


@SETTINGS
@given(data=st.data())
def test_modality_dict_indexing_agrees_with_numpy(data):
    arrays = data.draw(modalities())
    n = len(next(iter(arrays.values())))
    key = data.draw(_row_keys(n))
    md = ModalityDict(arrays)
    assert len(md) == n and md.shape == (n,)
    for sub in (md[key], md[key, ...]):
        assert isinstance(sub, ModalityDict)
        assert list(sub) == list(arrays)
        for name, array in arrays.items():
            expected = array[[key]] if isinstance(key, (int, np.integer)) else array[key]
            np.testing.assert_array_equal(sub[name], expected)
            assert len(sub) == len(expected)
    for name, array in arrays.items():
        assert md[name] is array  # string keys: the modality itself


@SETTINGS
@given(data=st.data())
def test_every_form_reads_the_same_arrays_and_masks_are_all_nan_rows(data):
    arrays = data.draw(modalities())
    copies = {k: v.copy() for k, v in arrays.items()}
    # The same modalities as columns of one table, in a shuffled column order.
    table_parts = [(name, j) for name, a in arrays.items() for j in range(a.shape[1])]
    order = data.draw(st.permutations(range(len(table_parts))))
    columns = [table_parts[i] for i in order]
    table = np.column_stack([arrays[name][:, j] for name, j in columns])
    spec = {name: [columns.index((name, j)) for j in range(a.shape[1])]
            for name, a in arrays.items()}
    labels = [f"{name}:{j}" for name, j in columns]
    name_spec = {name: [labels[p] for p in positions] for name, positions in spec.items()}
    forms = [
        split_modalities(arrays),
        split_modalities(ModalityDict(arrays)),
        split_modalities({k: v.tolist() for k, v in arrays.items()}),
        split_modalities(table, spec),
        split_modalities(pd.DataFrame(table, columns=labels), name_spec),
    ]
    for result in forms:
        assert list(result) == list(arrays)
        for name, array in arrays.items():
            assert result[name].dtype.kind == "f"
            np.testing.assert_array_equal(result[name], array)
    mask = observation_mask(forms[0])
    expected = np.column_stack([~np.isnan(a).all(axis=1) for a in arrays.values()])
    np.testing.assert_array_equal(mask, expected)
    for name in arrays:  # nothing was written to the caller's arrays
        np.testing.assert_array_equal(arrays[name], copies[name])


@SETTINGS
@given(arrays=modalities(), scaling=st.sampled_from(["robust", "standard", None]))
def test_schema_encodes_finite_blocks_with_zeros_for_missing_rows(arrays, scaling):
    mask = observation_mask(arrays)
    never_seen = [name for m, name in enumerate(arrays) if not mask[:, m].any()]
    if never_seen:
        with pytest.raises(ValueError, match=f"Modality {never_seen[0]!r} is missing"):
            ModalitySchema(arrays, mask, scaling=scaling)
        return
    schema = ModalitySchema(arrays, mask, scaling=scaling)
    assert schema.names == list(arrays)
    assert schema.widths == [a.shape[1] for a in arrays.values()]
    blocks, out_mask = schema.encode(arrays, mask)
    np.testing.assert_array_equal(out_mask, mask)
    n = mask.shape[0]
    for m, (name, array) in enumerate(arrays.items()):
        block = blocks[m]
        assert block.dtype == np.float32 and block.shape == array.shape
        assert np.isfinite(block).all()
        assert not block[~mask[:, m]].any()  # missing rows are zeros
        # Present values are (x - center) / scale (smooth-clipped when robust);
        # a partial NaN is encoded as the training mean would be.
        filled = np.where(np.isnan(array), schema.means[m], array)
        scaled = (filled - schema.centers[m]) / schema.scales[m]
        if scaling == "robust":
            clipped = schema.clipped[m]
            scaled = np.where(clipped, scaled / np.sqrt(1 + (scaled / 3) ** 2), scaled)
            assert (np.abs(block[:, clipped]) < 3).all()
        present = np.broadcast_to(mask[:, m][:, None], array.shape)
        np.testing.assert_allclose(block[present], scaled[present], rtol=1e-5, atol=1e-5)
        if scaling == "standard":  # the mean is the center: a partial NaN is 0
            assert not block[mask[:, m][:, None] & np.isnan(array)].any()
        if scaling is None:
            np.testing.assert_array_equal(schema.scales[m], 1.0)
            np.testing.assert_array_equal(schema.centers[m], 0.0)
    # Encoding by row chunks is encoding everything, row for row.
    cut = n // 2
    head, _ = schema.encode(arrays, mask, slice(0, cut))
    tail, _ = schema.encode(arrays, mask, slice(cut, n))
    for m in range(len(arrays)):
        np.testing.assert_array_equal(np.vstack([head[m], tail[m]]), blocks[m])


# -- predictions for any missing pattern --------------------------------------

NAMES, WIDTHS = ["a", "b", "c"], [3, 2, 2]
_FITTED = {}


def _fitted(name):
    """One small estimator per class, fitted once, shared by all examples."""
    if name not in _FITTED:
        rng = np.random.RandomState(0)
        X = {k: rng.randn(40, w) for k, w in zip(NAMES, WIDTHS)}
        for m, k in enumerate(NAMES):
            X[k][m::5] = np.nan  # some missing rows, never all of a sample's
        y_class = (np.nan_to_num(X["a"][:, 0]) > 0).astype(int)
        y_reg = np.nan_to_num(X["b"][:, 0])
        _FITTED[name] = fit(FACTORIES[name](), X, y_class, y_reg)
    return _FITTED[name]


PREDICT_TARGETS = [E.__name__ for E in FUSION] + ["CalibratedModalityImputer", "PerModality"]


@pytest.mark.parametrize("name", PREDICT_TARGETS)
@settings(SETTINGS, max_examples=8)
@given(X=modalities(names=NAMES, widths=WIDTHS, max_samples=6))
def test_outputs_have_the_right_shape_and_no_nan_for_any_missing_pattern(name, X):
    est = _fitted(name)
    n = len(X["a"])
    missing = ~observation_mask(X)
    got = outputs(est, X)
    for key, out in got.items():
        assert out.shape[0] == n, key
        if key == "predict_proba":
            assert out.shape == (n, len(est.classes_))
            np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6)
        elif key == "transform" and not isinstance(
            est, (CalibratedModalityImputer, PerModality)
        ):
            assert out.shape == (n, TINY["hidden_dim"]) and out.dtype == np.float32
        elif key == "predict":
            assert out.shape == (n,)
            if isinstance(est, FusionClassifier):
                assert set(out) <= set(est.classes_)
        if isinstance(est, PerModality):
            # Missing rows stay missing; present rows are scaled, and keep
            # their partial NaNs (StandardScaler passes NaN through).
            m = NAMES.index(key[len("transform["):-1])
            assert np.isnan(out[missing[:, m]]).all()
            present = ~missing[:, m]
            np.testing.assert_array_equal(np.isnan(out[present]),
                                          np.isnan(X[NAMES[m]][present]))
        elif out.dtype.kind == "f":
            assert np.isfinite(out).all(), key
        if isinstance(est, CalibratedModalityImputer):
            # Observed rows pass through (partial NaNs become the mean).
            m = NAMES.index(key[len("transform["):-1])
            rows = ~missing[:, m]
            observed = X[NAMES[m]][rows]
            keep = ~np.isnan(observed)
            np.testing.assert_array_equal(out[rows][keep], observed[keep])
    # A sample's output does not depend on the other samples of the batch.
    i = n - 1
    alone = outputs(est, {k: v[i:] for k, v in X.items()})
    for key in got:
        np.testing.assert_allclose(alone[key][0], got[key][i], rtol=1e-5, atol=1e-6)
