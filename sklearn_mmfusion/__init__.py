"""Multimodal fusion for tabular modalities behind the scikit-learn API.

Estimators take ``X`` as a mapping of modality arrays (wrap it in
:class:`ModalityDict` for cross-validation), or a 2-D array / DataFrame with a
``modalities`` spec. A sample's missing modality is an all-NaN row.
"""

from ._base import BaseFusion, FusionClassifier, FusionRegressor
from ._clarga import CLARGAClassifier, CLARGARegressor
from ._concat import ConcatFusionClassifier, ConcatFusionRegressor
from ._confu import ConFuClassifier, ConFuEmbedder, ConFuRegressor
from ._data import ModalityDict
from ._gated import GatedFusionClassifier, GatedFusionRegressor
from ._late import LateFusionClassifier, LateFusionRegressor
from ._net import TrainingDivergedError
from ._onnx import register_skl2onnx_converters, to_onnx
from .impute import CalibratedModalityImputer
from .preprocessing import ModalitySplitter, PerModality

__version__ = "0.1.0.dev0"

__all__ = [
    "BaseFusion",
    "CLARGAClassifier",
    "CLARGARegressor",
    "CalibratedModalityImputer",
    "ConcatFusionClassifier",
    "ConcatFusionRegressor",
    "ConFuClassifier",
    "ConFuEmbedder",
    "ConFuRegressor",
    "FusionClassifier",
    "FusionRegressor",
    "GatedFusionClassifier",
    "GatedFusionRegressor",
    "LateFusionClassifier",
    "LateFusionRegressor",
    "ModalityDict",
    "ModalitySplitter",
    "PerModality",
    "TrainingDivergedError",
    "__version__",
    "register_skl2onnx_converters",
    "to_onnx",
]
