"""The base class of the fusion networks: shared arguments, encoder and head rule.

Modelled on PyTorch Geometric's ``MessagePassing``: the base class owns the
machinery every network shares (here the argument checks, the
:class:`~sklearn_mmfusion.nn.ModalityEncoder` and the "no supervised head"
rule) and its ``forward`` calls one method that each network writes, its
fusion step :meth:`FusionNetwork.fuse_encodings`, as ``GATConv`` writes only
``message``.
"""

import numbers

from torch import nn

from ._defaults import DEFAULTS, GATES, MISSING_STRATEGIES
from ._encoders import MLPHead, ModalityEncoder

__all__ = ["DEFAULTS", "GATES", "MISSING_STRATEGIES", "FusionNetwork"]


class FusionNetwork(nn.Module):
    """Base class of the fusion networks. Not for direct use.

    Builds ``self.encoder``, a :class:`~sklearn_mmfusion.nn.ModalityEncoder`,
    first, so a subclass that builds its own layers after calling
    ``super().__init__`` creates its parameters in a fixed order. ``forward``
    encodes the modalities and hands them to :meth:`fuse_encodings`.

    Parameters
    ----------
    modality_dims : sequence of int
        Input width of each modality.
    n_outputs : int
        Width of the prediction (classes, or regression targets); 0 for no
        supervised head (``prediction`` is then ``None``).
    hidden_dim : int, default=128
        Width of the modality encodings.
    dropout : float, default=0.1
        Dropout after each encoder, and in the fusion layers and head.
    missing : {"mask", "zero", "calibrated"}, default="mask"
        How missing encoding slots are filled (see
        :class:`~sklearn_mmfusion.nn.ModalityEncoder`).
    modality_dropout : float, default=0.0
        Probability of hiding an observed modality while training.
    numerical_embedding : {None, "periodic", "piecewise"}, default=None
        ``"periodic"`` puts a :class:`~sklearn_mmfusion.nn.PeriodicEmbedding`
        before the first layer of every modality of at most
        ``DEFAULTS["embedding_max_width"]`` columns; ``"piecewise"`` a
        :class:`~sklearn_mmfusion.nn.PiecewiseLinearEncoding` before that of
        every modality with ``bin_edges``.
    bin_edges : sequence of (array-like or None), optional
        With ``"piecewise"``: per modality, the edges of its features' bins
        (:func:`~sklearn_mmfusion.nn.quantile_bin_edges` of its training
        rows), or ``None`` for a plain first layer.

    Attributes
    ----------
    encoder : ModalityEncoder
    n_outputs, hidden_dim, dropout_rate, missing
        The arguments, as given.
    n_modalities : int
        Number of modalities M.

    Notes
    -----
    A subclass calls ``super().__init__(modality_dims, n_outputs, hidden_dim,
    dropout, missing, modality_dropout)``, then builds its own layers, its
    supervised head with :meth:`_make_head`, and implements
    :meth:`fuse_encodings`.
    """

    def __init__(
        self,
        modality_dims,
        n_outputs,
        hidden_dim=DEFAULTS["hidden_dim"],
        dropout=DEFAULTS["dropout"],
        missing=DEFAULTS["missing"],
        modality_dropout=DEFAULTS["modality_dropout"],
        numerical_embedding=DEFAULTS["numerical_embedding"],
        bin_edges=None,
    ):
        super().__init__()
        modality_dims = tuple(modality_dims)
        if len(modality_dims) == 0:
            raise ValueError("modality_dims must name at least one modality")
        if not _is_int(n_outputs) or n_outputs < 0:
            raise ValueError(f"n_outputs must be an int >= 0, got {n_outputs!r}")
        if not _is_int(hidden_dim) or hidden_dim < 1:
            raise ValueError(f"hidden_dim must be an int >= 1, got {hidden_dim!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        if missing not in MISSING_STRATEGIES:
            raise ValueError(
                f"missing must be one of {MISSING_STRATEGIES}, got {missing!r}"
            )
        # modality_dropout is checked by ModalityDropout, inside the encoder.
        self.n_outputs = int(n_outputs)
        self.hidden_dim = int(hidden_dim)
        # Not "dropout": several networks name their nn.Dropout layer so.
        self.dropout_rate = dropout
        self.missing = missing
        self.encoder = ModalityEncoder(
            modality_dims, hidden_dim, dropout, missing, modality_dropout,
            numerical_embedding, bin_edges,
        )

    @property
    def n_modalities(self):
        """Number of modalities M."""
        return self.encoder.n_modalities

    def _make_head(self, in_dim, mlp=False, copies=None):
        """The supervised head on ``in_dim`` features; None when ``n_outputs`` is 0.

        ``mlp=False`` gives ``Linear(in_dim, n_outputs)``, ``mlp=True`` an
        :class:`~sklearn_mmfusion.nn.MLPHead` of width ``hidden_dim`` with the
        network's dropout. With ``copies=k``, an ``nn.ModuleList`` of ``k``
        such heads (e.g. one per modality).
        """
        if not self.n_outputs:
            return None
        if copies is not None:
            return nn.ModuleList(self._make_head(in_dim, mlp) for _ in range(copies))
        if mlp:
            return MLPHead(in_dim, self.n_outputs, self.hidden_dim, self.dropout_rate)
        return nn.Linear(in_dim, self.n_outputs)

    def _predict(self, features):
        """``self.head(features)``, or None for a network without a head."""
        return None if self.head is None else self.head(features)

    def forward(self, xs, mask):
        """Encode the modalities, then fuse them.

        Parameters
        ----------
        xs : sequence of M Tensors, ``xs[m]`` of shape (batch, d_m)
            Per-modality inputs; rows of missing modalities hold finite filler
            values.
        mask : bool Tensor of shape (batch, M)
            True where a modality is observed.

        Returns
        -------
        FusionOutput
        """
        h, mask = self.encoder(xs, mask)
        return self.fuse_encodings(h, mask)

    def fuse_encodings(self, h, mask):
        """The network's fusion step.

        Parameters
        ----------
        h : Tensor of shape (batch, M, hidden_dim)
            Encodings, missing slots already filled.
        mask : bool Tensor of shape (batch, M)
            The observation mask after modality dropout.

        Returns
        -------
        FusionOutput
        """
        raise NotImplementedError


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
