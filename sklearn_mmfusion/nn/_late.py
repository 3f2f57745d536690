"""Late fusion: one head per modality, outputs averaged over present ones."""

import torch

from ._base import FusionNetwork
from ._encoders import FusionOutput, masked_mean


class LateFusion(FusionNetwork):
    r"""Per-modality predictors whose outputs are averaged.

    .. math::

        \hat y = \frac{1}{|\Omega|} \sum_{m \in \Omega} g_m(h_m), \qquad
        z = \frac{1}{|\Omega|} \sum_{m \in \Omega} h_m

    over the observed modalities :math:`\Omega` of each sample. A sample with
    no observed modality predicts zeros (uniform logits; the training mean for
    a standardised regression target).

    Parameters
    ----------
    modality_dims, n_outputs, hidden_dim, dropout, missing, modality_dropout
        As for :class:`~sklearn_mmfusion.nn.FusionNetwork`. With ``"mask"`` or
        ``"zero"`` missing modalities are left out of the average; with
        ``"calibrated"`` their imputed encodings (CalMRL) are averaged in.
        ``n_outputs=0`` builds no heads (``heads`` is None, ``prediction``
        None).
    """

    def __init__(self, modality_dims, n_outputs, **shared):
        super().__init__(modality_dims, n_outputs, **shared)
        self.heads = self._make_head(self.hidden_dim, copies=self.n_modalities)

    def fuse_encodings(self, h, mask):
        per_modality = None
        if self.heads is not None:
            per_modality = torch.stack(
                [head(h[:, m]) for m, head in enumerate(self.heads)], dim=1
            )
        if self.encoder.calibrator is not None:
            # Calibrated encodings of missing modalities join the average.
            mask = torch.ones_like(mask)
        prediction = None if per_modality is None else masked_mean(per_modality, mask)
        return FusionOutput(prediction, masked_mean(h, mask))
