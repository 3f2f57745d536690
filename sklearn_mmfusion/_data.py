"""The multimodal data contract: the one place that knows the input forms.

Every estimator and transformer goes through this module:

1. :func:`split_modalities` turns any accepted ``X`` (a mapping of arrays, a
   :class:`ModalityDict`, skorch's ``SliceDict``, or a 2-D array / DataFrame with
   a ``modalities`` spec) into an ordered ``{name: 2-D numeric ndarray}``,
   raising a ``TypeError``/``ValueError`` that names the modality otherwise.
2. :func:`observation_mask` marks a sample's modality as missing when its row
   is entirely NaN.
3. :class:`ModalitySchema` remembers names and widths at fit (and checks them
   at predict), learns per-modality statistics on the present rows, and encodes
   arrays into finite float32 blocks plus the mask, ready for torch.
4. :class:`FittedInput` is everything ``fit`` learns about its ``X`` (the
   schema, the input columns, their names, each modality's column
   positions) and the check of a later ``X`` against it; estimators,
   transformers, the imputer and the plots all hold one.

The caller's arrays are never written to: encoding always produces new arrays.
"""

import warnings
from collections.abc import Mapping
from numbers import Integral

import numpy as np
import scipy.sparse as sp

from ._sklearn_compat import _check_feature_names, _get_feature_names

DEFAULT_NAME = "x"
# Rows processed at a time by the validation and encoding passes, so that the
# temporaries stay small whatever the number of samples.
_CHUNK_ROWS = 65536
# Rows scaled at a time inside one encode call: the float64 temporary then
# stays in the CPU cache (a few MB), which doubles the encoding throughput.
_CACHE_ROWS = 1024


class ModalityDict(dict):
    """A dict of modality arrays that indexes by rows.

    ``len()`` is the number of samples and ``md[rows]`` selects rows of every
    modality at once, so scikit-learn's splitters (``train_test_split``,
    ``cross_val_score``, ``GridSearchCV``) and ``Pipeline`` work on it unchanged.
    String keys still return the modality's array.

    Parameters
    ----------
    mapping : mapping of str to array-like of shape (n_samples, n_features_m), optional
    **arrays : array-like of shape (n_samples, n_features_m)
        Modalities given as keywords. All must have the same number of rows.

    Notes
    -----
    Row indexing accepts an int, a slice, a boolean mask or an array of
    indices. An int selects one sample and keeps every modality 2-D (like
    ``array[[i]]``), so the result is always a ``ModalityDict``.

    A plain ``dict`` works everywhere an estimator takes ``X``, but scikit-learn
    cannot split its rows (``GridSearchCV.fit``, ``cross_val_score``): wrap it
    in ``ModalityDict`` there.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmfusion import ModalityDict
    >>> X = ModalityDict(audio=np.zeros((4, 3)), imu=np.ones((4, 2)))
    >>> len(X)
    4
    >>> X[1:3]["imu"].shape
    (2, 2)
    >>> X[[0, 3]].shape
    (2,)
    """

    def __init__(self, mapping=None, /, **arrays):
        items = dict(mapping or {}, **arrays)
        lengths = {name: _n_rows(value) for name, value in items.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                "All modalities must have the same number of samples; got "
                + ", ".join(f"{name!r}: {n}" for name, n in lengths.items())
            )
        super().__init__(items)
        self._n_samples = next(iter(lengths.values()), 0)

    def __len__(self):
        return self._n_samples

    @property
    def shape(self):
        """``(n_samples,)``: lets scikit-learn count and index the samples."""
        return (self._n_samples,)

    def __getitem__(self, key):
        if isinstance(key, str):
            return super().__getitem__(key)
        if isinstance(key, tuple):
            # scikit-learn indexes rows as ``X[rows, ...]``.
            if len(key) == 2 and key[1] is Ellipsis:
                key = key[0]
            else:
                raise IndexError(
                    "ModalityDict indexes rows only; select a modality by name, "
                    "e.g. X['audio'][:, cols]"
                )
        if isinstance(key, Integral):
            key = [key]
        return type(self)({name: value[key] for name, value in self.items()})

    def __repr__(self):
        inner = ", ".join(
            f"{name!r}: ({_n_rows(value)}, {_n_cols(value)})" for name, value in self.items()
        )
        return f"ModalityDict({{{inner}}})"

    def __reduce__(self):
        return (type(self), (dict(self),))

    def copy(self):
        return type(self)({name: value.copy() for name, value in self.items()})


def _n_rows(value):
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) > 0:
        return shape[0]
    return len(value)


def _n_cols(value):
    shape = getattr(value, "shape", None)
    return shape[1] if shape is not None and len(shape) > 1 else "?"


def _is_dataframe(X):
    return hasattr(X, "iloc") and hasattr(X, "columns")


def is_modality_mapping(X):
    """Whether ``X`` is a mapping of modalities (a scipy DOK matrix is a dict
    too, but a 2-D table)."""
    return isinstance(X, Mapping) and not sp.issparse(X)


# ---------------------------------------------------------------------------
# 1. Any X form -> ordered {name: 2-D numeric ndarray}
# ---------------------------------------------------------------------------


def as_container(X):
    """``X`` as a mapping, a DataFrame or an ndarray (lists and other
    array-likes are converted), so that ``X.shape`` can be read."""
    if isinstance(X, Mapping) or _is_dataframe(X) or sp.issparse(X):
        return X
    if isinstance(X, (str, bytes)) or not (hasattr(X, "__len__") or hasattr(X, "__array__")):
        raise TypeError(
            "X must be a mapping of modality arrays, a 2-D array or a DataFrame; "
            f"got {type(X).__name__}."
        )
    return _asarray(X, "X") if not isinstance(X, np.ndarray) else X


def split_modalities(X, modalities=None, *, accept_sparse=False):
    """Return ``X`` as an ordered ``{name: 2-D numeric ndarray}``.

    Parameters
    ----------
    X : mapping of str to array-like, or 2-D array-like / DataFrame
        A mapping gives its modalities in insertion order. A 2-D input is split
        by ``modalities``; with ``modalities=None`` it is one modality ``"x"``.
    modalities : dict of str to (list of column names or positions, or slice), default=None
        Columns of each modality for 2-D input. Columns that no modality names
        are ignored.

    Returns
    -------
    arrays : dict of str to ndarray of shape (n_samples, n_features_m)
        Float arrays. An input that is already a float ndarray is returned as is
        (a view, never written to); others are converted.

    Raises
    ------
    TypeError
        Wrong container or non-numeric data, naming the modality.
    ValueError
        Wrong shape, ragged lengths, infinite or complex values, zero samples or
        features, or an invalid ``modalities`` spec, naming the modality.
    """
    X = as_container(X)
    if sp.issparse(X) and not accept_sparse:
        raise TypeError(
            "Sparse input is not supported here: pass a dense array (X.toarray()) "
            "or a mapping of dense modality arrays."
        )
    if is_modality_mapping(X):
        if modalities is not None:
            raise ValueError(
                "`modalities` splits a 2-D array or DataFrame into modalities, but X "
                "is already a mapping of modalities; leave modalities=None (an "
                "estimator fitted with `modalities` takes X as the same 2-D array or "
                "DataFrame at predict time)."
            )
        if len(X.keys()) == 0:
            raise ValueError("X is an empty mapping: it needs at least one modality.")
        arrays = {}
        for name, value in X.items():
            if not isinstance(name, str):
                raise TypeError(
                    f"Modality names must be strings; got {name!r} of type "
                    f"{type(name).__name__}. Rename it, e.g. {{str({name!r}): ...}}."
                )
            arrays[name] = _as_numeric_2d(value, name, accept_sparse)
    else:
        arrays = {
            name: _as_numeric_2d(block, name, accept_sparse)
            for name, block in _split_2d(X, modalities).items()
        }
    _check_lengths(arrays)
    for name, array in arrays.items():
        _check_finite_or_nan(array, name)
    return arrays


def _split_2d(X, modalities):
    """Split a 2-D array or DataFrame into column blocks by the spec."""
    is_df = _is_dataframe(X)
    if sp.issparse(X):
        X = sp.csc_array(X) if modalities is not None else X  # fast column slicing
    if not is_df:
        if X.dtype.kind == "c":
            raise ValueError("Complex data not supported; pass real-valued features.")
        if X.ndim != 2:
            raise ValueError(
                f"Expected a 2-D array or a mapping of modality arrays, got a "
                f"{X.ndim}-D array of shape {X.shape}. Reshape your data either "
                "using array.reshape(-1, 1) if your data has a single feature or "
                "array.reshape(1, -1) if it contains a single sample."
            )
    n_columns = X.shape[1]
    if n_columns == 0 or X.shape[0] == 0:
        raise ValueError(
            f"Found array with {X.shape[0]} sample(s) and 0 feature(s) "
            f"(shape={X.shape}) while a minimum of 1 is required."
            if n_columns == 0
            else f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 "
            "is required."
        )
    if modalities is None:
        return {DEFAULT_NAME: X}
    if not isinstance(modalities, Mapping) or not modalities:
        raise TypeError(
            "`modalities` must be a non-empty dict mapping each modality name to its "
            f"columns (names, positions or a slice); got {modalities!r}."
        )
    columns = list(X.columns) if is_df else None
    owner = {}
    blocks = {}
    for name, spec in modalities.items():
        if not isinstance(name, str):
            raise TypeError(
                f"Modality names in `modalities` must be strings; got {name!r}."
            )
        positions = _column_positions(spec, name, n_columns, columns)
        if not positions:
            raise ValueError(
                f"Modality {name!r} selects no columns (spec {spec!r}) of X, which has "
                f"{n_columns} feature(s); give it at least one column."
            )
        for pos in positions:
            if pos in owner:
                label = columns[pos] if columns is not None else pos
                raise ValueError(
                    f"Column {label!r} is assigned to both modality {owner[pos]!r} and "
                    f"modality {name!r} in `modalities`; each column may belong to "
                    "one modality only."
                )
            owner[pos] = name
        blocks[name] = X.iloc[:, positions] if is_df else X[:, positions]
    return blocks


def _column_positions(spec, name, n_columns, columns):
    if isinstance(spec, slice):
        return list(range(n_columns))[spec]
    if isinstance(spec, (str, Integral)):
        spec = [spec]
    elif isinstance(spec, Mapping) or not hasattr(spec, "__iter__"):
        raise TypeError(
            f"Modality {name!r}: columns must be a list of column names or integer "
            f"positions, or a slice; got {spec!r} of type {type(spec).__name__}."
        )
    positions = []
    for item in spec:
        if isinstance(item, (bool, np.bool_)):
            raise TypeError(
                f"Modality {name!r}: columns must be names or integer positions, "
                f"got the boolean {item!r}."
            )
        if isinstance(item, Integral):
            if not -n_columns <= item < n_columns:
                raise ValueError(
                    f"Modality {name!r}: column position {item} is out of range for "
                    f"X with {n_columns} columns."
                )
            positions.append(int(item) % n_columns)
        elif columns is None:
            raise TypeError(
                f"Modality {name!r} names columns ({item!r}), which needs a pandas "
                "DataFrame; with a numpy array give integer positions or a slice."
            )
        else:
            if item not in columns:
                raise ValueError(
                    f"Modality {name!r}: column {item!r} is not in X; available "
                    f"columns start with {columns[:5]!r}."
                )
            positions.append(columns.index(item))
    return positions


def check_n_columns(X, n_features_in, estimator_name):
    """At predict time, a 2-D ``X`` must have as many columns as at fit.

    Checked before the ``modalities`` spec is applied, so the error is about
    the table, not about a modality that happens to lose its columns.
    """
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D array, got a {X.ndim}-D array of shape {X.shape}. "
            "Reshape your data either using array.reshape(-1, 1) if your data has a "
            "single feature or array.reshape(1, -1) if it contains a single sample."
        )
    if X.shape[1] != n_features_in:
        raise ValueError(
            f"X has {X.shape[1]} features, but {estimator_name} is expecting "
            f"{n_features_in} features as input."
        )


class FittedInput:
    """What ``fit`` learned about its ``X``, and the check of a later ``X``.

    Build it with :meth:`learn` at fit time; :meth:`split` is the
    predict/transform-time form of :func:`split_modalities`: a 2-D ``X`` must
    have the columns seen at fit (names and count), and the modalities must
    match the schema.

    Parameters
    ----------
    schema : ModalitySchema
        Names, widths and scaling statistics of the modalities.
    n_features_in : int
        Columns of the 2-D ``X`` seen at fit, or of all modalities together
        for a mapping.
    feature_names_in : ndarray of str or None
        Column names of a DataFrame ``X`` with string column names.
    positions : dict of str to list of int, or None
        Input column positions of each modality, for a 2-D ``X`` split by a
        ``modalities`` spec; ``None`` otherwise.
    modalities : dict or None
        The ``modalities`` spec ``fit`` was given.
    table : bool
        Whether ``fit`` saw a 2-D ``X`` (not a mapping of modalities).
    """

    def __init__(self, schema, n_features_in, feature_names_in=None, positions=None,
                 modalities=None, table=False):
        self.schema = schema
        self.n_features_in = int(n_features_in)
        self.feature_names_in = feature_names_in
        self.positions = positions
        self.modalities = modalities
        self.table = table

    @classmethod
    def learn(cls, X, modalities=None, *, scaling=None, accept_sparse=False):
        """Split ``X`` at fit time and learn its schema.

        Returns
        -------
        fitted_input : FittedInput
        arrays : dict of str to ndarray (or sparse matrix)
        mask : ndarray of bool, shape (n_samples, n_modalities)
        """
        X = as_container(X)
        arrays = split_modalities(X, modalities, accept_sparse=accept_sparse)
        mask = observation_mask(arrays)
        schema = ModalitySchema(arrays, mask, scaling=scaling)
        if is_modality_mapping(X):
            return cls(schema, schema.n_features), arrays, mask
        positions = None
        if modalities is not None:
            columns = list(X.columns) if _is_dataframe(X) else None
            positions = {name: _column_positions(spec, name, X.shape[1], columns)
                         for name, spec in modalities.items()}
        fitted = cls(schema, X.shape[1], _get_feature_names(X), positions, modalities,
                     table=True)
        return fitted, arrays, mask

    @property
    def names(self):
        """Modality names, in the order of the fit."""
        return list(self.schema.names)

    def column_positions(self):
        """Input column positions of each modality for a 2-D ``X`` at fit
        (all columns for the one modality of an unsplit table), ``None`` for a
        mapping."""
        if not self.table:
            return None
        return self.positions or {DEFAULT_NAME: list(range(self.n_features_in))}

    def attributes(self):
        """The scikit-learn fitted attributes this stands for:
        ``modalities_``, ``n_features_in_`` and, for a DataFrame with string
        column names, ``feature_names_in_``."""
        attrs = {"modalities_": self.names, "n_features_in_": self.n_features_in}
        if self.feature_names_in is not None:
            attrs["feature_names_in_"] = self.feature_names_in
        return attrs

    def set_attributes(self, estimator):
        """Set :meth:`attributes` on ``estimator`` (removing a
        ``feature_names_in_`` left by an earlier fit on a DataFrame)."""
        attrs = self.attributes()
        if "feature_names_in_" not in attrs and hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        for name, value in attrs.items():
            setattr(estimator, name, value)

    def split(self, X, estimator, *, accept_sparse=False):
        """Split ``X`` at predict/transform time, checked against the fit.

        ``estimator`` names the caller in messages and carries
        ``feature_names_in_`` for scikit-learn's column-name check.

        Returns
        -------
        arrays : dict of str to ndarray
            The modalities, in the order of the fit.
        mask : ndarray of bool, shape (n_samples, n_modalities)
        """
        X = as_container(X)
        modalities = self.modalities
        if not is_modality_mapping(X):
            _check_feature_names(estimator, X, reset=False)
            check_n_columns(X, self.n_features_in, type(estimator).__name__)
            # By position: a DataFrame has passed the name check above; an
            # array after a DataFrame fit is used by position, as
            # scikit-learn does (after its warning).
            modalities = self.positions
        arrays = split_modalities(X, modalities, accept_sparse=accept_sparse)
        arrays = self.schema.check(arrays, type(estimator).__name__)
        return arrays, observation_mask(arrays)


def _as_numeric_2d(value, name, accept_sparse=False):
    """Convert one modality to a 2-D float ndarray (or, with ``accept_sparse``,
    a float CSR matrix), with errors naming it."""
    where = f"Modality {name!r}"
    if is_modality_mapping(value):
        raise TypeError(
            f"{where} is a nested mapping; each modality must be a 2-D array of "
            "shape (n_samples, n_features)."
        )
    if sp.issparse(value):
        if not accept_sparse:
            raise TypeError(
                f"{where} is a sparse matrix, which is not supported here; pass a "
                "dense array (.toarray())."
            )
        return _as_sparse_float(value, where)
    if _is_dataframe(value):
        for column, dtype in value.dtypes.items():
            kind = getattr(dtype, "kind", "O")
            if str(dtype) == "category" or kind not in "biuf":
                if str(dtype) == "category" or kind in "OSUM":
                    raise TypeError(
                        f"{where}: column {column!r} has dtype {dtype}, which is not "
                        "numeric. Encode it first (e.g. OneHotEncoder or "
                        ".cat.codes) or leave it out of the modality."
                    )
        try:
            array = value.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{where}: could not convert to float: {exc}") from exc
    else:
        array = value if isinstance(value, np.ndarray) else _asarray(value, where)
        if array.dtype.kind == "c":
            raise ValueError(
                f"{where}: Complex data not supported; pass real-valued features "
                "(e.g. np.abs or the real and imaginary parts as separate columns)."
            )
        if array.dtype.kind in "USVmM":
            raise TypeError(
                f"{where} holds non-numeric data (dtype {array.dtype}); encode it as "
                "numbers first."
            )
        if array.dtype.kind not in "f":
            try:
                array = array.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{where}: could not convert to float: {exc}"
                ) from exc
    if array.ndim != 2:
        raise ValueError(
            f"{where} must be 2-D (n_samples, n_features); got shape {array.shape}. "
            "Use array.reshape(-1, 1) for a single feature."
        )
    if array.shape[1] == 0:
        raise ValueError(
            f"{where}: found array with 0 feature(s) (shape={array.shape}) while a "
            "minimum of 1 is required."
        )
    return array


def _as_sparse_float(value, where):
    """A scipy.sparse modality as a float CSR array (a copy only if needed)."""
    if value.dtype.kind == "c":
        raise ValueError(f"{where}: Complex data not supported; pass real-valued features.")
    if value.dtype.kind not in "biuf":
        raise TypeError(f"{where} holds non-numeric data (dtype {value.dtype}).")
    if value.ndim != 2:
        raise ValueError(f"{where} must be 2-D (n_samples, n_features); got shape {value.shape}.")
    if value.shape[1] == 0:
        raise ValueError(
            f"{where}: found array with 0 feature(s) (shape={value.shape}) while a "
            "minimum of 1 is required."
        )
    dtype = value.dtype if value.dtype.kind == "f" else np.float64
    array = sp.csr_array(value, dtype=dtype)
    if not array.has_canonical_format:
        # One stored entry per cell (the mask counts them), in a copy: the
        # caller's matrix is never written to.
        array = array.copy()
        array.sum_duplicates()
    return array


def _asarray(value, where):
    try:
        return np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"{where}: could not build a 2-D array: {exc}") from exc


def _check_lengths(arrays):
    lengths = {name: array.shape[0] for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            "All modalities must have the same number of samples; got "
            + ", ".join(f"{name!r}: {n}" for name, n in lengths.items())
        )
    n = next(iter(lengths.values()))
    if n == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={next(iter(arrays.values())).shape}) "
            "while a minimum of 1 is required."
        )


def iter_row_chunks(n_rows, chunk=_CHUNK_ROWS):
    """Slices covering ``range(n_rows)`` in blocks of ``chunk`` rows."""
    for start in range(0, n_rows, chunk):
        yield slice(start, min(start + chunk, n_rows))


def _check_finite_or_nan(array, name):
    """NaN marks missing values; +/-inf is always an error."""
    if sp.issparse(array):
        if np.isinf(array.data).any():
            row = int(np.searchsorted(array.indptr, np.flatnonzero(np.isinf(array.data))[0],
                                      side="right") - 1)
            raise ValueError(
                f"Modality {name!r} contains infinity at row {row}. Input contains "
                "infinity or a value too large; use NaN for a missing value."
            )
        return
    for rows in iter_row_chunks(array.shape[0]):
        if np.isinf(array[rows]).any():
            where = np.argwhere(np.isinf(array[rows]))[0]
            raise ValueError(
                f"Modality {name!r} contains infinity at row {rows.start + where[0]}, "
                f"column {where[1]}. Input contains infinity or a value too large; "
                "use NaN for a missing value (a whole NaN row marks the modality "
                "as missing for that sample)."
            )


# ---------------------------------------------------------------------------
# 2. Observation mask
# ---------------------------------------------------------------------------


def observation_mask(arrays):
    """Boolean ``(n_samples, M)``: True where the modality's row is not all-NaN."""
    names = list(arrays)
    n = next(iter(arrays.values())).shape[0]
    mask = np.empty((n, len(names)), dtype=bool)
    for m, name in enumerate(names):
        array = arrays[name]
        if sp.issparse(array):
            # A sparse row is missing when every one of its columns is a stored NaN.
            row_of_entry = np.repeat(np.arange(n), np.diff(array.indptr))
            nan_per_row = np.bincount(row_of_entry[np.isnan(array.data)], minlength=n)
            mask[:, m] = nan_per_row != array.shape[1]
            continue
        for rows in iter_row_chunks(n):
            mask[rows, m] = ~np.isnan(array[rows]).all(axis=1)
    return mask


# ---------------------------------------------------------------------------
# 3. Fitted schema: names, widths, statistics, encoding
# ---------------------------------------------------------------------------


SCALINGS = ("robust", "standard")

# Smooth clipping (RealMLP-TD, Holzmueller et al. 2024) after robust scaling:
# x / sqrt(1 + (x / c)^2) is the identity near 0 and tends to +/-c, so a
# heavy-tailed feature's outliers cannot dominate the first layer.
SMOOTH_CLIP = 3.0


def smooth_clip(values, bound=SMOOTH_CLIP, *, out=None, work=None):
    """``values / sqrt(1 + (values / bound) ** 2)``, elementwise.

    A new array by default; ``out`` (may be ``values``) receives the result
    and ``work`` (same shape, may be ``out`` but not ``values``) holds the
    denominator, so that a caller with buffers allocates nothing.
    """
    denominator = np.divide(values, bound, out=work)
    np.square(denominator, out=denominator)
    np.add(denominator, 1.0, out=denominator)
    np.sqrt(denominator, out=denominator)
    return np.divide(values, denominator, out=out)


class ModalitySchema:
    """What an estimator learns about its input at fit, and how it encodes it.

    Parameters
    ----------
    arrays : dict of str to ndarray or scipy.sparse matrix
        Output of :func:`split_modalities` on the training data.
    mask : ndarray of shape (n_samples, M)
        Output of :func:`observation_mask`.
    scaling : {"robust", "standard"} or None, default="standard"
        Per-feature scaling learned on the present rows:

        - ``"robust"``: subtract the median, divide by the interquartile
          range, then smooth-clip to (-3, 3) (RealMLP-TD's robust scaling:
          heavy tails and outliers are bounded, the bulk of the distribution
          is kept linear). A column whose IQR is 0 (its bulk is one value:
          counts of rare words, indicators) is divided by half its range
          instead, as RealMLP-TD does (measured against dividing by its
          deviation: WebKB 0.990 vs 0.960 macro-F1);
        - ``"standard"``: zero mean, unit variance;
        - ``None``: no scaling.

        Sparse modalities are never centred (that would densify them): they
        are only divided by their scale (``"robust"``: half the column's
        range, then smooth-clipped, which keeps zeros at zero;
        ``"standard"``: the standard deviation), and stay sparse.
        A NaN inside a present row (a missing feature) is always imputed with
        the feature's training mean, before scaling.

    Attributes
    ----------
    names : list of str
    widths : list of int
    sparse : list of bool
        Whether each modality was given as a ``scipy.sparse`` matrix.
    means : list of ndarray
        Training mean of each feature (the imputation value).
    centers, scales : list of ndarray
        ``(x - center) / scale`` is the scaled feature.
    clipped : list of ndarray of bool
        Features that are smooth-clipped after scaling.
    """

    def __init__(self, arrays, mask, scaling="standard"):
        if scaling is not None and scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS} or None; got {scaling!r}.")
        self.names = list(arrays)
        self.widths = [arrays[name].shape[1] for name in self.names]
        self.sparse = [bool(sp.issparse(arrays[name])) for name in self.names]
        self.scaling = scaling
        self.means, self.centers, self.scales, self.clipped = [], [], [], []
        for m, name in enumerate(self.names):
            present = arrays[name][mask[:, m]]
            if present.shape[0] == 0:
                raise ValueError(
                    f"Modality {name!r} is missing (all-NaN) in every training "
                    "sample, so nothing can be learned from it; drop it from X or "
                    "provide samples where it is observed."
                )
            stats = _sparse_statistics if self.sparse[m] else _dense_statistics
            mean, center, scale, clipped = stats(present, scaling)
            self.means.append(mean)
            self.centers.append(center)
            self.scales.append(scale)
            self.clipped.append(clipped)

    @property
    def n_features(self):
        return int(sum(self.widths))
    def check(self, arrays, estimator_name="the estimator"):
        """Raise a ValueError naming the modality if ``arrays`` do not match.

        Returns
        -------
        arrays : dict of str to ndarray
            The same arrays in the order of the fit (a mapping may list its
            modalities in any order; masks and encodings are positional).
        """
        names = list(arrays)
        missing = [n for n in self.names if n not in arrays]
        extra = [n for n in names if n not in self.names]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing modality(ies) {missing}")
            if extra:
                parts.append(f"unexpected modality(ies) {extra}")
            raise ValueError(
                f"X does not have the modalities seen at fit: {'; '.join(parts)}. "
                f"{estimator_name} was fitted on {self.names}. A modality that is "
                "absent for some samples must still be passed, with all-NaN rows."
            )
        for name, width in zip(self.names, self.widths):
            got = arrays[name].shape[1]
            if got != width:
                total = sum(arrays[n].shape[1] for n in self.names)
                raise ValueError(
                    f"X has {total} features, but {estimator_name} is expecting "
                    f"{self.n_features} features as input: modality {name!r} has "
                    f"{got} columns, expected {width}."
                )
        return {name: arrays[name] for name in self.names}

    def encode(self, arrays, mask, rows=slice(None)):
        """Encode ``rows`` into finite float32 blocks.

        Present rows are scaled (see ``scaling``) with partial NaNs set to the
        training mean first; missing rows are zeros (the mask tells them
        apart). A sparse modality gives a float32 CSR matrix.

        Returns
        -------
        blocks : list of ndarray of shape (n_rows, d_m), float32, or CSR matrix
        mask : ndarray of shape (n_rows, M), bool
        """
        blocks = []
        sub_mask = mask[rows]
        for m, name in enumerate(self.names):
            values = arrays[name][rows]
            if sp.issparse(values) and self.centers[m].any():
                values = values.toarray()  # fitted dense and centred: encode densely
            if sp.issparse(values):
                block = self._encode_sparse(m, values, sub_mask[:, m])
                finite = np.isfinite(block.data).all()
            else:
                block, finite = self._encode_dense(m, values, sub_mask[:, m])
            if not finite:
                raise ValueError(
                    f"Modality {name!r} has values too large for float32 after "
                    "scaling; rescale the features."
                )
            blocks.append(block)
        return blocks, sub_mask

    def _encode_dense(self, m, values, present):
        """Impute, scale and clip one dense block into float32, in place on
        cache-sized row blocks with buffers allocated once, instead of
        full-size temporaries. Returns ``(block, finite)``, ``finite`` telling
        whether every value is (an infinity or a float32 overflow is for
        ``encode`` to report)."""
        mean, center, scale = self.means[m], self.centers[m], self.scales[m]
        clipped = self.clipped[m]
        clip_all, clip_any = bool(clipped.all()), bool(clipped.any())
        inverse_scale = 1.0 / scale
        n, width = values.shape
        out = np.empty((n, width), dtype=np.float32)
        rows = min(n, _CACHE_ROWS)
        tmp, work = np.empty((rows, width)), np.empty((rows, width))
        nan = np.empty((rows, width), dtype=bool)
        finite = True
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n, _CACHE_ROWS):
                stop = min(start + _CACHE_ROWS, n)
                part, buf, isnan = tmp[: stop - start], work[: stop - start], nan[: stop - start]
                part[...] = values[start:stop]
                np.isnan(part, out=isnan)
                np.copyto(part, mean, where=isnan)  # a missing feature
                np.subtract(part, center, out=part)
                np.multiply(part, inverse_scale, out=part)  # faster than a divide
                if clip_all:
                    smooth_clip(part, out=part, work=buf)
                elif clip_any:
                    np.copyto(part, smooth_clip(part, out=buf, work=buf), where=clipped)
                out[start:stop] = part
                # Checked here, on the block still in cache, not in a
                # second pass over the whole output.
                finite = finite and bool(np.isfinite(out[start:stop]).all())
        if not present.all():
            out[~present] = 0.0
        return out, finite

    def _encode_sparse(self, m, values, present):
        values = sp.csr_array(values, dtype=np.float32, copy=True)
        nan = np.isnan(values.data)
        if nan.any():  # a missing feature: the training mean (column of the entry)
            values.data[nan] = self.means[m][values.indices[nan]]
        with np.errstate(over="ignore", invalid="ignore"):
            values.data /= self.scales[m][values.indices]
            clip = self.clipped[m][values.indices]
            values.data[clip] = smooth_clip(values.data[clip])
        # Missing rows: all zeros (a row scaling keeps the matrix sparse).
        values = sp.csr_array(sp.diags_array(present.astype(np.float32)) @ values)
        values.eliminate_zeros()
        return values


def _dense_statistics(present, scaling):
    """(mean, center, scale, clipped) of each feature over the present rows."""
    present = present.astype(np.float64)
    with warnings.catch_warnings():
        # A feature that is NaN in every present row gets mean 0, scale 1.
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(present, axis=0)
        clipped = np.zeros(mean.shape, dtype=bool)
        if scaling == "robust":
            q25, center, q75 = np.nanpercentile(present, [25, 50, 75], axis=0)
            iqr = q75 - q25
            half_range = 0.5 * (np.nanmax(present, axis=0) - np.nanmin(present, axis=0))
            scale = np.where(iqr > 1e-12, iqr, half_range)
            clipped = np.ones(mean.shape, dtype=bool)
        elif scaling == "standard":
            center, scale = mean, np.nanstd(present, axis=0)
        else:
            center, scale = np.zeros_like(mean), np.ones_like(mean)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    center = np.where(np.isfinite(center), center, 0.0)
    scale = np.where(np.isfinite(scale) & (scale > 1e-12), scale, 1.0)
    return mean, center, scale, clipped & np.isfinite(center)


def _sparse_statistics(present, scaling):
    """(mean, center, scale, clipped) of each column of a sparse modality, never
    centred. ``"robust"`` divides by half the range (zeros included: a
    mostly-zero column's IQR is 0, so its dense twin is scaled the same) and
    clips; ``"standard"`` divides by the standard deviation."""
    present = sp.csr_array(present, dtype=np.float64, copy=True)
    present.data[np.isnan(present.data)] = 0.0
    n = present.shape[0]
    mean = np.asarray(present.sum(axis=0)).ravel() / n
    mean_sq = np.asarray(present.multiply(present).sum(axis=0)).ravel() / n
    if scaling is None:
        scale = np.ones_like(mean)
    elif scaling == "robust":
        lo = np.minimum(present.min(axis=0).toarray().ravel(), 0.0)
        hi = np.maximum(present.max(axis=0).toarray().ravel(), 0.0)
        scale = 0.5 * (hi - lo)
    else:
        scale = np.sqrt(np.maximum(mean_sq - mean**2, 0.0))
    scale = np.where(np.isfinite(scale) & (scale > 1e-12), scale, 1.0)
    clipped = np.full(mean.shape, scaling == "robust")
    return mean, np.zeros_like(mean), scale, clipped
