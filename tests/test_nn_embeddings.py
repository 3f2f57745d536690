"""The periodic numerical embedding of the modality encoders."""

import pytest
import torch

import sklearn_mmfusion.nn as mmnn
from sklearn_mmfusion.nn import DEFAULTS, ModalityEncoder, PeriodicEmbedding


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


@pytest.mark.parametrize("name", ["ConcatFusion", "GatedFusion", "LateFusion", "CLARGAFusion",
                                  "ConFuFusion", "TransformerFusion"])
def test_every_network_takes_it_and_masked_rows_do_not_matter(name):
    torch.manual_seed(0)
    net = getattr(mmnn, name)([3, 5], 2, hidden_dim=16, numerical_embedding="periodic").eval()
    xs = [torch.randn(6, 3), torch.randn(6, 5)]
    mask = torch.ones(6, 2, dtype=torch.bool)
    mask[0, 1] = False
    other = [xs[0], xs[1].clone()]
    other[1][0] = 1e3  # filler of the missing row
    with torch.no_grad():
        a, b = net(xs, mask), net(other, mask)
    assert torch.isfinite(a.prediction).all()
    assert torch.allclose(a.prediction, b.prediction, atol=1e-6)
