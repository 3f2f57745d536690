"""The data contract: input forms, masks, schema checks, ModalityDict."""

import numpy as np
import pandas as pd
import pytest
from skorch.helper import SliceDict
from sklearn.model_selection import train_test_split

from sklearn_mmfusion import ModalityDict
from sklearn_mmfusion._data import (
    ModalitySchema,
    observation_mask,
    split_modalities,
)


@pytest.fixture
def arrays():
    rng = np.random.RandomState(0)
    return {"a": rng.randn(6, 3), "b": rng.randn(6, 2)}


# -- ModalityDict ----------------------------------------------------------


def test_modality_dict_len_shape_and_keys(arrays):
    md = ModalityDict(arrays)
    assert len(md) == 6 and md.shape == (6,)
    assert list(md) == ["a", "b"]
    assert md["a"] is arrays["a"]


@pytest.mark.parametrize(
    "key",
    [slice(1, 4), np.array([True, False, True, False, False, True]), np.array([5, 0, 2]),
     [1, 1, 3]],
)
def test_modality_dict_row_indexing_matches_numpy(arrays, key):
    sub = ModalityDict(arrays)[key]
    assert isinstance(sub, ModalityDict)
    for name in arrays:
        np.testing.assert_array_equal(sub[name], arrays[name][key])
    assert len(sub) == len(arrays["a"][key])


def test_modality_dict_int_keeps_rows_2d(arrays):
    sub = ModalityDict(arrays)[2]
    assert sub["a"].shape == (1, 3)
    np.testing.assert_array_equal(sub["b"], arrays["b"][[2]])


def test_modality_dict_rejects_ragged():
    with pytest.raises(ValueError, match="same number of samples.*'a': 3.*'b': 4"):
        ModalityDict(a=np.zeros((3, 1)), b=np.zeros((4, 1)))


def test_modality_dict_works_with_train_test_split(arrays):
    y = np.arange(6)
    X_tr, X_te, y_tr, y_te = train_test_split(ModalityDict(arrays), y, test_size=2,
                                              random_state=0)
    assert isinstance(X_tr, ModalityDict) and len(X_tr) == 4 and len(X_te) == 2
    np.testing.assert_array_equal(X_te["a"], arrays["a"][y_te])


def test_modality_dict_pickles(arrays):
    import pickle

    md = pickle.loads(pickle.dumps(ModalityDict(arrays)))
    assert isinstance(md, ModalityDict) and len(md) == 6
    np.testing.assert_array_equal(md["b"], arrays["b"])


# -- input forms -------------------------------------------------------------


def test_all_input_forms_give_the_same_arrays(arrays):
    flat = np.hstack([arrays["a"], arrays["b"]])
    df = pd.DataFrame(flat, columns=["a0", "a1", "a2", "b0", "b1"])
    forms = [
        split_modalities(arrays),
        split_modalities(ModalityDict(arrays)),
        split_modalities(SliceDict(**arrays)),
        split_modalities(flat, {"a": [0, 1, 2], "b": slice(3, 5)}),
        split_modalities(df, {"a": ["a0", "a1", "a2"], "b": ["b0", "b1"]}),
    ]
    for result in forms:
        assert list(result) == ["a", "b"]
        for name in arrays:
            np.testing.assert_array_equal(result[name], arrays[name])


def test_2d_without_spec_is_one_modality(arrays):
    out = split_modalities(arrays["a"])
    assert list(out) == ["x"] and out["x"].shape == (6, 3)


def test_int_and_bool_become_float():
    out = split_modalities({"i": np.arange(6).reshape(3, 2), "b": np.ones((3, 1), bool)})
    assert out["i"].dtype.kind == "f" and out["b"].dtype.kind == "f"


@pytest.mark.parametrize(
    "X, error, match",
    [
        ({"a": np.array([[1.0, np.inf]])}, ValueError, "Modality 'a' contains infinity"),
        ({"a": np.array([["x", "y"]])}, TypeError, "Modality 'a' holds non-numeric"),
        ({"a": np.ones((2, 2), complex)}, ValueError, "Modality 'a': Complex data"),
        ({"a": np.ones((3, 2)), "b": np.ones((4, 2))}, ValueError, "same number of samples"),
        ({"a": np.ones((0, 2))}, ValueError, "0 sample"),
        ({"a": np.ones((3, 0))}, ValueError, "Modality 'a': found array with 0 feature"),
        ({"a": np.ones(3)}, ValueError, "Modality 'a' must be 2-D"),
        ({"a": {"b": np.ones((2, 2))}}, TypeError, "Modality 'a' is a nested mapping"),
        ({3: np.ones((2, 2))}, TypeError, "names must be strings"),
        ({}, ValueError, "empty mapping"),
        ({"a": np.array([[1, {"k": 1}]], dtype=object)}, TypeError,
         "Modality 'a': could not convert to float"),
    ],
)
def test_bad_input_names_the_modality(X, error, match):
    with pytest.raises(error, match=match):
        split_modalities(X)


@pytest.mark.parametrize(
    "spec, match",
    [
        ({"a": [0, 1], "b": [1, 2]}, "Column 1 is assigned to both modality 'a' and modality 'b'"),
        ({"a": [0, 7]}, "Modality 'a': column position 7 is out of range"),
        ({"a": ["c0"]}, "Modality 'a' names columns"),
        ({"a": []}, "Modality 'a' selects no columns"),
    ],
)
def test_bad_spec(spec, match):
    with pytest.raises((ValueError, TypeError), match=match):
        split_modalities(np.ones((3, 4)), spec)


def test_categorical_dataframe_column_is_rejected():
    df = pd.DataFrame({"n": [1.0, 2.0], "c": pd.Categorical(["u", "v"])})
    with pytest.raises(TypeError, match="Modality 'x': column 'c' has dtype category"):
        split_modalities(df)


def test_mapping_with_spec_is_rejected(arrays):
    with pytest.raises(ValueError, match="already a mapping"):
        split_modalities(arrays, {"a": [0]})


# -- masks and schema --------------------------------------------------------


def test_mask_is_exactly_the_all_nan_rows():
    a = np.ones((4, 3))
    a[1] = np.nan  # missing modality
    a[2, 0] = np.nan  # missing feature only
    mask = observation_mask({"a": a, "b": np.ones((4, 1))})
    np.testing.assert_array_equal(mask[:, 0], [True, False, True, True])
    assert mask[:, 1].all()


def test_schema_standardises_on_present_rows_and_imputes_partial_nan():
    a = np.array([[0.0, 10.0], [2.0, np.nan], [np.nan, np.nan], [4.0, 30.0]])
    arrays = {"a": a}
    mask = observation_mask(arrays)
    schema = ModalitySchema(arrays, mask)
    np.testing.assert_allclose(schema.means[0], [2.0, 20.0])
    blocks, m = schema.encode(arrays, mask)
    assert blocks[0].dtype == np.float32 and np.isfinite(blocks[0]).all()
    np.testing.assert_allclose(blocks[0][:, 0], [-1.2247449, 0.0, 0.0, 1.2247449], rtol=1e-6)
    assert blocks[0][1, 1] == 0.0  # partial NaN -> training mean -> 0 after scaling
    np.testing.assert_array_equal(blocks[0][2], [0.0, 0.0])  # missing row
    np.testing.assert_array_equal(m, [[True], [True], [False], [True]])


def test_schema_never_writes_to_the_input():
    a = np.array([[1.0, np.nan], [np.nan, np.nan], [3.0, 4.0]])
    copy = a.copy()
    arrays = {"a": a}
    mask = observation_mask(arrays)
    ModalitySchema(arrays, mask).encode(arrays, mask)
    np.testing.assert_array_equal(a, copy)


def test_schema_rejects_a_modality_missing_everywhere():
    arrays = {"a": np.ones((3, 2)), "b": np.full((3, 2), np.nan)}
    with pytest.raises(ValueError, match="Modality 'b' is missing .* in every training"):
        ModalitySchema(arrays, observation_mask(arrays))


@pytest.mark.parametrize(
    "new, match",
    [
        ({"a": np.ones((2, 3))}, r"missing modality\(ies\) \['b'\]"),
        ({"a": np.ones((2, 3)), "b": np.ones((2, 2)), "c": np.ones((2, 1))},
         r"unexpected modality\(ies\) \['c'\]"),
        ({"a": np.ones((2, 3)), "bb": np.ones((2, 2))}, r"missing.*\['b'\].*unexpected.*\['bb'\]"),
        ({"a": np.ones((2, 4)), "b": np.ones((2, 2))},
         "X has 6 features, but Est is expecting 5 .* modality 'a' has 4 columns, expected 3"),
    ],
)
def test_schema_check_names_the_problem(arrays, new, match):
    schema = ModalitySchema(arrays, observation_mask(arrays))
    with pytest.raises(ValueError, match=match):
        schema.check(new, "Est")


# -- robust scaling and sparse modalities --------------------------------------


def test_robust_scaling_bounds_heavy_tails_and_keeps_the_bulk_linear():
    rng = np.random.RandomState(0)
    heavy = rng.standard_cauchy((500, 1)) * 100 + 7  # heavy tails, outliers ~1e5
    arrays = {"a": heavy}
    mask = observation_mask(arrays)
    robust = ModalitySchema(arrays, mask, scaling="robust")
    q25, q50, q75 = np.percentile(heavy, [25, 50, 75])
    np.testing.assert_allclose(robust.centers[0], [q50])
    np.testing.assert_allclose(robust.scales[0], [q75 - q25])
    block = robust.encode(arrays, mask)[0][0][:, 0]
    assert np.abs(block).max() < 3.0  # smooth clipping bounds every value
    inner = np.abs(heavy[:, 0] - q50) < 0.2 * (q75 - q25)
    np.testing.assert_allclose(block[inner], (heavy[inner, 0] - q50) / (q75 - q25), atol=2e-3)
    assert np.all(np.diff(block[np.argsort(heavy[:, 0])]) >= 0)  # order kept
    # Standard scaling lets the outliers dominate: most values collapse near 0.
    standard = ModalitySchema(arrays, mask, scaling="standard").encode(arrays, mask)[0][0]
    assert np.median(np.abs(standard)) < 0.2 < np.median(np.abs(block))


def test_robust_scaling_falls_back_to_half_the_range_when_the_iqr_is_zero():
    a = np.zeros((100, 3))
    a[:5, 0] = [1, 2, 3, 4, 8]  # mostly zeros: IQR 0, half range 4
    a[:, 2] = np.arange(100)  # an ordinary column: IQR 49.5
    arrays = {"a": a}
    schema = ModalitySchema(arrays, observation_mask(arrays), scaling="robust")
    np.testing.assert_allclose(schema.scales[0], [4.0, 1.0, 49.5])  # constant column: 1
    assert schema.clipped[0].all()
    block = schema.encode(arrays, observation_mask(arrays))[0][0]
    scaled = np.array([1, 2, 3, 4, 8]) / 4.0
    np.testing.assert_allclose(block[:5, 0], scaled / np.sqrt(1 + (scaled / 3) ** 2), rtol=1e-6)
    assert np.abs(block).max() < 3


def test_sparse_modality_stays_sparse_and_encodes_like_its_dense_twin():
    import scipy.sparse as sp

    counts = sp.random(60, 40, density=0.1, random_state=0, format="csr") * 10
    counts = sp.csr_array(counts)
    before = counts.copy()
    dense = counts.toarray()
    dense_in = {"w": dense, "v": np.ones((60, 2))}
    sparse_in = {"w": counts, "v": np.ones((60, 2))}
    arrays = split_modalities(sparse_in, accept_sparse=True)
    assert sp.issparse(arrays["w"])
    for scaling in ("robust", "standard", None):
        s_schema = ModalitySchema(arrays, observation_mask(arrays), scaling=scaling)
        blocks, _ = s_schema.encode(arrays, observation_mask(arrays))
        assert sp.issparse(blocks[0]) and blocks[0].dtype == np.float32
        assert blocks[0].nnz <= counts.nnz  # never densified
        if scaling != "standard":  # standard centres dense columns, not sparse ones
            d_arrays = split_modalities(dense_in)
            d_schema = ModalitySchema(d_arrays, observation_mask(d_arrays), scaling=scaling)
            d_blocks, _ = d_schema.encode(d_arrays, observation_mask(d_arrays))
            np.testing.assert_allclose(blocks[0].toarray(), d_blocks[0], rtol=1e-6)
    assert (counts != before).nnz == 0  # the caller's matrix is untouched


def test_sparse_rows_of_nan_are_missing_and_sparse_is_refused_where_unsupported():
    import scipy.sparse as sp

    a = np.zeros((4, 3))
    a[1] = np.nan  # missing modality row
    a[2, 0] = np.nan  # missing feature only
    mask = observation_mask(split_modalities({"a": sp.csr_array(a)}, accept_sparse=True))
    np.testing.assert_array_equal(mask[:, 0], [True, False, True, True])
    with pytest.raises(TypeError, match="Modality 'a' is a sparse matrix"):
        split_modalities({"a": sp.csr_array(a)})
    inf = sp.csr_array(np.array([[0.0, 1.0], [np.inf, 0.0]]))
    with pytest.raises(ValueError, match="Modality 'a' contains infinity at row 1"):
        split_modalities({"a": inf}, accept_sparse=True)
