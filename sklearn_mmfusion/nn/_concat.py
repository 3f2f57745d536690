"""Early fusion: concatenate the modality encodings and the mask."""

import torch
from torch import nn

from ._encoders import FusionOutput, ModalityEncoder


class ConcatFusion(nn.Module):
    r"""Concatenation of per-modality encodings, then an MLP.

    .. math::

        z = \mathrm{GELU}(W [h_1 \| \dots \| h_M \| o] + b), \qquad
        \hat y = \mathrm{head}(z)

    where :math:`h_m` is the encoding of modality :math:`m` (a learnable token
    or zeros when it is missing) and :math:`o \in \{0, 1\}^M` the mask.

    Parameters
    ----------
    modality_dims : sequence of int
        Input width of each modality.
    n_outputs : int
        Width of the prediction (classes, or regression targets).
    hidden_dim : int, default=128
    dropout : float, default=0.1
    missing : {"mask", "zero", "calibrated"}, default="mask"
    modality_dropout : float, default=0.0
    """

    def __init__(
        self,
        modality_dims,
        n_outputs,
        hidden_dim=128,
        dropout=0.1,
        missing="mask",
        modality_dropout=0.0,
    ):
        super().__init__()
        self.encoder = ModalityEncoder(
            modality_dims, hidden_dim, dropout, missing, modality_dropout
        )
        n_mod = len(self.encoder.modality_dims)
        self.fuse = nn.Sequential(
            nn.Linear(n_mod * hidden_dim + n_mod, hidden_dim),
            nn.GELU(),
            nn.Dropout(dropout),
        )
        self.head = nn.Linear(hidden_dim, n_outputs) if n_outputs else None

    def forward(self, xs, mask):
        h, mask = self.encoder(xs, mask)
        z = self.fuse(torch.cat([h.flatten(1), mask.to(h.dtype)], dim=1))
        prediction = self.head(z) if self.head is not None else None
        return FusionOutput(prediction, z)
