"""Fusion networks in pure PyTorch (no scikit-learn inside).

Each network is called as ``network(xs, mask)`` with a sequence of per-modality
tensors and a boolean observation mask, and returns a
:class:`~sklearn_mmfusion.nn.FusionOutput`. They can be used on their own in any
PyTorch training loop. They all subclass
:class:`~sklearn_mmfusion.nn.FusionNetwork`, which owns the shared arguments
(their defaults are in :data:`DEFAULTS`), the modality encoder and the
supervised-head rule; each network writes only its fusion step.
"""

from ._base import FusionNetwork
from ._calibrator import ModalityCalibrator
from ._clarga import CLARGAFusion
from ._concat import ConcatFusion
from ._confu import ConFuFusion
from ._defaults import DEFAULTS, GATES, MISSING_STRATEGIES, NUMERICAL_EMBEDDINGS
from ._ensemble import ENSEMBLE_AVERAGES, FusionEnsemble
from ._encoders import (
    Dropout,
    FusionOutput,
    MLPHead,
    ModalityDropout,
    ModalityEncoder,
    PeriodicEmbedding,
    PiecewiseLinearEncoding,
    masked_mean,
    quantile_bin_edges,
)
from ._gat import DenseGATLayer
from ._gated import GatedFusion
from ._late import LateFusion
from ._transformer import TransformerFusion

__all__ = [
    "CLARGAFusion",
    "ConcatFusion",
    "ConFuFusion",
    "DEFAULTS",
    "DenseGATLayer",
    "Dropout",
    "ENSEMBLE_AVERAGES",
    "FusionEnsemble",
    "FusionNetwork",
    "FusionOutput",
    "GATES",
    "GatedFusion",
    "LateFusion",
    "MISSING_STRATEGIES",
    "MLPHead",
    "ModalityCalibrator",
    "ModalityDropout",
    "ModalityEncoder",
    "NUMERICAL_EMBEDDINGS",
    "PeriodicEmbedding",
    "PiecewiseLinearEncoding",
    "TransformerFusion",
    "masked_mean",
    "quantile_bin_edges",
]
