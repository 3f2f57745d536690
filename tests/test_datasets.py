"""Shipped data sets, the sensor feature extractor and mask_modalities."""

import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_mmfusion import ModalityDict
from sklearn_mmfusion.datasets import (
    load_hapt,
    load_landuse21,
    load_mfeat,
    load_scene15,
    mask_modalities,
    sensor_feature_names,
    sensor_window_features,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def test_load_hapt_bunch():
    bunch = load_hapt()
    assert bunch.modality_names == ["acc", "gyro"]
    assert bunch.data["acc"].shape == bunch.data["gyro"].shape == (10361, 55)
    assert bunch.data["acc"].dtype == np.float32
    assert np.isfinite(bunch.data["acc"]).all() and np.isfinite(bunch.data["gyro"]).all()
    assert sorted(set(bunch.target)) == list(range(1, 13))
    assert sorted(set(bunch.groups)) == list(range(1, 31))
    assert bunch.target_names[6] == "LAYING"
    assert len(bunch.feature_names["gyro"]) == 55
    assert "CC BY 4.0" in bunch.DESCR and "Reyes-Ortiz" in bunch.DESCR
    X, y, groups = load_hapt(return_X_y=True)
    assert len(X) == len(y) == len(groups)


@pytest.mark.parametrize("loader, n, n_classes", [(load_scene15, 4485, 15),
                                                  (load_landuse21, 2100, 21)])
def test_load_image_views(loader, n, n_classes):
    bunch = loader()
    assert isinstance(bunch.data, ModalityDict)
    assert {m: b.shape for m, b in bunch.data.items()} == {
        "v0": (n, 20), "v1": (n, 59), "v2": (n, 40)}
    assert len(np.unique(bunch.target)) == n_classes
    assert "MIT" in bunch.DESCR and "COMPLETER" in bunch.DESCR
    assert "groups" not in bunch


def test_mfeat_still_loads():
    X, y = load_mfeat(return_X_y=True)
    assert len(X) == len(y) == 2000


def sine_window(freq, n=128, rate=50.0, amplitude=1.0, offset=0.0):
    t = np.arange(n) / rate
    return offset + amplitude * np.sin(2 * np.pi * freq * t)


def test_sensor_features_known_signals():
    x = sine_window(5.0, amplitude=2.0, offset=1.0)
    y = np.linspace(-1, 1, 128)
    z = np.full(128, 3.0)
    features = sensor_window_features(np.stack([x, y, z], axis=1)[None])
    f = dict(zip(sensor_feature_names(), features[0]))
    assert features.shape == (1, 55) and features.dtype == np.float32
    assert f["x_mean"] == pytest.approx(1.0, abs=0.05)
    assert f["x_std"] == pytest.approx(2 / np.sqrt(2), rel=0.02)
    # 10 samples per period: the extremes are sampled at 0.95 of the amplitude.
    assert f["x_min"] == pytest.approx(1 - 2 * 0.951, abs=0.01)
    assert f["x_max"] == pytest.approx(1 + 2 * 0.951, abs=0.01)
    # Frequency resolution is 50 / 128 Hz: the peak bin is the one nearest 5 Hz.
    assert abs(f["x_dominant_freq"] - 5.0) <= 50 / 128
    # A pure tone has almost no spectral entropy; a ramp spreads over low bins.
    assert f["x_spectral_entropy"] < 0.3 < f["y_spectral_entropy"]
    assert f["y_autocorr_lag1"] > 0.95
    assert f["z_std"] == 0 and f["z_energy"] == pytest.approx(9.0)
    # A constant axis has no shape and no correlation: zeros, not NaN.
    assert f["z_skew"] == f["z_kurtosis"] == f["corr_xz"] == 0
    assert f["corr_xy"] == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-5)
    mag = np.sqrt(x ** 2 + y ** 2 + z ** 2)
    assert f["mag_mean"] == pytest.approx(mag.mean(), rel=1e-5)
    assert f["mag_max"] == pytest.approx(mag.max(), rel=1e-5)


def test_sensor_features_validate_input():
    with pytest.raises(ValueError, match="must be 3-D"):
        sensor_window_features(np.zeros((4, 128)))
    bad = np.zeros((2, 128, 3))
    bad[1, 5, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        sensor_window_features(bad)


@pytest.mark.skipif(not (SHARED / "hapt_windows.npz").is_file(), reason="no ../shared/data")
def test_shipped_hapt_features_are_the_extractor_on_the_raw_windows():
    rows = np.arange(0, 10361, 97)
    with np.load(SHARED / "hapt_windows.npz") as raw:
        acc, gyro, subject = raw["acc"][rows], raw["gyro"][rows], raw["subject"][rows]
    bunch = load_hapt()
    np.testing.assert_allclose(bunch.data["acc"][rows], sensor_window_features(acc), rtol=1e-5)
    np.testing.assert_allclose(bunch.data["gyro"][rows], sensor_window_features(gyro),
                               rtol=1e-5)
    np.testing.assert_array_equal(bunch.groups[rows], subject)


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared/data")
def test_benchmark_helper_loads_shared_npz_as_modalities():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from _shared_data import load_shared
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    X, y, groups, card = load_shared("basic_motions")
    assert list(X) == ["accel", "gyro"] and X["accel"].shape == (80, 55)
    assert groups is None and set(y) == {"badminton", "running", "standing", "walking"}
    assert "split" in card["extra"] and "split" not in X
    X, y, _, _ = load_shared("3Sources")
    assert list(X) == ["v0", "v1", "v2"] and len(y) == 169


def hidden(Xm):
    return np.column_stack([np.isnan(block).all(axis=1) for block in Xm.values()])


@pytest.mark.parametrize("n_modalities, rate", [(2, 0.3), (2, 0.5), (3, 0.3), (3, 0.6),
                                                (6, 0.5)])
def test_mask_modalities_hides_rate_of_each_modality(n_modalities, rate):
    n = 20000
    X = ModalityDict({f"m{i}": np.ones((n, 2)) for i in range(n_modalities)})
    mask = hidden(mask_modalities(X, rate, random_state=0))
    # Binomial noise on 20,000 rows is about 0.3 %: 1.5 % is far outside it.
    np.testing.assert_allclose(mask.mean(axis=0), rate, atol=0.015)
    assert not mask.all(axis=1).any()  # keep_at_least_one


def test_mask_modalities_without_keep_is_independent():
    X = ModalityDict(a=np.ones((20000, 1)), b=np.ones((20000, 1)))
    mask = hidden(mask_modalities(X, 0.3, random_state=1, keep_at_least_one=False))
    np.testing.assert_allclose(mask.mean(axis=0), 0.3, atol=0.015)
    assert mask.all(axis=1).mean() == pytest.approx(0.09, abs=0.01)


def test_mask_modalities_legacy_scheme_reproduces_the_published_draws():
    n, rate = 500, 0.3
    X = ModalityDict(a=np.ones((n, 2)), b=np.ones((n, 3)))
    rng = np.random.RandomState(0)  # shared/data/baselines.md, step by step
    hide = rng.rand(n, 2) < rate
    give_back = rng.randint(0, 2, n)
    emptied = hide.all(axis=1)
    hide[emptied, give_back[emptied]] = False
    np.testing.assert_array_equal(
        hidden(mask_modalities(X, rate, random_state=0, scheme="legacy")), hide)


def test_mask_modalities_errors_and_copy():
    X = ModalityDict(a=np.ones((10, 2)), b=np.ones((10, 2)))
    with pytest.raises(ValueError, match="above 0.5"):
        mask_modalities(X, 0.6)
    with pytest.raises(ValueError, match="above 0"):
        mask_modalities(ModalityDict(a=np.ones((10, 2))), 0.3)
    with pytest.raises(ValueError, match="scheme"):
        mask_modalities(X, 0.3, scheme="other")
    mask_modalities(X, 0.5, random_state=0)
    assert not np.isnan(X["a"]).any()
