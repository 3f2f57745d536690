"""Transformers that work per modality."""

from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from ._sklearn_compat import HasMethods, _fit_context
from ._data import FittedInput, ModalityDict

__all__ = ["ModalitySplitter", "PerModality"]


class _ModalityTransformer(TransformerMixin, BaseEstimator):
    """Shared input handling: split X, check it against what fit saw."""

    def _split(self, X):
        """Split X at transform time and check it against what fit saw."""
        check_is_fitted(self, "schema_")
        return self.fitted_input_.split(X, self)

    def _split_for_fit(self, X, scaling=None):
        """Split X at fit time; returns the arrays, mask and fitted attributes."""
        fitted_input, arrays, mask = FittedInput.learn(X, self.modalities, scaling=scaling)
        attrs = {"fitted_input_": fitted_input, "schema_": fitted_input.schema}
        return arrays, mask, attrs

    def _set_fitted(self, attrs):
        attrs["fitted_input_"].set_attributes(self)
        for name, value in attrs.items():
            setattr(self, name, value)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.dict = True
        return tags


class ModalitySplitter(_ModalityTransformer):
    """Split a 2-D array or DataFrame into a :class:`ModalityDict`.

    Put it first in a ``Pipeline`` to feed a table to per-modality steps.

    Parameters
    ----------
    modalities : dict of str to (list or slice)
        Columns of each modality: names (DataFrame), integer positions or a
        ``slice``. Columns that no modality names are dropped.

    Attributes
    ----------
    modalities_ : list of str
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmfusion.preprocessing import ModalitySplitter
    >>> X = np.arange(12.0).reshape(3, 4)
    >>> Xd = ModalitySplitter({"a": [0, 1], "b": slice(2, 4)}).fit_transform(X)
    >>> Xd["b"]
    array([[ 2.,  3.],
           [ 6.,  7.],
           [10., 11.]])
    """

    _parameter_constraints = {"modalities": [Mapping]}

    def __init__(self, modalities):
        self.modalities = modalities

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check ``X`` and remember its modalities.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._set_fitted(self._split_for_fit(X)[2])
        return self

    def transform(self, X):
        """Split ``X`` into modalities.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        X_modalities : ModalityDict
            Copies of the column blocks, as float arrays.
        """
        arrays, _ = self._split(X)
        return ModalityDict({name: np.array(block) for name, block in arrays.items()})

    def get_feature_names_out(self, input_features=None):
        """Modality names, the keys of the output."""
        check_is_fitted(self, "schema_")
        return np.asarray(self.modalities_, dtype=object)


class PerModality(_ModalityTransformer):
    """Apply a transformer to each modality separately, on its present rows.

    One clone of ``transformer`` is fitted per modality on the rows where that
    modality is present; missing rows stay all-NaN in the output, so missing
    modalities remain visible to a fusion estimator downstream. Lets
    ``StandardScaler``, ``PCA``, ``SimpleImputer``... run per modality inside a
    ``Pipeline``.

    Parameters
    ----------
    transformer : estimator with ``fit`` and ``transform``
        Cloned once per modality.
    modalities : dict of str to (list or slice), default=None
        Split of a 2-D ``X`` into modalities (see :class:`ModalitySplitter`);
        ``None`` for a mapping ``X`` (or one modality ``"x"``).

    Attributes
    ----------
    transformers_ : dict of str to estimator
        The fitted clone of each modality.
    modalities_ : list of str
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` was a DataFrame with string column names.

    Notes
    -----
    The output has the form of the input: a :class:`ModalityDict` for a
    mapping ``X``, a 2-D array (modality blocks side by side) otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn_mmfusion import ModalityDict
    >>> from sklearn_mmfusion.preprocessing import PerModality
    >>> rng = np.random.RandomState(0)
    >>> X = ModalityDict(a=rng.randn(50, 6), b=rng.randn(50, 4))
    >>> X["a"][:5] = np.nan  # modality "a" is missing for 5 samples
    >>> Xt = PerModality(PCA(n_components=2)).fit_transform(X)
    >>> Xt["a"].shape, bool(np.isnan(Xt["a"][:5]).all())
    ((50, 2), True)
    """

    _parameter_constraints = {
        "transformer": [HasMethods(["fit", "transform"])],
        "modalities": [Mapping, None],
    }

    def __init__(self, transformer, modalities=None):
        self.transformer = transformer
        self.modalities = modalities

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit one clone of ``transformer`` per modality on its present rows.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Passed (restricted to the present rows) to each clone.

        Returns
        -------
        self : object
        """
        arrays, mask, attrs = self._split_for_fit(X)
        y = None if y is None else np.asarray(y)
        if y is not None and (y.ndim == 0 or len(y) != mask.shape[0]):
            raise ValueError(
                f"X has {mask.shape[0]} samples but y has "
                f"{'no length' if y.ndim == 0 else len(y)}; they must match."
            )
        transformers, widths = {}, {}
        for m, name in enumerate(attrs["schema_"].names):
            present = mask[:, m]
            fitted = clone(self.transformer).fit(
                arrays[name][present], None if y is None else y[present]
            )
            transformers[name] = fitted
            widths[name] = fitted.transform(arrays[name][present][:1]).shape[1]
        self._set_fitted(dict(attrs, transformers_=transformers, _widths_out=widths))
        return self

    def transform(self, X):
        """Transform each modality's present rows; missing rows stay NaN.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)

        Returns
        -------
        X_out : ModalityDict or ndarray of shape (n_samples, n_features_out)
        """
        arrays, mask = self._split(X)
        n = mask.shape[0]
        out = {}
        for m, name in enumerate(self.modalities_):
            present = mask[:, m]
            block = np.full((n, self._widths_out[name]), np.nan)
            if present.any():
                block[present] = self.transformers_[name].transform(arrays[name][present])
            out[name] = block
        if isinstance(X, Mapping):
            return ModalityDict(out)
        return np.hstack(list(out.values()))

    def get_feature_names_out(self, input_features=None):
        """``"<modality>__<name>"`` for each output column."""
        check_is_fitted(self, "transformers_")
        names = []
        for name, fitted in self.transformers_.items():
            if hasattr(fitted, "get_feature_names_out"):
                try:
                    inner = fitted.get_feature_names_out()
                except (AttributeError, ValueError, TypeError):
                    inner = [f"x{i}" for i in range(self._widths_out[name])]
            else:
                inner = [f"x{i}" for i in range(self._widths_out[name])]
            names.extend(f"{name}__{col}" for col in inner)
        return np.asarray(names, dtype=object)
