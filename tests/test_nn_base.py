"""Tests of the fusion network base class and the shared defaults."""

import inspect

import pytest
import torch
from torch import nn

import sklearn_mmfusion.nn as mmnn
from sklearn_mmfusion.nn import DEFAULTS, MISSING_STRATEGIES, FusionNetwork

DIMS = (3, 5, 2)
EXPECTED = {
    "CLARGAFusion", "ConcatFusion", "ConFuFusion", "GatedFusion", "LateFusion",
    "TransformerFusion",
}


def exported_networks():
    """Every module class exported by sklearn_mmfusion.nn named ``*Fusion``."""
    return [
        getattr(mmnn, name) for name in mmnn.__all__
        if name.endswith("Fusion") and inspect.isclass(getattr(mmnn, name))
        and issubclass(getattr(mmnn, name), nn.Module)
    ]


def make_batch(batch=12, dims=DIMS):
    gen = torch.Generator().manual_seed(0)
    mask = torch.rand(batch, len(dims), generator=gen) >= 0.3
    mask[0] = False
    xs = [torch.where(mask[:, [m]], torch.randn(batch, d, generator=gen), 0.0)
          for m, d in enumerate(dims)]
    return xs, mask


def test_every_exported_fusion_network_subclasses_the_base():
    networks = exported_networks()
    assert {cls.__name__ for cls in networks} == EXPECTED
    for cls in networks:
        assert issubclass(cls, FusionNetwork), cls.__name__


@pytest.mark.parametrize("cls", exported_networks(), ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("training", [True, False])
def test_no_outputs_means_no_prediction(cls, training):
    torch.manual_seed(0)
    net = cls(DIMS, 0, hidden_dim=8)
    out = net.train(training)(*make_batch())
    assert out.prediction is None
    assert out.embedding.shape[0] == 12 and torch.isfinite(out.embedding).all()
    assert not any(name.startswith("head") for name in net.state_dict())
    assert net.n_modalities == len(DIMS) and net.n_outputs == 0


@pytest.mark.parametrize("cls", [FusionNetwork, *exported_networks()],
                         ids=lambda cls: cls.__name__)
def test_invalid_shared_arguments_raise(cls):
    with pytest.raises(ValueError, match="missing must be one of"):
        cls(DIMS, 2, missing="mean")
    with pytest.raises(ValueError, match="n_outputs"):
        cls(DIMS, -1)
    with pytest.raises(ValueError, match="dropout"):
        cls(DIMS, 2, dropout=1.0)
    with pytest.raises(ValueError, match="modality_dims"):
        cls((), 2)


def test_invalid_missing_is_caught_by_the_base_before_the_encoder(monkeypatch):
    def no_encoder(*args, **kwargs):
        raise AssertionError("the encoder should not be built")

    monkeypatch.setattr("sklearn_mmfusion.nn._base.ModalityEncoder", no_encoder)
    with pytest.raises(ValueError, match="missing must be one of"):
        mmnn.ConcatFusion(DIMS, 2, missing="mean")


def test_base_builds_the_encoder_and_leaves_the_fusion_step_to_subclasses():
    net = FusionNetwork(DIMS, 2, hidden_dim=8, missing="zero")
    assert isinstance(net.encoder, mmnn.ModalityEncoder)
    assert net.encoder.modality_dims == DIMS and net.encoder.missing == "zero"
    assert net._make_head(8).out_features == 2
    assert isinstance(net._make_head(8, mlp=True), mmnn.MLPHead)
    assert len(net._make_head(8, copies=3)) == 3
    with pytest.raises(NotImplementedError):
        net(*make_batch())
    assert FusionNetwork(DIMS, 0)._make_head(8, copies=3) is None


@pytest.mark.parametrize("cls", [FusionNetwork, *exported_networks()],
                         ids=lambda cls: cls.__name__)
def test_defaults_come_from_the_shared_mapping(cls):
    net = cls(DIMS, 2)
    assert net.hidden_dim == DEFAULTS["hidden_dim"]
    assert net.dropout_rate == DEFAULTS["dropout"]
    assert net.missing == DEFAULTS["missing"] and net.missing in MISSING_STRATEGIES
    # CLARGA's own modality dropout default, as its estimator's.
    key = "clarga_modality_dropout" if cls is mmnn.CLARGAFusion else "modality_dropout"
    assert net.encoder.modality_dropout.p == DEFAULTS[key]


def test_network_specific_defaults():
    assert len(mmnn.CLARGAFusion(DIMS, 2).layers) == DEFAULTS["clarga_n_layers"] == 1
    assert len(mmnn.TransformerFusion(DIMS, 2).layers) == 2
    assert mmnn.GatedFusion(DIMS, 2).gate == DEFAULTS["gate"] in mmnn.GATES
    confu = mmnn.ConFuFusion(DIMS, 2)
    assert confu.fused_weight == DEFAULTS["fused_weight"]
    assert confu.temperature == DEFAULTS["temperature"]


def test_confu_keeps_its_aux_loss_keyword():
    # The trainer looks for it in the signature of the class's forward.
    params = inspect.signature(mmnn.ConFuFusion.forward).parameters
    assert "with_aux_loss" in params
    net = mmnn.ConFuFusion(DIMS, 2, hidden_dim=8).eval()
    xs, mask = make_batch()
    assert net(xs, mask).aux_loss is None
    assert net(xs, mask, with_aux_loss=True).aux_loss is not None
