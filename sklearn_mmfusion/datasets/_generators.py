"""Synthetic multimodal data and missing-modality masking."""

from numbers import Real

import numpy as np
from sklearn.datasets import make_classification
from sklearn.utils import check_random_state

from .._data import ModalityDict, split_modalities


def make_multimodal_classification(
    n_samples=500,
    modality_dims=(8, 16, 4),
    n_informative=2,
    *,
    n_classes=2,
    class_sep=1.0,
    flip_y=0.01,
    modality_names=None,
    random_state=None,
):
    """Classification data whose informative features are spread over modalities.

    Runs :func:`sklearn.datasets.make_classification` on all columns at once
    and deals its informative features out to the modalities: modality ``m``
    gets ``n_informative[m]`` of them and noise for the rest of its
    ``modality_dims[m]`` columns (in shuffled order). The label therefore
    needs several modalities to be predicted well.

    Parameters
    ----------
    n_samples : int, default=500
    modality_dims : sequence of int, default=(8, 16, 4)
        Width of each modality.
    n_informative : int or sequence of int, default=2
        Informative features per modality (one number for all, or one each).
    n_classes : int, default=2
    class_sep : float, default=1.0
        Larger values make the task easier.
    flip_y : float, default=0.01
        Fraction of labels assigned at random.
    modality_names : sequence of str, default=None
        Defaults to ``"m0", "m1", ...``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ModalityDict
    y : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from sklearn_mmfusion.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=100, random_state=0)
    >>> {name: block.shape for name, block in X.items()}
    {'m0': (100, 8), 'm1': (100, 16), 'm2': (100, 4)}
    """
    rng = check_random_state(random_state)
    dims = [int(d) for d in modality_dims]
    informative = (
        [int(n_informative)] * len(dims)
        if isinstance(n_informative, (int, np.integer))
        else [int(n) for n in n_informative]
    )
    if len(informative) != len(dims):
        raise ValueError("n_informative needs one entry per modality.")
    for m, (d, k) in enumerate(zip(dims, informative)):
        if not 0 <= k <= d:
            raise ValueError(
                f"modality {m}: n_informative={k} must be between 0 and its width {d}."
            )
    names = list(modality_names) if modality_names is not None else [
        f"m{m}" for m in range(len(dims))
    ]
    if len(names) != len(dims):
        raise ValueError("modality_names needs one name per modality.")
    total_informative = sum(informative)
    X, y = make_classification(
        n_samples=n_samples,
        n_features=sum(dims),
        n_informative=total_informative,
        n_redundant=0,
        n_repeated=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=class_sep,
        flip_y=flip_y,
        shuffle=False,  # informative columns first: dealt out below
        random_state=rng,
    )
    informative_cols = iter(range(total_informative))
    noise_cols = iter(range(total_informative, X.shape[1]))
    blocks = {}
    for name, d, k in zip(names, dims, informative):
        cols = [next(informative_cols) for _ in range(k)]
        cols += [next(noise_cols) for _ in range(d - k)]
        blocks[name] = X[:, rng.permutation(cols)]
    order = rng.permutation(n_samples)
    return ModalityDict({name: block[order] for name, block in blocks.items()}), y[order]


def mask_modalities(X, rate, *, random_state=None, keep_at_least_one=True, scheme="matched"):
    """Hide whole modality rows at random (set them to NaN), in a copy.

    ``rate`` is the fraction of each modality's rows that are hidden: with
    ``n`` samples, every modality loses about ``rate * n`` rows (in
    expectation; the measured fraction is within sampling noise of ``rate``),
    the same for every modality.

    Without ``keep_at_least_one`` each (sample, modality) pair is hidden
    independently with probability ``rate``. With it (the default) no sample
    loses every modality: the pairs are hidden independently with a slightly
    larger probability ``q``, conditioned on at least one modality per sample
    staying, where ``q`` is solved so that each modality's hidden fraction is
    still ``rate``. Keeping one of ``M`` modalities caps the rate at
    ``(M - 1) / M`` (at the cap, every sample has exactly one modality).

    Parameters
    ----------
    X : mapping of str to array-like, or ModalityDict
    rate : float in [0, 1)
        Fraction of each modality's rows to hide.
    random_state : int, RandomState instance or None, default=None
    keep_at_least_one : bool, default=True
        Never hide every modality of a sample.
    scheme : {"matched", "legacy"}, default="matched"
        ``"legacy"`` reproduces the draws of the first release and of the
        published baselines (``shared/data/baselines.md``):
        ``hide = rng.rand(n, M) < rate``, then for each sample that lost every
        modality, modality ``rng.randint(0, M, n)[row]`` is given back. Its
        hidden fraction per modality is below ``rate`` (by ``rate ** M / M``
        on average: 25.5 % instead of 30 % with two modalities).

    Returns
    -------
    X_masked : ModalityDict
        New float arrays; ``X`` is not modified. Rows already all-NaN stay so.

    Raises
    ------
    ValueError
        ``rate`` outside [0, 1), or above ``(M - 1) / M`` with
        ``keep_at_least_one`` (e.g. any rate above 0 with one modality).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmfusion import ModalityDict
    >>> from sklearn_mmfusion.datasets import mask_modalities
    >>> X = ModalityDict(a=np.ones((10000, 2)), b=np.ones((10000, 3)))
    >>> Xm = mask_modalities(X, 0.3, random_state=0)
    >>> [round(float(np.isnan(Xm[m][:, 0]).mean()), 2) for m in Xm]
    [0.3, 0.3]
    >>> bool((np.isnan(Xm["a"][:, 0]) & np.isnan(Xm["b"][:, 0])).any())
    False
    """
    if not isinstance(rate, Real) or not 0 <= rate < 1:
        raise ValueError(f"rate must be a number in [0, 1); got {rate!r}.")
    if scheme not in ("matched", "legacy"):
        raise ValueError(f"scheme must be 'matched' or 'legacy'; got {scheme!r}.")
    arrays = split_modalities(X)
    rng = check_random_state(random_state)
    names = list(arrays)
    n_modalities = len(names)
    n = next(iter(arrays.values())).shape[0]
    if scheme == "legacy":
        hide = rng.rand(n, n_modalities) < rate
        if keep_at_least_one:
            give_back = rng.randint(0, n_modalities, n)
            emptied = hide.all(axis=1)
            hide[emptied, give_back[emptied]] = False
    elif not keep_at_least_one:
        hide = rng.rand(n, n_modalities) < rate
    else:
        cap = (n_modalities - 1) / n_modalities
        if rate > cap + 1e-12:
            raise ValueError(
                f"rate={rate} is above {cap:.3g}, the most that can be hidden from "
                f"{n_modalities} modalit{'y' if n_modalities == 1 else 'ies'} while "
                "keeping at least one per sample (keep_at_least_one=True)."
            )
        hide = _hide_keeping_one(n, n_modalities, rate, rng)
    out = {}
    for m, name in enumerate(names):
        block = np.array(arrays[name], dtype=np.result_type(arrays[name].dtype, np.float32))
        block[hide[:, m]] = np.nan
        out[name] = block
    return ModalityDict(out)


def _hide_keeping_one(n, n_modalities, rate, rng):
    """Independent hiding conditioned on one modality staying, marginal ``rate``.

    The number K of hidden modalities of a sample follows Binomial(M, q)
    truncated to K < M (the law of independent draws conditioned on keeping
    one); q is solved by bisection so that E[K] / M = rate. Which K
    modalities are hidden is uniform, so every modality loses the same share.
    """
    from scipy.stats import binom

    counts = np.arange(n_modalities)  # K = 0 .. M-1

    def pmf(q):
        p = binom.pmf(counts, n_modalities, q)
        return p / p.sum()

    if rate >= (n_modalities - 1) / n_modalities - 1e-12:
        probs = np.zeros(n_modalities)
        probs[-1] = 1.0
    else:
        low, high = 0.0, 1.0
        for _ in range(60):  # mean of K increases with q
            mid = (low + high) / 2
            if pmf(mid) @ counts / n_modalities < rate:
                low = mid
            else:
                high = mid
        probs = pmf((low + high) / 2)
    n_hidden = rng.choice(n_modalities, size=n, p=probs)
    # Ranks of a random permutation per row: hide the K first-ranked modalities.
    ranks = rng.rand(n, n_modalities).argsort(axis=1).argsort(axis=1)
    return ranks < n_hidden[:, None]


__all__ = ["make_multimodal_classification", "mask_modalities"]
