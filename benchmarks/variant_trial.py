"""A change to the shared recipe, tried paired: every fusion classifier with its
defaults (or ``--base``) and with ``--params``, on the same folds, hidden rows
and seeds.

    python benchmarks/variant_trial.py --params '{"numerical_embedding": "piecewise"}' \\
        --base '{"numerical_embedding": null}' \\
        --datasets basic_motions landuse21 scene15 mfeat --rates 0 0.5 \\
        --output benchmarks/results/piecewise_trial.md

``--base`` pins parameters of the reference arm, so that a trial means the
same thing after a default changes.

Each data set of real_data.py (its loader) goes through ``compare`` with
3-fold StratifiedKFold(shuffle, random_state=0) (HAPT: StratifiedGroupKFold by
participant) and its hidden rows, the fusion classifiers built
with ``random_state=0``, both variants in one run, 2 fits at a time. The table
gives, per cell, the change of each method's macro-F1 (mean over the folds, in
points), the best method without and with the change, and the median ratio of
fit times (the two variants fitted in the same run). The fit is deterministic:
a rerun reproduces the scores exactly.
"""
import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_data import load, subsample  # noqa: E402

from sklearn_mmfusion import compare  # noqa: E402
from sklearn_mmfusion._discovery import all_fusion_estimators  # noqa: E402

VARIANT = "+variant"
# Scores closer than this (a 200-sample fold's single prediction moves
# macro-F1 by more) count as unchanged.
SAME = 5e-5


def short_name(cls):
    return cls.__name__.replace("FusionClassifier", "").replace("Classifier", "")


def run(datasets, rates, params, n_jobs=2, estimators=None, records_out=None,
        n_max=None, subsample_seeds=(0,), base=None):
    """Fit every fusion classifier with ``base`` (default: the defaults) and
    with ``base`` updated by ``params``; returns the
    records of ``compare`` with a ``dataset`` key, variant rows marked
    ``+variant``. With ``n_max``, each data set is first cut to ``n_max``
    rows (stratified), once per seed of ``subsample_seeds``."""
    base = base or {}
    classes = [c for c in all_fusion_estimators("classifier")
               if estimators is None or short_name(c) in estimators]
    records = []
    jobs = [(name, None) for name in datasets] if n_max is None else [
        (name, seed) for name in datasets for seed in subsample_seeds]
    for name, seed in jobs:
        X, y, groups = load(name)
        if seed is not None:
            X, y, groups = subsample(X, y, groups, n_max, random_state=seed)
            name = f"{name} ({len(y)} rows, subsample {seed})"
        start = time.perf_counter()
        models = {}
        for cls in classes:
            models[short_name(cls)] = cls(**{"random_state": 0, **base})
            models[short_name(cls) + VARIANT] = cls(**{"random_state": 0, **base, **params})
        # compare's own folds: StratifiedKFold(3, shuffle, random_state=0), or
        # StratifiedGroupKFold by participant for HAPT, as in real_data.py.
        result = compare(X, y, groups=groups, cv=3, missing_rates=rates, estimators=models,
                         baselines={}, n_jobs=n_jobs, progress=False)
        rows = [dict(row, dataset=name) for row in result.records]
        records += rows
        if records_out:
            with open(records_out, "a") as f:
                f.writelines(json.dumps(row) + "\n" for row in rows)
        print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    return records


def paired_table(records):
    """Markdown lines: the per-cell changes and a summary line."""
    cells = {}
    for row in records:
        method = row["method"]
        variant = method.endswith(VARIANT)
        base = method[: -len(VARIANT)] if variant else method
        key = (row["dataset"], row["missing_rate"])
        entry = cells.setdefault(key, {}).setdefault(base, {}).setdefault(
            row["fold"], [None, None, None, None])
        entry[1 if variant else 0] = row["macro_f1"]
        entry[3 if variant else 2] = row["fit_s"]
    methods = sorted({m for cell in cells.values() for m in cell})
    lines = ["| data set | missing | " + " | ".join(methods)
             + " | best without -> with | fit time with / without (median) |",
             "|---|---|" + "---|" * len(methods) + "---|---|"]
    up = down = same = 0
    for (dataset, rate), cell in cells.items():
        changes, best, ratios = [], [0.0, 0.0], []
        for method in methods:
            folds = np.array(list(cell[method].values()), dtype=float)
            without, with_ = folds[:, 0].mean(), folds[:, 1].mean()
            changes.append(f"{100 * (with_ - without):+.2f}")
            best = [max(best[0], without), max(best[1], with_)]
            ratios += list(folds[:, 3] / folds[:, 2])
            if abs(with_ - without) <= SAME:
                same += 1
            elif with_ > without:
                up += 1
            else:
                down += 1
        lines.append(f"| {dataset} | {rate:.0%} | " + " | ".join(changes)
                     + f" | {best[0]:.4f} -> {best[1]:.4f} | {np.median(ratios):.2f} |")
    lines.append("")
    lines.append(f"{up + down + same} (method, cell) scores: {up} up, {down} down, "
                 f"{same} unchanged (|change| <= {100 * SAME:.3f} points).")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", required=True, help="JSON of the changed parameters")
    parser.add_argument("--base", default="{}",
                        help="JSON of parameters of both arms (the reference's)")
    parser.add_argument("--datasets", nargs="+", required=True)
    parser.add_argument("--rates", nargs="+", type=float, default=[0.0, 0.5])
    parser.add_argument("--estimators", nargs="+", default=None,
                        help="short names (Concat, Gated, ...); all six by default")
    parser.add_argument("--n-max", type=int, default=None,
                        help="cut each data set to this many rows (stratified) first")
    parser.add_argument("--subsample-seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default=None, help="markdown file for the table")
    parser.add_argument("--records", default=None,
                        help="append every fold's record to this JSON-lines file")
    args = parser.parse_args(argv)
    params, base = json.loads(args.params), json.loads(args.base)
    records = run(args.datasets, args.rates, params, n_jobs=args.n_jobs,
                  estimators=args.estimators, n_max=args.n_max,
                  subsample_seeds=args.subsample_seeds, records_out=args.records, base=base)
    reference = f" against {json.dumps(base)}" if base else " against the defaults"
    lines = [f"# Paired trial: {json.dumps(params)}{reference}", "",
             "Command: `python benchmarks/variant_trial.py "
             + shlex.join(argv if argv is not None else sys.argv[1:]) + "`", "",
             "Change of macro-F1 in points (mean of 3 folds), the variant minus the reference.",
             "", *paired_table(records)]
    print("\n".join(lines))
    if args.output:
        Path(args.output).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
