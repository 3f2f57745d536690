"""ConFu estimators: contrastive fusion with a supervised head, and the
self-supervised embedder with cross-modal retrieval."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._sklearn_compat import Interval, _fit_context
from ._base import (
    FusionClassifier,
    FusionEmbedder,
    FusionRegressor,
    estimator_params,
    merge_constraints,
)
from ._docs import COMMON_DOCS, Substitution
from .nn import DEFAULTS, ConFuFusion
from .nn._ensemble import first_member

_DOCS = dict(COMMON_DOCS)

_DOCS["confu_parameters"] = """\
    fused_weight : float, default=0.5
        :math:`\\lambda` of ConFu: weight of the fused terms (each modality
        against the fusion of all the others) against the pairwise terms.
        0 gives pairwise-only (CLIP-style) alignment.
    temperature : float, default=0.07
        Temperature of the InfoNCE terms (fixed, as in ConFu)."""

_DOCS["contrastive_weight"] = """\
    contrastive_weight : float, default=0.1
        Weight of the ConFu contrastive loss added to the task loss."""

_DOCS["confu_notes"] = """\
    ConFu (Koutoupis et al., "The More, the Merrier: Contrastive Fusion for
    Higher-Order Multimodal Alignment", arXiv 2511.21331) aligns every pair of
    modalities and the fusion of two with the third. The published method
    is defined for three modalities; we generalise it to M with one
    leave-one-out fusion head per modality (for M = 3 this is exactly the
    published objective). Contrastive terms use only the rows where their
    modalities are observed. See :class:`sklearn_mmfusion.nn.ConFuFusion`."""


@estimator_params
class _ConFuParams:
    fused_weight: float = DEFAULTS["fused_weight"]
    temperature: float = DEFAULTS["temperature"]

    _parameter_constraints = {
        "fused_weight": [Interval(Real, 0, 1, closed="both")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }
    _network = ConFuFusion
    _network_params = ("fused_weight", "temperature")


@estimator_params
class _SupervisedConFuParams(_ConFuParams):
    contrastive_weight: float = 0.1

    _parameter_constraints = dict(
        _ConFuParams._parameter_constraints,
        contrastive_weight=[Interval(Real, 0, None, closed="left")],
    )

    def _aux_weight(self):
        return self.contrastive_weight


@Substitution(**_DOCS)
@estimator_params
class ConFuClassifier(_SupervisedConFuParams, FusionClassifier):
    """ConFu contrastive fusion with a classification head.

    Loss = cross-entropy + ``contrastive_weight`` x ConFu loss. The fused
    representation is the normalised mean of the observed modalities'
    embeddings.

    Parameters
    ----------
%(confu_parameters)s
%(contrastive_weight)s
%(fusion_parameters)s
%(classifier_parameters)s

    Attributes
    ----------
%(classifier_attributes)s
%(fitted_attributes)s

    Notes
    -----
%(confu_notes)s

    Examples
    --------
    >>> from sklearn_mmfusion import ConFuClassifier
    >>> from sklearn_mmfusion.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=200, random_state=0)
    >>> clf = ConFuClassifier(max_epochs=20, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = merge_constraints(FusionClassifier, _SupervisedConFuParams)


@Substitution(**_DOCS)
@estimator_params
class ConFuRegressor(_SupervisedConFuParams, FusionRegressor):
    """ConFu contrastive fusion with a regression head.

    Parameters
    ----------
%(confu_parameters)s
%(contrastive_weight)s
%(fusion_parameters)s

    Attributes
    ----------
%(fitted_attributes)s

    Notes
    -----
%(confu_notes)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmfusion import ConFuRegressor, ModalityDict
    >>> rng = np.random.RandomState(0)
    >>> X = ModalityDict(a=rng.randn(100, 3), b=rng.randn(100, 2))
    >>> ConFuRegressor(max_epochs=10, random_state=0).fit(X, X["a"][:, 0]).predict(X).shape
    (100,)
    """

    _parameter_constraints = merge_constraints(FusionRegressor, _SupervisedConFuParams)


@Substitution(**_DOCS)
@estimator_params
class ConFuEmbedder(_ConFuParams, FusionEmbedder):
    """Self-supervised ConFu: a joint multimodal embedding, no labels needed.

    ``fit(X)`` trains only the ConFu contrastive loss; ``transform`` returns
    the joint embedding, :meth:`embed` the embedding of any group of
    modalities, and :meth:`retrieval_scores` the one-to-one / two-to-one
    retrieval recall of the paper's protocol. Early stopping watches the
    contrastive loss on the held-out fraction.

    Parameters
    ----------
%(confu_parameters)s
%(fusion_parameters)s

    Attributes
    ----------
%(fitted_attributes)s

    Notes
    -----
%(confu_notes)s

    Examples
    --------
    >>> from sklearn_mmfusion import ConFuEmbedder
    >>> from sklearn_mmfusion.datasets import make_xor_modalities
    >>> X, _ = make_xor_modalities(n_samples=300, random_state=0)
    >>> emb = ConFuEmbedder(hidden_dim=32, max_epochs=5, random_state=0).fit(X)
    >>> emb.transform(X).shape
    (300, 32)
    >>> emb.embed(X, modalities=["m0", "m1"]).shape
    (300, 32)
    >>> sorted(emb.retrieval_scores(X, query=["m0", "m1"], target="m2"))
    ['recall@1', 'recall@10', 'recall@5']
    """

    _parameter_constraints = merge_constraints(FusionEmbedder, _ConFuParams)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the joint embedding from ``X`` alone.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
            Needs at least two modalities; missing ones as all-NaN rows.
        y : None
            Ignored.

        Returns
        -------
        self : object

        Warns
        -----
        UserWarning
            When ``X`` has a single modality: there is no pair to align, so
            the network keeps its initial weights.
        """
        super().fit(X)
        if len(self.modalities_) < 2:
            # Not an error: scikit-learn's checks (and a 2-D X without a
            # ``modalities`` spec) give one modality, and the fitted object
            # is still a valid (untrained) transformer.
            warnings.warn(
                f"ConFuEmbedder was fitted on one modality ({self.modalities_[0]!r}); "
                "its contrastive loss needs at least two, so the embedding was not "
                "trained. Pass a mapping of modality arrays, or `modalities=` to "
                "split a 2-D X.",
                UserWarning,
            )
        return self

    def _indices(self, names):
        names = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in names if n not in self.modalities_]
        if unknown or not names:
            raise ValueError(
                f"Unknown modality(ies) {unknown or names}; choose from {self.modalities_}."
            )
        return [self.modalities_.index(n) for n in names]

    def embed(self, X, modalities):
        """Embedding of one modality, or of the fusion of a group of them.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
        modalities : str or list of str
            One modality gives its own embedding; all modalities but one give
            the leave-one-out fused embedding trained to retrieve the one left
            out; other groups give the normalised mean of their embeddings.

        Returns
        -------
        Z : ndarray of shape (n_samples, embed_dim), float32
        """
        check_is_fitted(self, "module_")
        group = self._indices(modalities)
        return self._predict_raw(
            X, lambda module, inputs, mask: first_member(module).embed_subset(
                inputs, mask, group)
        )

    def retrieval_scores(self, X, query, target, k=(1, 5, 10)):
        """Recall@k of retrieving each sample's ``target`` from its ``query``.

        Over the samples where every modality of ``query`` and ``target`` is
        observed, each query embedding ranks all target embeddings by dot
        product; the hit is the same sample (the paper's protocol).

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
        query, target : str or list of str
            Modalities (a list for two-to-one retrieval, e.g. ``["a", "b"]``).
        k : int or tuple of int, default=(1, 5, 10)

        Returns
        -------
        scores : dict
            ``{"recall@1": float, ...}``.
        """
        check_is_fitted(self, "module_")
        ks = (k,) if isinstance(k, Integral) else tuple(k)
        if not ks or not all(isinstance(kk, Integral) and kk >= 1 for kk in ks):
            raise ValueError(f"k must be a positive int or a tuple of them; got {k!r}.")
        group = self._indices(query) + self._indices(target)
        arrays, mask = self._split_input(X)
        complete = mask[:, group].all(axis=1)
        if complete.sum() < 2:
            raise ValueError(
                "retrieval needs at least 2 samples where all of "
                f"{[self.modalities_[g] for g in group]} are observed; found {complete.sum()}."
            )
        rows = {name: a[complete] for name, a in arrays.items()}
        q = self.embed(rows, query)
        t = self.embed(rows, target)
        # Rank of the true match among all targets, in chunks of queries.
        ranks = np.empty(len(q), dtype=np.int64)
        for start in range(0, len(q), 1024):
            sims = q[start : start + 1024] @ t.T
            own = sims[np.arange(len(sims)), np.arange(start, start + len(sims))]
            ranks[start : start + 1024] = (sims > own[:, None]).sum(axis=1)
        return {f"recall@{kk}": float(np.mean(ranks < kk)) for kk in ks}


__all__ = ["ConFuClassifier", "ConFuEmbedder", "ConFuRegressor"]
