"""An ensemble of independently trained fusion networks, called as one."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._encoders import FusionOutput

#: How :class:`FusionEnsemble` combines its members' predictions.
ENSEMBLE_AVERAGES = ("probability", "mean")


class FusionEnsemble(nn.Module):
    """Average of fusion networks trained apart, with one network's interface.

    Deep ensembles of a few independently initialised networks are the
    cheapest reliable variance reduction for neural networks on small tabular
    data (TabM, Gorishniy et al., ICLR 2025, measure ensembles of MLPs as the
    strongest MLP family); here each member is a whole fusion network,
    trained on its own with its own seed. TabM itself (package ``tabm``)
    makes its k members share one network's weights (BatchEnsemble), which
    would mean rewriting every layer, each method's fusion step included,
    to run k-wise, and adding a core dependency; whole networks ensemble
    every method unchanged, each member keeping its own gates, graphs and
    embeddings. That choice is by design, not measured against TabM's
    weight sharing.

    ``forward`` returns a :class:`~sklearn_mmfusion.nn.FusionOutput` whose
    ``prediction`` combines the members' (the log of their mean class
    probabilities, so a softmax of it is the averaged probability, or the
    mean output for regression), whose ``aux_loss`` is the members' mean and
    whose ``embedding`` and ``details`` are the first member's: the members'
    embeddings live in unrelated spaces, so averaging them would mean
    nothing. Method-specific calls (e.g. ``embed_subset``) go to
    :attr:`first`.

    Parameters
    ----------
    members : sequence of torch.nn.Module
        Fusion networks with the same inputs and outputs.
    average : {"probability", "mean"}, default="probability"
        ``"probability"``: the predictions are logits, combined as
        ``log(mean_k softmax(logits_k))``; ``"mean"``: plain mean.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmfusion.nn import ConcatFusion, FusionEnsemble
    >>> members = [ConcatFusion([3, 2], n_outputs=4, hidden_dim=8) for _ in range(3)]
    >>> ensemble = FusionEnsemble(members).eval()
    >>> out = ensemble([torch.randn(5, 3), torch.randn(5, 2)], torch.ones(5, 2, dtype=torch.bool))
    >>> out.prediction.shape
    torch.Size([5, 4])
    >>> bool(torch.allclose(out.prediction.softmax(-1).sum(-1), torch.ones(5)))
    True
    """

    def __init__(self, members, average="probability"):
        super().__init__()
        if average not in ENSEMBLE_AVERAGES:
            raise ValueError(f"average must be one of {ENSEMBLE_AVERAGES}, got {average!r}")
        if len(members) < 1:
            raise ValueError("a FusionEnsemble needs at least one member")
        self.members = nn.ModuleList(members)
        self.average = average

    @property
    def first(self):
        """The first member: the network behind ``embedding`` and ``details``."""
        return self.members[0]

    def forward(self, xs, mask, **kwargs):
        outputs = [member(xs, mask, **kwargs) for member in self.members]
        first = outputs[0]
        if first.prediction is None:
            return first
        predictions = torch.stack([out.prediction for out in outputs])
        if self.average == "probability":
            prediction = (torch.logsumexp(F.log_softmax(predictions, dim=-1), dim=0)
                          - math.log(len(outputs)))
        else:
            prediction = predictions.mean(0)
        aux = [out.aux_loss for out in outputs if out.aux_loss is not None]
        aux_loss = torch.stack(aux).mean() if aux else None
        return FusionOutput(prediction, first.embedding, aux_loss, first.details)


def first_member(network):
    """``network``'s first member if it is a :class:`FusionEnsemble`, else itself."""
    return network.first if isinstance(network, FusionEnsemble) else network
