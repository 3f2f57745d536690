"""scikit-learn conventions beyond check_estimator: metadata routing of
``sample_weight``, ``predict_log_proba``, lazy submodules, ``--version``, the
skops ``load`` helper, an array given to ``predict`` after a DataFrame fit, and
the abstract bases."""

import inspect
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_mmfusion
from sklearn_mmfusion import (
    BaseFusion,
    ConcatFusionClassifier,
    FusionClassifier,
    FusionEmbedder,
    FusionRegressor,
    PerModality,
)
from sklearn_mmfusion._discovery import all_fusion_estimators
from sklearn_mmfusion.datasets import make_multimodal_classification

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Few epochs: the model must stay imperfect, so that a weighted and an
# unweighted accuracy differ and the test can tell which one it got.
QUICK = dict(hidden_dim=8, n_ensemble=1, max_epochs=3, batch_size=32, early_stopping=False,
             random_state=0)


@pytest.fixture(scope="module")
def weighted_data():
    X, y = make_multimodal_classification(
        n_samples=120, modality_dims=(4, 3), n_informative=2, class_sep=0.6, random_state=0
    )
    w = np.random.RandomState(1).choice([0.0, 1.0, 4.0], size=len(y))
    return X, y, w


def accuracy(est, X, y, w=None):
    return float(np.average(est.predict(X) == y, weights=w))


def test_sample_weight_is_routed_to_fit_and_to_score_only_on_request(weighted_data):
    X, y, w = weighted_data
    folds = list(KFold(2, shuffle=True, random_state=0).split(np.zeros(len(y))))
    with sklearn.config_context(enable_metadata_routing=True):
        # Not requested: scikit-learn refuses to drop the weights silently.
        with pytest.raises(sklearn.exceptions.UnsetMetadataPassedError):
            cross_validate(ConcatFusionClassifier(**QUICK), X, y, cv=folds,
                           params={"sample_weight": w})
        # (pipeline?, score request, scoring). With score_request=False a
        # Pipeline's own score refuses the weights (scikit-learn's Pipeline does
        # so for any estimator), so there the unweighted score comes from the
        # bare estimator, or from a scorer told not to request them.
        for in_pipeline, score_request, scoring in [
            (True, True, None), (False, False, None),
            (True, False, make_scorer(accuracy_score).set_score_request(sample_weight=False)),
        ]:
            est = ConcatFusionClassifier(**QUICK).set_fit_request(sample_weight=True)
            est.set_score_request(sample_weight=score_request)
            pipe = (Pipeline([("scale", PerModality(StandardScaler())), ("clf", est)])
                    if in_pipeline else est)
            fit_weight = "clf__sample_weight" if in_pipeline else "sample_weight"
            result = cross_validate(pipe, X, y, cv=folds, params={"sample_weight": w},
                                    scoring=scoring, return_estimator=True)
            for (train, test), fitted, score in zip(
                folds, result["estimator"], result["test_score"]
            ):
                # The references are fitted the classic way, without routing.
                with sklearn.config_context(enable_metadata_routing=False):
                    weighted = sklearn.clone(pipe).fit(X[train], y[train],
                                                       **{fit_weight: w[train]})
                    unweighted = sklearn.clone(pipe).fit(X[train], y[train])
                got = fitted.predict_proba(X[test])
                np.testing.assert_allclose(got, weighted.predict_proba(X[test]), atol=1e-6)
                assert not np.allclose(got, unweighted.predict_proba(X[test]), atol=1e-3)
                plain, by_weight = (accuracy(fitted, X[test], y[test]),
                                    accuracy(fitted, X[test], y[test], w[test]))
                assert plain != by_weight
                assert score == pytest.approx(by_weight if score_request else plain)


def test_grid_search_routes_sample_weight_to_fit_and_refit(weighted_data):
    X, y, w = weighted_data
    with sklearn.config_context(enable_metadata_routing=True):
        est = ConcatFusionClassifier(**QUICK).set_fit_request(sample_weight=True)
        est.set_score_request(sample_weight=False)
        search = GridSearchCV(est, {"lr": [1e-3, 1e-2]}, cv=KFold(2)).fit(X, y, sample_weight=w)
    best = sklearn.clone(est).set_params(**search.best_params_)
    # cv_results_ hold unweighted accuracies: the score did not request weights.
    fold_scores = []
    for train, test in KFold(2).split(np.zeros(len(y))):
        fold = sklearn.clone(best).fit(X[train], y[train], sample_weight=w[train])
        fold_scores.append(accuracy(fold, X[test], y[test]))
    assert search.best_score_ == pytest.approx(np.mean(fold_scores))
    np.testing.assert_allclose(
        search.best_estimator_.predict_proba(X),
        best.fit(X, y, sample_weight=w).predict_proba(X), atol=1e-6,
    )
    assert not np.allclose(
        search.best_estimator_.predict_proba(X), best.fit(X, y).predict_proba(X), atol=1e-3
    )


def test_predict_log_proba_is_the_log_of_predict_proba(weighted_data):
    X, y, _ = weighted_data
    for Est in all_fusion_estimators():
        if issubclass(Est, sklearn.base.ClassifierMixin):
            assert callable(getattr(Est, "predict_log_proba", None)), Est.__name__
    clf = ConcatFusionClassifier(**QUICK).fit(X, y)
    log_proba = clf.predict_log_proba(X)
    assert log_proba.shape == (len(y), 2) and log_proba.dtype == np.float64
    np.testing.assert_allclose(log_proba, np.log(clf.predict_proba(X)), rtol=1e-10)
    # Where a probability underflows to 0, its log stays finite.
    clf.module_.head.bias.data = clf.module_.head.bias.data.new_tensor([800.0, -800.0])
    assert (clf.predict_proba(X)[:, 1] == 0).any()
    assert np.isfinite(clf.predict_log_proba(X)).all()


def run_python(code):
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_datasets_and_plotting_are_lazy_attributes():
    done = run_python(
        "import sys, sklearn_mmfusion as m\n"
        "assert 'sklearn_mmfusion.plotting' not in sys.modules\n"
        "assert 'datasets' in dir(m) and 'plotting' in dir(m)\n"
        "print(m.datasets.load_mfeat.__name__, m.plotting.plot_gates.__name__)\n"
        "try:\n    m.no_such_thing\nexcept AttributeError as e:\n    print('AttributeError', e)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "load_mfeat plot_gates",
        "AttributeError module 'sklearn_mmfusion' has no attribute 'no_such_thing'",
    ]


def test_cli_version():
    done = subprocess.run([sys.executable, "-m", "sklearn_mmfusion", "--version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"sklearn-mmfusion {sklearn_mmfusion.__version__}"


class NotOurs(sklearn.base.BaseEstimator):
    """A user's own class: the load helper must not trust it."""

    def fit(self, X, y=None):
        return self


def test_load_trusts_exactly_our_types(weighted_data, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y, _ = weighted_data
    pipe = Pipeline([("scale", PerModality(StandardScaler())),
                     ("clf", ConcatFusionClassifier(**QUICK))]).fit(X, y)
    sio.dump(pipe, tmp_path / "pipe.skops")
    again = sklearn_mmfusion.load(tmp_path / "pipe.skops")
    np.testing.assert_array_equal(again.predict_proba(X), pipe.predict_proba(X))
    with open(tmp_path / "pipe.skops", "rb") as handle:
        np.testing.assert_array_equal(sklearn_mmfusion.load(handle).predict(X), pipe.predict(X))
    sio.dump(Pipeline([("mine", NotOurs())]), tmp_path / "other.skops")
    with pytest.raises(ValueError, match="test_conventions.NotOurs"):
        sklearn_mmfusion.load(tmp_path / "other.skops")


@pytest.mark.parametrize("spec", [{"u": ["a", "b"], "v": ["c", "d", "e"]},
                                  {"u": [0, 1], "v": slice(2, 5)}])
def test_array_after_dataframe_fit_warns_then_uses_columns_by_position(spec):
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    df = pd.DataFrame(rng.randn(60, 5), columns=list("abcde"))
    y = (df["a"] + df["d"] > 0).astype(int).to_numpy()
    clf = ConcatFusionClassifier(modalities=spec, **QUICK).fit(df, y)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = clf.predict_proba(df.to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(from_array, clf.predict_proba(df))
    # The columns are taken by position: reordered ones give other outputs.
    with pytest.warns(UserWarning):
        assert not np.allclose(clf.predict_proba(df.to_numpy()[:, ::-1]), from_array)


def test_modality_dict_copies_as_documented_and_the_safe_missing_row_recipe():
    # The FAQ's table: construction keeps references, copy() and fancy
    # indexing copy, a slice is a view.
    audio = np.arange(40).reshape(10, 4)          # integers: cannot hold NaN
    imu = np.random.RandomState(0).randn(10, 2)
    X = sklearn_mmfusion.ModalityDict(audio=audio, imu=imu)
    assert X["audio"] is audio and X["imu"] is imu
    assert not np.shares_memory(X.copy()["imu"], imu)
    assert not np.shares_memory(X[[1, 5]]["imu"], imu)
    assert not np.shares_memory(X[3]["imu"], imu)
    assert np.shares_memory(X[2:4]["imu"], imu)
    with pytest.raises(ValueError):
        X["audio"][3] = np.nan                    # the README's old snippet
    # The documented recipe: a float copy, then NaN rows; the caller's arrays
    # stay as they were and row 3 is a missing audio modality.
    before = audio.copy(), imu.copy()
    safe = sklearn_mmfusion.ModalityDict(audio=audio.astype(float), imu=imu.astype(float))
    safe["audio"][3] = np.nan
    safe["imu"][7] = np.nan
    np.testing.assert_array_equal(audio, before[0])
    np.testing.assert_array_equal(imu, before[1])
    y = np.arange(10) % 2
    clf = ConcatFusionClassifier(**QUICK).fit(safe, y)
    assert clf.predict(safe).shape == (10,)


# -- abstract bases ------------------------------------------------------------


@pytest.mark.parametrize("base", [BaseFusion, FusionClassifier, FusionRegressor, FusionEmbedder])
def test_bases_are_abstract_and_discovery_skips_them(base):
    assert inspect.isabstract(base)
    with pytest.raises(TypeError, match="abstract"):
        base()
    assert base not in all_fusion_estimators()


def test_every_public_concrete_estimator_is_discovered_by_flavour():
    public = [getattr(sklearn_mmfusion, name) for name in sklearn_mmfusion.__all__]
    concrete = {c for c in public if inspect.isclass(c) and issubclass(c, BaseFusion)
                and not inspect.isabstract(c)}
    assert concrete == set(all_fusion_estimators())
    flavours = {kind: set(all_fusion_estimators(kind))
                for kind in ("classifier", "regressor", "embedder")}
    # Each concrete estimator has exactly one task flavour.
    assert set.union(*flavours.values()) == concrete
    assert sum(len(v) for v in flavours.values()) == len(concrete)
    assert sklearn_mmfusion.ConFuEmbedder in flavours["embedder"]


@pytest.mark.parametrize("cls", all_fusion_estimators(), ids=lambda c: c.__name__)
def test_auxiliary_loss_weight_is_the_estimators_own_parameter(cls):
    est = cls()
    if "contrastive_weight" in est.get_params():
        est.set_params(contrastive_weight=0.37)
        assert est._aux_weight() == 0.37
    else:
        # No parameter for it: the network's own loss counts once (the
        # embedder's contrastive loss is its whole loss).
        assert est._aux_weight() == 1.0


def test_private_scikit_learn_names_come_through_the_compat_module_only():
    import ast
    from pathlib import Path

    package = Path(sklearn_mmfusion.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        if path.name == "_sklearn_compat.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn"):
                private_module = any(part.startswith("_") for part in node.module.split("."))
                private_name = any(alias.name.startswith("_") for alias in node.names)
                if private_module or private_name:
                    offenders.append(f"{path.name}:{node.lineno} {node.module}")
    assert offenders == []


def test_no_estimator_module_imports_another():
    # The method modules sit side by side on _base: each imports the base,
    # the docs, the compat module and nn, never a sibling method.
    import ast
    from pathlib import Path

    package = Path(sklearn_mmfusion.__file__).parent
    methods = {"_concat", "_late", "_gated", "_clarga", "_confu", "_transformer"}
    for name in methods:
        tree = ast.parse((package / f"{name}.py").read_text())
        imported = {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level == 1}
        assert not imported & methods, (name, imported & methods)
