"""Transformer fusion estimators: self-attention over one token per modality."""

from numbers import Integral

from ._sklearn_compat import Interval

from ._base import FusionClassifier, FusionRegressor, estimator_params, merge_constraints
from ._docs import COMMON_DOCS, Substitution
from .nn import DEFAULTS, TransformerFusion

_DOCS = dict(COMMON_DOCS, transformer_parameters=f"""\
    n_heads : int, default={DEFAULTS["n_heads"]}
        Attention heads per layer; ``hidden_dim`` must be a multiple (the
        ``"auto"`` widths, powers of two from 32, are).
    n_layers : int, default={DEFAULTS["transformer_n_layers"]}
        Pre-norm Transformer encoder layers over the modality tokens.""")


@estimator_params
class _TransformerParams:
    n_heads: int = DEFAULTS["n_heads"]
    n_layers: int = DEFAULTS["transformer_n_layers"]

    _parameter_constraints = {
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
    }
    _network = TransformerFusion
    _network_params = ("n_heads", "n_layers")


@Substitution(**_DOCS)
@estimator_params
class TransformerFusionClassifier(_TransformerParams, FusionClassifier):
    """Attention-fusion classifier: a Transformer over the modality tokens.

    Each modality is encoded to one token; a [CLS] token and the modality
    tokens go through ``n_layers`` self-attention layers in which missing
    modalities are left out through the key-padding mask, and the [CLS]
    token is the fused representation. The standard attention baseline of
    multimodal fusion comparisons. See
    :class:`sklearn_mmfusion.nn.TransformerFusion`.

    Parameters
    ----------
%(transformer_parameters)s
%(fusion_parameters)s
%(classifier_parameters)s

    Attributes
    ----------
%(classifier_attributes)s
%(fitted_attributes)s

    Examples
    --------
    >>> from sklearn_mmfusion import TransformerFusionClassifier
    >>> from sklearn_mmfusion.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=200, random_state=0)
    >>> clf = TransformerFusionClassifier(max_epochs=20, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = merge_constraints(FusionClassifier, _TransformerParams)


@Substitution(**_DOCS)
@estimator_params
class TransformerFusionRegressor(_TransformerParams, FusionRegressor):
    """Attention-fusion regressor: a Transformer over the modality tokens.

    See :class:`TransformerFusionClassifier` for the network.

    Parameters
    ----------
%(transformer_parameters)s
%(fusion_parameters)s

    Attributes
    ----------
%(fitted_attributes)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmfusion import ModalityDict, TransformerFusionRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = ModalityDict(a=rng.randn(100, 3), b=rng.randn(100, 2))
    >>> reg = TransformerFusionRegressor(max_epochs=10, random_state=0)
    >>> reg.fit(X, X["a"][:, 0]).predict(X).shape
    (100,)
    """

    _parameter_constraints = merge_constraints(FusionRegressor, _TransformerParams)


__all__ = ["TransformerFusionClassifier", "TransformerFusionRegressor"]
