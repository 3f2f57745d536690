"""Building blocks shared by every fusion network.

Every fusion network in :mod:`sklearn_mmfusion.nn` has the same calling
convention::

    out = network(xs, mask)

``xs`` is a sequence of ``M`` float tensors, ``xs[m]`` of shape
``(batch, d_m)``, whose rows for missing modalities hold finite filler values
(zeros); ``mask`` is a boolean tensor of shape ``(batch, M)`` that is ``True``
where a modality is observed. The network returns a :class:`FusionOutput`.

Missing rows are never read through arithmetic that could let a NaN through:
slots are replaced with :func:`torch.where`, not multiplied by the mask.
"""

import itertools
from typing import NamedTuple, Optional, Sequence

import torch
from torch import nn

from ._calibrator import ModalityCalibrator
from ._defaults import DEFAULTS, MISSING_STRATEGIES, NUMERICAL_EMBEDDINGS


def _run(layers, x):
    """``x`` through ``layers`` in turn."""
    for layer in layers:
        x = layer(x)
    return x


class FusionOutput(NamedTuple):
    """What a fusion network returns.

    Attributes
    ----------
    prediction : Tensor of shape (batch, n_outputs) or None
        Logits (classification) or outputs (regression); ``None`` for a
        network trained without a supervised head.
    embedding : Tensor of shape (batch, hidden_dim)
        The fused representation of each sample.
    aux_loss : Tensor or None
        A scalar to add to the task loss (e.g. a contrastive term), or ``None``.
    details : dict
        Per-sample interpretability outputs, e.g. ``{"gates": ...}``.
    """

    prediction: Optional[torch.Tensor]
    embedding: torch.Tensor
    aux_loss: Optional[torch.Tensor] = None
    details: dict = {}


def masked_mean(values, mask):
    """Mean of ``values`` (batch, M, D) over the slots where ``mask`` is True.

    A sample with no observed slot gets zeros, not NaN.
    """
    weights = mask.to(values.dtype).unsqueeze(-1)
    total = torch.where(mask.unsqueeze(-1), values, torch.zeros_like(values)).sum(1)
    return total / weights.sum(1).clamp_min(1.0)


class Dropout(nn.Dropout):
    """:class:`torch.nn.Dropout` with a cheaper mask on the CPU.

    On the CPU, ``torch.nn.Dropout`` draws one Bernoulli variable per element
    from the Mersenne Twister, about 6 ns each on the 2-core machine the
    benchmarks run on: a quarter of a TransformerFusion training step at
    batch 128. Here one 64-bit draw (``random_`` on an int64 tensor) gives
    four elements 15 random bits each, and an element is dropped when its bits
    fall under ``round(p * 2**15)``: the same independent masks, with ``p``
    rounded to a multiple of ``2**-15``, at about 1/6 of the cost. Kept
    elements are scaled by ``1 / (1 - p)`` of that rounded ``p``, so the
    expectation is unchanged. On other devices (their generators are fast)
    and in eval mode it is ``torch.nn.Dropout``; it has no state, so a
    network's ``state_dict`` is the same with either.
    """

    # 15 of each 16-bit lane: the top bit of an int64 ``random_`` draw is 0.
    LANE_BITS = 15

    def forward(self, x):
        if not self.training or self.p == 0.0 or x.device.type != "cpu" or self.inplace:
            return super().forward(x)
        threshold = int(round(self.p * 2**self.LANE_BITS))
        if threshold >= 2**self.LANE_BITS:
            return super().forward(x)
        n = x.numel()
        words = torch.empty((n + 3) // 4, dtype=torch.int64, device=x.device).random_()
        lanes = words.view(torch.int16)[:n].view(x.shape)
        keep = torch.bitwise_and(lanes, 2**self.LANE_BITS - 1) >= threshold
        scale = 2**self.LANE_BITS / (2**self.LANE_BITS - threshold)
        return x * keep.to(x.dtype).mul_(scale)


class MLPHead(nn.Sequential):
    """Two-layer MLP from the fused representation to the outputs."""

    def __init__(self, in_dim, n_outputs, hidden_dim, dropout=0.0):
        super().__init__(
            nn.Linear(in_dim, hidden_dim),
            nn.GELU(),
            Dropout(dropout),
            nn.Linear(hidden_dim, n_outputs),
        )


class ModalityDropout(nn.Module):
    """Hide each observed modality with probability ``p`` during training.

    A sample keeps at least one of the modalities it had, so training never
    sees a sample emptied by the augmentation. Inactive in eval mode.
    """

    def __init__(self, p=0.0):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"modality dropout p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, mask):
        if not self.training or self.p == 0.0:
            return mask
        keep = torch.rand(mask.shape, device=mask.device) >= self.p
        dropped = mask & keep
        # Where the draw hid everything a sample had, give it back its first
        # observed modality; samples that had nothing stay empty.
        emptied = mask.any(1) & ~dropped.any(1)
        first = torch.zeros_like(mask)
        first.scatter_(1, mask.to(torch.int8).argmax(1, keepdim=True), True)
        return torch.where(emptied.unsqueeze(1), first & mask, dropped)


class PeriodicEmbedding(nn.Module):
    r"""Periodic embedding of each numerical feature (PLR-lite).

    The "lite" periodic embedding of Gorishniy et al. (NeurIPS 2022, as
    ``rtdl_num_embeddings.PeriodicEmbeddings(lite=True)``): feature
    :math:`x_j` becomes

    .. math::

        e_j = \mathrm{ReLU}(W [\cos(2 \pi c_j x_j) \| \sin(2 \pi c_j x_j)] + b)

    with :math:`c_j \in \mathbb{R}^k` learned frequencies per feature
    (initialised from :math:`N(0, \sigma^2)`, truncated at :math:`3\sigma`)
    and :math:`W, b` shared by all features. The output is the
    concatenation of the :math:`e_j`. Written here rather than imported
    because the core dependencies are fixed; the tests check it against
    ``rtdl_num_embeddings`` when that is installed.

    Parameters
    ----------
    n_features : int
    d_embedding : int, default=8
        Width of each feature's embedding.
    n_frequencies : int, default=48
        :math:`k`.
    sigma : float, default=0.1
        Scale of the initial frequencies, for inputs scaled to about [-3, 3].

    Notes
    -----
    Shapes: ``(batch, n_features) -> (batch, n_features * d_embedding)``.
    """

    def __init__(self, n_features, d_embedding=8, n_frequencies=48, sigma=0.1):
        super().__init__()
        if sigma <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        self.frequencies = nn.Parameter(torch.empty(n_features, n_frequencies))
        nn.init.trunc_normal_(self.frequencies, 0.0, sigma, a=-3 * sigma, b=3 * sigma)
        self.linear = nn.Linear(2 * n_frequencies, d_embedding)

    def forward(self, x):
        angles = 2 * torch.pi * self.frequencies * x.unsqueeze(-1)
        periodic = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
        return torch.relu(self.linear(periodic)).flatten(1)


def quantile_bin_edges(x, n_bins=DEFAULTS["n_bins"]):
    """Bin edges of each column of ``x`` at its quantiles, for
    :class:`PiecewiseLinearEncoding`.

    The quantile bins of Gorishniy et al. (NeurIPS 2022), computed as
    ``rtdl_num_embeddings.compute_bins`` does: the ``n_bins + 1`` quantiles
    of each column, repeated values merged, so a column gets at most
    ``n_bins`` bins and fewer where it has fewer distinct values (none when it
    is constant).

    Parameters
    ----------
    x : Tensor of shape (n_rows, n_features)
        Training values (finite), the rows of one modality where it is present.
    n_bins : int, default=48
        Most bins per column.

    Returns
    -------
    edges : Tensor of shape (n_features, n_bins + 1)
        Each row ascending, padded with NaN after its distinct edges.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmfusion.nn import quantile_bin_edges
    >>> x = torch.tensor([[0.0, 1.0], [1.0, 1.0], [2.0, 0.0], [4.0, 1.0]])
    >>> quantile_bin_edges(x, n_bins=2)
    tensor([[0.0000, 1.5000, 4.0000],
            [0.0000, 1.0000,    nan]])
    """
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"quantile_bin_edges needs at least 2 rows, got shape {tuple(x.shape)}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    x = x.to(torch.float32)
    q = torch.linspace(0.0, 1.0, n_bins + 1, device=x.device, dtype=x.dtype)
    # torch.quantile takes at most 2**24 values per call: a few columns at a time.
    step = max(1, 2**24 // x.shape[0])
    quantiles = torch.cat(
        [torch.quantile(x[:, j : j + step], q, dim=0) for j in range(0, x.shape[1], step)],
        dim=1,
    ).T
    edges = torch.full_like(quantiles, float("nan"))
    for j, column in enumerate(quantiles):
        distinct = column.unique()
        edges[j, : distinct.numel()] = distinct
    return edges


class PiecewiseLinearEncoding(nn.Module):
    r"""Piecewise-linear encoding of each numerical feature on fixed bins.

    The PLE of Gorishniy et al. (NeurIPS 2022, Eq. 1; as
    ``rtdl_num_embeddings.PiecewiseLinearEncoding``): with edges
    :math:`b_0 < \dots < b_T` of a feature, bin :math:`t` encodes
    :math:`x` as :math:`(x - b_{t-1}) / (b_t - b_{t-1})` clipped to
    :math:`[0, 1]`, so the encoding reads ``[1, ..., 1, fraction, 0, ..., 0]``;
    the first bin is not clipped below and the last not above (the
    encoding extrapolates linearly outside the training range), and a
    feature with one bin is encoded linearly. The next linear layer can then
    put a step at any bin edge, the way a tree splits a feature, which a
    single weight on the raw value cannot. Written here rather than imported
    because the core dependencies are fixed; the tests check it against
    ``rtdl_num_embeddings`` when that is installed, with the same layout:
    a feature with fewer bins than the widest has zeros between its
    next-to-last and its last component, which always comes last.

    Parameters
    ----------
    edges : array-like of shape (n_features, n_edges)
        Each row ascending, padded with NaN after its edges (as
        :func:`quantile_bin_edges` returns them). A feature with one edge (a
        constant in training) has no bin and is encoded as zeros.

    Notes
    -----
    Shapes: ``(batch, n_features) -> (batch, n_features * (n_edges - 1))``.
    The edges are buffers, saved in the ``state_dict``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmfusion.nn import PiecewiseLinearEncoding
    >>> encoding = PiecewiseLinearEncoding([[0.0, 1.0, 3.0, 4.0]])
    >>> encoding(torch.tensor([[-1.0], [2.0], [5.0]]))
    tensor([[-1.0000,  0.0000,  0.0000],
            [ 1.0000,  0.5000,  0.0000],
            [ 1.0000,  1.0000,  2.0000]])
    """

    def __init__(self, edges):
        super().__init__()
        edges = torch.as_tensor(edges, dtype=torch.float32)
        if edges.ndim != 2 or edges.shape[1] < 2:
            raise ValueError(
                f"edges must have shape (n_features, n_edges >= 2), got {tuple(edges.shape)}"
            )
        n_features, width = edges.shape[0], edges.shape[1] - 1
        left = torch.zeros(n_features, width)
        inverse_width = torch.zeros(n_features, width)
        # Clip bounds per component: [0, 1] inside, open at the outer ends
        # (the largest float, not inf: buffers are checked to be finite);
        # unused components stay 0 * x clipped to [0, 0].
        unbounded = torch.finfo(torch.float32).max
        lower = torch.zeros(n_features, width)
        upper = torch.zeros(n_features, width)
        for j, row in enumerate(edges):
            row = row[~torch.isnan(row)]
            if torch.any(row[1:] <= row[:-1]):
                raise ValueError(f"the edges of feature {j} are not strictly ascending")
            n = row.numel() - 1
            if n < 1:
                continue
            # Bins 0 .. n-2 first, the last bin in the last component.
            slots = list(range(n - 1)) + [width - 1]
            left[j, slots] = row[:-1]
            inverse_width[j, slots] = 1.0 / (row[1:] - row[:-1])
            lower[j, slots], upper[j, slots] = 0.0, 1.0
            lower[j, slots[0]] = -unbounded
            upper[j, width - 1] = unbounded
        self.register_buffer("left", left)
        self.register_buffer("inverse_width", inverse_width)
        self.register_buffer("lower", lower)
        self.register_buffer("upper", upper)

    @property
    def n_features(self):
        return self.left.shape[0]

    @property
    def n_bins(self):
        """Components per feature: the most bins of any feature."""
        return self.left.shape[1]

    def forward(self, x):
        fraction = (x.unsqueeze(-1) - self.left) * self.inverse_width
        return torch.minimum(torch.maximum(fraction, self.lower), self.upper).flatten(1)


class ModalityEncoder(nn.Module):
    """Encode every modality to a common width and fill the missing slots.

    For each modality ``m``: ``Linear(d_m, hidden_dim) -> LayerNorm -> GELU ->
    Dropout``. Missing slots are then replaced according to ``missing``:
    ``"mask"`` puts a learnable token per modality there (the network can
    tell "absent" from any observed value), ``"zero"`` puts zeros, and
    ``"calibrated"`` puts the CalMRL imputation of the missing encoding from
    the observed ones (:class:`~sklearn_mmfusion.nn.ModalityCalibrator`, a
    shared-latent model fitted by EM on the encodings, see
    :meth:`refresh_calibration`). The imputations are detached: the
    generative step is closed-form, as in CalMRL's bi-step training, so no
    gradient flows through the posterior into the observed encoders.
    Applies :class:`ModalityDropout` to the mask first when training, so with
    ``"calibrated"`` the network also learns from imputed encodings of
    modalities it actually has.

    Parameters
    ----------
    modality_dims : sequence of int
        Input width of each modality.
    hidden_dim : int
        Common width of the encodings.
    dropout : float
        Dropout after each encoder.
    missing : {"mask", "zero", "calibrated"}
        How missing slots are filled.
    modality_dropout : float
        Probability of hiding an observed modality while training.
    numerical_embedding : {None, "periodic", "piecewise"}
        How the features reach each modality's first linear layer: as they
        are; through a :class:`PeriodicEmbedding` (modalities of at most
        ``DEFAULTS["embedding_max_width"]`` columns); or through a
        :class:`PiecewiseLinearEncoding` on ``bin_edges`` (the modalities
        that have edges).
    bin_edges : sequence of (array-like or None), optional
        With ``"piecewise"``: per modality, its edges (see
        :func:`quantile_bin_edges`), or ``None`` for a plain linear first
        layer (wide or sparse modalities).

    Notes
    -----
    Shapes: ``forward(xs, mask) -> (h, mask)`` with ``h`` of shape
    ``(batch, M, hidden_dim)`` and the (possibly augmented) mask.
    """

    def __init__(
        self, modality_dims, hidden_dim, dropout=0.0, missing="mask", modality_dropout=0.0,
        numerical_embedding=None, bin_edges=None,
    ):
        super().__init__()
        if missing not in MISSING_STRATEGIES:
            raise ValueError(
                f"missing must be one of {MISSING_STRATEGIES}, got {missing!r}"
            )
        if numerical_embedding not in NUMERICAL_EMBEDDINGS:
            raise ValueError(
                f"numerical_embedding must be one of {NUMERICAL_EMBEDDINGS}, got "
                f"{numerical_embedding!r}"
            )
        self.modality_dims = tuple(int(d) for d in modality_dims)
        if numerical_embedding == "piecewise":
            if bin_edges is None or len(bin_edges) != len(self.modality_dims):
                raise ValueError(
                    "numerical_embedding='piecewise' needs bin_edges, one entry (edges or "
                    f"None) per modality: {len(self.modality_dims)}"
                )
        elif bin_edges is not None:
            raise ValueError("bin_edges is only used with numerical_embedding='piecewise'")
        bin_edges = [None] * len(self.modality_dims) if bin_edges is None else bin_edges
        self.hidden_dim = hidden_dim
        self.missing = missing
        self.numerical_embedding = numerical_embedding
        self.encoders = nn.ModuleList(
            nn.Sequential(
                *self._first_layer(d, hidden_dim, edges),
                nn.LayerNorm(hidden_dim),
                nn.GELU(),
                Dropout(dropout),
            )
            for d, edges in zip(self.modality_dims, bin_edges)
        )
        self.modality_dropout = ModalityDropout(modality_dropout)
        if missing == "mask":
            self.missing_token = nn.Parameter(
                torch.randn(len(self.modality_dims), hidden_dim) * 0.02
            )
        else:
            self.register_buffer(
                "missing_token", torch.zeros(len(self.modality_dims), hidden_dim)
            )
        self.calibrator = None
        if missing == "calibrated":
            self.calibrator = ModalityCalibrator(
                [hidden_dim] * len(self.modality_dims),
                n_components=max(1, min(16, hidden_dim // 4)),
            )

    def _first_layer(self, width, hidden_dim, edges=None):
        if edges is not None:
            encoding = PiecewiseLinearEncoding(edges)
            if encoding.n_features != width:
                raise ValueError(
                    f"bin_edges has {encoding.n_features} rows for a modality of {width} "
                    "features"
                )
            return [encoding, nn.Linear(width * encoding.n_bins, hidden_dim)]
        # Periodic embeddings pay on narrow numerical modalities (sensor
        # statistics, image descriptors); a wide one (bag of words,
        # thousands of columns) keeps its single linear layer, whose size
        # the embedding would multiply.
        if self.numerical_embedding == "periodic" and width <= DEFAULTS["embedding_max_width"]:
            d_embedding = DEFAULTS["embedding_dim"]
            return [PeriodicEmbedding(width, d_embedding, sigma=DEFAULTS["embedding_sigma"]),
                    nn.Linear(width * d_embedding, hidden_dim)]
        return [nn.Linear(width, hidden_dim)]

    @property
    def n_modalities(self):
        return len(self.modality_dims)

    def forward(self, xs: Sequence[torch.Tensor], mask: torch.Tensor):
        if len(xs) != self.n_modalities:
            raise ValueError(
                f"expected {self.n_modalities} modality tensors, got {len(xs)}"
            )
        mask = self.modality_dropout(mask)
        h = self.encode(xs)
        if self.calibrator is not None:
            filled = torch.stack(self.calibrator(h.unbind(1), mask), dim=1)
        else:
            filled = self.missing_token.to(h.dtype)
        return torch.where(mask.unsqueeze(-1), h, filled), mask

    def encode(self, xs):
        """Encodings of every slot, ``(batch, M, hidden_dim)``, before filling.

        Each modality's first layer and LayerNorm run on its own; the GELU and
        the dropout, the same for every modality, run once on the stack of all
        of them, modality-major: at a training batch of 128 a step is bound by
        its number of operators. On the CPU the result is bit for bit that of
        running each modality's whole encoder in turn when ``batch *
        hidden_dim`` is a multiple of 4 (every default width is): the
        activation is element-wise, and :class:`Dropout` draws its random
        words in one sequence, four elements a word, so one draw over the
        stack gives the masks of one draw per modality in modality order.
        Otherwise, and on other devices, the masks are other draws of the same
        distribution.
        """
        normed = torch.stack([
            _run(itertools.islice(enc, len(enc) - 2), x) for enc, x in zip(self.encoders, xs)
        ])  # (M, batch, hidden_dim)
        activation, dropout = self.encoders[0][-2], self.encoders[0][-1]
        return dropout(activation(normed)).transpose(0, 1).contiguous()

    @torch.no_grad()
    def refresh_calibration(self, xs, mask, max_iter=1, batch_size=4096):
        """Refit the calibrator by EM on the encodings of ``xs`` (eval mode).

        The training loop calls it before the first epoch (a few EM
        iterations) and after every epoch (one), so the shared-latent model
        follows the encoders. No-op unless ``missing="calibrated"``. Returns
        the mean log-likelihood per iteration.
        """
        if self.calibrator is None:
            return []
        was_training = self.training
        self.eval()
        h = torch.cat(
            [self.encode([x[i : i + batch_size] for x in xs])
             for i in range(0, mask.shape[0], batch_size)]
        )
        self.train(was_training)
        return self.calibrator.fit_em(h.unbind(1), mask, max_iter=max_iter)
