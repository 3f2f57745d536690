"""Training and predicting on a CUDA device (``pytest tests -m gpu``).

Skipped where PyTorch sees no GPU (see conftest.py). The CPU side of the
round trip (a CUDA-trained model loading without a GPU) is in
test_persistence.py.
"""

import numpy as np
import pytest
import torch
from conftest import FAST, with_missing

from sklearn_mmfusion._discovery import all_fusion_estimators

pytestmark = pytest.mark.gpu

ESTIMATORS = all_fusion_estimators()


def _task_data(Est, X, y):
    tags = Est().__sklearn_tags__()
    if tags.estimator_type == "regressor":
        return X, y.astype(float)
    return X, y


@pytest.mark.parametrize("Est", ESTIMATORS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_fits_and_predicts_on_the_gpu_with_missing_rows(Est, device, multimodal_data):
    X, y = _task_data(Est, *multimodal_data)
    X = with_missing(X, 0.3)
    est = Est(device=device, **FAST).fit(X, y)  # ConFuEmbedder ignores y
    params = list(est.module_.parameters())
    assert params and all(p.is_cuda for p in params)
    Z = est.transform(X)
    assert isinstance(Z, np.ndarray) and Z.dtype == np.float32 and np.isfinite(Z).all()
    if hasattr(est, "predict"):
        pred = est.predict(X)
        assert isinstance(pred, np.ndarray) and pred.shape[0] == len(y)
        if hasattr(est, "classes_"):
            # Two balanced classes: chance is 1/2 (on CPU these settings
            # reach 0.75-0.87 with 30% of the rows missing).
            assert np.mean(pred == y) > 0.65


@pytest.mark.parametrize("name", ["ConcatFusionClassifier", "CLARGAClassifier"])
def test_gpu_and_cpu_models_agree_on_the_data(name, multimodal_data):
    """Same seed, different kernels: not bit-identical, but the two models
    should learn the same task to about the same accuracy."""
    X, y = multimodal_data
    Est = next(c for c in ESTIMATORS if c.__name__ == name)
    acc = {
        device: np.mean(Est(device=device, **FAST).fit(X, y).predict(X) == y)
        for device in ("cpu", "cuda")
    }
    assert abs(acc["cpu"] - acc["cuda"]) < 0.1, acc


def test_training_leaves_the_callers_cuda_rng_alone(multimodal_data):
    X, y = multimodal_data
    Est = next(c for c in ESTIMATORS if c.__name__ == "GatedFusionClassifier")
    state = torch.cuda.get_rng_state()
    Est(device="cuda", **FAST).fit(X, y)
    assert torch.equal(torch.cuda.get_rng_state(), state)
