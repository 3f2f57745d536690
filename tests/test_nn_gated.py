"""Tests of the pure-PyTorch gated fusion network (GMU over M modalities)."""

import pytest
import torch
import torch.nn.functional as F
from conftest import random_batch

from sklearn_mmfusion.nn import GatedFusion

DIMS = (3, 5, 2)


def make_batch(batch=40, dims=DIMS, missing_rate=0.3, seed=0):
    return random_batch(batch, dims, missing_rate, seed)


@pytest.mark.parametrize("gate", ["softmax", "sigmoid"])
@pytest.mark.parametrize("n_outputs", [0, 4])
def test_output_shapes(gate, n_outputs):
    torch.manual_seed(0)
    net = GatedFusion(DIMS, n_outputs, hidden_dim=16, gate=gate)
    xs, mask = make_batch()
    out = net(xs, mask)
    assert out.embedding.shape == (40, 16)
    assert out.aux_loss is None
    assert out.details["gates"].shape == (40, 3)
    if n_outputs:
        assert out.prediction.shape == (40, n_outputs)
    else:
        assert out.prediction is None and net.head is None


@pytest.mark.parametrize("gate", ["softmax", "sigmoid"])
@pytest.mark.parametrize("missing", ["mask", "zero"])
def test_finite_outputs_and_gradients_with_missing_rows(gate, missing):
    torch.manual_seed(0)
    net = GatedFusion(DIMS, 3, hidden_dim=16, gate=gate, missing=missing,
                      modality_dropout=0.2)
    xs, mask = make_batch(batch=50, missing_rate=0.0)
    mask[: 45, 0] = False  # 90% of modality 0 missing
    mask[7] = False  # a sample with nothing observed
    xs = [torch.where(mask[:, [m]], x, 0.0) for m, x in enumerate(xs)]
    out = net.train()(xs, mask)
    assert torch.isfinite(out.prediction).all()
    assert torch.isfinite(out.embedding).all()
    out.prediction.square().mean().backward()
    for name, param in net.named_parameters():
        assert param.grad is None or torch.isfinite(param.grad).all(), name
    # The empty sample: all gates 0, embedding 0.
    out = net.eval()(xs, mask)
    assert torch.equal(out.details["gates"][7], torch.zeros(3))
    assert torch.equal(out.embedding[7], torch.zeros(16))


def test_softmax_gates_are_zero_for_missing_and_sum_to_one():
    torch.manual_seed(0)
    net = GatedFusion(DIMS, 2, hidden_dim=16).eval()
    xs, mask = make_batch(missing_rate=0.5)
    gates = net(xs, mask).details["gates"]
    assert torch.all(gates[~mask] == 0)
    assert torch.all(gates[mask] > 0)
    has_any = mask.any(1)
    torch.testing.assert_close(gates[has_any].sum(1), torch.ones(int(has_any.sum())))
    assert torch.all(gates[~has_any] == 0)


def test_sigmoid_gates_are_zero_for_missing_and_independent():
    torch.manual_seed(0)
    net = GatedFusion(DIMS, 2, hidden_dim=16, gate="sigmoid").eval()
    xs, mask = make_batch(missing_rate=0.5)
    gates = net(xs, mask).details["gates"]
    assert torch.all(gates[~mask] == 0)
    assert torch.all((gates[mask] > 0) & (gates[mask] < 1))
    assert not torch.allclose(gates[mask.all(1)].sum(1), torch.tensor(1.0))


def test_two_modalities_softmax_is_the_convex_gmu():
    torch.manual_seed(0)
    net = GatedFusion((3, 4), 2, hidden_dim=8).eval()
    xs, mask = make_batch(batch=30, dims=(3, 4), missing_rate=0.3)
    out = net(xs, mask)

    enc, _ = net.encoder(xs, mask)
    h1, h2 = (torch.tanh(p(enc[:, m])) for m, p in enumerate(net.projections))
    g1, g2 = net.gate_logits(enc.flatten(1)).view(30, 2, 8).unbind(1)
    z = torch.sigmoid(g1 - g2)
    both, only1, only2 = mask.all(1), mask[:, 0] & ~mask[:, 1], ~mask[:, 0] & mask[:, 1]
    assert both.any() and only1.any() and only2.any()
    convex = z * h1 + (1 - z) * h2
    torch.testing.assert_close(out.embedding[both], convex[both])
    # One modality missing: the fused vector is the observed one.
    torch.testing.assert_close(out.embedding[only1], h1[only1])
    torch.testing.assert_close(out.embedding[only2], h2[only2])


def test_invalid_gate():
    with pytest.raises(ValueError, match="gate"):
        GatedFusion(DIMS, 2, gate="relu")


def switching_task(n, seed):
    """Two modalities; per sample one carries the label, the other is noise.

    The informative modality has the label's sign on its first feature and
    near-zero elsewhere; the noise modality is Gaussian everywhere, so the
    gate can tell the two apart from the inputs.
    """
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=gen)
    informative = torch.randint(0, 2, (n,), generator=gen)
    signal = 0.1 * torch.randn(n, 4, generator=gen)
    signal[:, 0] = 2.0 * (2 * y - 1) + 0.3 * torch.randn(n, generator=gen)
    noise = 1.5 * torch.randn(n, 4, generator=gen)
    first = informative == 0
    xs = [
        torch.where(first[:, None], signal, noise),
        torch.where(first[:, None], noise, signal),
    ]
    return xs, torch.ones(n, 2, dtype=torch.bool), y, informative


@pytest.mark.parametrize("gate", ["softmax", "sigmoid"])
def test_training_reduces_loss_and_gates_track_informative_modality(gate):
    torch.manual_seed(0)
    xs, mask, y, informative = switching_task(256, seed=1)
    net = GatedFusion((4, 4), 2, hidden_dim=16, dropout=0.0, gate=gate)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(200):
        opt.zero_grad()
        loss = F.cross_entropy(net(xs, mask).prediction, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]

    xs, mask, y, informative = switching_task(512, seed=2)
    out = net.eval()(xs, mask)
    assert (out.prediction.argmax(1) == y).float().mean() > 0.9
    gates = out.details["gates"]
    rows = torch.arange(512)
    assert gates[rows, informative].mean() > gates[rows, 1 - informative].mean()
