"""Large data: ``batch_size="auto"`` against the old fixed batch of 128.

    python benchmarks/batch_size.py                          # n_train 65,536 and 131,072
    python benchmarks/batch_size.py --n-train 40000 --estimators ConcatFusionClassifier

``batch_size="auto"`` keeps 128 below 32,768 training samples (every data set
of real_data.py is below it, so none of its cells changes) and grows to 1,024
from 131,072. This script measures what the growth buys and costs where it
applies: a synthetic multimodal task (``make_multimodal_classification``,
4 modalities, 30% of each modality's rows hidden) with ``n_train`` training
rows and 20,000 test rows, every estimator with its defaults except
``batch_size``, both batches fitted back to back on the same rows with the
same seed, and HistGradientBoosting on the same rows for reference. Reports
fit seconds, epochs run (early stopping), seconds per epoch and test macro-F1.
One seed per cell: read F1 differences under about 0.005 as noise.
Writes benchmarks/results/batch_size.md.
"""

import argparse
import platform
import sys
import time

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score

from sklearn_mmfusion._discovery import all_fusion_estimators
from sklearn_mmfusion.datasets import make_multimodal_classification, mask_modalities

from _results import RESULTS, write_results

N_TEST = 20_000


def task(n_train, seed=0):
    X, y = make_multimodal_classification(
        n_samples=n_train + N_TEST, modality_dims=(24, 16, 12, 8), n_informative=3,
        n_classes=5, class_sep=0.8, flip_y=0.05, random_state=seed,
    )
    X = mask_modalities(X, 0.3, random_state=seed)
    arrays = {name: np.asarray(X[name]) for name in X}
    train = {name: a[:n_train] for name, a in arrays.items()}
    test = {name: a[n_train:] for name, a in arrays.items()}
    return train, y[:n_train], test, y[n_train:]


def timed_fit(est, X, y, X_test, y_test):
    start = time.perf_counter()
    est.fit(X, y)
    seconds = time.perf_counter() - start
    return seconds, f1_score(y_test, est.predict(X_test), average="macro")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, nargs="+", default=[65_536, 131_072])
    parser.add_argument("--estimators", nargs="*", default=[
        "ConcatFusionClassifier", "GatedFusionClassifier", "LateFusionClassifier"])
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="override max_epochs (smoke runs only)")
    parser.add_argument("--output", default=str(RESULTS / "batch_size.md"))
    args = parser.parse_args(argv)
    classes = {c.__name__: c for c in all_fusion_estimators("classifier")}
    extra = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    start_all = time.perf_counter()
    lines = [
        "# Large data: batch_size=\"auto\" against a fixed 128",
        "",
        f"make_multimodal_classification(modality_dims=(24, 16, 12, 8), n_informative=3, "
        f"n_classes=5, class_sep=0.8, flip_y=0.05), 30% of each modality's rows hidden; "
        f"{N_TEST:,} test rows; random_state=0 for data and estimators; defaults except "
        f"batch_size{' and max_epochs=' + str(args.max_epochs) if extra else ''}. "
        f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}.",
        "",
        "| n_train | estimator | batch_size | batch used | epochs run | fit s | s/epoch | "
        "macro-F1 | auto / 128 fit time | auto - 128 macro-F1 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    # One-off costs (thread pools, first-call dispatch) outside the timings.
    X, y, _, _ = task(256)
    for name in args.estimators:
        classes[name](max_epochs=1, random_state=0).fit(X, y)
    for n_train in args.n_train:
        X, y, X_test, y_test = task(n_train)
        print(f"n_train {n_train}: HistGradientBoosting", file=sys.stderr, flush=True)
        hgb_s, hgb_f1 = timed_fit(HistGradientBoostingClassifier(random_state=0),
                                  np.hstack(list(X.values())), y,
                                  np.hstack(list(X_test.values())), y_test)
        lines.append(f"| {n_train:,} | HistGradientBoosting (reference) | - | - | - | "
                     f"{hgb_s:.1f} | - | {hgb_f1:.4f} | - | - |")
        for name in args.estimators:
            results = {}
            for batch in (128, "auto"):
                print(f"n_train {n_train}: {name} batch_size={batch}", file=sys.stderr,
                      flush=True)
                est = classes[name](batch_size=batch, random_state=0, **extra)
                results[batch] = (est, *timed_fit(est, X, y, X_test, y_test))
            for batch, (est, seconds, f1) in results.items():
                ratio = diff = "-"
                if batch == "auto":
                    ratio = f"{seconds / results[128][1]:.2f}"
                    diff = f"{f1 - results[128][2]:+.4f}"
                lines.append(
                    f"| {n_train:,} | {name} | {batch} | {est.batch_size_} | {est.n_iter_} | "
                    f"{seconds:.1f} | {seconds / est.n_iter_:.2f} | {f1:.4f} | {ratio} | "
                    f"{diff} |")
            write_results("\n".join(lines) + "\n", args.output)  # partial results first
    lines += ["", f"Total {time.perf_counter() - start_all:.0f} s."]
    write_results("\n".join(lines) + "\n", args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
