"""sklearn_mmfusion.compare: folds, groups, tasks, baselines, the result object."""

import numpy as np
import pytest

from sklearn_mmfusion import (
    ComparisonResult,
    ConcatFusionClassifier,
    ConcatFusionRegressor,
    GatedFusionClassifier,
    ModalityDict,
    compare,
)
from sklearn_mmfusion._compare import baseline_estimators
from sklearn_mmfusion.datasets import make_multimodal_classification


def small(n=150, seed=0):
    X, y = make_multimodal_classification(n_samples=n, modality_dims=(4, 3),
                                          class_sep=2.0, random_state=seed)
    return X, y


FAST = {"Concat": ConcatFusionClassifier(hidden_dim=16, max_epochs=3)}


def test_compare_string_labels_result_api(tmp_path):
    pytest.importorskip("pandas")
    X, y = small()
    labels = np.array(["healthy", "sick"])[y]
    result = compare(X, labels, cv=3, missing_rates=(0.0, 0.3),
                     estimators={**FAST, "Gated": GatedFusionClassifier(hidden_dim=8,
                                                                          max_epochs=3)},
                     baselines=["LogisticRegression", "MLPClassifier"],
                     progress=False, n_jobs=1)
    assert isinstance(result, ComparisonResult)
    frame = result.to_frame()
    # One row per method x rate, mean and std of every score, times.
    assert len(frame) == 4 * 2
    for col in ("macro_f1", "macro_f1_std", "accuracy", "accuracy_std", "fit_s", "predict_s"):
        assert col in frame.columns
    assert set(frame["kind"]) == {"fusion", "baseline"}
    assert len(result.records) == 4 * 2 * 3
    best = result.best(0.0)
    assert frame.query("missing_rate == 0")["macro_f1"].max() == pytest.approx(
        frame.set_index(["method", "missing_rate"]).loc[(best, 0.0), "macro_f1"])
    assert result.best(kind="baseline") in ("LogisticRegression", "MLPClassifier")
    text = result.recommendation
    assert "At 0% missing" in text and "At 30% missing" in text
    assert "over 3 folds" in text
    markdown = result.to_markdown()
    assert "| missing rate | method | macro-F1 |" in markdown
    assert "LogisticRegression (baseline)" in markdown
    pytest.importorskip("matplotlib")
    result.plot(tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 5000


def test_all_methods_share_folds_and_masks():
    X, y = small(90)
    result = compare(X, y, cv=3, missing_rates=(0.3,), estimators=FAST,
                     baselines=["LogisticRegression"], progress=False)
    by_fold = {}
    for row in result.records:
        by_fold.setdefault(row["fold"], set()).add((row["n_train"], row["n_test"]))
    assert all(len(sizes) == 1 for sizes in by_fold.values())
    # The same folds as the published protocol: StratifiedKFold(shuffle, 0).
    from sklearn.model_selection import StratifiedKFold

    expected = list(StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(90), y))
    for (train, test), (exp_train, exp_test) in zip(result.folds, expected):
        np.testing.assert_array_equal(test, exp_test)


@pytest.mark.parametrize("cv", [3, "logo"])
def test_groups_make_folds_subject_wise(cv):
    X, y = small(120)
    groups = np.repeat(np.arange(6), 20)
    result = compare(X, y, groups=groups, cv=cv, estimators=FAST,
                     baselines=["LogisticRegression"], progress=False)
    assert len(result.folds) == (6 if cv == "logo" else 3)
    for train, test in result.folds:
        # No sample of a test group is ever in its training fold.
        assert not set(groups[test]) & set(groups[train])
    covered = np.concatenate([test for _, test in result.folds])
    assert sorted(covered) == list(range(120))
    assert ("StratifiedGroupKFold" if cv == 3 else "leave-one-group-out") in \
        result.cv_description


def test_regression_detected_with_r2_and_mae():
    rng = np.random.RandomState(0)
    X = ModalityDict(a=rng.randn(120, 3), b=rng.randn(120, 2))
    y = X["a"][:, 0] * 2 + X["b"][:, 1] + 0.1 * rng.randn(120)
    groups = np.arange(120) % 8
    result = compare(X, y, groups=groups, cv=4,
                     estimators={"Concat": ConcatFusionRegressor(hidden_dim=16, max_epochs=3)},
                     baselines=["Ridge"], progress=False)
    assert result.task == "regression"
    assert result.scoring == ["r2", "mae"]
    assert "GroupKFold" in result.cv_description
    ridge = [r for r in result.records if r["method"] == "Ridge"]
    assert all(r["r2"] > 0.9 and r["mae"] < 0.3 for r in ridge)
    assert result.best() == "Ridge"  # a linear target: the linear baseline wins
    assert "a baseline is as good or better" in result.recommendation
    # Forced classification on integer-valued targets is honoured.
    assert compare(X, (y > 0).astype(float), task="classification", cv=3, estimators={},
                   baselines=["LogisticRegression"], progress=False).task == "classification"


def record(method, kind, scores):
    return [{"method": method, "kind": kind, "missing_rate": 0.0, "fold": f,
             "macro_f1": s, "fit_s": 1.0, "predict_s": 0.1} for f, s in enumerate(scores)]


@pytest.mark.parametrize("fusion, verdict", [
    ([0.90, 0.92, 0.91], "beats the best baseline"),
    ([0.805, 0.795, 0.812], "about as good"),
    ([0.70, 0.72, 0.71], "a baseline is as good or better"),
])
def test_recommendation_is_honest(fusion, verdict):
    records = (record("Fusion", "fusion", fusion)
               + record("Base", "baseline", [0.80, 0.80, 0.80])
               + record("Weak", "baseline", [0.5, 0.5, 0.5]))
    result = ComparisonResult(records, scoring=["macro_f1"], task="classification",
                              cv_description="3-fold", folds=[],
                              kinds={"Fusion": "fusion", "Base": "baseline",
                                     "Weak": "baseline"})
    text = result.recommendation
    assert verdict in text
    assert "Base" in text and "Fusion" in text
    margin = np.mean(np.array(fusion) - 0.80)
    assert f"{margin:+.4f}" in text


@pytest.mark.parametrize("kwargs, message", [
    ({"groups": np.r_[np.nan, np.arange(59.0)]}, "groups has 1 missing value"),
    ({"groups": np.arange(60) % 2, "cv": 3}, "need at least 3 groups"),
    ({"cv": "logo"}, "needs groups"),
    ({"cv": 1}, "cv must be an integer >= 2"),
    ({"task": "ranking"}, "task must be"),
    ({"estimators": ["NoSuchFusion"]}, "unknown fusion estimator"),
    ({"baselines": ["XGBoost"]}, "unknown baseline"),
    ({"baselines": ["Ridge"]}, "unknown baseline"),  # a regressor for labels
    ({"scoring": "nope"}, "unknown scoring"),
    ({"missing_rates": (1.0,)}, "each missing rate"),
])
def test_bad_arguments_raise_before_fitting(kwargs, message):
    X, y = small(60)
    with pytest.raises(ValueError, match=message):
        compare(X, y, **{"estimators": FAST, "progress": False, **kwargs})


def test_baselines_all_adds_lightgbm_and_realmlp():
    pytest.importorskip("lightgbm")
    pytest.importorskip("pytabkit")
    names = list(baseline_estimators(0, "classification", "all"))
    assert names == ["LogisticRegression", "HistGradientBoosting", "MLPClassifier",
                     "LightGBM", "RealMLP-TD"]
    assert list(baseline_estimators(0, "regression", "default")) == [
        "Ridge", "HistGradientBoosting", "MLPRegressor"]
    # RealMLP-TD rejects NaN itself: the pipeline imputes first.
    X, y = small(80)
    flat = np.hstack(list(X.values()))
    flat[:10, :3] = np.nan
    model = baseline_estimators(0, "classification", ["RealMLP-TD"])["RealMLP-TD"]
    model.steps[-1][1].set_params(n_epochs=2)
    assert model.fit(flat, y).predict(flat).shape == (80,)
