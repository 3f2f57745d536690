"""Per-window summary features of inertial sensors (accelerometer, gyroscope)."""

import warnings

import numpy as np
from scipy.stats import kurtosis, skew

_STATISTICS = (
    "mean", "std", "min", "max", "median", "iqr", "skew", "kurtosis", "energy",
    "mean_abs_diff", "autocorr_lag1", "dominant_freq", "spectral_entropy",
)


def sensor_feature_names(axes=("x", "y", "z")):
    """Names of the columns of :func:`sensor_window_features`, in order."""
    names = [f"{axis}_{stat}" for axis in (*axes, "mag") for stat in _STATISTICS]
    pairs = [(a, b) for i, a in enumerate(axes) for b in axes[i + 1:]]
    return names + [f"corr_{a}{b}" for a, b in pairs]


def _statistics(signal, sampling_rate):
    """The 13 statistics of each row of ``signal`` (n_windows, n_steps)."""
    centred = signal - signal.mean(axis=1, keepdims=True)
    std = signal.std(axis=1)
    q25, median, q75 = np.percentile(signal, [25, 50, 75], axis=1)
    flat = std <= 1e-7 * np.maximum(1.0, np.abs(signal).max(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        # A constant window has no shape: skew, kurtosis and autocorrelation 0
        # (scipy warns of precision loss on it; the value is overwritten).
        warnings.simplefilter("ignore", RuntimeWarning)
        skewness = np.where(flat, 0.0, np.nan_to_num(skew(signal, axis=1)))
        kurt = np.where(flat, 0.0, np.nan_to_num(kurtosis(signal, axis=1)))
        autocorr = np.nan_to_num(
            (centred[:, 1:] * centred[:, :-1]).sum(axis=1) / (centred ** 2).sum(axis=1)
        )
    power = np.abs(np.fft.rfft(centred, axis=1)[:, 1:]) ** 2  # without DC
    freqs = np.fft.rfftfreq(signal.shape[1], d=1.0 / sampling_rate)[1:]
    total = power.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, power / total, 0.0)
        entropy = -(share * np.log(np.where(share > 0, share, 1.0))).sum(axis=1)
    entropy = entropy / np.log(power.shape[1])  # normalised to [0, 1]
    return np.column_stack([
        signal.mean(axis=1), std, signal.min(axis=1), signal.max(axis=1), median,
        q75 - q25, skewness, kurt, (signal ** 2).mean(axis=1),
        np.abs(np.diff(signal, axis=1)).mean(axis=1), autocorr,
        freqs[power.argmax(axis=1)], entropy,
    ])


def sensor_window_features(windows, sampling_rate=50.0):
    """Time- and frequency-domain statistics of each window of a 3-axis sensor.

    For each axis and for the vector magnitude ``sqrt(x² + y² + z²)``, 13
    statistics: mean, std, min, max, median, interquartile range, skewness,
    excess kurtosis, energy (mean square), mean absolute first difference,
    lag-1 autocorrelation, dominant frequency (Hz, argmax of the power
    spectrum without the DC term) and spectral entropy (of the normalised
    power spectrum, divided by its maximum so it lies in [0, 1]); then the
    Pearson correlation of each pair of axes. 55 columns for 3 axes.

    Parameters
    ----------
    windows : array-like of shape (n_windows, n_steps, n_axes)
        Fixed-length windows of one sensor, e.g. 128 steps of x/y/z.
    sampling_rate : float, default=50.0
        Samples per second (sets the unit of the dominant frequency).

    Returns
    -------
    features : ndarray of shape (n_windows, 14 * n_axes + 13 + n_axes * (n_axes - 1) / 2)
        float32, in the order of :func:`sensor_feature_names`. A constant
        window gets 0 for skewness, kurtosis, autocorrelation and correlations.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmfusion.datasets import sensor_window_features, sensor_feature_names
    >>> t = np.arange(128) / 50.0
    >>> window = np.stack([np.sin(2 * np.pi * 5 * t), np.cos(2 * np.pi * 5 * t),
    ...                    np.zeros_like(t)], axis=1)[None]
    >>> features = sensor_window_features(window)
    >>> features.shape == (1, len(sensor_feature_names()))
    True
    >>> round(float(features[0, sensor_feature_names().index("x_dominant_freq")]), 1)
    5.1
    """
    windows = np.asarray(windows, dtype=np.float64)
    if windows.ndim != 3:
        raise ValueError(
            f"windows must be 3-D (n_windows, n_steps, n_axes); got shape {windows.shape}."
        )
    if windows.shape[1] < 4:
        raise ValueError(f"windows need at least 4 steps; got {windows.shape[1]}.")
    if not np.isfinite(windows).all():
        raise ValueError("windows contain NaN or infinite values.")
    n_axes = windows.shape[2]
    signals = [windows[:, :, a] for a in range(n_axes)]
    signals.append(np.sqrt((windows ** 2).sum(axis=2)))
    blocks = [_statistics(s, sampling_rate) for s in signals]
    centred = windows - windows.mean(axis=1, keepdims=True)
    norms = np.sqrt((centred ** 2).sum(axis=1))
    corrs = []
    for i in range(n_axes):
        for j in range(i + 1, n_axes):
            with np.errstate(invalid="ignore", divide="ignore"):
                c = (centred[:, :, i] * centred[:, :, j]).sum(axis=1) / (norms[:, i] * norms[:, j])
            corrs.append(np.nan_to_num(c))
    if corrs:
        blocks.append(np.column_stack(corrs))
    return np.hstack(blocks).astype(np.float32)
