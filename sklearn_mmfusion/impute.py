"""Imputation of whole missing modalities through a shared latent (CalMRL)."""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._sklearn_compat import Interval, _check_feature_names_in, _fit_context
from ._data import ModalityDict
from .nn._calibrator import ModalityCalibrator
from .preprocessing import _ModalityTransformer

__all__ = ["CalibratedModalityImputer"]

# Floor of every noise variance, relative to the average feature variance of
# the (standardised) training data: 1e-4 with ``standardize=True``.
_MIN_VARIANCE = 1e-4


class _ImputedModalityDict(ModalityDict):
    """A :class:`ModalityDict` that also reads as one 2-D array.

    ``np.asarray(X)`` gives the modality blocks side by side (in key order)
    and ``X.shape`` is ``(n_samples, n_features)``, so an estimator that
    wants a plain matrix (``HistGradientBoostingClassifier``,
    ``LogisticRegression``...) can follow :class:`CalibratedModalityImputer`
    in a ``Pipeline`` fed with a ``ModalityDict``. Row indexing and string
    keys work as for any ``ModalityDict``.
    """

    @property
    def shape(self):
        return (len(self), int(sum(block.shape[1] for block in self.values())))

    def __array__(self, dtype=None, copy=None):
        return np.hstack([np.asarray(block, dtype=dtype) for block in self.values()])


class CalibratedModalityImputer(_ModalityTransformer):
    r"""Fill missing modalities with their prediction from the observed ones.

    The CalMRL generative step (Liu et al., arXiv 2511.12034) on raw
    features: every modality is a noisy linear view of one shared latent
    :math:`\beta \sim N(0, I_q)`,

    .. math::

        x^m = W^m \beta + \mu^m + \varepsilon^m, \qquad
        \varepsilon^m \sim N(0, \sigma_m^2 I),

    fitted by EM on the observed blocks only (a missing block is marginalised
    out, so no complete case is needed). A sample's missing modality
    :math:`m'` is then filled with its posterior-mean prediction
    :math:`W^{m'} E[\beta \mid x^{\Omega}] + \mu^{m'}` from the modalities
    :math:`\Omega` it has. The output has no all-NaN rows, so any
    scikit-learn estimator can follow in a ``Pipeline``.

    A modality is missing for a sample when its row is entirely NaN. A NaN
    inside a present row is a missing *feature*: it is set to the feature's
    training mean (in the output as well as for the EM).

    Parameters
    ----------
    n_components : int, default=16
        Dimension :math:`q` of the shared latent. Clipped to
        ``min(n_components, n_features - 1, n_samples - 1)`` (at least 1) so
        that the model stays a proper low-rank-plus-noise model; the value
        used is ``n_components_``.
    max_iter : int, default=100
        Maximum number of EM iterations (0 keeps the initial PCA estimate).
    tol : float, default=1e-4
        EM stops when the relative change of the mean log-likelihood per
        sample is at most ``tol``.
    standardize : bool, default=True
        Fit the model on features scaled to zero mean and unit variance over
        the present rows, so that every feature (and every modality, per
        feature) weighs the same whatever its unit. Imputed values are
        returned on the original scale either way.
    add_indicator : bool, default=False
        Append one 0/1 column per modality (in ``modalities_`` order) that is
        1 where that modality was imputed. Only for 2-D output: a
        :class:`~sklearn_mmfusion.ModalityDict` output gets no extra key (the
        missing rows of the input tell the same).
    modalities : dict of str to (list or slice), default=None
        Split of a 2-D ``X`` into modalities (see
        :class:`~sklearn_mmfusion.ModalitySplitter`); ``None`` for a mapping
        ``X`` (a 2-D ``X`` is then one modality ``"x"``, and a missing row is
        filled with the training mean).
    random_state : int, RandomState instance or None, default=None
        Seeds the only random step (extra latent columns at initialisation,
        drawn with a private ``torch.Generator``; the global torch seed is
        not touched). With the clipping above the fit is deterministic.

    Attributes
    ----------
    loglik_ : list of float
        Mean marginal log-likelihood per training sample of the observed
        blocks (in the standardised space): ``loglik_[0]`` at the initial
        estimate, ``loglik_[k]`` after ``k`` EM iterations. Never decreases.
    n_iter_ : int
        Number of EM iterations run.
    n_components_ : int
        Latent dimension used (``n_components`` after clipping).
    components_ : dict of str to ndarray of shape (n_features_m, `n_components_`)
        :math:`W^m` of each modality, in the standardised feature space
        (original units divided by the feature's training standard
        deviation; the original space if ``standardize=False``).
    means_ : dict of str to ndarray of shape (n_features_m,)
        :math:`\mu^m` in the same space (centred: close to 0 with
        ``standardize=True``). The imputation of a sample with no modality
        present (the prior mean) is ``means_`` taken back to the original
        scale, close to the training mean.
    noise_variance_ : dict of str to float
        :math:`\sigma_m^2` of each modality, in the same space.
    modalities_ : list of str
        Modality names, in input order.
    n_features_in_ : int
        Number of input columns (for a mapping, the sum of the widths).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` was a DataFrame with string column names.

    See Also
    --------
    sklearn.impute.SimpleImputer : Per-feature mean imputation.
    sklearn.impute.KNNImputer : Imputation from the nearest neighbours.

    Notes
    -----
    The output has the form of the input: a
    :class:`~sklearn_mmfusion.ModalityDict` for a mapping ``X``, a 2-D array
    (modality blocks side by side, in ``modalities_`` order, then the
    indicators) otherwise. Having no missing rows, the ``ModalityDict``
    output also reads as that 2-D array (without indicators):
    ``np.asarray(Xt)`` concatenates the blocks and ``Xt.shape`` is
    ``(n_samples, n_features)``, so that a plain scikit-learn estimator can
    follow the imputer in a ``Pipeline`` whatever the input form. It is
    always float64. Observed rows are copied
    unchanged (exact for float32 input as well), except for their partial
    NaNs, which become the training mean.

    The EM (an exact, closed-form M-step on all the training rows, in
    float64) costs :math:`O(n D q)` per iteration for :math:`D` features in
    all; no :math:`D \times D` matrix is formed except once, at
    initialisation (a PCA of the pairwise-complete covariance). On the
    2,000-sample, 649-feature :func:`~sklearn_mmfusion.datasets.load_mfeat`
    it takes about a second with the default ``n_components=16`` (one CPU
    thread).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmfusion import ModalityDict
    >>> from sklearn_mmfusion.impute import CalibratedModalityImputer
    >>> rng = np.random.RandomState(0)
    >>> latent = rng.randn(200, 2)
    >>> X = ModalityDict(a=latent @ rng.randn(2, 5), b=latent @ rng.randn(2, 3))
    >>> X["b"][:50] = np.nan  # modality "b" is missing for 50 samples
    >>> imputer = CalibratedModalityImputer(n_components=2, random_state=0)
    >>> Xt = imputer.fit_transform(X)
    >>> bool(np.isnan(Xt["b"]).any()), imputer.components_["b"].shape
    (False, (3, 2))
    >>> np.array_equal(Xt["a"], X["a"])  # observed rows are unchanged
    True
    >>> Xt.shape  # also a 2-D array: any estimator can follow in a Pipeline
    (200, 8)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "standardize": ["boolean"],
        "add_indicator": ["boolean"],
        "modalities": [Mapping, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components=16,
        max_iter=100,
        tol=1e-4,
        standardize=True,
        add_indicator=False,
        modalities=None,
        random_state=None,
    ):
        self.n_components = n_components
        self.max_iter = max_iter
        self.tol = tol
        self.standardize = standardize
        self.add_indicator = add_indicator
        self.modalities = modalities
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the shared-latent model by EM on the observed modality rows.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
            All-NaN rows mark missing modalities.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        arrays, mask, attrs = self._split_for_fit(
            X, scaling="standard" if self.standardize else None)
        schema = attrs["schema_"]
        names = schema.names
        n_samples, n_features = mask.shape[0], schema.n_features
        q = max(1, min(self.n_components, n_features - 1, n_samples - 1))

        zs, mask_t = self._encode(schema, arrays, mask)
        observed_var = [
            z[mask_t[:, m]].var(0, correction=0).mean().item()
            for m, z in enumerate(zs)
        ]
        scale = float(np.average(observed_var, weights=schema.widths))
        min_variance = _MIN_VARIANCE * (scale if scale > 1e-12 else 1.0)

        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        generator = torch.Generator().manual_seed(int(seed))
        calibrator = ModalityCalibrator(
            schema.widths, n_components=q, min_variance=min_variance
        ).double()
        history = calibrator.fit_em(
            zs, mask_t, max_iter=self.max_iter, tol=self.tol, generator=generator
        )

        attrs.update(
            n_components_=q,
            loglik_=[float(v) for v in history],
            n_iter_=len(history) - 1,
            components_={
                name: W.numpy().copy() for name, W in zip(names, calibrator.components)
            },
            means_={
                name: mu.numpy().copy() for name, mu in zip(names, calibrator.means)
            },
            noise_variance_={
                name: float(s2) for name, s2 in zip(names, calibrator.noise_variance)
            },
            _min_variance=min_variance,
        )
        self._set_fitted(attrs)
        return self

    def transform(self, X):
        """Fill every missing modality row with its posterior-mean prediction.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
            The modalities seen at fit; all-NaN rows mark missing modalities.

        Returns
        -------
        X_out : ModalityDict or ndarray of shape (n_samples, n_features_out)
            Float64, no NaN. Observed rows are copies of the input (partial
            NaNs set to the training mean); missing rows hold the imputation.
            A 2-D output gets the indicator columns last if
            ``add_indicator=True``. The ``ModalityDict`` output also reads
            as the 2-D array of its blocks (``np.asarray``, ``.shape``).
        """
        check_is_fitted(self, "components_")
        arrays, mask = self._split(X)
        schema = self.schema_
        filled = self._calibrator().impute(*self._encode(schema, arrays, mask))
        out = {}
        for m, name in enumerate(self.modalities_):
            block = np.array(arrays[name], dtype=np.float64)  # a copy
            center, scale = schema.centers[m], schema.scales[m]
            # Partial NaNs of the present rows: the training mean.
            block = np.where(np.isnan(block), schema.means[m], block)
            missing = ~mask[:, m]
            if missing.any():
                block[missing] = filled[m][missing].numpy() * scale + center
            out[name] = block
        if isinstance(X, Mapping):
            return _ImputedModalityDict(out)
        blocks = list(out.values())
        if self.add_indicator:
            blocks.append((~mask).astype(np.float64))
        return np.hstack(blocks)

    def get_feature_names_out(self, input_features=None):
        """Output feature names.

        For a 2-D input, the names of the columns the modalities select (in
        output order; ``x0, x1, ...`` by position without a DataFrame), then
        ``missingindicator_<modality>`` with ``add_indicator=True``. For a
        mapping input, ``"<modality>__x<j>"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names of a 2-D ``X``; checked against
            ``feature_names_in_`` when that is defined.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "components_")
        positions = self.fitted_input_.column_positions()
        if positions is None:  # mapping input
            names = [
                f"{name}__x{j}"
                for name, width in zip(self.modalities_, self.schema_.widths)
                for j in range(width)
            ]
            return np.asarray(names, dtype=object)
        features = _check_feature_names_in(self, input_features)
        names = [features[pos] for name in self.modalities_ for pos in positions[name]]
        if self.add_indicator:
            names += [f"missingindicator_{name}" for name in self.modalities_]
        return np.asarray(names, dtype=object)

    # -- helpers ------------------------------------------------------------

    @staticmethod
    def _encode(schema, arrays, mask):
        """Standardised float64 tensors (missing rows zero) and the mask."""
        blocks, mask = schema.encode(arrays, mask)
        zs = [torch.from_numpy(block.astype(np.float64)) for block in blocks]
        return zs, torch.from_numpy(np.ascontiguousarray(mask))

    def _calibrator(self):
        """A :class:`ModalityCalibrator` holding the fitted parameters."""
        calibrator = ModalityCalibrator(
            self.schema_.widths,
            n_components=self.n_components_,
            min_variance=self._min_variance,
        ).double()
        calibrator._store(
            [torch.from_numpy(self.components_[name]) for name in self.modalities_],
            [torch.from_numpy(self.means_[name]) for name in self.modalities_],
            torch.tensor(
                [self.noise_variance_[name] for name in self.modalities_],
                dtype=torch.float64,
            ),
        )
        return calibrator
