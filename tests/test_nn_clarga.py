"""Tests of the pure-PyTorch CLARGA network and its graph attention layer."""

import math
import time

import pytest
import torch
import torch.nn.functional as F
from conftest import random_batch

from sklearn_mmfusion.nn import CLARGAFusion, DenseGATLayer
from sklearn_mmfusion.nn._clarga import resolve_graph_k

DIMS = (3, 5, 2, 4, 6)


def make_batch(batch=40, dims=DIMS, missing_rate=0.3, seed=0):
    return random_batch(batch, dims, missing_rate, seed)


def small_net(dims=DIMS, n_outputs=3, **params):
    # Two GAT layers (the network's default is one): both kinds of layer,
    # concatenated heads and averaged heads, are exercised.
    params = {"hidden_dim": 16, "n_heads": 2, "n_layers": 2, **params}
    return CLARGAFusion(dims, n_outputs, **params)


# --------------------------------------------------------------------------
# DenseGATLayer


@pytest.mark.parametrize("concat, width", [(True, 3 * 4), (False, 4)])
def test_layer_shapes(concat, width):
    torch.manual_seed(0)
    layer = DenseGATLayer(8, 4, heads=3, concat=concat)
    x = torch.randn(5, 6, 8)
    weights = torch.rand(5, 6, 6)
    out, attention = layer(x, weights)
    assert out.shape == (5, 6, width)
    assert attention.shape == (5, 3, 6, 6)


def test_layer_attention_follows_the_edges():
    torch.manual_seed(0)
    layer = DenseGATLayer(8, 4, heads=3)
    x = torch.randn(4, 5, 8, requires_grad=True)
    weights = torch.rand(4, 5, 5) * (torch.rand(4, 5, 5) > 0.5)
    weights[:, :4] += torch.eye(5)[:4]  # self-loops, except for node 4 ...
    weights[:, 4] = 0.0  # ... which has no edge at all
    weights[0, 1] = torch.eye(5)[3]  # node 1 of sample 0: a single edge
    out, attention = layer(x, weights)
    has_edge = (weights > 0).unsqueeze(1).expand_as(attention)
    assert torch.all(attention[~has_edge] == 0)
    assert torch.all(attention[has_edge] > 0)
    torch.testing.assert_close(attention[:, :, :4].sum(-1), torch.ones(4, 3, 4))
    torch.testing.assert_close(attention[0, :, 1], torch.eye(5)[3].expand(3, 5))
    # No edge: no message, a finite output, finite gradients.
    torch.testing.assert_close(out[:, 4], F.elu(layer.bias).expand(4, -1))
    out.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_layer_prior_shifts_attention():
    torch.manual_seed(0)
    layer = DenseGATLayer(8, 4, heads=2)
    x = torch.randn(1, 3, 8)
    flat = torch.full((1, 3, 3), 1 / 3)
    skewed = torch.tensor([[[0.9, 0.05, 0.05]] * 3])
    _, a_flat = layer(x, flat)
    _, a_skewed = layer(x, skewed)
    # The log-prior adds log w to every logit: alpha ~ w * exp(e).
    expected = a_flat * skewed.unsqueeze(1)
    torch.testing.assert_close(a_skewed, expected / expected.sum(-1, keepdim=True))


@pytest.mark.parametrize("concat", [True, False])
def test_layer_neighbour_slots_match_dense_layout(concat):
    torch.manual_seed(0)
    batch, n_nodes, n_slots = 3, 6, 3
    layer = DenseGATLayer(8, 4, heads=2, concat=concat)
    x = torch.randn(batch, n_nodes, 8)
    neighbors = torch.stack(
        [torch.randperm(n_nodes)[:n_slots] for _ in range(batch * n_nodes)]
    ).view(batch, n_nodes, n_slots)
    slot_weights = torch.rand(batch, n_nodes, n_slots)
    slot_weights[0, 0, 1] = 0.0  # an unused slot
    dense = torch.zeros(batch, n_nodes, n_nodes).scatter(-1, neighbors, slot_weights)

    out_dense, att_dense = layer(x, dense)
    out_slots, att_slots = layer(x, slot_weights, neighbors)
    torch.testing.assert_close(out_slots, out_dense)
    torch.testing.assert_close(
        att_slots, att_dense.gather(-1, neighbors.unsqueeze(1).expand_as(att_slots))
    )


# --------------------------------------------------------------------------
# CLARGAFusion


@pytest.mark.parametrize("graph_k", [None, "auto", 2])
@pytest.mark.parametrize("n_outputs", [0, 3])
def test_output_shapes(graph_k, n_outputs):
    torch.manual_seed(0)
    net = small_net(n_outputs=n_outputs, graph_k=graph_k)
    xs, mask = make_batch()
    out = net.train()(xs, mask)
    assert out.embedding.shape == (40, 16)
    assert out.details["attention"].shape == (40, 5, 5)
    assert out.aux_loss.shape == ()
    if n_outputs:
        assert out.prediction.shape == (40, n_outputs)
    else:
        assert out.prediction is None and net.head is None


@pytest.mark.parametrize("graph_k", [None, "auto", 1])
@pytest.mark.parametrize("missing", ["mask", "zero"])
def test_finite_outputs_and_gradients_with_missing_rows(graph_k, missing):
    torch.manual_seed(0)
    net = small_net(graph_k=graph_k, missing=missing, modality_dropout=0.2)
    xs, mask = make_batch(batch=50, missing_rate=0.0)
    mask[:45, 0] = False  # 90% of modality 0 missing
    mask[7] = False  # a sample with nothing observed
    xs = [torch.where(mask[:, [m]], x, 0.0) for m, x in enumerate(xs)]
    out = net.train()(xs, mask)
    details = out.details["attention"]
    for tensor in (out.prediction, out.embedding, out.aux_loss, details):
        assert torch.isfinite(tensor).all()
    (out.prediction.square().mean() + out.aux_loss).backward()
    for name, param in net.named_parameters():
        assert param.grad is None or torch.isfinite(param.grad).all(), name

    out = net.eval()(xs, mask)
    assert torch.equal(out.embedding[7], torch.zeros(16))
    assert torch.equal(out.details["attention"][7], torch.zeros(5, 5))
    assert torch.isfinite(out.prediction[7]).all()


@pytest.mark.parametrize("graph_k", [None, "auto", 1, 2, 3])
def test_attention_rows_sum_to_one_and_missing_senders_are_zero(graph_k):
    torch.manual_seed(0)
    net = small_net(graph_k=graph_k).eval()
    xs, mask = make_batch(missing_rate=0.4)
    attention = net(xs, mask).details["attention"]
    receivers = mask.unsqueeze(-1).expand_as(attention)
    senders = mask.unsqueeze(1).expand_as(attention)
    assert torch.all(attention[~senders] == 0)  # missing senders
    assert torch.all(attention[~receivers] == 0)  # rows of missing receivers
    torch.testing.assert_close(attention.sum(-1)[mask], torch.ones(int(mask.sum())))
    assert torch.all(attention.diagonal(dim1=1, dim2=2)[mask] > 0)  # self-loops


@pytest.mark.parametrize(
    "graph_k, n_mod, expected",
    [("auto", 2, 2), ("auto", 4, 3), ("auto", 9, 4), ("auto", 64, 9),
     (None, 7, 7), (3, 7, 3), (20, 7, 7), (1, 7, 1)],
)
def test_resolve_graph_k(graph_k, n_mod, expected):
    assert resolve_graph_k(graph_k, n_mod) == expected


@pytest.mark.parametrize("graph_k", [0, -1, "dense", 2.5, True])
def test_invalid_graph_k(graph_k):
    with pytest.raises(ValueError, match="graph_k"):
        small_net(graph_k=graph_k)


def test_invalid_parameters():
    with pytest.raises(ValueError, match="multiple of n_heads"):
        small_net(hidden_dim=10, n_heads=4, n_layers=2)
    small_net(hidden_dim=10, n_heads=4, n_layers=1)  # one layer: any width
    with pytest.raises(ValueError, match="n_layers"):
        small_net(n_layers=0)
    with pytest.raises(ValueError, match="temperature"):
        small_net(temperature=0.0)
    with pytest.raises(ValueError, match="max_contrastive_pairs"):
        small_net(max_contrastive_pairs=0)


def test_dense_graph_keeps_every_observed_sender():
    torch.manual_seed(0)
    net = small_net(graph_k=None).eval()
    xs, mask = make_batch(missing_rate=0.3)
    attention = net(xs, mask).details["attention"]
    both = mask.unsqueeze(-1) & mask.unsqueeze(1)
    assert torch.all(attention[both] > 0)


def test_graph_k_one_keeps_only_self_loops():
    torch.manual_seed(0)
    net = small_net(graph_k=1).eval()
    xs, mask = make_batch(missing_rate=0.3)
    attention = net(xs, mask).details["attention"]
    expected = torch.diag_embed(mask.float())
    torch.testing.assert_close(attention, expected)


@pytest.mark.parametrize("graph_k", ["auto", 2, 3])
def test_top_k_limits_the_neighbourhood(graph_k):
    torch.manual_seed(0)
    dims = (2,) * 9
    net = small_net(dims, graph_k=graph_k).eval()
    xs, mask = make_batch(batch=60, dims=dims, missing_rate=0.3)
    attention = net(xs, mask).details["attention"]
    k = resolve_graph_k(graph_k, 9)
    n_edges = (attention > 0).sum(-1)
    # Self-loop plus the k - 1 best observed senders (fewer if fewer exist).
    expected = torch.clamp(mask.sum(1, keepdim=True), max=k).expand_as(mask)
    assert torch.equal(n_edges[mask], expected[mask])
    assert torch.all(n_edges[~mask] == 0)


def test_top_k_path_matches_dense_path_when_k_covers_the_observed():
    """With at most k observed modalities the top-k graph is the dense one."""
    torch.manual_seed(0)
    dims = (2,) * 6
    sparse = small_net(dims, graph_k=3).eval()
    dense = small_net(dims, graph_k=None).eval()
    dense.load_state_dict(sparse.state_dict())
    xs, mask = make_batch(batch=30, dims=dims, missing_rate=0.0)
    mask[:] = False
    mask[:, :3] = True  # 3 observed = k
    xs = [torch.where(mask[:, [m]], x, 0.0) for m, x in enumerate(xs)]
    out_sparse, out_dense = sparse(xs, mask), dense(xs, mask)
    torch.testing.assert_close(out_sparse.prediction, out_dense.prediction)
    torch.testing.assert_close(
        out_sparse.details["attention"], out_dense.details["attention"]
    )


def test_aux_loss_is_none_without_two_jointly_observed_rows():
    torch.manual_seed(0)
    # No modality dropout: the rows each pair has must be the mask's, not a
    # random draw's (CLARGA hides observed modalities with p=0.1 by default).
    net = small_net(dims=(3, 4, 5), modality_dropout=0.0).train()
    xs, mask = make_batch(batch=3, dims=(3, 4, 5), missing_rate=0.0)
    mask = torch.tensor(
        [[True, True, False], [False, True, True], [True, False, False]]
    )
    xs = [torch.where(mask[:, [m]], x, 0.0) for m, x in enumerate(xs)]
    assert net(xs, mask).aux_loss is None  # every pair has < 2 valid rows
    mask[2, 1] = True  # pair (0, 1) now has rows 0 and 2
    assert torch.isfinite(net(xs, mask).aux_loss)
    assert net.eval()(xs, mask).aux_loss is None  # training mode only
    single = [x[:1] for x in xs]
    assert net.train()(single, mask[:1]).aux_loss is None


def test_aux_loss_subsamples_pairs():
    torch.manual_seed(0)
    dims = (2,) * 10  # 45 pairs
    net = small_net(dims, max_contrastive_pairs=4).train()
    xs, mask = make_batch(batch=16, dims=dims)
    aux = net(xs, mask).aux_loss
    assert torch.isfinite(aux)
    aux.backward()
    assert net.projection.weight.grad.abs().sum() > 0


def which_modality_task(n, n_mod, seed):
    """One informative modality per sample (the label's sign on its first
    feature, small elsewhere); the others are noise; 20% of noise rows missing."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=gen)
    informative = torch.randint(0, n_mod, (n,), generator=gen)
    signal = 0.1 * torch.randn(n, 4, generator=gen)
    signal[:, 0] = 2.0 * (2 * y - 1) + 0.3 * torch.randn(n, generator=gen)
    is_informative = informative.unsqueeze(1) == torch.arange(n_mod)
    mask = is_informative | (torch.rand(n, n_mod, generator=gen) > 0.2)
    xs = []
    for m in range(n_mod):
        noise = 1.5 * torch.randn(n, 4, generator=gen)
        x = torch.where(is_informative[:, [m]], signal, noise)
        xs.append(torch.where(mask[:, [m]], x, 0.0))
    return xs, mask, y


@pytest.mark.parametrize("graph_k", [None, "auto"])
def test_training_reduces_loss(graph_k):
    torch.manual_seed(0)
    xs, mask, y = which_modality_task(256, 4, seed=1)
    net = small_net((4,) * 4, 2, dropout=0.0, graph_k=graph_k)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(100):
        opt.zero_grad()
        out = net(xs, mask)
        loss = F.cross_entropy(out.prediction, y)
        (loss + 0.1 * out.aux_loss).backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    xs, mask, y = which_modality_task(512, 4, seed=2)
    accuracy = (net.eval()(xs, mask).prediction.argmax(1) == y).float().mean()
    assert accuracy > 0.85


def test_time_grows_sub_quadratically_in_the_number_of_modalities(capsys):
    """Forward + backward time at a fixed total input width (printed only)."""
    total_width, batch = 128, 64

    def step_ms(n_mod, graph_k):
        torch.manual_seed(0)
        dims = [total_width // n_mod] * n_mod
        net = CLARGAFusion(dims, 2, hidden_dim=32, graph_k=graph_k).train()
        xs, mask = make_batch(batch=batch, dims=dims, missing_rate=0.2)
        times = []
        for _ in range(4):
            start = time.perf_counter()
            out = net(xs, mask)
            (out.prediction.sum() + out.aux_loss).backward()
            times.append(time.perf_counter() - start)
        return 1000 * min(times[1:])

    with capsys.disabled():
        for graph_k in (None, "auto"):
            t2, t64 = step_ms(2, graph_k), step_ms(64, graph_k)
            slope = math.log(t64 / t2) / math.log(32)
            print(
                f"\nCLARGA graph_k={graph_k}: M=2 {t2:.1f} ms, M=64 {t64:.1f} ms, "
                f"log-log slope {slope:.2f}"
            )
