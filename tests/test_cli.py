"""The ``compare`` command: files, modality patterns, bad input, reports."""

import json
import subprocess
import sys

import numpy as np
import pytest

from sklearn_mmfusion._cli import main

pd = pytest.importorskip("pandas")

FAST = ["--estimators", "ConcatFusionClassifier", "--baselines", "LogisticRegression",
        "--n-jobs", "1"]


def make_table(n=120, seed=0):
    """Two column groups (acc_*, hr_*), string labels, a subject column, a note column."""
    rng = np.random.RandomState(seed)
    label = rng.randint(0, 2, n)
    frame = pd.DataFrame({f"acc_{i}": rng.randn(n) + label * (i < 2) for i in range(4)})
    for i in range(3):
        frame[f"hr_{i}"] = rng.randn(n) + 1.5 * label * (i == 0)
    frame["subject"] = [f"s{k}" for k in np.arange(n) % 6]
    frame["activity"] = np.array(["rest", "walk"])[label]
    frame["note"] = "ok"
    return frame


@pytest.fixture(autouse=True)
def few_epochs(monkeypatch):
    """The CLI's fusion estimators with 3 epochs: tests check wiring, not quality."""
    from sklearn_mmfusion import _compare

    original = _compare.fusion_estimators

    def fast(random_state=0, task="classification"):
        return {name: est.set_params(max_epochs=3, hidden_dim=16)
                for name, est in original(random_state, task).items()}

    monkeypatch.setattr(_compare, "fusion_estimators", fast)


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "data.csv"
    make_table().to_csv(path, index=False)
    return path


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    captured = capsys.readouterr()
    return exc.value.code, captured


@pytest.mark.parametrize(
    "argv, message",
    [
        (["compare", "nope"], "is neither a shipped data set"),
        (["compare", "missing.csv"], "file missing.csv not found"),
        (["compare", "--estimators", "Nope"], "unknown estimator(s) Nope"),
        (["compare", "--baselines", "XGBoost"], "unknown baseline(s) XGBoost"),
        (["compare", "--missing-rate", "1"], "each rate must be in [0, 1); got 1.0"),
        (["compare", "--missing-rate", "0,abc"], "expected numbers like 0 or 0,0.3,0.5"),
        (["compare", "--cv", "1"], "needs at least 2 folds; got 1"),
        (["compare", "--cv", "two"], "expected an integer or 'logo'; got 'two'"),
        (["compare", "--cv", "logo"], "needs --groups"),
        (["compare", "--output", "out.txt"], "--output must end in .csv or .json"),
        (["compare", "--report", "out.pdf"], "--report must end in .md or .html"),
        (["compare", "--modality", "acc"], "expected NAME=PATTERN"),
        (["compare", "--target", "y"], "apply to files"),
        (["compare", "--no-such-flag"], "unrecognized arguments"),
        ([], "required"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_code_2(argv, message, capsys):
    code, captured = run_cli(argv, capsys)
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert message in lines[0]


@pytest.mark.parametrize(
    "options, message",
    [
        ([], "--target COL is required"),
        (["--target", "label"], "--target column 'label' not found"),
        (["--target", "activity", "--groups", "patient"], "--groups column 'patient' not found"),
        (["--target", "activity", "--modality", "acc=gyro_*"],
         "pattern 'gyro_*' of modality 'acc' matches no column"),
        (["--target", "activity", "--modality", "a=acc_*", "--modality", "b=acc_0,hr_*"],
         "column 'acc_0' is in two modalities: 'a' and 'b'"),
        (["--target", "activity", "--modality", "a=acc_*,note"],
         "modality 'a' has non-numeric column(s): note"),
        (["--target", "activity", "--modality", "a=acc_*,activity"],
         "column 'activity' of modality 'a' is the --target column"),
        (["--target", "activity", "--groups", "gaps", "--modality", "a=acc_*"],
         "groups column 'gaps' has 2 missing value(s)"),
        (["--target", "activity", "--groups", "subject", "--cv", "7", "--modality", "a=acc_*"],
         "need at least 7 groups; groups has 6"),
        (["--target", "activity", "--modality", "a=acc_*", "--missing-rate", "0.3"],
         "needs at least two modalities: one is always kept"),
        (["--target", "activity", "--modality", "a=acc_*", "--modalities", "spec.json"],
         "give --modality or --modalities, not both"),
    ],
)
def test_bad_table_input_one_line_exit_2(tmp_path, options, message, capsys):
    frame = make_table()
    frame["gaps"] = frame["subject"]
    frame.loc[[3, 8], "gaps"] = None
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    code, captured = run_cli(["compare", str(path), *options, *FAST], capsys)
    assert code == 2, captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert message in lines[0]
    assert "Traceback" not in captured.err


def test_module_entry_point_reports_bad_arguments_without_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_mmfusion", "compare", "--cv", "0"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "sklearn-mmfusion compare: error: argument --cv: needs at least 2 folds; got 0 "
        "(see --help)"
    ]


def test_csv_with_groups_string_labels_patterns_and_report(table, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out, report, png = tmp_path / "folds.json", tmp_path / "report.html", tmp_path / "c.png"
    code = main(["compare", str(table), "--target", "activity", "--groups", "subject",
                 "--modality", "acc=acc_*", "--modality", "hr=hr_0,hr_[12]", "--cv", "3",
                 "--missing-rate", "0,0.3", *FAST, "--output", str(out),
                 "--report", str(report), "--plot", str(png)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "modalities acc (4), hr (3)" in printed
    assert "3-fold StratifiedGroupKFold over 6 groups" in printed
    assert "1 column(s) in no modality, ignored: note" in printed
    assert "| missing rate | method | macro-F1 |" in printed
    rows = json.loads(out.read_text())
    assert len(rows) == 2 * 2 * 3  # methods x rates x folds
    assert {r["kind"] for r in rows} == {"fusion", "baseline"}
    # acc_0, acc_1 and hr_0 carry the label: well above chance.
    assert all(r["macro_f1"] > 0.7 for r in rows if r["method"] == "LogisticRegression")
    html = report.read_text()
    assert "Recommendation." in html and html.count("data:image/png;base64,") == 2
    assert "<table" in html and png.stat().st_size > 5000


def test_without_modality_numeric_columns_are_one_modality(table, tmp_path, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"acc": ["acc_*"], "hr": "hr_*"}))
    md = tmp_path / "r.md"
    pytest.importorskip("matplotlib")
    assert main(["compare", str(table), "--target", "activity", *FAST, "--cv", "2"]) == 0
    printed = capsys.readouterr().out
    assert "modalities x (7)" in printed
    assert "no --modality given: the 7 numeric columns are one modality 'x'" in printed
    assert "ignored non-numeric columns: subject, note" in printed
    assert main(["compare", str(table), "--target", "activity", "--modalities", str(spec),
                 *FAST, "--cv", "2", "--report", str(md)]) == 0
    assert "modalities acc (4), hr (3)" in capsys.readouterr().out
    text = md.read_text()
    assert "![scores](r_scores.png)" in text and (tmp_path / "r_scores.png").is_file()


def test_npz_and_parquet_and_regression(tmp_path, capsys):
    rng = np.random.RandomState(0)
    a, b = rng.randn(90, 3), rng.randn(90, 2)
    target = a[:, 0] + b[:, 1] + 0.1 * rng.randn(90)
    np.savez(tmp_path / "d.npz", a=a, b=b, target=target, subject=np.arange(90) % 5)
    assert main(["compare", str(tmp_path / "d.npz"), "--target", "target", "--groups",
                 "subject", "--cv", "logo", "--estimators", "ConcatFusionRegressor",
                 "--baselines", "Ridge", "--n-jobs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "regression" in printed and "leave-one-group-out (5 groups)" in printed
    assert "| R² | MAE |" in printed
    pytest.importorskip("pyarrow")
    frame = make_table()
    frame.to_parquet(tmp_path / "d.parquet")
    assert main(["compare", str(tmp_path / "d.parquet"), "--target", "activity",
                 "--modality", "acc=acc_*", "--modality", "hr=hr_*", *FAST, "--cv", "2"]) == 0
