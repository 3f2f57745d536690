"""CLARGA estimators: per-sample attention graphs over modalities."""

from numbers import Integral, Real

from ._sklearn_compat import Interval, StrOptions

from ._base import (
    FusionClassifier,
    FusionRegressor,
    estimator_params,
    merge_constraints,
    normalized_mean,
)
from ._docs import COMMON_DOCS, Substitution, fusion_parameters
from .nn import DEFAULTS, CLARGAFusion
from .nn._ensemble import first_member

_DOCS = dict(COMMON_DOCS)

_DOCS["clarga_parameters"] = """\
    n_heads : int, default=4
        Attention heads of each GAT layer (``hidden_dim`` must be a multiple
        when ``n_layers > 1``).
    n_layers : int, default=1
        GAT message-passing layers (residual + LayerNorm each). (The
        reconstruction proposed 2; on mfeat with 30% missing rows one layer
        scored 0.7 pp macro-F1 higher, 3-fold CV.)
    graph_k : int, "auto" or None, default="auto"
        Neighbours kept per modality node, self-loop included. ``"auto"`` is
        ``ceil(sqrt(M)) + 1``, which keeps the cost sub-quadratic in the
        number of modalities M; ``None`` keeps the dense graph.
    contrastive_weight : float, default=0.02
        Weight of the InfoNCE loss between node embeddings of the same sample.
        (The reconstruction we started from proposed 0.1; on mfeat that cost
        0.8 pp of macro-F1 against 0.02, 3-fold CV.)
    temperature : float, default=0.07
        InfoNCE temperature."""

# CLARGA's own default for modality_dropout (ALGORITHMS.md 1(c) proposes
# 0.1-0.2); the other shared parameters keep the common text.
_DOCS["fusion_parameters"] = fusion_parameters(
    modality_dropout=DEFAULTS["clarga_modality_dropout"],
    modality_dropout_note="""\
        CLARGA's default is 0.1, not 0.0 as for the other estimators: on
        mfeat (5-fold CV, 4 seeds) it raised macro-F1 by 0.10 points with all
        modalities and by 0.15 points with 30% of the rows missing.""",
)

_DOCS["clarga_attributes"] = """\
    modality_importances_ : ndarray of shape (n_modalities,)
        Mean attention each modality sends (column sums of the last GAT
        layer's attention) over the training samples, normalised to sum to 1."""

_DOCS["clarga_notes"] = """\
    CLARGA (Patapati, "Multimodal Graph Representation Learning over
    Arbitrary Sets of Modalities", WACV, arXiv 2512.11901) builds a graph over
    each sample's modalities, passes messages with a multi-head GAT, masks
    missing modalities with learnable tokens and adds an InfoNCE term to the
    task loss. Only the abstract was available: the graph rule (top-k by
    scaled dot-product scores, its softmax used as a log-prior in the GAT
    attention), the layer layout, the masked-mean readout and the InfoNCE
    pairs (modality nodes of the same sample) are this package's
    reconstruction. See :class:`sklearn_mmfusion.nn.CLARGAFusion`."""


@estimator_params
class _CLARGAParams:
    n_heads: int = DEFAULTS["n_heads"]
    n_layers: int = DEFAULTS["clarga_n_layers"]
    modality_dropout: float = DEFAULTS["clarga_modality_dropout"]
    graph_k: int | str | None = DEFAULTS["graph_k"]
    contrastive_weight: float = 0.02
    temperature: float = DEFAULTS["temperature"]

    _parameter_constraints = {
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "graph_k": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "contrastive_weight": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }
    _network = CLARGAFusion
    _network_params = ("n_heads", "n_layers", "graph_k", "temperature")

    def _aux_weight(self):
        return self.contrastive_weight

    def attention_graph(self, X):
        """Per-sample attention graph over the modalities.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)

        Returns
        -------
        attention : ndarray of shape (n_samples, n_modalities, n_modalities)
            ``attention[i, m, n]``: weight of sender ``n`` in the update of
            receiver ``m`` (last GAT layer, averaged over heads). Rows of
            present modalities sum to 1; missing senders get 0 and rows of
            missing receivers are 0.
        """
        return self._predict_raw(X, _attention)

    def _fitted_extras(self, arrays, mask):
        attention = self._forward(arrays, mask, _attention)
        return {"modality_importances_": normalized_mean(attention.sum(axis=1))}


def _attention(module, inputs, mask):
    return first_member(module)(inputs, mask).details["attention"]


@Substitution(**_DOCS)
@estimator_params
class CLARGAClassifier(_CLARGAParams, FusionClassifier):
    """CLARGA graph-attention fusion classifier.

    Parameters
    ----------
%(clarga_parameters)s
%(fusion_parameters)s
%(classifier_parameters)s

    Attributes
    ----------
%(clarga_attributes)s
%(classifier_attributes)s
%(fitted_attributes)s

    Notes
    -----
%(clarga_notes)s

    Examples
    --------
    >>> from sklearn_mmfusion import CLARGAClassifier
    >>> from sklearn_mmfusion.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=200, random_state=0)
    >>> clf = CLARGAClassifier(hidden_dim=32, max_epochs=10, random_state=0).fit(X, y)
    >>> clf.attention_graph(X[:2]).shape
    (2, 3, 3)
    """

    _parameter_constraints = merge_constraints(FusionClassifier, _CLARGAParams)


@Substitution(**_DOCS)
@estimator_params
class CLARGARegressor(_CLARGAParams, FusionRegressor):
    """CLARGA graph-attention fusion regressor.

    Parameters
    ----------
%(clarga_parameters)s
%(fusion_parameters)s

    Attributes
    ----------
%(clarga_attributes)s
%(fitted_attributes)s

    Notes
    -----
%(clarga_notes)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmfusion import CLARGARegressor, ModalityDict
    >>> rng = np.random.RandomState(0)
    >>> X = ModalityDict(a=rng.randn(100, 3), b=rng.randn(100, 2))
    >>> reg = CLARGARegressor(hidden_dim=16, max_epochs=5, random_state=0)
    >>> reg.fit(X, X["a"][:, 1]).predict(X).shape
    (100,)
    """

    _parameter_constraints = merge_constraints(FusionRegressor, _CLARGAParams)


__all__ = ["CLARGAClassifier", "CLARGARegressor"]
