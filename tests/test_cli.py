"""The ``compare`` command: bad arguments, and one small end-to-end run."""

import json
import subprocess
import sys

import pytest

from sklearn_mmfusion._cli import main


@pytest.mark.parametrize(
    "argv, message",
    [
        (["compare", "--dataset", "nope"], "unknown dataset 'nope'"),
        (["compare", "--estimators", "Nope"], "unknown estimator(s) Nope"),
        (["compare", "--missing-rate", "1"], "each rate must be in [0, 1); got 1.0"),
        (["compare", "--missing-rate", "-0.1"], "each rate must be in [0, 1)"),
        (["compare", "--missing-rate", "0,abc"], "expected numbers like 0 or 0,0.3,0.5"),
        (["compare", "--cv", "1"], "needs at least 2 folds; got 1"),
        (["compare", "--cv", "two"], "expected an integer; got 'two'"),
        (["compare", "--output", "out.txt"], "--output must end in .csv or .json"),
        (["compare", "--no-such-flag"], "unrecognized arguments"),
        ([], "required"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
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


def test_compare_runs_and_writes_table_results_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out, png = tmp_path / "results.json", tmp_path / "compare.png"
    code = main([
        "compare", "--estimators", "ConcatFusionClassifier", "LogisticRegression",
        "--missing-rate", "0,0.5", "--cv", "2", "--n-jobs", "1",
        "--output", str(out), "--plot", str(png),
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| missing rate | method | macro-F1 |" in printed
    rows = json.loads(out.read_text())
    # 2 methods x 2 rates x 2 folds, each scored well above chance (10 classes).
    assert len(rows) == 8
    assert {row["method"] for row in rows} == {"ConcatFusionClassifier", "LogisticRegression"}
    assert all(row["macro_f1"] > 0.5 for row in rows)
    assert png.stat().st_size > 10_000
