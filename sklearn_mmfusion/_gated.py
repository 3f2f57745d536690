"""Gated fusion estimators: the Gated Multimodal Unit for M modalities."""

from ._sklearn_compat import StrOptions

from ._base import (
    FusionClassifier,
    FusionRegressor,
    estimator_params,
    merge_constraints,
    normalized_mean,
)
from ._docs import COMMON_DOCS, Substitution
from .nn import DEFAULTS, GATES, GatedFusion
from .nn._ensemble import first_member

_DOCS = dict(COMMON_DOCS)

_DOCS["gated_parameters"] = """\
    gate : {"softmax", "sigmoid"}, default="softmax"
        ``"softmax"``: per feature, the gates of the present modalities sum to
        1 (for two modalities, the classic convex GMU ``z h_1 + (1 - z) h_2``).
        ``"sigmoid"``: independent gates as in the paper's M-modal GMU, set to
        0 for missing modalities."""

_DOCS["gated_attributes"] = """\
    modality_importances_ : ndarray of shape (n_modalities,)
        Mean gate of each modality over the training samples, normalised to
        sum to 1."""

_DOCS["gated_notes"] = """\
    The Gated Multimodal Unit (Arevalo et al., "Gated Multimodal Units for
    Information Fusion", ICLR workshop 2017, arXiv 1702.01992) computes
    :math:`h_m = \\tanh(W_m x_m)` per modality and gates
    :math:`z_m = \\sigma(W_{z_m} [x_1; \\dots; x_M])` from all modalities, then
    fuses :math:`h = \\sum_m z_m \\odot h_m`. The missing-modality handling (a
    learnable token in the gate input, gates of missing modalities forced to
    0) is our extension. See :class:`sklearn_mmfusion.nn.GatedFusion`."""


@estimator_params
class _GatedParams:
    gate: str = DEFAULTS["gate"]

    _parameter_constraints = {"gate": [StrOptions(set(GATES))]}
    _network = GatedFusion
    _network_params = ("gate",)

    def gates(self, X):
        """Per-sample gate of each modality.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)

        Returns
        -------
        gates : ndarray of shape (n_samples, n_modalities)
            Gate averaged over the hidden features; 0 for missing modalities.
            With ``gate="softmax"`` the present modalities' gates sum to 1.
        """
        return self._predict_raw(X, _gates)

    def _fitted_extras(self, arrays, mask):
        gates = self._forward(arrays, mask, _gates)
        return {"modality_importances_": normalized_mean(gates)}


def _gates(module, inputs, mask):
    return first_member(module)(inputs, mask).details["gates"]


@Substitution(**_DOCS)
@estimator_params
class GatedFusionClassifier(_GatedParams, FusionClassifier):
    """Gated multimodal fusion classifier (GMU generalised to M modalities).

    Parameters
    ----------
%(gated_parameters)s
%(fusion_parameters)s
%(classifier_parameters)s

    Attributes
    ----------
%(gated_attributes)s
%(classifier_attributes)s
%(fitted_attributes)s

    Notes
    -----
%(gated_notes)s

    Examples
    --------
    >>> from sklearn_mmfusion import GatedFusionClassifier
    >>> from sklearn_mmfusion.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=200, random_state=0)
    >>> clf = GatedFusionClassifier(max_epochs=20, random_state=0).fit(X, y)
    >>> clf.gates(X[:2]).shape
    (2, 3)
    >>> round(float(clf.modality_importances_.sum()), 6)
    1.0
    """

    _parameter_constraints = merge_constraints(FusionClassifier, _GatedParams)


@Substitution(**_DOCS)
@estimator_params
class GatedFusionRegressor(_GatedParams, FusionRegressor):
    """Gated multimodal fusion regressor (GMU generalised to M modalities).

    Parameters
    ----------
%(gated_parameters)s
%(fusion_parameters)s

    Attributes
    ----------
%(gated_attributes)s
%(fitted_attributes)s

    Notes
    -----
%(gated_notes)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmfusion import GatedFusionRegressor, ModalityDict
    >>> rng = np.random.RandomState(0)
    >>> X = ModalityDict(a=rng.randn(100, 3), b=rng.randn(100, 2))
    >>> reg = GatedFusionRegressor(max_epochs=10, random_state=0).fit(X, X["b"][:, 0])
    >>> reg.gates(X).shape
    (100, 2)
    """

    _parameter_constraints = merge_constraints(FusionRegressor, _GatedParams)


__all__ = ["GatedFusionClassifier", "GatedFusionRegressor"]
