"""ModalitySchema.encode's blocked float32 path equals the plain formula."""

import numpy as np
import pytest

from sklearn_mmfusion._data import (
    _CACHE_ROWS,
    ModalitySchema,
    observation_mask,
    smooth_clip,
    split_modalities,
)


def _plain_encode(schema, arrays, mask, rows):
    """The reference: full-size float64 temporaries, then float32."""
    blocks = []
    for m, name in enumerate(schema.names):
        values = arrays[name][rows].astype(np.float64)
        values = np.where(np.isnan(values), schema.means[m], values)
        values = (values - schema.centers[m]) / schema.scales[m]
        values = np.where(schema.clipped[m], smooth_clip(values), values)
        keep = mask[rows][:, m : m + 1]
        blocks.append(np.where(keep, values, 0.0).astype(np.float32))
    return blocks


@pytest.mark.parametrize("scaling", ["standard", "robust", None])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocked_encode_equals_the_plain_formula(dtype, scaling):
    rng = np.random.default_rng(0)
    n = 2 * _CACHE_ROWS + 37  # several blocks and a ragged last one
    X = {"a": rng.standard_normal((n, 5)) * 50 + 3, "b": rng.standard_normal((n, 2))}
    X["a"][rng.random(n) < 0.3] = np.nan
    X["a"][rng.random((n, 5)) < 0.05] = np.nan
    X["b"][:10] = np.nan
    X = {k: v.astype(dtype) for k, v in X.items()}
    before = {k: v.copy() for k, v in X.items()}
    arrays = split_modalities(X)
    mask = observation_mask(arrays)
    schema = ModalitySchema(arrays, mask, scaling=scaling)
    for rows in (slice(None), slice(5, _CACHE_ROWS + 9), slice(0, 1)):
        blocks, sub_mask = schema.encode(arrays, mask, rows)
        for got, want in zip(blocks, _plain_encode(schema, arrays, mask, rows)):
            assert got.dtype == np.float32 and got.flags.c_contiguous
            # Equal to float32 rounding: the blocked path multiplies by
            # 1 / scale where the formula divides (at most 1 float64 ulp
            # apart before the cast to float32).
            np.testing.assert_allclose(got, want, rtol=2**-23, atol=0)
        np.testing.assert_array_equal(sub_mask, mask[rows])
    for k in X:  # the caller's arrays are untouched
        np.testing.assert_array_equal(X[k], before[k])


def test_float32_overflow_is_reported():
    X = {"a": np.array([[0.0], [1.0], [2.0]])}
    arrays = split_modalities(X)
    mask = observation_mask(arrays)
    schema = ModalitySchema(arrays, mask)
    big = {"a": np.array([[1e300], [0.0]])}
    with pytest.raises(ValueError, match="too large for float32"):
        schema.encode(big, observation_mask(big))


def test_smooth_clip_into_buffers_equals_the_new_array_form():
    rng = np.random.default_rng(1)
    values = rng.standard_normal((40, 6)) * 10
    want = values / np.sqrt(1.0 + np.square(values / 3.0))
    np.testing.assert_array_equal(smooth_clip(values), want)
    in_place, work = values.copy(), np.empty_like(values)
    assert smooth_clip(in_place, out=in_place, work=work) is in_place
    np.testing.assert_array_equal(in_place, want)
    shared = np.empty_like(values)  # out and work the same buffer
    np.testing.assert_array_equal(smooth_clip(values, out=shared, work=shared), want)
    assert np.all(np.abs(want) < 3.0)  # bounded by the clip
