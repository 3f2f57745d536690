"""The batched contrastive losses equal the per-term loop they replace."""

import itertools

import pytest
import torch

from sklearn_mmfusion.nn._losses import (
    info_nce,
    mean_of_terms,
    paired_info_nce,
    stacked_info_nce,
)


def _loop(u, mask, pairs, temperature):
    return mean_of_terms(
        info_nce(u[:, m], u[:, n], mask[:, m] & mask[:, n], temperature) for m, n in pairs
    )


@pytest.mark.parametrize("batch, n_mod, missing", [(64, 5, 0.0), (48, 4, 0.4), (30, 3, 0.7)])
def test_paired_info_nce_equals_the_loop_value_and_gradient(batch, n_mod, missing):
    gen = torch.Generator().manual_seed(batch)
    u = torch.randn(batch, n_mod, 8, generator=gen, requires_grad=True)
    mask = torch.rand(batch, n_mod, generator=gen) >= missing
    pairs = list(itertools.combinations(range(n_mod), 2))
    expected = _loop(u, mask, pairs, 0.1)
    got = paired_info_nce(u, mask, pairs, 0.1)
    (grad_expected,) = torch.autograd.grad(expected, u)
    (grad_got,) = torch.autograd.grad(got, u)
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(grad_got, grad_expected)
    assert torch.isfinite(grad_got).all()


def test_a_pair_with_fewer_than_two_rows_is_skipped_and_none_when_all_are():
    gen = torch.Generator().manual_seed(0)
    u = torch.randn(10, 3, 4, generator=gen)
    mask = torch.ones(10, 3, dtype=torch.bool)
    mask[1:, 2] = False  # modality 2 seen on one row only: pairs (0, 2), (1, 2) skipped
    pairs = list(itertools.combinations(range(3), 2))
    torch.testing.assert_close(paired_info_nce(u, mask, pairs),
                               info_nce(u[:, 0], u[:, 1]))
    mask[1:, 1] = False
    mask[1:, 0] = False
    assert paired_info_nce(u, mask, pairs) is None
    assert paired_info_nce(u, mask, []) is None


def test_stacked_info_nce_without_mask_is_the_mean_over_terms():
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(3, 20, 6, generator=gen)
    b = torch.randn(3, 20, 6, generator=gen)
    expected = torch.stack([info_nce(a[p], b[p], None, 0.5) for p in range(3)]).mean()
    torch.testing.assert_close(stacked_info_nce(a, b, None, 0.5), expected)
    # The loss is small when the pairs match and large when they do not.
    assert stacked_info_nce(a, a, None, 0.1) < stacked_info_nce(a, b, None, 0.1)


def test_terms_in_chunks_give_the_same_loss(monkeypatch):
    from sklearn_mmfusion.nn import _losses

    gen = torch.Generator().manual_seed(2)
    u = torch.randn(16, 4, 5, generator=gen, requires_grad=True)
    mask = torch.rand(16, 4, generator=gen) > 0.3
    pairs = list(itertools.combinations(range(4), 2))
    whole = paired_info_nce(u, mask, pairs)
    monkeypatch.setattr(_losses, "MAX_SIMILARITY_ENTRIES", 2 * 16 * 16)  # 2 terms a chunk
    chunked = paired_info_nce(u, mask, pairs)
    torch.testing.assert_close(chunked, whole)
    torch.testing.assert_close(chunked, _loop(u, mask, pairs, 0.07))


@pytest.mark.parametrize("missing", [0.0, 0.4])
def test_symmetric_info_nce_gradient_matches_finite_differences(missing):
    # The written-out backward against gradcheck's numerical one, in float64,
    # with masked rows and columns (a row with no valid entry included).
    from sklearn_mmfusion.nn._losses import _SymmetricInfoNCE

    gen = torch.Generator().manual_seed(3)
    a = torch.nn.functional.normalize(
        torch.randn(2, 7, 4, generator=gen, dtype=torch.float64), dim=-1).requires_grad_()
    b = torch.nn.functional.normalize(
        torch.randn(2, 7, 4, generator=gen, dtype=torch.float64), dim=-1).requires_grad_()
    valid = torch.rand(2, 7, generator=gen) >= missing
    valid[0, 0] = False
    invalid = ~valid
    pair_invalid = invalid.unsqueeze(1) | invalid.unsqueeze(2)

    def loss(a, b):
        # Invalid rows multiplied out, as _row_loss_sums does.
        return _SymmetricInfoNCE.apply(a, b, pair_invalid, 1 / 0.2) * valid

    assert torch.autograd.gradcheck(loss, (a, b))
    # A second backward through the same graph gives the same gradient (the
    # backward must not overwrite what it saved).
    out = loss(a, b).sum()
    first = torch.autograd.grad(out, (a, b), retain_graph=True)
    second = torch.autograd.grad(out, (a, b))
    for g1, g2 in zip(first, second):
        torch.testing.assert_close(g1, g2, rtol=0, atol=0)


def test_symmetric_info_nce_equals_two_cross_entropies():
    from sklearn_mmfusion.nn._losses import _SymmetricInfoNCE

    gen = torch.Generator().manual_seed(4)
    a = torch.randn(3, 9, 5, generator=gen, requires_grad=True)
    b = torch.randn(3, 9, 5, generator=gen, requires_grad=True)
    got = _SymmetricInfoNCE.apply(a, b, None, 1 / 0.07)
    logits = a @ b.transpose(1, 2) / 0.07
    target = torch.arange(9).repeat(3)
    expected = 0.5 * (
        torch.nn.functional.cross_entropy(logits.flatten(0, 1), target, reduction="none")
        + torch.nn.functional.cross_entropy(logits.transpose(1, 2).flatten(0, 1), target,
                                            reduction="none")
    ).view(3, 9)
    torch.testing.assert_close(got, expected)
    weights = torch.rand(3, 9, generator=gen)
    grads_got = torch.autograd.grad((got * weights).sum(), (a, b))
    grads_expected = torch.autograd.grad((expected * weights).sum(), (a, b))
    for g, e in zip(grads_got, grads_expected):
        torch.testing.assert_close(g, e)
