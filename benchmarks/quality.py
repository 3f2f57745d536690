"""Quality under missing modalities: every estimator x data set x missing rate.

    python benchmarks/quality.py            # 5-fold, rates 0, 0.3, 0.5
    python benchmarks/quality.py --quick    # 2-fold, rates 0 and 0.3
    python benchmarks/quality.py --estimators ConcatFusionClassifier MLPClassifier

Prints a markdown table and writes it to benchmarks/results/quality.md (and the
per-fold rows to quality.json). Protocol: shared/data/baselines.md.
"""

import argparse
import json
import platform
import sys

import torch

from sklearn_mmfusion._compare import (
    baseline_estimators,
    format_table,
    fusion_estimators,
    run_comparison,
    summarize,
)
from sklearn_mmfusion.datasets import load_mfeat

from _results import RESULTS, write_results

DATASETS = {"mfeat": load_mfeat}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--estimators", nargs="*", default=None)
    parser.add_argument("--rates", type=float, nargs="*", default=None)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default=str(RESULTS / "quality.md"))
    args = parser.parse_args(argv)

    cv = 2 if args.quick else 5
    rates = args.rates or ([0.0, 0.3] if args.quick else [0.0, 0.3, 0.5])
    candidates = {**fusion_estimators(), **baseline_estimators()}
    if args.quick:
        candidates.pop("HistGradientBoosting")  # ~30-150 s per fold on 2 cores
    if args.estimators:
        unknown = set(args.estimators) - set(candidates)
        if unknown:
            parser.error(f"unknown estimators {sorted(unknown)}; choose from {sorted(candidates)}")
        candidates = {k: v for k, v in candidates.items() if k in args.estimators}

    sections = [
        "# Quality under missing modalities",
        "",
        f"Machine: {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads available, torch {torch.__version__}; "
        f"{cv}-fold StratifiedKFold(shuffle, random_state=0); macro-F1 mean ± std over folds.",
    ]
    rows = []
    for name, loader in DATASETS.items():
        X, y = loader(return_X_y=True)
        results = run_comparison(X, y, candidates, missing_rates=rates, cv=cv,
                                 n_jobs=args.n_jobs)
        # Summarised before the rows get their data set's name, which
        # summarize would otherwise take for a metric.
        sections += ["", f"## {name}", "", format_table(summarize(results))]
        rows += [{**row, "dataset": name} for row in results]
    text = "\n".join(sections) + "\n"
    out = write_results(text, args.output)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
