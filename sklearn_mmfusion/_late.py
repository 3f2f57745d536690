"""Late fusion estimators: one head per modality, outputs averaged."""

from ._base import FusionClassifier, FusionRegressor, estimator_params
from ._docs import COMMON_DOCS, Substitution
from .nn import LateFusion


@Substitution(**COMMON_DOCS)
@estimator_params
class LateFusionClassifier(FusionClassifier):
    """Late-fusion classifier: per-modality heads, logits averaged.

    Each modality gets its own encoder and linear head; a sample's logits are
    the mean over the modalities it has, so a missing modality simply drops
    out of the average. The fused representation is the mean of the present
    encodings.

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
    ConcatFusionClassifier : Early fusion.

    Examples
    --------
    >>> from sklearn_mmfusion import LateFusionClassifier
    >>> from sklearn_mmfusion.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=200, random_state=0)
    >>> clf = LateFusionClassifier(max_epochs=30, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _network = LateFusion


@Substitution(**COMMON_DOCS)
@estimator_params
class LateFusionRegressor(FusionRegressor):
    """Late-fusion regressor: per-modality heads, outputs averaged.

    Parameters
    ----------
%(fusion_parameters)s

    Attributes
    ----------
%(fitted_attributes)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmfusion import LateFusionRegressor, ModalityDict
    >>> rng = np.random.RandomState(0)
    >>> X = ModalityDict(a=rng.randn(100, 3), b=rng.randn(100, 2))
    >>> y = X["a"][:, 0] + X["b"][:, 1]
    >>> LateFusionRegressor(max_epochs=20, random_state=0).fit(X, y).predict(X).shape
    (100,)
    """

    _network = LateFusion
