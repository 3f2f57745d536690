import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_mmfusion.datasets import make_multimodal_classification

# Small, fast settings for tests that only need a trained model.
FAST = dict(hidden_dim=16, n_ensemble=1, max_epochs=15, batch_size=32, random_state=0)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "gpu: needs a CUDA device (run them alone with `pytest tests -m gpu`)"
    )


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device; PyTorch sees none here")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Two CPU cores run the suite: one torch thread per test process avoids
    # oversubscription when joblib starts workers.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def multimodal_data():
    X, y = make_multimodal_classification(
        n_samples=240, modality_dims=(6, 5, 4), n_informative=2, class_sep=1.5,
        random_state=0,
    )
    return X, y


def with_missing(X, rate=0.3, seed=0):
    from sklearn_mmfusion.datasets import mask_modalities

    return mask_modalities(X, rate, random_state=seed)


def assert_unchanged(before, after):
    for name in before:
        np.testing.assert_array_equal(before[name], after[name])


class RecordNonFiniteGradients(Callback):
    """Count the batches in which some parameter gradient was NaN or inf."""

    def __init__(self):
        self.n_batches = 0
        self.n_bad = 0

    def on_grad_computed(self, net, named_parameters, batch=None, training=False, **kwargs):
        self.n_batches += 1
        if any(
            param.grad is not None and not torch.isfinite(param.grad).all()
            for _, param in named_parameters
        ):
            self.n_bad += 1


def random_batch(batch=40, dims=(3, 5, 2), missing_rate=0.3, seed=0):
    """Network inputs following the nn convention: ``(xs, mask)``, missing
    rows hold zeros (shared by the tests of the networks)."""
    gen = torch.Generator().manual_seed(seed)
    mask = torch.rand(batch, len(dims), generator=gen) >= missing_rate
    xs = [
        torch.where(mask[:, [m]], torch.randn(batch, d, generator=gen), 0.0)
        for m, d in enumerate(dims)
    ]
    return xs, mask
