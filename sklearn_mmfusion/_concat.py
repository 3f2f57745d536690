"""Early fusion estimators: concatenated modality encodings into an MLP."""

from ._base import FusionClassifier, FusionRegressor, estimator_params
from ._docs import COMMON_DOCS, Substitution
from .nn import ConcatFusion


@Substitution(**COMMON_DOCS)
@estimator_params
class ConcatFusionClassifier(FusionClassifier):
    """Early-fusion classifier: concatenated encodings and mask into an MLP.

    Each modality is encoded to ``hidden_dim`` features; a missing one is
    replaced by a learnable token (``missing="mask"``) or zeros. The encodings
    and the observation mask are concatenated and mapped to the fused
    representation, then to class logits. The baseline every other fusion
    method is compared with.

    Parameters
    ----------
%(fusion_parameters)s
%(classifier_parameters)s

    Attributes
    ----------
%(classifier_attributes)s
%(fitted_attributes)s

    See Also
    --------
    LateFusionClassifier : One head per modality, averaged.
    ConcatFusionRegressor : The regression flavour.

    Examples
    --------
    >>> from sklearn_mmfusion import ConcatFusionClassifier
    >>> from sklearn_mmfusion.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=200, random_state=0)
    >>> clf = ConcatFusionClassifier(max_epochs=30, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    >>> clf.hidden_dim_  # "auto": sized for 200 samples
    32
    >>> clf.transform(X[:3]).shape
    (3, 32)
    """

    _network = ConcatFusion


@Substitution(**COMMON_DOCS)
@estimator_params
class ConcatFusionRegressor(FusionRegressor):
    """Early-fusion regressor: concatenated encodings and mask into an MLP.

    See :class:`ConcatFusionClassifier` for the network.

    Parameters
    ----------
%(fusion_parameters)s

    Attributes
    ----------
%(fitted_attributes)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmfusion import ConcatFusionRegressor, ModalityDict
    >>> rng = np.random.RandomState(0)
    >>> X = ModalityDict(a=rng.randn(100, 3), b=rng.randn(100, 2))
    >>> y = X["a"][:, 0] + X["b"][:, 1]
    >>> reg = ConcatFusionRegressor(max_epochs=20, random_state=0).fit(X, y)
    >>> reg.predict(X).shape
    (100,)
    """

    _network = ConcatFusion
