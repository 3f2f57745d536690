"""Shipped real data sets, synthetic generators, and missing-modality masking."""

from ._base import load_hapt, load_landuse21, load_mfeat, load_scene15
from ._features import sensor_feature_names, sensor_window_features
from ._generators import make_multimodal_classification, mask_modalities
from ._xor import make_xor_modalities

__all__ = [
    "load_hapt",
    "load_landuse21",
    "load_mfeat",
    "load_scene15",
    "make_multimodal_classification",
    "make_xor_modalities",
    "mask_modalities",
    "sensor_feature_names",
    "sensor_window_features",
]
