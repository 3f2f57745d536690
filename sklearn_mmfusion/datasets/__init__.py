"""Shipped real data sets, synthetic generators, and missing-modality masking."""

from ._base import load_mfeat
from ._generators import make_multimodal_classification, mask_modalities
from ._xor import make_xor_modalities

__all__ = [
    "load_mfeat",
    "make_multimodal_classification",
    "make_xor_modalities",
    "mask_modalities",
]
