"""Tests of the pure-PyTorch ConFu network."""

import pytest
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression

from sklearn_mmfusion.datasets._xor import make_xor_modalities
from sklearn_mmfusion.nn import ConFuFusion
from sklearn_mmfusion.nn._losses import info_nce, mean_of_terms

DIMS = (5, 7, 4)


def _batch(n=32, dims=DIMS, seed=0):
    gen = torch.Generator().manual_seed(seed)
    xs = [torch.randn(n, d, generator=gen) for d in dims]
    mask = torch.ones(n, len(dims), dtype=torch.bool)
    return xs, mask


def _hide(xs, mask, rows, m):
    """Mark modality ``m`` missing on ``rows`` and zero its values there."""
    mask = mask.clone()
    mask[rows, m] = False
    xs = [torch.where(mask[:, [k]], x, torch.zeros_like(x)) for k, x in enumerate(xs)]
    return xs, mask


def _by_hand(net, xs, mask):
    """Encodings and the unimodal embeddings, recomputed from the parts."""
    e, mask = net.encoder(xs, mask)
    z = [F.normalize(proj(e[:, m]), dim=-1) for m, proj in enumerate(net.projections)]
    return e, z, mask


def test_shapes_and_defaults():
    xs, mask = _batch(16)
    net = ConFuFusion(DIMS, 3, hidden_dim=16, embed_dim=8)
    out = net(xs, mask)
    assert out.prediction.shape == (16, 3)
    assert out.embedding.shape == (16, 8)
    assert out.aux_loss.shape == ()
    assert out.details == {}
    torch.testing.assert_close(out.embedding.norm(dim=1), torch.ones(16))

    net = ConFuFusion(DIMS, 0, hidden_dim=16)
    out = net(xs, mask)
    assert out.prediction is None and net.head is None
    assert out.embedding.shape == (16, 16)  # embed_dim defaults to hidden_dim
    assert net.fusion_heads[0][0].in_features == 2 * 16
    assert net.fusion_heads[0][0].out_features == 2 * 16  # fusion hidden = 2 h
    assert net.modality_embeddings(xs, mask).shape == (16, 3, 16)


@pytest.mark.parametrize("missing", ["mask", "zero"])
def test_missing_rows_give_finite_loss_and_gradients(missing):
    xs, mask = _batch(32)
    xs, mask = _hide(xs, mask, torch.arange(0, 32, 2), 1)  # half of modality 1
    xs, mask = _hide(xs, mask, [5], [0, 1, 2])  # one sample with nothing
    net = ConFuFusion(
        DIMS, 2, hidden_dim=16, missing=missing, modality_dropout=0.3
    ).train()
    out = net(xs, mask)
    assert torch.isfinite(out.aux_loss)
    loss = out.aux_loss + F.cross_entropy(out.prediction, torch.zeros(32, dtype=torch.long))
    loss.backward()
    for name, p in net.named_parameters():
        assert p.grad is None or torch.isfinite(p.grad).all(), name
    net.eval()
    out = net(xs, mask)
    assert torch.isfinite(out.embedding).all()
    torch.testing.assert_close(out.embedding[5], torch.zeros(16))
    z = net.modality_embeddings(xs, mask)
    assert (z[~mask] == 0).all()


def test_three_modalities_reduce_to_published_objective():
    xs, mask = _batch(40)
    xs, mask = _hide(xs, mask, torch.arange(0, 12), 2)  # fused terms: strict rows
    xs, mask = _hide(xs, mask, torch.arange(30, 34), 0)
    lam, tau = 0.3, 0.1
    net = ConFuFusion(DIMS, 0, hidden_dim=16, fused_weight=lam, temperature=tau).eval()
    with torch.no_grad():
        aux = net(xs, mask, with_aux_loss=True).aux_loss
        e, (z1, z2, z3), mask = _by_hand(net, xs, mask)
        g12, g13, g23 = net.fusion_heads[2], net.fusion_heads[1], net.fusion_heads[0]
        z12 = F.normalize(g12(torch.cat([e[:, 0], e[:, 1]], 1)), dim=-1)
        z13 = F.normalize(g13(torch.cat([e[:, 0], e[:, 2]], 1)), dim=-1)
        z23 = F.normalize(g23(torch.cat([e[:, 1], e[:, 2]], 1)), dim=-1)
        o1, o2, o3 = mask.T
        complete = o1 & o2 & o3
        fused = [
            info_nce(z12, z3, complete, tau),
            info_nce(z13, z2, complete, tau),
            info_nce(z23, z1, complete, tau),
        ]
        pair = [
            info_nce(z1, z2, o1 & o2, tau),
            info_nce(z2, z3, o2 & o3, tau),
            info_nce(z3, z1, o3 & o1, tau),
        ]
        expected = lam * torch.stack(fused).mean() + (1 - lam) * torch.stack(pair).mean()
    torch.testing.assert_close(aux, expected)


def test_fused_weight_zero_is_pairwise_only():
    xs, mask = _batch(24)
    xs, mask = _hide(xs, mask, torch.arange(0, 6), 1)
    net = ConFuFusion(DIMS, 0, hidden_dim=16, fused_weight=0.0).eval()
    assert net.fusion_heads is None
    with torch.no_grad():
        aux = net(xs, mask, with_aux_loss=True).aux_loss
        _, z, mask = _by_hand(net, xs, mask)
        pairs = [(0, 1), (0, 2), (1, 2)]
        expected = torch.stack(
            [info_nce(z[i], z[j], mask[:, i] & mask[:, j], 0.07) for i, j in pairs]
        ).mean()
    torch.testing.assert_close(aux, expected)


def test_empty_group_falls_back_and_no_term_gives_none():
    net = ConFuFusion(DIMS, 0, hidden_dim=16).eval()
    # No complete row: no fused term, the loss is the pairwise mean alone.
    xs, mask = _batch(12)
    xs, mask = _hide(xs, mask, torch.arange(0, 6), 0)
    xs, mask = _hide(xs, mask, torch.arange(6, 12), 2)
    with torch.no_grad():
        aux = net(xs, mask, with_aux_loss=True).aux_loss
        _, z, mask = _by_hand(net, xs, mask)
        expected = mean_of_terms(
            info_nce(z[i], z[j], mask[:, i] & mask[:, j], 0.07)
            for i, j in [(0, 1), (0, 2), (1, 2)]
        )
    torch.testing.assert_close(aux, expected)
    # A single sample, or samples that never share a modality: no term.
    xs, mask = _batch(1)
    assert net(xs, mask, with_aux_loss=True).aux_loss is None
    xs, mask = _batch(3)
    mask = torch.eye(3, dtype=torch.bool)
    assert net(xs, mask, with_aux_loss=True).aux_loss is None


def test_inference_computes_no_contrastive_loss(monkeypatch):
    xs, mask = _batch(16)
    net = ConFuFusion(DIMS, 2, hidden_dim=16)
    assert net.train()(xs, mask).aux_loss is not None
    calls = []
    monkeypatch.setattr(net, "_contrastive_loss", lambda *a: calls.append(1))
    with torch.no_grad():
        out = net.eval()(xs, mask)
    assert out.aux_loss is None and not calls
    assert out.prediction.shape == (16, 2)
    # Asking for it in eval mode (a validation loss) still computes it.
    net(xs, mask, with_aux_loss=True)
    assert calls == [1]


def test_embed_subset():
    dims = (5, 7, 4, 6)
    xs, mask = _batch(10, dims)
    xs, mask = _hide(xs, mask, [0], [0, 1])
    net = ConFuFusion(dims, 0, hidden_dim=16, embed_dim=8).eval()
    with torch.no_grad():
        e, z, _ = _by_hand(net, xs, mask)
        for group in ([0], [2], [0, 1], [1, 2, 3], [0, 1, 2, 3], [3, 1, 0]):
            out = net.embed_subset(xs, mask, group)
            assert out.shape == (10, 8)
            assert torch.isfinite(out).all()
        # One modality: z_m (zeros where it is missing).
        torch.testing.assert_close(net.embed_subset(xs, mask, [2]), z[2])
        torch.testing.assert_close(net.embed_subset(xs, mask, [0])[0], torch.zeros(8))
        # All but one: the leave-one-out head g_{-2}, order-free.
        loo = F.normalize(net.fusion_heads[2](e[:, [0, 1, 3]].flatten(1)), dim=-1)
        torch.testing.assert_close(net.embed_subset(xs, mask, [3, 1, 0]), loo)
        # Another group: the normalised mean of its z's; nothing observed -> 0.
        pair = net.embed_subset(xs, mask, [0, 1])
        torch.testing.assert_close(pair[1:], F.normalize(z[0] + z[1], dim=-1)[1:])
        torch.testing.assert_close(pair[0], torch.zeros(8))
    with pytest.raises(ValueError):
        net.embed_subset(xs, mask, [])
    with pytest.raises(ValueError):
        net.embed_subset(xs, mask, [4])


def test_two_and_one_modalities():
    xs, mask = _batch(8, (3, 4))
    out = ConFuFusion((3, 4), 2, hidden_dim=8)(xs, mask)
    assert out.prediction.shape == (8, 2) and torch.isfinite(out.aux_loss)
    xs, mask = _batch(8, (3,))
    out = ConFuFusion((3,), 2, hidden_dim=8)(xs, mask)
    assert out.prediction.shape == (8, 2) and out.aux_loss is None


def test_invalid_parameters():
    with pytest.raises(ValueError):
        ConFuFusion(DIMS, 0, fused_weight=1.5)
    with pytest.raises(ValueError):
        ConFuFusion(DIMS, 0, temperature=0.0)
    with pytest.raises(ValueError, match="max_fused_terms"):
        ConFuFusion(DIMS, 0, max_fused_terms=0)


def _heads_called(net, xs, mask):
    """Indices of the leave-one-out heads one aux-loss forward pass runs."""
    called = []
    # On each head's first layer: the heads run layer by layer, side by side.
    hooks = [
        head[0].register_forward_hook(lambda *_, m=m: called.append(m))
        for m, head in enumerate(net.fusion_heads)
    ]
    net(xs, mask, with_aux_loss=True)
    for hook in hooks:
        hook.remove()
    return called


def test_max_fused_terms_draws_that_many_heads_per_pass():
    dims = (3, 4, 2, 5, 3)
    xs, mask = _batch(16, dims)
    torch.manual_seed(0)
    capped = ConFuFusion(dims, 0, hidden_dim=8, max_fused_terms=2)
    draws = [tuple(sorted(_heads_called(capped, xs, mask))) for _ in range(20)]
    assert all(len(set(d)) == 2 for d in draws)
    assert len(set(draws)) > 1  # drawn afresh, not a fixed pair
    assert sorted(_heads_called(ConFuFusion(dims, 0, hidden_dim=8, max_fused_terms=None),
                                xs, mask)) == list(range(5))
    # The default keeps every term up to M = 3 (the published objective).
    assert sorted(_heads_called(ConFuFusion(DIMS, 0, hidden_dim=8), *_batch(16))) == [0, 1, 2]
    # In eval mode (a validation loss) every term, whatever the cap: the
    # loss is the same at every call.
    capped.eval()
    assert sorted(_heads_called(capped, xs, mask)) == list(range(5))
    with torch.no_grad():
        losses = {float(capped(xs, mask, with_aux_loss=True).aux_loss) for _ in range(5)}
    assert len(losses) == 1


def test_stacked_heads_equal_the_heads_one_by_one():
    dims = (3, 4, 2, 5, 3)
    xs, mask = _batch(16, dims)
    net = ConFuFusion(dims, 0, hidden_dim=8).eval()
    with torch.no_grad():
        e, _ = net.encoder(xs, mask)
        stacked = net._stacked_leave_one_out(e, [4, 0, 2])
        # Each head g_{-m}, run whole on the encodings of the others.
        one_by_one = torch.stack([
            F.normalize(net.fusion_heads[m](e[:, [n for n in range(5) if n != m]].flatten(1)),
                        dim=-1)
            for m in (4, 0, 2)
        ])
        torch.testing.assert_close(stacked, one_by_one)
        z = net._project(e)
        for m, projection in enumerate(net.projections):
            torch.testing.assert_close(z[:, m], F.normalize(projection(e[:, m]), dim=-1))


def _train_xor_probe(fused_weight, seed=0):
    """Self-supervised training on XOR modalities, then a linear probe of the
    fused embedding of modalities (0, 1) on the label b3 = b1 XOR b2.

    A shared latent (``shared_strength=0.3``) gives the pairwise terms
    something to align; without it a pairwise-only model stays untrained and
    the normalisation of its random embeddings can leak part of the XOR.
    """
    X, y = make_xor_modalities(
        n_samples=1500, noise=0.1, shared_strength=0.3, random_state=seed
    )
    xs = [torch.tensor(X[name], dtype=torch.float32) for name in sorted(X)]
    mask = torch.ones(len(y), 3, dtype=torch.bool)
    n_train = 1000
    torch.manual_seed(seed)
    net = ConFuFusion(
        [x.shape[1] for x in xs], 0, hidden_dim=32, dropout=0.0, fused_weight=fused_weight
    )
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(150):
        rows = torch.randperm(n_train, generator=gen)[:256]
        loss = net([x[rows] for x in xs], mask[rows]).aux_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()
    with torch.no_grad():
        # g_{-2}(e_0, e_1) for ConFu; the normalised mean of z_0, z_1 without heads.
        fused01 = net.embed_subset(xs, mask, [0, 1]).numpy()
    probe = LogisticRegression(max_iter=1000).fit(fused01[:n_train], y[:n_train])
    return probe.score(fused01[n_train:], y[n_train:])


def test_confu_learns_xor_that_pairwise_alignment_misses():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    assert _train_xor_probe(fused_weight=0.5) >= 0.85
    assert _train_xor_probe(fused_weight=0.0) <= 0.65
