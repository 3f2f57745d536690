"""Synthetic XOR modalities: a label that only a combination of modalities reveals."""

import numbers
from itertools import cycle, islice

import numpy as np
from sklearn.utils import check_random_state

from .._data import ModalityDict

DEFAULT_WIDTHS = (8, 12, 16)
LABELS = ("xor", "bits")


def make_xor_modalities(
    n_samples=1000,
    n_modalities=3,
    widths=None,
    noise=0.1,
    shared_strength=0.0,
    shared_dim=4,
    bit_dim=4,
    label="xor",
    random_state=None,
):
    r"""Generate modalities whose bits are related by an XOR.

    Each sample carries bits :math:`b_1, b_2 \sim \mathrm{Bernoulli}(1/2)`
    drawn independently, and :math:`b_3 = b_1 \oplus b_2`. Any two of the
    three bits are independent of each other, yet any two determine the
    third: the dependency is purely higher-order (zero pairwise mutual
    information). Modality :math:`m` carries bit :math:`b_m` and a latent
    :math:`c \sim \mathcal N(0, I_k)` shared by all modalities:

    .. math::

        x_m = A_m^\top \big[\gamma\, c \,\|\, (1 - \gamma)(2 b_m - 1)\,
              \mathbf 1_r\big] + \sigma \varepsilon_m,
        \qquad \varepsilon_m \sim \mathcal N(0, I_{d_m})

    with a random mixing matrix :math:`A_m \in \mathbb R^{(k + r) \times d_m}`
    (entries :math:`\mathcal N(0, 1/(k + r))`, drawn once per call),
    :math:`\gamma` = ``shared_strength`` (the pairwise-alignable "geometric"
    part), :math:`k` = ``shared_dim``, :math:`r` = ``bit_dim`` and
    :math:`\sigma` = ``noise``. Modalities beyond the third carry fresh
    independent bits (distractors that share only :math:`c` with the others),
    so the label stays :math:`y = b_3 = b_1 \oplus b_2` for any
    ``n_modalities``.

    The label is independent of modality 1 alone and of modality 2 alone
    (and, with ``shared_strength=0``, of each of them together with any
    distractor modality), while modalities 1 and 2 together, or modality 3
    alone, determine it up to noise.

    Parameters
    ----------
    n_samples : int, default=1000
    n_modalities : int, default=3
        At least 3.
    widths : sequence of int, optional
        Width :math:`d_m` of each modality; defaults to 8, 12, 16, 8, 12, ...
    noise : float, default=0.1
        Standard deviation :math:`\sigma` of the Gaussian noise.
    shared_strength : float in [0, 1], default=0.0
        Weight :math:`\gamma` of the shared latent; 0 makes the modalities
        pairwise independent, 1 removes the bits.
    shared_dim : int, default=4
        Dimension :math:`k` of the shared latent.
    bit_dim : int, default=4
        Length :math:`r` of the bit's block in the latent (with ``shared_dim``
        it sets the bit's share of each modality's variance).
    label : {"xor", "bits"}, default="xor"
        ``"xor"``: :math:`y = b_3 \in \{0, 1\}`; ``"bits"``:
        :math:`y = 2 b_1 + b_2 \in \{0, 1, 2, 3\}`, which identifies all
        three bits.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ModalityDict
        ``{"m0": (n_samples, d_0), "m1": ..., ...}``, float64.
    y : ndarray of shape (n_samples,)
        Integer labels.

    Examples
    --------
    >>> from sklearn_mmfusion.datasets import make_xor_modalities
    >>> X, y = make_xor_modalities(n_samples=200, random_state=0)
    >>> sorted(X), [X[name].shape for name in sorted(X)]
    (['m0', 'm1', 'm2'], [(200, 8), (200, 12), (200, 16)])
    >>> y[:8]
    array([1, 1, 0, 0, 1, 1, 1, 1])
    """
    if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if not isinstance(n_modalities, numbers.Integral) or n_modalities < 3:
        raise ValueError(f"n_modalities must be an integer >= 3, got {n_modalities!r}")
    if widths is None:
        widths = tuple(islice(cycle(DEFAULT_WIDTHS), n_modalities))
    widths = tuple(int(w) for w in widths)
    if len(widths) != n_modalities or min(widths) < 1:
        raise ValueError(
            f"widths must hold {n_modalities} positive integers, got {widths}"
        )
    if noise < 0:
        raise ValueError(f"noise must be non-negative, got {noise}")
    if not 0.0 <= shared_strength <= 1.0:
        raise ValueError(f"shared_strength must be in [0, 1], got {shared_strength}")
    if shared_dim < 0 or bit_dim < 1:
        raise ValueError(
            f"need shared_dim >= 0 and bit_dim >= 1, got {shared_dim} and {bit_dim}"
        )
    if label not in LABELS:
        raise ValueError(f"label must be one of {LABELS}, got {label!r}")

    rng = check_random_state(random_state)
    latent_dim = shared_dim + bit_dim
    # Mixing matrices first: for a given seed they do not depend on n_samples.
    mixing = [
        rng.standard_normal((latent_dim, width)) / np.sqrt(latent_dim) for width in widths
    ]
    bits = rng.randint(0, 2, size=(n_samples, n_modalities))
    bits[:, 2] = bits[:, 0] ^ bits[:, 1]
    shared = rng.standard_normal((n_samples, shared_dim))

    X = {}
    for m, (matrix, width) in enumerate(zip(mixing, widths)):
        signs = (2.0 * bits[:, m] - 1.0)[:, None] * np.ones((1, bit_dim))
        latent = np.hstack(
            [shared_strength * shared, (1.0 - shared_strength) * signs]
        )
        X[f"m{m}"] = latent @ matrix + noise * rng.standard_normal((n_samples, width))

    if label == "xor":
        y = bits[:, 2].astype(np.int64)
    else:
        y = (2 * bits[:, 0] + bits[:, 1]).astype(np.int64)
    return ModalityDict(X), y
