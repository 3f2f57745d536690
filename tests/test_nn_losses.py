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
