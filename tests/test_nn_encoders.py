"""nn.Dropout: the package's dropout with the cheaper CPU mask."""

import math

import pytest
import torch
from torch import nn

import sklearn_mmfusion.nn as mmnn
from sklearn_mmfusion.nn import Dropout


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_drop_rate_and_expectation_match_p(p):
    torch.manual_seed(0)
    x = torch.full((1000, 500), 2.0)
    y = Dropout(p).train()(x)
    dropped = float((y == 0).float().mean())
    # 500,000 Bernoulli(p) draws: the share is within 5 standard errors of p
    # (p itself rounded to a multiple of 2**-15).
    assert abs(dropped - p) < 5 * math.sqrt(p * (1 - p) / x.numel())
    # Kept values are scaled so that the mean is unchanged.
    assert abs(float(y.mean()) - 2.0) < 0.01
    kept = y[y != 0]
    assert torch.allclose(kept, torch.full_like(kept, float(kept[0])))


def test_masks_are_independent_across_elements_and_calls():
    torch.manual_seed(0)
    x = torch.ones(200_000)
    d = Dropout(0.5).train()
    a, b = d(x) > 0, d(x) > 0
    # Two calls draw different masks; neighbouring elements (the four lanes of
    # one 64-bit draw) are not correlated.
    assert (a != b).float().mean() > 0.45
    agree = (a[:-1] == a[1:]).float().mean()
    assert abs(float(agree) - 0.5) < 0.01


def test_gradient_is_the_mask_times_the_scale():
    torch.manual_seed(0)
    x = torch.randn(64, 33, requires_grad=True)
    y = Dropout(0.2).train()(x)
    y.sum().backward()
    scale = y.detach()[y.detach() != 0] / x.detach()[y.detach() != 0]
    assert torch.allclose(scale, torch.full_like(scale, scale[0].item()))
    assert torch.equal(x.grad == 0, y.detach() == 0)


def test_seeded_like_torch_dropout():
    x = torch.randn(10, 10)
    d = Dropout(0.3).train()
    torch.manual_seed(3)
    first = d(x)
    torch.manual_seed(3)
    assert torch.equal(d(x), first)


def test_eval_mode_p_zero_and_odd_shapes():
    x = torch.randn(3, 5, 7)
    assert torch.equal(Dropout(0.5).eval()(x), x)
    assert torch.equal(Dropout(0.0).train()(x), x)
    # numel not a multiple of 4, non-contiguous input
    torch.manual_seed(0)
    y = Dropout(0.5).train()(x.transpose(0, 2))
    assert y.shape == (7, 5, 3)
    assert ((y == 0) | torch.isclose(y, 2 * x.transpose(0, 2))).all()


def test_p_one_drops_everything():
    y = Dropout(1.0).train()(torch.ones(4, 4))
    assert torch.equal(y, torch.zeros(4, 4))


def test_is_a_torch_dropout_without_state():
    d = Dropout(0.1)
    assert isinstance(d, nn.Dropout)
    assert d.state_dict() == {}


@pytest.mark.parametrize(
    "network", [mmnn.ConcatFusion, mmnn.LateFusion, mmnn.GatedFusion, mmnn.CLARGAFusion,
                mmnn.ConFuFusion, mmnn.TransformerFusion])
def test_every_network_uses_it(network):
    net = network([5, 7], 3, hidden_dim=16, n_heads=2) if network in (
        mmnn.CLARGAFusion, mmnn.TransformerFusion) else network([5, 7], 3, hidden_dim=16)
    kinds = {type(m) for m in net.modules() if isinstance(m, nn.Dropout)}
    assert kinds == {Dropout}


@pytest.mark.parametrize("numerical_embedding, hidden_dim", [
    (None, 16), ("periodic", 16), (None, 6),
])
def test_encode_runs_the_modalities_side_by_side_as_one_by_one(numerical_embedding,
                                                                hidden_dim):
    # encode() runs the GELU and the dropout once on the stack of every
    # modality; in training mode it must give what each modality's whole
    # encoder, run in turn under the same seed, gives: bit for bit when
    # batch * hidden_dim is a multiple of 4 (one draw of random words is the
    # draws of each modality in sequence), else masks of the same law.
    dims = (3, 5, 2)
    torch.manual_seed(0)
    encoder = mmnn.ModalityEncoder(dims, hidden_dim, dropout=0.3,
                                   numerical_embedding=numerical_embedding).train()
    for batch in (8, 7):
        xs = [torch.randn(batch, d) for d in dims]
        torch.manual_seed(1)
        stacked = encoder.encode(xs)
        torch.manual_seed(1)
        alone = torch.stack([enc(x) for enc, x in zip(encoder.encoders, xs)], dim=1)
        assert stacked.shape == alone.shape == (batch, len(dims), hidden_dim)
        assert stacked.is_contiguous()
        if batch * hidden_dim % 4 == 0:
            assert torch.equal(stacked, alone)
        else:
            # Same layers, other masks: equal where both kept an element.
            both = (stacked != 0) & (alone != 0)
            assert both.any()
            torch.testing.assert_close(stacked[both], alone[both])
    encoder.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            encoder.encode(xs),
            torch.stack([enc(x) for enc, x in zip(encoder.encoders, xs)], dim=1))
