"""FusionEnsemble: the members' averaged prediction behind one network's interface."""

import math

import pytest
import torch

from sklearn_mmfusion.nn import ConcatFusion, FusionEnsemble, GatedFusion
from sklearn_mmfusion.nn._ensemble import first_member


def _inputs(n=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    xs = [torch.randn(n, 3, generator=g), torch.randn(n, 2, generator=g)]
    mask = torch.ones(n, 2, dtype=torch.bool)
    mask[0, 1] = mask[3, 0] = False
    return xs, mask


def _members(k, n_outputs=4, network=ConcatFusion):
    torch.manual_seed(0)
    return [network([3, 2], n_outputs=n_outputs, hidden_dim=8).eval() for _ in range(k)]


def test_probability_average_is_the_mean_of_the_members_softmax():
    members = _members(3)
    xs, mask = _inputs()
    out = FusionEnsemble(members).eval()(xs, mask)
    expected = torch.stack([m(xs, mask).prediction.softmax(-1) for m in members]).mean(0)
    torch.testing.assert_close(out.prediction.softmax(-1), expected)
    torch.testing.assert_close(out.prediction.exp(), expected)  # log-probabilities
    # Not the softmax of the mean logits: the members are averaged as models.
    mean_logits = torch.stack([m(xs, mask).prediction for m in members]).mean(0)
    assert not torch.allclose(out.prediction.softmax(-1), mean_logits.softmax(-1))


def test_mean_average_and_the_first_members_embedding_and_details():
    members = _members(2, n_outputs=1, network=GatedFusion)
    xs, mask = _inputs()
    ensemble = FusionEnsemble(members, average="mean").eval()
    out = ensemble(xs, mask)
    first = members[0](xs, mask)
    torch.testing.assert_close(
        out.prediction, (first.prediction + members[1](xs, mask).prediction) / 2)
    torch.testing.assert_close(out.embedding, first.embedding)
    torch.testing.assert_close(out.details["gates"], first.details["gates"])
    assert first_member(ensemble) is members[0] and first_member(members[1]) is members[1]


def test_training_mode_averages_the_auxiliary_losses():
    from sklearn_mmfusion.nn import ConFuFusion

    torch.manual_seed(0)
    members = [ConFuFusion([3, 2], n_outputs=3, hidden_dim=8).train() for _ in range(2)]
    xs, mask = _inputs(n=16)
    torch.manual_seed(1)
    out = FusionEnsemble(members).train()(xs, mask)
    torch.manual_seed(1)
    aux = [m(xs, mask).aux_loss for m in members]
    torch.testing.assert_close(out.aux_loss, torch.stack(aux).mean())
    out.aux_loss.backward()  # gradients reach every member
    assert all(float(m.projections[0].weight.grad.abs().sum()) > 0 for m in members)


def test_a_one_member_ensemble_is_its_member():
    (member,) = _members(1)
    xs, mask = _inputs()
    out = FusionEnsemble([member]).eval()(xs, mask)
    torch.testing.assert_close(out.prediction.softmax(-1), member(xs, mask).prediction.softmax(-1))
    assert math.isclose(float(out.prediction.exp().sum(-1).mean()), 1.0, rel_tol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="average must be one of"):
        FusionEnsemble(_members(2), average="median")
    with pytest.raises(ValueError, match="at least one member"):
        FusionEnsemble([])
