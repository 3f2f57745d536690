"""Gated fusion: the Gated Multimodal Unit generalised to M modalities."""

import torch
from torch import nn

from ._base import FusionNetwork
from ._defaults import DEFAULTS, GATES
from ._encoders import Dropout, FusionOutput


class GatedFusion(FusionNetwork):
    r"""Gated Multimodal Unit (Arevalo et al., 2017) over M modalities,
    some of which may be missing.

    Every modality is projected and squashed, and gates computed from all the
    modalities at once decide, feature by feature, how much of each one goes
    into the fused representation:

    .. math::

        h_m = \tanh(W_m \tilde x_m + b_m), \qquad
        g_m = U_m [\tilde x_1 \| \dots \| \tilde x_M] + c_m, \qquad
        z = \sum_{m=1}^{M} \gamma_m \odot h_m, \qquad
        \hat y = \mathrm{head}(z)

    where :math:`\tilde x_m` is the encoding of modality :math:`m` (the
    learnable token, or zeros, when it is missing). With :math:`\Omega` the
    observed modalities of the sample, the gates :math:`\gamma_m` are

    * ``gate="softmax"``: a softmax over the observed modalities, per feature,
      :math:`\gamma_m = \exp(g_m) / \sum_{n \in \Omega} \exp(g_n)` for
      :math:`m \in \Omega` and :math:`\gamma_m = 0` otherwise. With two
      modalities both observed this is exactly the bimodal GMU,
      :math:`z = \sigma(g_1 - g_2) \odot h_1 + (1 - \sigma(g_1 - g_2)) \odot h_2`;
      with one missing, :math:`z = h_{\text{observed}}`.
    * ``gate="sigmoid"``: the paper's M-modal form, independent gates
      :math:`\gamma_m = \sigma(g_m)` for :math:`m \in \Omega`, 0 otherwise.

    A sample with no observed modality has all gates 0, hence :math:`z = 0`.

    The M gate maps :math:`U_m : \mathbb{R}^{MH} \to \mathbb{R}^H` are stored as
    one ``Linear(M * H, M * H)`` (the same function, one matrix product);
    it has :math:`O(M^2 H^2)` parameters, which is fine for the handful of
    modalities of tabular data but not for M in the tens. Unlike the
    reference code the gates have a bias :math:`c_m`, a learned prior
    preference between modalities.

    Parameters
    ----------
    modality_dims, n_outputs, hidden_dim, dropout, missing, modality_dropout
        As for :class:`~sklearn_mmfusion.nn.FusionNetwork`; the head is an
        :class:`~sklearn_mmfusion.nn.MLPHead`.
    gate : {"softmax", "sigmoid"}, default="softmax"
        How the gates are normalised (see above).

    Notes
    -----
    ``details["gates"]`` has shape (batch, M): the gate of each modality
    averaged over the H features, :math:`\frac{1}{H} \sum_j \gamma_{m,j}`.
    It is exactly 0 for missing modalities; with ``gate="softmax"`` it sums to
    1 over the observed ones (0 for a sample with none).
    """

    def __init__(self, modality_dims, n_outputs, *, gate=DEFAULTS["gate"], **shared):
        if gate not in GATES:
            raise ValueError(f"gate must be one of {GATES}, got {gate!r}")
        super().__init__(modality_dims, n_outputs, **shared)
        self.gate = gate
        n_mod, width = self.n_modalities, self.hidden_dim
        self.projections = nn.ModuleList(nn.Linear(width, width) for _ in range(n_mod))
        self.gate_logits = nn.Linear(n_mod * width, n_mod * width)
        self.dropout = Dropout(self.dropout_rate)
        self.head = self._make_head(width, mlp=True)

    def fuse_encodings(self, x, mask):
        # x: (B, M, H) encodings, missing slots = token
        batch, n_mod, width = x.shape
        projected = [proj(x_m) for proj, x_m in zip(self.projections, x.unbind(1))]
        h = torch.tanh(torch.stack(projected, 1))
        logits = self.gate_logits(x.flatten(1)).view(batch, n_mod, width)
        observed = mask.unsqueeze(-1)  # (B, M, 1)
        if self.gate == "softmax":
            # A finite large negative rather than -inf: a sample with nothing
            # observed gets a uniform softmax (then zeroed), not NaN.
            logits = torch.where(observed, logits, torch.finfo(logits.dtype).min)
            gates = torch.softmax(logits, dim=1)
        else:
            gates = torch.sigmoid(logits)
        gates = torch.where(observed, gates, torch.zeros_like(gates))
        z = self.dropout((gates * h).sum(1))
        return FusionOutput(self._predict(z), z, None, {"gates": gates.mean(-1)})
