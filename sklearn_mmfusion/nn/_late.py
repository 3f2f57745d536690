"""Late fusion: one head per modality, outputs averaged over present ones."""

import torch
from torch import nn

from ._encoders import FusionOutput, ModalityEncoder, masked_mean


class LateFusion(nn.Module):
    r"""Per-modality predictors whose outputs are averaged.

    .. math::

        \hat y = \frac{1}{|\Omega|} \sum_{m \in \Omega} g_m(h_m), \qquad
        z = \frac{1}{|\Omega|} \sum_{m \in \Omega} h_m

    over the observed modalities :math:`\Omega` of each sample. A sample with
    no observed modality predicts zeros (uniform logits; the training mean for
    a standardised regression target).

    Parameters
    ----------
    modality_dims : sequence of int
    n_outputs : int
    hidden_dim : int, default=128
    dropout : float, default=0.1
    missing : {"mask", "zero", "calibrated"}, default="mask"
        With ``"mask"`` or ``"zero"`` missing modalities are left out of the
        average; with ``"calibrated"`` their imputed encodings (CalMRL) are
        averaged in.
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
        self.heads = nn.ModuleList(
            nn.Linear(hidden_dim, n_outputs) for _ in self.encoder.modality_dims
        )

    def forward(self, xs, mask):
        h, mask = self.encoder(xs, mask)
        per_modality = torch.stack(
            [head(h[:, m]) for m, head in enumerate(self.heads)], dim=1
        )
        if self.encoder.calibrator is not None:
            # Calibrated encodings of missing modalities join the average.
            mask = torch.ones_like(mask)
        return FusionOutput(masked_mean(per_modality, mask), masked_mean(h, mask))
