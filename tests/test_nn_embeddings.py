"""The numerical embeddings of the modality encoders: periodic and piecewise-linear."""

import pytest
import torch

import sklearn_mmfusion.nn as mmnn
from sklearn_mmfusion.nn import (
    DEFAULTS,
    ModalityEncoder,
    PeriodicEmbedding,
    PiecewiseLinearEncoding,
    quantile_bin_edges,
)


def test_matches_rtdl_num_embeddings_lite_with_the_same_weights():
    rtdl = pytest.importorskip("rtdl_num_embeddings")
    torch.manual_seed(0)
    ours = PeriodicEmbedding(5, d_embedding=6, n_frequencies=7, sigma=0.3)
    reference = rtdl.PeriodicEmbeddings(5, 6, n_frequencies=7, frequency_init_scale=0.3,
                                        lite=True)
    with torch.no_grad():
        reference.periodic.weight.copy_(ours.frequencies)
        reference.linear.weight.copy_(ours.linear.weight)
        reference.linear.bias.copy_(ours.linear.bias)
    x = torch.randn(11, 5) * 2
    assert torch.allclose(ours(x), reference(x).flatten(1), atol=1e-6)


def test_shape_initial_frequency_scale_and_gradients():
    torch.manual_seed(0)
    emb = PeriodicEmbedding(40, d_embedding=8, n_frequencies=48, sigma=0.1)
    out = emb(torch.randn(3, 40))
    assert out.shape == (3, 40 * 8) and (out >= 0).all()
    freq = emb.frequencies.detach()
    assert freq.abs().max() <= 0.3 + 1e-6 and 0.05 < freq.std() < 0.15
    out.sum().backward()
    assert emb.frequencies.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="sigma must be positive"):
        PeriodicEmbedding(3, sigma=0.0)


def test_encoder_embeds_only_narrow_modalities():
    wide = DEFAULTS["embedding_max_width"] + 1
    enc = ModalityEncoder([4, wide], 16, numerical_embedding="periodic")
    assert isinstance(enc.encoders[0][0], PeriodicEmbedding)
    assert enc.encoders[0][1].in_features == 4 * DEFAULTS["embedding_dim"]
    assert isinstance(enc.encoders[1][0], torch.nn.Linear)
    assert enc.encoders[1][0].in_features == wide
    plain = ModalityEncoder([4, wide], 16)
    assert all(isinstance(e[0], torch.nn.Linear) for e in plain.encoders)
    with pytest.raises(ValueError, match="numerical_embedding must be one of"):
        ModalityEncoder([4], 16, numerical_embedding="linear")


def _embedding_kwargs(embedding):
    if embedding == "periodic":
        return {"numerical_embedding": "periodic"}
    edges = [quantile_bin_edges(torch.randn(40, 3), 6), quantile_bin_edges(torch.randn(40, 5), 6)]
    return {"numerical_embedding": "piecewise", "bin_edges": edges}


@pytest.mark.parametrize("embedding", ["periodic", "piecewise"])
@pytest.mark.parametrize("name", ["ConcatFusion", "GatedFusion", "LateFusion", "CLARGAFusion",
                                  "ConFuFusion", "TransformerFusion"])
def test_every_network_takes_them_and_masked_rows_do_not_matter(name, embedding):
    torch.manual_seed(0)
    net = getattr(mmnn, name)([3, 5], 2, hidden_dim=16, **_embedding_kwargs(embedding)).eval()
    xs = [torch.randn(6, 3), torch.randn(6, 5)]
    mask = torch.ones(6, 2, dtype=torch.bool)
    mask[0, 1] = False
    other = [xs[0], xs[1].clone()]
    other[1][0] = 1e3  # filler of the missing row
    with torch.no_grad():
        a, b = net(xs, mask), net(other, mask)
    assert torch.isfinite(a.prediction).all()
    assert torch.allclose(a.prediction, b.prediction, atol=1e-6)


# -- piecewise-linear encoding ----------------------------------------------------


def _columns_with_ties():
    torch.manual_seed(0)
    x = torch.randn(200, 4)
    x[:, 2] = (x[:, 2] > 0).float()  # two values: one bin
    x[:, 3] = torch.randint(0, 5, (200,)).float()  # five values: four bins
    return x


def test_bin_edges_and_encoding_match_rtdl_num_embeddings():
    rtdl = pytest.importorskip("rtdl_num_embeddings")
    x = _columns_with_ties()
    edges = quantile_bin_edges(x, 10)
    with pytest.warns(UserWarning):  # rtdl warns about the one-bin column
        reference_bins = rtdl.compute_bins(x, 10)
    for row, reference in zip(edges, reference_bins):
        assert torch.allclose(row[~torch.isnan(row)], reference)
    x_new = torch.randn(50, 4) * 3  # values outside the training range too
    x_new[:, 2] = (x_new[:, 2] > 0).float()
    # rtdl's public encoding drops the unused components; ours keeps them at 0.
    ours = PiecewiseLinearEncoding(edges)(x_new)
    used = PiecewiseLinearEncoding(edges).inverse_width.flatten() != 0
    assert torch.allclose(ours[:, used], rtdl.PiecewiseLinearEncoding(reference_bins)(x_new),
                          atol=1e-6)
    assert (ours[:, ~used] == 0).all()


def test_bin_edges_under_a_float64_default_dtype():
    # A caller's torch.set_default_dtype(torch.float64) once broke
    # torch.quantile (its q tensor took the default dtype, x stayed float32).
    x = _columns_with_ties()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        edges = quantile_bin_edges(x.double(), 10)
    finally:
        torch.set_default_dtype(previous)
    assert edges.dtype == torch.float32
    torch.testing.assert_close(edges, quantile_bin_edges(x, 10), equal_nan=True)


def test_encoding_values_without_rtdl():
    # One feature, edges 0, 1, 3: two bins.
    encoding = PiecewiseLinearEncoding([[0.0, 1.0, 3.0]])
    x = torch.tensor([[-1.0], [0.5], [2.0], [5.0]])
    expected = torch.tensor([[-1.0, 0.0],   # below the range: the first bin extrapolates
                             [0.5, 0.0],
                             [1.0, 0.5],
                             [1.0, 2.0]])   # above: the last bin extrapolates
    assert torch.allclose(encoding(x), expected)
    # A constant training column has no bin: zeros, whatever the value. One bin:
    # the value scaled linearly, unclipped.
    edges = torch.tensor([[2.0, float("nan")], [0.0, 4.0]])
    out = PiecewiseLinearEncoding(edges)(torch.tensor([[7.0, -2.0], [2.0, 8.0]]))
    assert torch.allclose(out, torch.tensor([[0.0, -0.5], [0.0, 2.0]]))
    with pytest.raises(ValueError, match="not strictly ascending"):
        PiecewiseLinearEncoding([[0.0, 2.0, 1.0]])
    with pytest.raises(ValueError, match="at least 2 rows"):
        quantile_bin_edges(torch.zeros(1, 3))


def test_encoder_bins_the_modalities_with_edges():
    x = _columns_with_ties()
    edges = quantile_bin_edges(x, 8)
    enc = ModalityEncoder([4, 6], 16, numerical_embedding="piecewise", bin_edges=[edges, None])
    assert isinstance(enc.encoders[0][0], PiecewiseLinearEncoding)
    assert enc.encoders[0][1].in_features == 4 * 8
    assert isinstance(enc.encoders[1][0], torch.nn.Linear)
    h, _ = enc([x[:5], torch.randn(5, 6)], torch.ones(5, 2, dtype=torch.bool))
    assert h.shape == (5, 2, 16)
    # The edges are buffers: a copy of the state dict rebuilds the same encoder.
    assert "encoders.0.0.left" in enc.state_dict()
    with pytest.raises(ValueError, match="needs bin_edges"):
        ModalityEncoder([4, 6], 16, numerical_embedding="piecewise")
    with pytest.raises(ValueError, match="3 rows for a modality of 4"):
        ModalityEncoder([4], 16, numerical_embedding="piecewise", bin_edges=[edges[:3]])
    with pytest.raises(ValueError, match="only used with"):
        ModalityEncoder([4], 16, bin_edges=[edges])

