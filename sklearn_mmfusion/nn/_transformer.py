"""Transformer fusion: one token per modality and a [CLS] token read out."""

import torch
from torch import nn

from ._base import FusionNetwork
from ._defaults import DEFAULTS
from ._encoders import Dropout, FusionOutput


class TransformerFusion(FusionNetwork):
    r"""A Transformer encoder over one token per modality, read out at [CLS].

    The tokens are :math:`t_0 = c` (a learnable [CLS] token) and
    :math:`t_m = h_m + e_m` for :math:`m = 1..M`, the encoding of modality
    :math:`m` plus a learnable modality-type embedding (self-attention alone
    cannot tell which token is which modality). ``n_layers`` pre-norm
    :class:`torch.nn.TransformerEncoderLayer` layers (``n_heads`` heads,
    feed-forward width ``2 * hidden_dim``, GELU, the network's dropout) run
    over them, and

    .. math::

        z = \mathrm{LayerNorm}(t^L_0), \qquad \hat y = W z + b.

    Missing modalities are left out of the attention as keys
    (``src_key_padding_mask``): no token attends to them, so a sample's output
    does not depend on what fills their slots. The [CLS] token is never left
    out, so a sample with no observed modality still gets a finite output
    (the same for every such sample). With ``missing="calibrated"`` the
    imputed encodings of missing modalities are attended to instead, as
    :class:`~sklearn_mmfusion.nn.LateFusion` averages them in: they are
    computed from the observed modalities only.

    Parameters
    ----------
    modality_dims, n_outputs, hidden_dim, dropout, missing, modality_dropout
        As for :class:`~sklearn_mmfusion.nn.FusionNetwork`; ``hidden_dim``
        is the token width, a multiple of ``n_heads``; the head is linear.
    n_heads : int, default=4
        Attention heads of each layer.
    n_layers : int, default=2
        Number of Transformer encoder layers, at least 1.

    Notes
    -----
    The layers are built one by one rather than with
    :class:`torch.nn.TransformerEncoder`, which deep-copies one layer (every
    layer would start from the same weights) and, in eval mode, may switch
    to nested tensors that handle the padded tokens differently. The last
    layer is computed at [CLS] alone, the only token read after it (the
    others are its keys and values).
    """

    def __init__(
        self,
        modality_dims,
        n_outputs,
        *,
        n_heads=DEFAULTS["n_heads"],
        n_layers=DEFAULTS["transformer_n_layers"],
        **shared,
    ):
        if n_heads < 1 or n_layers < 1:
            raise ValueError(
                f"n_heads and n_layers must be >= 1, got {n_heads} and {n_layers}"
            )
        super().__init__(modality_dims, n_outputs, **shared)
        width = self.hidden_dim
        if width % n_heads:
            raise ValueError(
                f"hidden_dim ({width}) must be a multiple of n_heads ({n_heads})"
            )
        self.n_heads, self.n_layers = n_heads, n_layers
        self.modality_embedding = nn.Parameter(
            torch.randn(self.n_modalities, width) * 0.02
        )
        self.cls_token = nn.Parameter(torch.randn(width) * 0.02)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                width,
                n_heads,
                dim_feedforward=2 * width,
                dropout=self.dropout_rate,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            for _ in range(n_layers)
        )
        for layer in self.layers:
            # The layers' own nn.Dropout modules (after attention and in the
            # feed-forward block) with the package's cheaper CPU mask; the
            # attention weights' dropout inside MultiheadAttention is a
            # functional call on (batch, heads, M + 1, M + 1), small.
            for name in ("dropout", "dropout1", "dropout2"):
                setattr(layer, name, Dropout(self.dropout_rate))
        # Pre-norm layers leave their output unnormalised: normalise the
        # [CLS] token once at the end.
        self.norm = nn.LayerNorm(width)
        self.head = self._make_head(width)

    def fuse_encodings(self, h, mask):
        cls = self.cls_token.expand(h.shape[0], 1, -1)
        tokens = torch.cat([cls, h + self.modality_embedding], dim=1)
        ignored = ~mask
        if self.encoder.calibrator is not None:
            # Calibrated imputations are attended to, like observed tokens.
            ignored = torch.zeros_like(mask)
        # True = not attended to; the [CLS] key (column 0) is always kept.
        ignored = torch.cat([torch.zeros_like(mask[:, :1]), ignored], dim=1)
        *layers, last = self.layers
        for layer in layers:
            tokens = layer(tokens, src_key_padding_mask=ignored)
        z = self.norm(_cls_output_of(last, tokens, ignored))
        return FusionOutput(self._predict(z), z)


def _cls_output_of(layer, tokens, ignored):
    """A pre-norm ``TransformerEncoderLayer``'s output at [CLS] alone.

    Only [CLS] is read after the last layer, so its other tokens are needed
    as keys and values only: their queries, attention outputs and
    feed-forward blocks (about two thirds of the layer's FLOPs at 7 tokens)
    are skipped. Equal to ``layer(tokens, src_key_padding_mask=ignored)[:, 0]``
    up to rounding.
    """
    normed = layer.norm1(tokens)
    attended = layer.self_attn(
        normed[:, :1], normed, normed, key_padding_mask=ignored, need_weights=False
    )[0]
    cls = tokens[:, 0] + layer.dropout1(attended[:, 0])
    hidden = layer.dropout(layer.activation(layer.linear1(layer.norm2(cls))))
    return cls + layer.dropout2(layer.linear2(hidden))
