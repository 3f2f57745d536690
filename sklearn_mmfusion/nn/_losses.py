"""Contrastive losses (one implementation, shared by CLARGA and ConFu)."""

import torch
import torch.nn.functional as F


def info_nce(a, b, valid=None, temperature=0.07):
    r"""Symmetric InfoNCE (CLIP loss) between paired rows of ``a`` and ``b``.

    .. math::

        \ell(A, B) = \tfrac12\left[\mathrm{CE}(A B^\top/\tau, I)
                     + \mathrm{CE}(B A^\top/\tau, I)\right]

    on L2-normalised rows; row ``i`` of ``a`` and row ``i`` of ``b`` are the
    positive pair, every other row of the batch a negative.

    Parameters
    ----------
    a, b : Tensor of shape (batch, dim)
        Embeddings; they are L2-normalised here.
    valid : bool Tensor of shape (batch,), optional
        Rows to use (e.g. where both modalities are observed). Other rows are
        dropped before the loss, so they are neither positives nor negatives.
    temperature : float, default=0.07

    Returns
    -------
    loss : Tensor or None
        A scalar, or ``None`` when fewer than two valid rows remain (a
        contrastive term needs a negative); callers skip ``None`` terms.
    """
    if valid is not None:
        a, b = a[valid], b[valid]
    if a.shape[0] < 2:
        return None
    a = F.normalize(a, dim=-1)
    b = F.normalize(b, dim=-1)
    logits = a @ b.T / temperature
    target = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def mean_of_terms(terms):
    """Mean of the loss terms that are not ``None``; ``None`` if all are."""
    terms = [t for t in terms if t is not None]
    if not terms:
        return None
    return torch.stack(terms).mean()


def draw_terms(n_terms, cap):
    """Indices of the terms to compute in this pass: all ``n_terms`` when
    ``cap`` is None or not smaller, else ``cap`` of them drawn at random
    (their mean estimates the mean over all terms without bias, at
    ``cap / n_terms`` of the cost)."""
    if cap is None or n_terms <= cap:
        return list(range(n_terms))
    return torch.randperm(n_terms)[:cap].tolist()
