"""Multimodal fusion for tabular modalities behind the scikit-learn API.

Estimators take ``X`` as a mapping of modality arrays (wrap it in
:class:`ModalityDict` for cross-validation), or a 2-D array / DataFrame with a
``modalities`` spec. A sample's missing modality is an all-NaN row.
"""

from ._base import BaseFusion, FusionClassifier, FusionEmbedder, FusionRegressor
from ._clarga import CLARGAClassifier, CLARGARegressor
from ._compare import ComparisonResult, compare
from ._concat import ConcatFusionClassifier, ConcatFusionRegressor
from ._confu import ConFuClassifier, ConFuEmbedder, ConFuRegressor
from ._data import ModalityDict
from ._gated import GatedFusionClassifier, GatedFusionRegressor
from ._late import LateFusionClassifier, LateFusionRegressor
from ._net import TrainingDivergedError
from ._persistence import load
from ._search import search_space
from ._transformer import TransformerFusionClassifier, TransformerFusionRegressor
from ._onnx import register_skl2onnx_converters, to_onnx
from .impute import CalibratedModalityImputer
from .preprocessing import ModalitySplitter, PerModality

__version__ = "0.1.0.dev0"

__all__ = [
    "BaseFusion",
    "CLARGAClassifier",
    "CLARGARegressor",
    "CalibratedModalityImputer",
    "ComparisonResult",
    "ConcatFusionClassifier",
    "ConcatFusionRegressor",
    "ConFuClassifier",
    "ConFuEmbedder",
    "ConFuRegressor",
    "FusionClassifier",
    "FusionEmbedder",
    "FusionRegressor",
    "GatedFusionClassifier",
    "GatedFusionRegressor",
    "LateFusionClassifier",
    "LateFusionRegressor",
    "ModalityDict",
    "ModalitySplitter",
    "PerModality",
    "TrainingDivergedError",
    "TransformerFusionClassifier",
    "TransformerFusionRegressor",
    "__version__",
    "compare",
    "load",
    "search_space",
    "register_skl2onnx_converters",
    "to_onnx",
]

# Submodules reachable as attributes after ``import sklearn_mmfusion``, imported
# on first access (as scikit-learn does), so the package import stays light.
_LAZY_SUBMODULES = ("datasets", "plotting")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
