"""Smoke runs of benchmark scripts that no other test imports, so that a
refactor that breaks one shows up here and not at the next benchmark run."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def benchmarks_on_path():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    yield
    sys.path.remove(str(ROOT / "benchmarks"))


def test_training_speed_runs_and_reports_a_row_per_estimator(benchmarks_on_path, tmp_path,
                                                             capsys):
    import training_speed

    output = tmp_path / "speed.md"
    training_speed.main(["--epochs", "2", "--repeats", "1", "--no-fold-fit",
                         "--output", str(output)])
    text = output.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ConcatFusionClassifier")]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    ours_ms, raw_ms, ratio = float(cells[2]), float(cells[3]), float(cells[4])
    assert ours_ms > 0 and raw_ms > 0
    assert ratio == pytest.approx(ours_ms / raw_ms, abs=0.01)
    assert re.fullmatch(r"\d+%", cells[-1])  # the fraction of the FLOP bound
    assert "hidden_dim=128" in text  # the estimators' own default on mfeat


def test_training_speed_fold_fit_table_times_both_on_the_same_fold(benchmarks_on_path):
    import numpy as np
    import training_speed

    from sklearn_mmfusion import ConcatFusionClassifier, ModalityDict

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    X = ModalityDict(a=rng.normal(size=(60, 3)) + 4 * y[:, None], b=rng.normal(size=(60, 2)))
    lines = training_speed.fold_fit_table([ConcatFusionClassifier], X, y, "cpu",
                                          params={"max_epochs": 20},
                                          hgb_params={"max_iter": 5}, seeds=(0, 3))
    rows = [line for line in lines if line.startswith("| ConcatFusionClassifier")
            and line.count("|") == 8]
    assert len(rows) == 2  # one fit per seed
    for row, expected_seed in zip(rows, (0, 3)):
        cells = [c.strip() for c in row.strip("|").split("|")]
        seed, epochs, fit_s, hgb_s, ratio, f1 = (int(cells[1]), int(cells[2]),
                                                 *map(float, cells[3:]))
        assert seed == expected_seed
        assert epochs == 20
        assert fit_s > 0 and hgb_s > 0
        assert ratio == pytest.approx(fit_s / hgb_s, rel=0.1, abs=0.02)
        assert f1 > 0.7  # the first modality separates the classes
    assert "40 rows" in "\n".join(lines)  # two thirds of the 60 rows
    # The per-estimator line: median over the seeds and the slowest fit.
    ratios = [float(row.strip("|").split("|")[5]) for row in rows]
    (summary,) = [line for line in lines if line.startswith("| ConcatFusionClassifier |")
                  and line.count("|") == 5]
    cells = [c.strip() for c in summary.strip("|").split("|")]
    assert float(cells[1]) == pytest.approx(sum(ratios) / 2, abs=0.02)  # median of two
    assert cells[2] == f"{max(ratios):.2f} ({(0, 3)[ratios.index(max(ratios))]})"


def test_training_speed_resamples_rows_for_the_large_n_goal(benchmarks_on_path):
    """--n-samples draws rows with replacement and jitters them: the shapes
    follow n, the labels stay those of the drawn rows, no two rows are equal."""
    import numpy as np
    import training_speed

    rng = np.random.default_rng(0)
    y = np.arange(10) % 3
    X = {"a": rng.normal(size=(10, 4)), "b": rng.normal(size=(10, 2))}
    X_big, y_big = training_speed.resample_rows(X, y, 500)
    assert X_big["a"].shape == (500, 4) and X_big["b"].shape == (500, 2)
    assert y_big.shape == (500,) and set(y_big) <= set(y)
    assert len(np.unique(X_big["a"], axis=0)) == 500
    # Each row stays near the row it was drawn from (1% of a feature's spread).
    nearest = np.abs(X_big["a"][:, None, :] - X["a"][None]).sum(-1).argmin(1)
    assert np.array_equal(y[nearest], y_big)


def test_training_speed_no_mlp_leaves_the_mlp_cells_empty(benchmarks_on_path, tmp_path):
    import training_speed

    output = tmp_path / "speed.md"
    training_speed.main(["--epochs", "2", "--repeats", "1", "--no-fold-fit", "--no-mlp",
                         "--n-samples", "300", "--output", str(output)])
    (row,) = [line for line in output.read_text().splitlines()
              if line.startswith("| ConcatFusionClassifier")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[5] == "-" and cells[6] == "-" and cells[8] == "-"
    assert float(cells[2]) > 0 and float(cells[3]) > 0
    assert "300 x 649" in output.read_text()


def test_batch_size_study_compares_both_batches_on_the_same_rows(benchmarks_on_path, tmp_path):
    import batch_size

    output = tmp_path / "bs.md"
    batch_size.main(["--n-train", "300", "--estimators", "LateFusionClassifier",
                     "--max-epochs", "2", "--output", str(output)])
    rows = [line for line in output.read_text().splitlines()
            if line.startswith("| 300 | LateFusionClassifier")]
    assert len(rows) == 2
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    assert [c[2] for c in cells] == ["128", "auto"]
    assert [c[3] for c in cells] == ["128", "128"]  # "auto" is 128 at this size
    assert all(int(c[4]) == 2 for c in cells)
    f1_128, f1_auto = float(cells[0][7]), float(cells[1][7])
    assert float(cells[1][9]) == pytest.approx(f1_auto - f1_128, abs=1e-4)
    assert "HistGradientBoosting (reference)" in output.read_text()


def test_step_profile_splits_the_profiled_time_into_its_categories(benchmarks_on_path,
                                                                    tmp_path):
    import step_profile

    assert step_profile.category("aten::addmm") == "matrix products"
    assert step_profile.category("aten::_fused_adamw_") == "optimizer"
    assert step_profile.category("Optimizer.step#AdamW.step") == "optimizer"
    assert step_profile.category("aten::cat") == "copies and indexing"
    assert step_profile.category("aten::gelu") == "element-wise and reductions"
    assert step_profile.category("autograd::engine::evaluate_function: AddmmBackward0") == (
        "autograd engine")
    assert step_profile.category("## forward ##") == "Python and dispatch"

    output = tmp_path / "profile.md"
    step_profile.main(["--quick", "--estimators", "ConcatFusionClassifier",
                       "--output", str(output)])
    rows = [line for line in output.read_text().splitlines()
            if line.startswith("| ConcatFusionClassifier")]
    assert len(rows) == 2  # a training step and a predict batch
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        plain_ms, bound_ms = float(cells[1]), float(cells[2])
        assert 0 < bound_ms < plain_ms
        assert int(cells[3].rstrip("%")) == round(100 * bound_ms / plain_ms)
        category_shares = [int(c.rstrip("%")) for c in cells[4:10]]
        assert abs(sum(category_shares) - 100) <= 3  # rounded shares of one total
        assert category_shares[0] > 0  # the products are seen
        n_ops, us_per_op = float(cells[11]), float(cells[12])
        assert n_ops >= 10  # encoders, head, loss: many operators
        assert us_per_op == pytest.approx(1e3 * plain_ms / n_ops, rel=0.02, abs=0.1)


def test_real_data_seeds_report_joins_each_seed_to_the_main_cell_baselines(
        benchmarks_on_path, tmp_path):
    """Fusion records of two seed runs and the baselines of the main cell
    (same folds) give one error ratio per seed and their spread."""
    import json

    import real_data

    config = {"cv": 2, "hapt_cv": 2, "quick": False}

    def records(method, kind, scores):
        return [{"method": method, "kind": kind, "missing_rate": 0.5, "fold": k,
                 "macro_f1": s, "accuracy": s, "fit_s": 1.0, "predict_s": 0.1}
                for k, s in enumerate(scores)]

    main_cells, seed_dir = tmp_path / "cells", tmp_path / "seeds"
    main_cells.mkdir()
    seed_dir.mkdir()
    base = (records("LogisticRegression", "baseline", [0.8, 0.8])
            + records("HistGradientBoosting", "baseline", [0.7, 0.9])
            + records("LightGBM", "baseline", [0.9, 0.9])
            + records("ConcatFusionClassifier", "fusion", [0.1, 0.1]))  # not used
    (main_cells / "toy_50.json").write_text(json.dumps({"config": config, "records": base}))
    for seed, (late, concat) in {0: ([0.9, 0.9], [0.85, 0.85]),
                                  1: ([0.7, 0.7], [0.75, 0.85])}.items():
        cell = {"config": {**config, "seed": seed},
                "records": records("LateFusionClassifier", "fusion", late)
                + records("ConcatFusionClassifier", "fusion", concat)}
        (seed_dir / f"toy_50_seed{seed}.json").write_text(json.dumps(cell))
    # A seed cell run with other folds is left out.
    (seed_dir / "toy_50_seed2.json").write_text(json.dumps(
        {"config": {**config, "cv": 5, "seed": 2}, "records": []}))

    found = real_data.seed_cells(seed_dir, main_cells, config)
    assert list(found) == [("toy", 0.5)] and sorted(found["toy", 0.5]) == [0, 1]
    out = real_data.seeds_report(found, tmp_path / "seeds.md", ["# toy"])
    text = out.read_text()
    # Seed 0: Late 0.9 against the better of LR/HGB (0.8): error 0.1 / 0.2.
    assert "| 0 | LateFusionClassifier (0.9000) | 0.50 (LogisticRegression) | 1.00 (LightGBM)" in text
    # Seed 1: Concat 0.8 ties LR: ratio 1.00; against LightGBM 0.2 / 0.1.
    assert "| 1 | ConcatFusionClassifier (0.8000) | 1.00 (LogisticRegression) | 2.00" in text
    (summary,) = [line for line in text.splitlines() if line.startswith("| toy | 50%")]
    assert "0.75 ± 0.25 (0.50-1.00)" in summary and "2 of 2" in summary
    assert "LateFusionClassifier: 0.8000 ± 0.1000" in text


def test_quality_runs_and_reports_a_row_per_method_and_rate(benchmarks_on_path, tmp_path):
    import json

    import quality

    output = tmp_path / "quality.md"
    quality.main(["--quick", "--estimators", "LogisticRegression", "--rates", "0", "0.3",
                  "--n-jobs", "1", "--output", str(output)])
    rows = [line for line in output.read_text().splitlines()
            if line.startswith("| ") and "LogisticRegression" in line]
    assert len(rows) == 2  # one per missing rate
    f1 = [float(row.split("|")[3].split("±")[0]) for row in rows]
    assert f1[0] > 0.9 and f1[1] < f1[0]  # mfeat; hiding modalities costs
    folds = json.loads(output.with_suffix(".json").read_text())
    assert len(folds) == 4 and {r["dataset"] for r in folds} == {"mfeat"}


def test_variant_trial_pairs_each_method_with_its_variant(benchmarks_on_path):
    import variant_trial

    def record(method, rate, fold, f1, fit_s):
        return dict(dataset="toy", method=method, missing_rate=rate, fold=fold,
                    macro_f1=f1, fit_s=fit_s)

    records = [record("Concat", 0.0, k, 0.80, 2.0) for k in range(3)]
    records += [record("Concat+variant", 0.0, k, f1, 3.0) for k, f1 in enumerate((0.8, .9, .85))]
    records += [record("Late", 0.0, k, 0.70, 1.0) for k in range(3)]
    records += [record("Late+variant", 0.0, k, 0.70, 1.0) for k in range(3)]
    lines = variant_trial.paired_table(records)
    assert lines[0].startswith("| data set | missing | Concat | Late |")
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert cells[:4] == ["toy", "0%", "+5.00", "+0.00"]
    assert cells[4] == "0.8000 -> 0.8500"
    assert cells[5] == "1.25"  # median of 1.5, 1.5, 1.5, 1, 1, 1
    assert "2 (method, cell) scores: 1 up, 0 down, 1 unchanged" in lines[-1]


def test_variant_trial_runs_both_variants_on_the_same_folds(benchmarks_on_path, monkeypatch):
    import numpy as np
    import variant_trial

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 24)
    X = {"a": rng.normal(size=(48, 3)) + 2 * y[:, None], "b": rng.normal(size=(48, 2))}
    monkeypatch.setattr(variant_trial, "load", lambda name: (X, y, None))
    seen = {}

    def spy(*args, estimators, **kwargs):
        seen.update(estimators)
        return compare(*args, estimators=estimators, **kwargs)

    compare = variant_trial.compare
    monkeypatch.setattr(variant_trial, "compare", spy)
    records = variant_trial.run(["toy"], [0.0], {"max_epochs": 3},
                                n_jobs=1, estimators=["Concat"],
                                base={"max_epochs": 2, "numerical_embedding": None})
    # --base sets both arms; --params only the variant's.
    assert seen["Concat"].get_params()["max_epochs"] == 2
    assert seen["Concat+variant"].get_params()["max_epochs"] == 3
    assert {e.get_params()["numerical_embedding"] for e in seen.values()} == {None}
    folds = {(r["method"], r["fold"]) for r in records}
    assert folds == {(m, k) for m in ("Concat", "Concat+variant") for k in range(3)}
    assert {r["n_test"] for r in records} == {16}
