"""ConFu: pairwise and leave-one-out fused contrastive alignment."""

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from ._base import FusionNetwork
from ._defaults import DEFAULTS
from ._encoders import Dropout, FusionOutput, masked_mean
from ._losses import draw_terms, paired_info_nce, stacked_info_nce


def _fusion_mlp(in_dim, hidden_dim, out_dim, dropout):
    """ConFu's two-layer fusion MLP, output activation and dropout included."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim),
        nn.ReLU(),
        Dropout(dropout),
        nn.Linear(hidden_dim, out_dim),
        nn.LeakyReLU(0.2),
        Dropout(dropout),
    )


def _stacked_linear(layers, x):
    """``layers[k](x[k])`` for every k, as one batched product: ``x`` of shape
    (K, batch, in_features), the K layers of equal shapes."""
    weight = torch.stack([layer.weight for layer in layers])  # (K, out, in)
    bias = torch.stack([layer.bias for layer in layers]).unsqueeze(1)  # (K, 1, out)
    return torch.baddbmm(bias, x, weight.transpose(1, 2))


class ConFuFusion(FusionNetwork):
    r"""ConFu (Koutoupis et al., 2025), generalised to M modalities.

    Each modality gets an encoding :math:`e_m` and an L2-normalised
    embedding; each modality also gets a *leave-one-out* fusion head
    :math:`g_{-m}` on the concatenated encodings of all the other modalities
    (in increasing modality order):

    .. math::

        z_m = \frac{W_m e_m + b_m}{\|W_m e_m + b_m\|}, \qquad
        z_{-m} = \frac{g_{-m}([e_n]_{n \ne m})}{\|g_{-m}([e_n]_{n \ne m})\|}

    where :math:`g_{-m}` is ConFu's fusion MLP, ``Linear -> ReLU -> Dropout ->
    Linear -> LeakyReLU(0.2) -> Dropout``. With the symmetric InfoNCE
    :math:`\ell` (:func:`~sklearn_mmfusion.nn._losses.info_nce`, fixed
    temperature :math:`\tau`) the auxiliary loss is

    .. math::

        \mathcal L = \lambda \cdot \operatorname{mean}_m \ell(z_{-m}, z_m)
            + (1 - \lambda) \cdot \operatorname{mean}_{i<j} \ell(z_i, z_j)

    with :math:`\lambda` = ``fused_weight``. For :math:`M = 3` the others of
    :math:`m` are one pair, so this is exactly the published objective
    :math:`\lambda\,\mathrm{mean}(\ell(z_{12}, z_3), \ell(z_{13}, z_2),
    \ell(z_{23}, z_1)) + (1-\lambda)\,\mathrm{mean}(\ell(z_1, z_2),
    \ell(z_2, z_3), \ell(z_3, z_1))`, the head of pair :math:`(i, j)` being
    applied to :math:`[e_i \| e_j]`. For :math:`M = 2` each fusion head has a
    single input (:math:`z_{-1} = \mathrm{normalize}(g_{-1}(e_2))`), which is
    a non-linear cross-modal predictor rather than a fusion, but the loss is
    well defined.

    Missing modalities: a pair term uses only the rows where both modalities
    are observed; a fused term only the rows where its target and all its
    inputs are observed, i.e. the complete rows (strict, as in ConFu). A term
    with fewer than two rows is skipped. When one group (pair or fused) has
    no term left in a batch, the loss is the other group's mean alone;
    ``aux_loss`` is ``None`` when no term is left at all. With
    ``fused_weight=0`` the fusion heads are not built (pairwise, Tri-CLIP-like
    training, as the official code does).

    Outputs: ``embedding`` is the joint embedding

    .. math::

        z = \mathrm{normalize}\Big(\frac{1}{|\Omega|}\sum_{m \in \Omega} z_m\Big)

    over the observed modalities :math:`\Omega` of each sample, of width
    ``embed_dim`` (zeros for a sample with nothing observed). ``prediction``
    comes from an MLP on :math:`[z_1 \| \dots \| z_M \| o]` (every
    modality's embedding, the projected token where one is missing, and the
    mask :math:`o`), like ConFu's "all modalities" probe; ``None`` when
    ``n_outputs=0`` (self-supervised use). ``aux_loss`` is computed in
    training mode only (or with ``forward(..., with_aux_loss=True)``), so
    inference pays for no similarity matrix.

    Parameters
    ----------
    modality_dims, n_outputs, hidden_dim, dropout, missing, modality_dropout
        As for :class:`~sklearn_mmfusion.nn.FusionNetwork`. ``hidden_dim`` is
        the width of the encodings :math:`e_m` and of the prediction head (an
        :class:`~sklearn_mmfusion.nn.MLPHead`); ``dropout`` also applies in
        the fusion MLPs (0.1 in the official code); the ``missing`` filler is
        what a fusion head sees in the slot of a missing input.
    fused_weight : float in [0, 1], default=0.5
        :math:`\lambda`, the weight of the fused terms.
    temperature : float, default=0.07
        Fixed InfoNCE temperature :math:`\tau`.
    embed_dim : int, optional
        Width of the embeddings :math:`z`; defaults to ``hidden_dim``.
    fusion_hidden_dim : int, optional
        Hidden width of the fusion MLPs; defaults to ``2 * hidden_dim``.
    max_fused_terms : int or None, default=3
        Most fused terms per training pass: when M is larger, that many
        leave-one-out heads are drawn afresh at each pass (the mean over the
        drawn terms estimates the mean over all M without bias), so the
        heads' cost stops growing as :math:`M^2`. Up to M = 3, always with
        ``None``, and in eval mode (a validation loss must not vary with a
        draw) every term is used (the published objective).
    """

    def __init__(
        self,
        modality_dims,
        n_outputs,
        *,
        fused_weight=DEFAULTS["fused_weight"],
        temperature=DEFAULTS["temperature"],
        embed_dim=None,
        fusion_hidden_dim=None,
        max_fused_terms=DEFAULTS["confu_max_fused_terms"],
        **shared,
    ):
        if not 0.0 <= fused_weight <= 1.0:
            raise ValueError(f"fused_weight must be in [0, 1], got {fused_weight}")
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if max_fused_terms is not None and max_fused_terms < 1:
            raise ValueError(
                f"max_fused_terms must be >= 1 or None, got {max_fused_terms}"
            )
        super().__init__(modality_dims, n_outputs, **shared)
        hidden_dim, n_mod = self.hidden_dim, self.n_modalities
        self.fused_weight = float(fused_weight)
        self.temperature = float(temperature)
        self.max_fused_terms = max_fused_terms
        self.embed_dim = int(embed_dim or hidden_dim)
        self.modality_pairs = list(itertools.combinations(range(n_mod), 2))
        fusion_hidden_dim = int(fusion_hidden_dim or 2 * hidden_dim)
        self.projections = nn.ModuleList(
            nn.Linear(hidden_dim, self.embed_dim) for _ in range(n_mod)
        )
        if self.fused_weight > 0 and n_mod >= 2:
            # fusion_heads[m] is g_{-m}, fed the encodings of every n != m.
            self.fusion_heads = nn.ModuleList(
                _fusion_mlp(
                    (n_mod - 1) * hidden_dim,
                    fusion_hidden_dim,
                    self.embed_dim,
                    self.dropout_rate,
                )
                for _ in range(n_mod)
            )
        else:
            self.fusion_heads = None
        # The supervised head reads every modality's embedding (missing slots
        # carry the projected token) and the mask, as in ConFu's "all
        # modalities" probe [z_1 || ... || z_M]; reading only the unit-norm
        # joint mean loses the per-modality detail.
        self.head = self._make_head(n_mod * self.embed_dim + n_mod, mlp=True)

    def _project(self, e):
        """Unimodal embeddings ``z`` (batch, M, embed_dim) of encodings ``e``."""
        # The M projections as one batched product: at a training batch of
        # 128 a step is bound by its number of operators, not its FLOPs.
        z = _stacked_linear(self.projections, e.transpose(0, 1))
        return F.normalize(z, dim=-1).transpose(0, 1)

    def _stacked_leave_one_out(self, e, heads):
        """``z_{-m}`` for each ``m`` in ``heads``, stacked: (len(heads), batch,
        embed_dim), ``z_{-m}`` being ``normalize(g_{-m}([e_n]_{n != m}))``.

        The heads' products stay one per head (a large product runs faster
        alone than in ``bmm``), their activations, dropout and normalisation
        run once on the stack: at a training batch of 128 a step is bound by
        its number of operators.
        """
        n_mod, batch = self.n_modalities, e.shape[0]
        others = torch.tensor([n for m in heads for n in range(n_mod) if n != m],
                              device=e.device)
        # index_select: its backward is a dense index_add.
        x = e.index_select(1, others).view(batch, len(heads), -1)
        mlps = [self.fusion_heads[m] for m in heads]
        _, relu, dropout1, _, leaky_relu, dropout2 = mlps[0]
        # unbind, not x[:, k]: its backward is one stack, where each select's
        # would fill a zero copy of x.
        h = torch.stack([mlp[0](x_k) for x_k, mlp in zip(x.unbind(1), mlps)])
        h = dropout1(relu(h))
        h = torch.stack([mlp[3](h[k]) for k, mlp in enumerate(mlps)])
        return F.normalize(dropout2(leaky_relu(h)), dim=-1)

    def _contrastive_loss(self, e, z, mask):
        """``lambda * mean(fused terms) + (1 - lambda) * mean(pair terms)``."""
        n_mod = self.n_modalities
        tau = self.temperature
        # z and the z_{-m} are unit rows already (_project, the heads).
        pair = paired_info_nce(z, mask, self.modality_pairs, tau, normalized=True)
        fused = None
        complete = mask.all(1)
        n_complete = int(complete.sum())
        if self.fusion_heads is not None and n_complete >= 2:
            # Only the complete rows enter a fused term: drop the rest first
            # (index_select, whose backward is a dense index_add).
            if n_complete < complete.shape[0]:
                rows = complete.nonzero().squeeze(1)
                e, z = e.index_select(0, rows), z.index_select(0, rows)
            # The cap is a training cost: in eval mode (a validation loss)
            # every term, or the loss would carry the noise of the draw (7%
            # of it on mfeat: 70x the early-stopping tolerance).
            drawn = draw_terms(n_mod, self.max_fused_terms if self.training else None)
            fused = stacked_info_nce(
                self._stacked_leave_one_out(e, drawn),
                z.transpose(0, 1).index_select(0, torch.tensor(drawn, device=z.device)),
                None, tau, normalized=True)
        if fused is None:
            return pair
        if pair is None:
            return fused
        return self.fused_weight * fused + (1.0 - self.fused_weight) * pair

    def forward(self, xs, mask, with_aux_loss=None):
        """Predict and embed; the contrastive loss only when asked.

        Parameters
        ----------
        xs, mask
            Per-modality tensors and the observation mask.
        with_aux_loss : bool, optional
            Compute ``aux_loss``; by default only in training mode. The loss
            compares every pair of rows of the batch (``batch x batch``
            similarities per term), which at inference would cost far more
            than the network itself; pass ``True`` in eval mode for a
            validation loss (every fused term, see ``max_fused_terms``).
        """
        e, mask = self.encoder(xs, mask)
        return self.fuse_encodings(e, mask, with_aux_loss)

    def fuse_encodings(self, e, mask, with_aux_loss=None):
        """The fusion step of :meth:`forward`, on encodings ``e`` (batch, M, H)."""
        z = self._project(e)
        embedding = F.normalize(masked_mean(z, mask), dim=-1)
        prediction = self._predict(torch.cat([z.flatten(1), mask.to(z.dtype)], dim=1))
        if with_aux_loss is None:
            with_aux_loss = self.training
        aux_loss = self._contrastive_loss(e, z, mask) if with_aux_loss else None
        return FusionOutput(prediction, embedding, aux_loss, {})

    def modality_embeddings(self, xs, mask):
        """Unimodal embeddings ``z_m`` of every modality.

        Returns
        -------
        z : Tensor of shape (batch, M, embed_dim)
            Unit rows; zeros in the slots of missing modalities.
        """
        e, mask = self.encoder(xs, mask)
        z = self._project(e)
        return torch.where(mask.unsqueeze(-1), z, torch.zeros_like(z))

    def embed_subset(self, xs, mask, modalities):
        r"""Embedding of a group ``G`` of modalities, for probing and retrieval.

        * one modality :math:`m`: its unimodal embedding :math:`z_m`;
        * all modalities but one, :math:`m`: the fused :math:`z_{-m}` of the
          fusion head :math:`g_{-m}` (the embedding trained to retrieve
          :math:`z_m`; for :math:`M = 3` the fused pair :math:`z_{ij}`);
        * any other group, or any group when there are no fusion heads
          (``fused_weight=0``): :math:`\mathrm{normalize}` of the mean of the
          observed :math:`z_n, n \in G`.

        A sample with no observed modality of ``G`` gets zeros. A sample with
        some of ``G`` missing is fed to :math:`g_{-m}` with the missing slots
        filled (token or zeros); the strict fused loss never trains on such
        rows, so treat those embeddings with care.

        Parameters
        ----------
        xs, mask
            As for ``forward``.
        modalities : sequence of int
            Indices of the modalities in ``G`` (order does not matter).

        Returns
        -------
        Tensor of shape (batch, embed_dim)
        """
        n_mod = self.n_modalities
        group = sorted({int(m) for m in modalities})
        if not group or group[0] < 0 or group[-1] >= n_mod:
            raise ValueError(
                f"modalities must be a non-empty subset of range({n_mod}), "
                f"got {list(modalities)}"
            )
        e, mask = self.encoder(xs, mask)
        observed = mask[:, group].any(1, keepdim=True)
        if len(group) == 1:
            out = F.normalize(self.projections[group[0]](e[:, group[0]]), dim=-1)
        elif self.fusion_heads is not None and len(group) == n_mod - 1:
            (left_out,) = set(range(n_mod)) - set(group)
            out = self._stacked_leave_one_out(e, [left_out])[0]
        else:
            z = self._project(e)
            out = F.normalize(masked_mean(z[:, group], mask[:, group]), dim=-1)
        return torch.where(observed, out, torch.zeros_like(out))
