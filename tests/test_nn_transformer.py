"""Tests of the pure-PyTorch Transformer fusion network."""

import pytest
import torch
import torch.nn.functional as F
from conftest import random_batch

from sklearn_mmfusion.nn import FusionNetwork, TransformerFusion

DIMS = (3, 5, 2)


def make_batch(batch=40, dims=DIMS, missing_rate=0.3, seed=0):
    return random_batch(batch, dims, missing_rate, seed)


def small_net(n_outputs=3, **params):
    torch.manual_seed(0)
    params = {"hidden_dim": 16, "n_heads": 4, **params}
    return TransformerFusion(DIMS, n_outputs, **params)


def test_is_a_fusion_network_with_the_documented_defaults():
    net = TransformerFusion(DIMS, 2)
    assert isinstance(net, FusionNetwork)
    assert (net.n_heads, net.n_layers, net.hidden_dim) == (4, 2, 128)
    assert len(net.layers) == 2
    layer = net.layers[0]
    assert layer.norm_first and layer.self_attn.batch_first
    assert layer.linear1.out_features == 2 * 128
    assert layer.activation is F.gelu


@pytest.mark.parametrize("n_outputs", [0, 4])
@pytest.mark.parametrize("training", [True, False])
def test_output_shapes(n_outputs, training):
    net = small_net(n_outputs).train(training)
    xs, mask = make_batch()
    out = net(xs, mask)
    assert out.embedding.shape == (40, 16)
    assert out.aux_loss is None
    if n_outputs:
        assert out.prediction.shape == (40, n_outputs)
    else:
        assert out.prediction is None and net.head is None


@pytest.mark.parametrize("missing", ["mask", "zero", "calibrated"])
def test_filler_of_a_missing_modality_does_not_change_the_output(missing):
    net = small_net(missing=missing).eval()
    xs, mask = make_batch(missing_rate=0.0)
    mask[:10, 1] = False
    mask[10:15, [0, 2]] = False
    if missing == "calibrated":
        net.encoder.refresh_calibration(xs, mask, max_iter=2)
    zeros = [torch.where(mask[:, [m]], x, 0.0) for m, x in enumerate(xs)]
    gen = torch.Generator().manual_seed(1)
    noisy = [torch.where(mask[:, [m]], x, 50 * torch.randn(x.shape, generator=gen))
             for m, x in enumerate(xs)]
    for grad in (True, False):  # with no grad, PyTorch's fused fast path
        with torch.set_grad_enabled(grad):
            a, b = net(zeros, mask), net(noisy, mask)
        assert torch.equal(a.embedding, b.embedding)
        assert torch.equal(a.prediction, b.prediction)


def test_padding_mask_excludes_missing_tokens_from_attention():
    # The encoder puts the learnable missing token in a missing slot; if that
    # token were attended to, changing it would change the output.
    net = small_net().eval()
    xs, mask = make_batch(missing_rate=0.0)
    mask[:10, 1] = False
    observed_all = mask.all(1)
    before = net(xs, mask).embedding
    with torch.no_grad():
        net.encoder.missing_token[1] += 3.0
    after = net(xs, mask).embedding
    assert torch.equal(before, after)
    # The type embedding of modality 1 moves only the samples that have it.
    with torch.no_grad():
        net.modality_embedding[1] += 3.0
    moved = net(xs, mask).embedding
    assert torch.equal(moved[~mask[:, 1]], before[~mask[:, 1]])
    assert not torch.allclose(moved[observed_all], before[observed_all])


@pytest.mark.parametrize("n_layers", [1, 2])
def test_last_layer_read_at_cls_only_equals_the_full_layer(n_layers):
    # The last layer computes [CLS]'s output alone; the network must be the
    # one that runs every layer in full and reads [CLS] after it.
    net = small_net(n_layers=n_layers).eval()
    xs, mask = make_batch(missing_rate=0.3)
    out = net(xs, mask)
    h, kept = net.encoder(xs, mask)
    tokens = torch.cat(
        [net.cls_token.expand(len(h), 1, -1), h + net.modality_embedding], dim=1
    )
    ignored = torch.cat([torch.zeros_like(kept[:, :1]), ~kept], dim=1)
    for layer in net.layers:
        tokens = layer(tokens, src_key_padding_mask=ignored)
    reference = net.head(net.norm(tokens[:, 0]))
    torch.testing.assert_close(out.prediction, reference)
    # Every parameter of the last layer still gets a gradient.
    out.prediction.square().mean().backward()
    for name, param in net.layers[-1].named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


class _Scale(torch.nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return self.factor * x


def test_cls_only_last_layer_keeps_the_layers_dropout_placement():
    # In training, each of the layer's three dropouts must sit where the full
    # layer has it: replaced by distinct constant scalings, the two agree.
    from sklearn_mmfusion.nn._transformer import _cls_output_of

    torch.manual_seed(0)
    layer = small_net().layers[-1].train()
    layer.self_attn.dropout = 0.0
    layer.dropout, layer.dropout1, layer.dropout2 = _Scale(0.5), _Scale(0.7), _Scale(0.9)
    tokens = torch.randn(12, 4, 16)
    ignored = torch.zeros(12, 4, dtype=torch.bool)
    ignored[::3, 2] = True
    torch.testing.assert_close(
        _cls_output_of(layer, tokens, ignored),
        layer(tokens, src_key_padding_mask=ignored)[:, 0],
    )


def test_sample_with_nothing_observed_is_finite():
    net = small_net(modality_dropout=0.3)
    xs, mask = make_batch(missing_rate=0.3)
    mask[[3, 7]] = False
    xs = [torch.where(mask[:, [m]], x, 0.0) for m, x in enumerate(xs)]
    out = net.train()(xs, mask)
    assert torch.isfinite(out.prediction).all() and torch.isfinite(out.embedding).all()
    out.prediction.square().mean().backward()
    for name, param in net.named_parameters():
        assert param.grad is None or torch.isfinite(param.grad).all(), name
    out = net.eval()(xs, mask)
    assert torch.isfinite(out.embedding).all()
    # Only the [CLS] token is attended to: every empty sample is the same.
    assert torch.equal(out.embedding[3], out.embedding[7])


@pytest.mark.parametrize("hidden_dim, n_heads", [(10, 4), (16, 3)])
def test_hidden_dim_must_be_a_multiple_of_n_heads(hidden_dim, n_heads):
    with pytest.raises(ValueError, match="multiple of n_heads"):
        TransformerFusion(DIMS, 2, hidden_dim=hidden_dim, n_heads=n_heads)


@pytest.mark.parametrize("params", [{"n_heads": 0}, {"n_layers": 0}])
def test_invalid_layer_counts(params):
    with pytest.raises(ValueError, match="n_heads and n_layers"):
        TransformerFusion(DIMS, 2, hidden_dim=16, **params)


def test_learns_a_label_carried_by_one_modality():
    # The class is the sign of modality 1's first feature; the other
    # modalities are noise, and a fifth of modality 1 is missing.
    xs, mask = make_batch(batch=128, missing_rate=0.0, seed=3)
    mask[::5, 1] = False
    xs = [torch.where(mask[:, [m]], x, 0.0) for m, x in enumerate(xs)]
    y = (xs[1][:, 0] > 0).long()
    net = small_net(n_outputs=2, dropout=0.0).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        optimizer.zero_grad()
        loss = F.cross_entropy(net(xs, mask).prediction, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
