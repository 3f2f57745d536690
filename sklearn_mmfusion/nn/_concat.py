"""Early fusion: concatenate the modality encodings and the mask."""

import torch
from torch import nn

from ._base import FusionNetwork
from ._encoders import Dropout, FusionOutput


class ConcatFusion(FusionNetwork):
    r"""Concatenation of per-modality encodings, then an MLP.

    .. math::

        z = \mathrm{GELU}(W [h_1 \| \dots \| h_M \| o] + b), \qquad
        \hat y = \mathrm{head}(z)

    where :math:`h_m` is the encoding of modality :math:`m` (a learnable token
    or zeros when it is missing) and :math:`o \in \{0, 1\}^M` the mask.

    Parameters
    ----------
    modality_dims, n_outputs, hidden_dim, dropout, missing, modality_dropout
        As for :class:`~sklearn_mmfusion.nn.FusionNetwork`; the head is
        linear.
    """

    def __init__(self, modality_dims, n_outputs, **shared):
        super().__init__(modality_dims, n_outputs, **shared)
        n_mod, width = self.n_modalities, self.hidden_dim
        self.fuse = nn.Sequential(
            nn.Linear(n_mod * width + n_mod, width),
            nn.GELU(),
            Dropout(self.dropout_rate),
        )
        self.head = self._make_head(width)

    def fuse_encodings(self, h, mask):
        z = self.fuse(torch.cat([h.flatten(1), mask.to(h.dtype)], dim=1))
        return FusionOutput(self._predict(z), z)
