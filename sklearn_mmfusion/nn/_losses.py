"""Contrastive losses (one implementation, shared by CLARGA and ConFu)."""

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable


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


def paired_info_nce(u, mask, pairs, temperature=0.07, normalized=False):
    r"""Mean of :func:`info_nce` over modality pairs, all pairs in one batch.

    Equal to ``mean_of_terms(info_nce(u[:, m], u[:, n], mask[:, m] &
    mask[:, n], temperature) for m, n in pairs)``, computed as one batched
    product instead of a Python loop of small ones (the loop's per-pair
    kernel launches and boolean indexing, each a host sync, cost more than
    the arithmetic at the default batch). A row missing one modality of a
    pair is neither positive nor negative in that pair's term: its column is
    masked out of the softmax and its row out of the mean, as dropping it
    does.

    Parameters
    ----------
    u : Tensor of shape (batch, M, dim)
        Embeddings per modality; L2-normalised here.
    mask : bool Tensor of shape (batch, M)
        Observed modalities.
    pairs : sequence of (int, int)
        The modality pairs, each a term.
    temperature : float, default=0.07
    normalized : bool, default=False
        The rows of ``u`` already have unit norm: skip the normalisation.

    Returns
    -------
    loss : Tensor or None
        A scalar, or ``None`` when no pair has two rows observed together.
    """
    if not pairs:
        return None
    first = torch.tensor([m for m, _ in pairs], device=u.device)
    second = torch.tensor([n for _, n in pairs], device=u.device)
    valid = (mask.index_select(1, first) & mask.index_select(1, second)).T  # (P, B)
    if not normalized:
        u = F.normalize(u, dim=-1)  # once per modality, not once per pair
    # Indexed on the leading dimension (modality-major rows): whole blocks
    # copied, and a backward index_add over blocks, faster than on dim 1.
    u = u.transpose(0, 1)
    return stacked_info_nce(u.index_select(0, first), u.index_select(0, second), valid,
                            temperature, normalized=True)


# Most similarity entries (terms x batch x batch) in one batched product:
# at the default batch every term fits at once; at large batches the terms
# go in chunks, so the temporaries stay near the per-term loop's.
MAX_SIMILARITY_ENTRIES = 2**24


def stacked_info_nce(a, b, valid=None, temperature=0.07, normalized=False):
    """Mean of :func:`info_nce` over a stack of terms, in batched products.

    ``a`` and ``b`` of shape (P, batch, dim) hold the ``P`` terms' pairs,
    ``valid`` (P, batch) their rows (all rows when None); the result equals
    ``mean_of_terms(info_nce(a[p], b[p], valid[p], temperature) for p in
    range(P))``, ``None`` when no term has two valid rows. ``normalized``:
    the rows of ``a`` and ``b`` already have unit norm.
    """
    if not normalized:
        a = F.normalize(a, dim=-1)
        b = F.normalize(b, dim=-1)
    n_terms, batch = a.shape[:2]
    if valid is None:
        valid = torch.ones((n_terms, batch), dtype=torch.bool, device=a.device)
    count = valid.sum(1)
    used = count >= 2  # a term needs a negative
    n_used = used.sum()
    if int(n_used) == 0:
        return None
    chunk = max(1, MAX_SIMILARITY_ENTRIES // (batch * batch))
    row_sums = torch.cat([
        _row_loss_sums(a[i:i + chunk], b[i:i + chunk], valid[i:i + chunk], temperature)
        for i in range(0, n_terms, chunk)
    ])
    per_term = row_sums / count.clamp_min(1)
    return torch.where(used, per_term, torch.zeros_like(per_term)).sum() / n_used


def _row_loss_sums(a, b, valid, temperature):
    """Per term, the sum over its valid rows of the symmetric InfoNCE."""
    all_valid = bool(valid.all())
    # A row missing from a term is neither a positive nor a negative: its
    # column leaves the softmax and its row leaves the sum.
    pair_invalid = None
    if not all_valid:
        invalid = ~valid
        pair_invalid = invalid.unsqueeze(1) | invalid.unsqueeze(2)
    per_row = _SymmetricInfoNCE.apply(a, b, pair_invalid, 1.0 / temperature)
    if not all_valid:
        per_row = per_row * valid.to(per_row.dtype)
    return per_row.sum(1)


class _SymmetricInfoNCE(torch.autograd.Function):
    r"""Per-row symmetric InfoNCE of stacked terms, with its gradient written out.

    With :math:`S = A B^\top / \tau` (one term; rows ``a_i`` among the
    ``b_j`` and columns ``b_j`` among the ``a_i``), row ``i``'s loss is
    :math:`-\tfrac12 (\log \mathrm{softmax}_j(S)_{ii} + \log
    \mathrm{softmax}_i(S)_{ii})` and

    .. math::

        \frac{\partial \ell}{\partial S_{ij}} = \tfrac12 g_i P^{row}_{ij}
            + \tfrac12 g_j P^{col}_{ij} - \delta_{ij} g_i.

    Autograd's own graph of the same loss (two cross-entropies, one on a
    transposed copy of :math:`S`) dispatches more and larger operators: the
    transposed copy and its backward, the NLL's zero-filled gradients, the
    two log-softmax backward kernels and their sum. This one runs the two
    log-softmax kernels forward and, backward, one combination of their
    exponentials before the two products: forward and backward of 15 terms
    of 128 x 128 take 1.7 ms instead of 2.5 on two CPU cores.

    ``pair_invalid`` (terms, batch, batch) bool or None: entries where it is
    true get the dtype's lowest finite value, a zero weight in both softmaxes
    (no NaN, no infinite gradient); a row whose own entry is invalid must get
    a zero gradient (the caller multiplies it out).
    """

    @staticmethod
    def forward(ctx, a, b, pair_invalid, inv_temperature):
        logits = torch.bmm(a, b.transpose(1, 2)).mul_(inv_temperature)
        if pair_invalid is not None:
            logits.masked_fill_(pair_invalid, torch.finfo(logits.dtype).min)
        log_p_row = torch.log_softmax(logits, 2)  # a_i among the b_j
        log_p_col = torch.log_softmax(logits, 1)  # b_j among the a_i
        ctx.save_for_backward(a, b, log_p_row, log_p_col)
        ctx.inv_temperature = inv_temperature
        return -0.5 * (log_p_row.diagonal(0, 1, 2) + log_p_col.diagonal(0, 1, 2))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        a, b, log_p_row, log_p_col = ctx.saved_tensors
        # The gradient with respect to the similarities (before 1/tau),
        # 1/tau folded in once here rather than into both products.
        half = (0.5 * ctx.inv_temperature) * grad
        grad_logits = torch.exp(log_p_row).mul_(half.unsqueeze(2))
        grad_logits.add_(torch.exp(log_p_col).mul_(half.unsqueeze(1)))
        grad_logits.diagonal(0, 1, 2).sub_(2.0 * half)
        grad_a = torch.bmm(grad_logits, b) if ctx.needs_input_grad[0] else None
        grad_b = (torch.bmm(grad_logits.transpose(1, 2), a)
                  if ctx.needs_input_grad[1] else None)
        return grad_a, grad_b, None, None


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
