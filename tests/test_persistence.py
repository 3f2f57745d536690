"""Persistence of every public estimator and transformer.

pickle, joblib and skops.io round trips give bit-identical outputs. A fitted
fusion estimator pickles its network as numpy arrays (``BaseFusion.__getstate__``)
and rebuilds it on CPU when loaded (``__setstate__``): the pickle holds no
torch object, which is what lets it load on a machine without the GPU it
was trained on, and lets skops read it.
"""

import io
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
import skops.io as sio
import torch
from _targets import FACTORIES, FUSION, fit, fitted_attributes, make_data, outputs, to_table

FUSION_NAMES = [E.__name__ for E in FUSION]

# Types skops does not trust by default that our files may hold, and why
# loading them is safe (nothing here runs code from the file):
SAFE_TYPES = {
    # Names, widths and numpy statistics; a plain object, no custom loading.
    "sklearn_mmfusion._data.ModalitySchema",
    # What fit learned about X: that schema, ints, strings, column positions.
    "sklearn_mmfusion._data.FittedInput",
    # skorch's training history: a list subclass of per-epoch dicts of numbers.
    "skorch.history.History",
}
# ... plus the estimator's own class: BaseFusion.__setstate__ only builds the
# class's known network from ints and strings and copies numpy arrays into it
# (load_state_dict); no pickle or torch.load is involved. The transformers use
# scikit-learn's default __setstate__.


def fitted_target(name):
    X, yc, yr = make_data()
    if name == "ModalitySplitter":
        X = to_table(X)
    return fit(FACTORIES[name](), X, yc, yr), X


def assert_identical(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def skops_round_trip(est):
    data = sio.dumps(est)
    untrusted = sio.get_untrusted_types(data=data)
    own = f"{type(est).__module__}.{type(est).__qualname__}"
    assert own in untrusted
    assert set(untrusted) <= SAFE_TYPES | {own}, set(untrusted) - SAFE_TYPES - {own}
    return sio.loads(data, trusted=untrusted)


def joblib_round_trip(est, path):
    joblib.dump(est, path)
    return joblib.load(path)


class _NoTorchUnpickler(pickle.Unpickler):
    """Refuses any torch class: a pickle it loads holds no tensor or storage,
    so nothing in it is tied to the device the model was trained on."""

    def find_class(self, module, name):
        if module.split(".")[0] == "torch":
            raise pickle.UnpicklingError(f"the pickle references {module}.{name}")
        return super().find_class(module, name)


def load_without_torch_objects(data):
    return _NoTorchUnpickler(io.BytesIO(data)).load()


@pytest.mark.parametrize("name", list(FACTORIES))
def test_pickle_joblib_and_skops_round_trips(name, tmp_path):
    est, X = fitted_target(name)
    expected = outputs(est, X)
    module = getattr(est, "module_", None)
    loaded = {
        "pickle": pickle.loads(pickle.dumps(est)),
        "joblib": joblib_round_trip(est, tmp_path / "model.joblib"),
        "skops": skops_round_trip(est),
    }
    for how, again in loaded.items():
        assert type(again) is type(est), how
        assert fitted_attributes(again) == fitted_attributes(est), how
        assert sorted(again.get_params()) == sorted(est.get_params()), how
        assert_identical(outputs(again, X), expected)
        if module is not None:
            assert again.module_ is not module and not again.module_.training
            assert all(p.device.type == "cpu" for p in again.module_.parameters())
            assert len(again.history_) == len(est.history_)
    # Saving never touches the estimator that was saved.
    if module is not None:
        assert est.module_ is module
    assert_identical(outputs(est, X), expected)


@pytest.mark.parametrize("name", FUSION_NAMES)
def test_pickle_holds_no_torch_object_and_loaded_model_refits(name):
    est, X = fitted_target(name)
    again = load_without_torch_objects(pickle.dumps(est))
    assert_identical(outputs(again, X), outputs(est, X))
    # A loaded estimator is a normal estimator: refitting it with the same
    # seed gives the original model again.
    _, yc, yr = make_data()
    assert_identical(outputs(fit(again, X, yc, yr), X), outputs(est, X))


def test_pickles_of_the_previous_format_still_load():
    """Before the numpy state, ``module_`` was pickled as a torch module."""
    est, X = fitted_target("ConcatFusionClassifier")
    state = dict(vars(est))
    del state["_network_init_"]  # what an older pickle holds
    old = type(est).__new__(type(est))
    old.__setstate__(state)
    assert old.module_ is est.module_
    assert_identical(outputs(old, X), outputs(est, X))


class FakeCudaTensor(torch.Tensor):
    """Stands for a CUDA tensor: it reports a CUDA device and, like a real one,
    cannot be turned into numpy before ``.cpu()`` copies it to the host."""

    @property
    def device(self):
        return torch.device("cuda", 0)

    @property
    def is_cuda(self):
        return True

    def numpy(self, *args, **kwargs):
        raise TypeError(
            "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() "
            "to copy the tensor to host memory first."
        )

    def cpu(self, *args, **kwargs):
        with torch._C.DisableTorchFunctionSubclass():
            return torch.Tensor.clone(self).as_subclass(torch.Tensor)


@pytest.mark.parametrize("name", ["ConcatFusionClassifier", "CLARGARegressor", "ConFuEmbedder"])
def test_model_trained_on_cuda_loads_and_predicts_without_a_gpu(name, monkeypatch):
    """Simulated (this test runs where there may be no GPU).

    Simulated: a model fitted with ``device="cuda"``. After a CPU fit, its
    ``device`` parameter is set to ``"cuda"`` and its network's ``state_dict``
    is patched to return ``FakeCudaTensor``s (CUDA device, no ``.numpy()``
    without ``.cpu()``), which is what ``__getstate__`` reads.
    Simulated: a machine without a GPU. ``torch.cuda.is_available()`` is
    patched to return False, and the pickle is loaded by an unpickler that
    refuses every torch class (so no storage is deserialised, the step that
    fails with "Attempting to deserialize object on a CUDA device" without a
    GPU, and no ``map_location`` is needed).
    Not simulated: real CUDA kernels (see the GPU test below).
    """
    est, X = fitted_target(name)
    expected = outputs(est, X)
    module = est.module_
    weights = {k: v.detach().as_subclass(FakeCudaTensor) for k, v in module.state_dict().items()}
    monkeypatch.setattr(module, "state_dict", lambda *a, **k: dict(weights))
    est.set_params(device="cuda")
    with pytest.raises(TypeError, match="Use Tensor.cpu"):  # the fake acts like CUDA
        next(iter(module.state_dict().values())).numpy()

    data = pickle.dumps(est)
    assert est.module_ is module  # pickling did not swap the live network
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    again = load_without_torch_objects(data)
    assert again.device == "cuda"
    assert all(p.device.type == "cpu" for p in again.module_.parameters())
    assert_identical(outputs(again, X), expected)
    # Refitting it as it is asks for the missing GPU with a clear message.
    _, yc, yr = make_data()
    with pytest.raises(ValueError, match="device='cuda' but PyTorch sees no CUDA device"):
        fit(again, X, yc, yr)


_LOAD_ON_CPU = """
import pickle, sys, numpy as np, torch
assert not torch.cuda.is_available()
est = pickle.load(open(sys.argv[1], "rb"))
X = pickle.load(open(sys.argv[2], "rb"))
np.save(sys.argv[3], est.transform(X))
"""


@pytest.mark.gpu
def test_model_trained_on_gpu_loads_in_a_process_without_one(tmp_path):
    """The real thing, where a GPU is present: fit on CUDA, load and predict
    in a subprocess that cannot see any GPU (CUDA_VISIBLE_DEVICES="")."""
    X, yc, _ = make_data()
    est = FACTORIES["GatedFusionClassifier"](device="cuda").fit(X, yc)
    (tmp_path / "est.pkl").write_bytes(pickle.dumps(est))
    (tmp_path / "X.pkl").write_bytes(pickle.dumps(X))
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    subprocess.run(
        [sys.executable, "-c", _LOAD_ON_CPU, str(tmp_path / "est.pkl"),
         str(tmp_path / "X.pkl"), str(tmp_path / "Z.npy")],
        check=True, env=env, timeout=300,
    )
    np.testing.assert_allclose(np.load(tmp_path / "Z.npy"), est.transform(X),
                               rtol=1e-4, atol=1e-5)
