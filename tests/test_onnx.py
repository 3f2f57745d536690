"""ONNX export: onnxruntime reproduces predict / predict_proba / transform."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
pytest.importorskip("skl2onnx")

from sklearn_mmfusion import (  # noqa: E402
    CLARGAClassifier,
    ConcatFusionClassifier,
    ConFuEmbedder,
    GatedFusionRegressor,
    LateFusionClassifier,
    ModalityDict,
    ModalitySplitter,
    PerModality,
    to_onnx,
)
from sklearn_mmfusion._base import FusionClassifier, FusionRegressor  # noqa: E402
from sklearn_mmfusion._discovery import all_fusion_estimators  # noqa: E402

WIDTHS = {"a": 4, "b": 3, "c": 5}
FAST = dict(hidden_dim=16, max_epochs=3, random_state=0)


def _data(n=150, seed=0, dtype=np.float64):
    """Three modalities with missing rows (one sample has none) and partial NaNs."""
    rng = np.random.default_rng(seed)
    X = {name: rng.standard_normal((n, w)) * (1 + i) + i for i, (name, w) in
         enumerate(WIDTHS.items())}
    y = (X["a"][:, 0] + X["b"][:, 1] - X["c"][:, 2] > 1).astype(int) + (X["a"][:, 1] > 0)
    for name in ("a", "b"):
        X[name][rng.random(n) < 0.3] = np.nan
    X["c"][rng.random(n) < 0.1] = np.nan
    for name in WIDTHS:
        X[name][0] = np.nan  # nothing observed
    X["a"][3, 1] = X["c"][4, 0] = np.nan  # partial NaNs
    return ModalityDict({k: v.astype(dtype) for k, v in X.items()}), y


def _session(model):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _feeds(X):
    return {name: np.asarray(X[name]) for name in WIDTHS}


def _check_classifier(est, outputs, X):
    label, proba = outputs
    np.testing.assert_array_equal(label, est.predict(X))
    np.testing.assert_allclose(proba, est.predict_proba(X), rtol=0, atol=1e-5)


def _fit_export_and_check(est):
    """Fit a classifier or regressor, check onnxruntime's predictions on new rows
    against its own; returns it fitted."""
    X, y = _data()
    classifier = isinstance(est, FusionClassifier)
    est.fit(X, y) if classifier else est.fit(X, 10.0 * y + 2.5)
    X_new, _ = _data(n=37, seed=1)
    outputs = _session(to_onnx(est)).run(None, _feeds(X_new))
    if classifier:
        _check_classifier(est, outputs, X_new)
    else:
        np.testing.assert_allclose(outputs[0], est.predict(X_new), rtol=0, atol=1e-5)
    return est


@pytest.mark.parametrize("Est", all_fusion_estimators(), ids=lambda c: c.__name__)
def test_every_estimator_matches_onnxruntime(Est):
    X, y = _data()
    est = Est(**FAST)
    if issubclass(Est, FusionClassifier):
        est.fit(X, y)
    elif issubclass(Est, FusionRegressor):
        est.fit(X, 10.0 * y + 2.5)
    else:
        est.fit(X)
    X_new, _ = _data(n=37, seed=1)  # a batch size other than the export trace's
    outputs = _session(to_onnx(est)).run(None, _feeds(X_new))
    if issubclass(Est, FusionClassifier):
        _check_classifier(est, outputs, X_new)
    elif issubclass(Est, FusionRegressor):
        assert outputs[0].shape == (37,)
        np.testing.assert_allclose(outputs[0], est.predict(X_new), rtol=0, atol=1e-5)
    else:
        np.testing.assert_allclose(outputs[0], est.transform(X_new), rtol=0, atol=1e-5)


@pytest.mark.parametrize("Est", [LateFusionClassifier, GatedFusionRegressor],
                         ids=lambda c: c.__name__)
def test_an_ensemble_exports_its_averaged_prediction(Est):
    est = _fit_export_and_check(Est(**{**FAST, "n_ensemble": 3}))
    assert est.n_ensemble_ == 3


@pytest.mark.parametrize("missing", ["zero", "calibrated"])
@pytest.mark.parametrize("Est", [ConcatFusionClassifier, CLARGAClassifier])
def test_missing_strategies(Est, missing):
    X, y = _data()
    est = Est(missing=missing, **FAST).fit(X, y)
    _check_classifier(est, _session(to_onnx(est)).run(None, _feeds(X)), X)


@pytest.mark.parametrize("embedding", [None, "periodic", "piecewise"])
@pytest.mark.parametrize("Est", [ConcatFusionClassifier, GatedFusionRegressor])
def test_numerical_embeddings(Est, embedding):
    # New rows fall outside the training bins too. None, the plain first
    # layer, is named here so that its export is tested whatever "auto" picks.
    _fit_export_and_check(Est(numerical_embedding=embedding, **FAST))


def test_string_labels_multioutput_regression_and_transform():
    X, y = _data()
    labels = np.array(["low", "mid", "high"])[y]
    clf = LateFusionClassifier(**FAST).fit(X, labels)
    label, proba = _session(to_onnx(clf)).run(None, _feeds(X))
    np.testing.assert_array_equal(label, clf.predict(X))
    reg = GatedFusionRegressor(**FAST).fit(X, np.c_[y, -3.0 * y + 1])
    (pred,) = _session(to_onnx(reg)).run(None, _feeds(X))
    assert pred.shape == (len(y), 2)
    np.testing.assert_allclose(pred, reg.predict(X), atol=1e-5)
    (emb,) = _session(to_onnx(clf, method="transform")).run(None, _feeds(X))
    np.testing.assert_allclose(emb, clf.transform(X), atol=1e-5)


def _table(X):
    table = np.hstack([X[name] for name in WIDTHS])
    bounds = np.cumsum([0] + list(WIDTHS.values()))
    spec = {name: list(range(lo, hi)) for name, lo, hi in zip(WIDTHS, bounds, bounds[1:])}
    return table, spec


def test_pipelines_and_the_two_dimensional_form():
    X, y = _data()
    table, spec = _table(X)
    # A 2-D table split by the estimator's own `modalities`.
    est = ConcatFusionClassifier(modalities=spec, **FAST).fit(table, y)
    session = _session(to_onnx(est))
    assert [i.name for i in session.get_inputs()] == ["X"]
    _check_classifier(est, session.run(None, {"X": table}), table)
    # ModalitySplitter first.
    pipe = make_pipeline(ModalitySplitter(spec), CLARGAClassifier(**FAST)).fit(table, y)
    _check_classifier(pipe, _session(to_onnx(pipe)).run(None, {"X": table}), table)
    # PerModality(StandardScaler()) on a mapping, float32 inputs.
    X32 = ModalityDict({k: v.astype(np.float32) for k, v in X.items()})
    pipe = make_pipeline(PerModality(StandardScaler()), LateFusionClassifier(**FAST))
    pipe.fit(X32, y)
    session = _session(to_onnx(pipe, input_dtype=np.float32))
    assert [i.name for i in session.get_inputs()] == list(WIDTHS)
    _check_classifier(pipe, session.run(None, _feeds(X32)), X32)


def test_skl2onnx_converts_a_pipeline_once_registered():
    from skl2onnx import to_onnx as skl_to_onnx
    from skl2onnx.common.data_types import DoubleTensorType

    from sklearn_mmfusion import register_skl2onnx_converters

    X, y = _data()
    table, spec = _table(X)
    pipe = make_pipeline(ModalitySplitter(spec), PerModality(StandardScaler()),
                         ConcatFusionClassifier(**FAST)).fit(table, y)
    register_skl2onnx_converters()
    model = skl_to_onnx(pipe, initial_types=[("X", DoubleTensorType([None, table.shape[1]]))],
                        target_opset=17)
    _check_classifier(pipe, _session(model).run(None, {"X": table}), table)


def test_runs_in_a_fresh_process_without_torch(tmp_path):
    X, y = _data()
    est = ConcatFusionClassifier(missing="calibrated", **FAST).fit(X, y)
    path = tmp_path / "model.onnx"
    path.write_bytes(to_onnx(est).SerializeToString())
    np.savez(tmp_path / "data.npz", **_feeds(X), expected=est.predict_proba(X))
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        import onnxruntime as ort
        data = np.load({str(tmp_path / "data.npz")!r})
        session = ort.InferenceSession({str(path)!r}, providers=["CPUExecutionProvider"])
        feeds = {{i.name: data[i.name] for i in session.get_inputs()}}
        label, proba = session.run(None, feeds)
        assert np.abs(proba - data["expected"]).max() < 1e-5
        assert "torch" not in sys.modules and "sklearn_mmfusion" not in sys.modules
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_bad_calls():
    with pytest.raises(TypeError, match="sklearn_mmfusion estimator"):
        to_onnx(LogisticRegression())
    with pytest.raises(NotFittedError):
        to_onnx(ConcatFusionClassifier())
    X, y = _data()
    emb = ConFuEmbedder(**FAST).fit(X)
    with pytest.raises(ValueError, match="method"):
        to_onnx(emb, method="predict")
    with pytest.raises(ValueError, match="input_dtype"):
        to_onnx(emb, input_dtype=np.int64)
