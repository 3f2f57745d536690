"""Imputing missing modalities on mfeat: CalibratedModalityImputer vs sklearn.impute.

    python benchmarks/imputation.py [--quick] [--output PATH]

On ``load_mfeat()`` (2,000 digits, six modalities, 649 features) with 30% and
50% of the modality rows hidden (``mask_modalities(X, rate, random_state=0)``,
so the hidden values are known):

1. Imputation error on the hidden rows of mean imputation (``SimpleImputer``),
   KNN imputation (``KNNImputer``, k=5, on the concatenated features, raw and
   standardised) and ``CalibratedModalityImputer``. The error is measured on
   features standardised with the full data's mean and standard deviation, so
   each feature weighs the same whatever its unit; "pooled" averages over
   every hidden entry, "per modality" averages the modalities' mean squared
   errors (each modality weighs the same whatever its width).
2. Classification: 5-fold stratified CV macro-F1 (mean ± std) of
   ``LogisticRegression`` (after ``StandardScaler``) and
   ``HistGradientBoostingClassifier`` behind each imputer, the imputer fitted
   inside the pipeline on the training folds only.

``--quick``: 30% only, 2 folds, no HistGradientBoosting. The full run writes
``benchmarks/results/imputation.md``, a quick one ``imputation_quick.md``.
Part 3 compares each fusion estimator with ``missing="mask"`` and
``"calibrated"``; ``--sections fusion_missing`` runs it alone (written to
``imputation_fusion.md`` when given with ``--output``).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.base import clone  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.impute import KNNImputer, SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_validate  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_mmfusion.datasets import load_mfeat, mask_modalities  # noqa: E402
from sklearn_mmfusion.impute import CalibratedModalityImputer  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def as_table(X):
    """A ModalityDict as one float64 matrix and the matching ``modalities`` spec."""
    names = list(X)
    widths = [X[n].shape[1] for n in names]
    stops = np.cumsum(widths)
    spec = {n: slice(int(s - w), int(s)) for n, w, s in zip(names, widths, stops)}
    return np.hstack([np.asarray(X[n], dtype=np.float64) for n in names]), spec


def _knn_standardised():
    return make_pipeline(StandardScaler(), KNNImputer(n_neighbors=5))


def imputation_error(data, rates, quick):
    """Section 1: RMSE on the hidden rows."""
    full, spec = as_table(data.data)
    std = full.std(0)
    std[std < 1e-12] = 1.0
    imputers = {
        "mean (SimpleImputer)": lambda: SimpleImputer(),
        "KNN (KNNImputer, k=5)": lambda: KNNImputer(n_neighbors=5),
        "KNN, standardised features": _knn_standardised,
        "CalibratedModalityImputer": lambda: CalibratedModalityImputer(
            modalities=spec, random_state=0
        ),
    }
    lines = [
        "## 1. Imputation error on the hidden modality rows",
        "",
        "RMSE on features standardised with the full data's mean and std (every "
        "feature weighs the same). *Pooled*: over all hidden entries; *per "
        "modality*: square root of the mean over the six modalities of their MSE "
        "(every modality weighs the same). Imputers fitted on all 2,000 masked rows "
        "(no labels involved). Time: fit + transform, seconds.",
        "",
        "| hidden | imputer | RMSE pooled | RMSE per modality | time (s) |",
        "|---|---|---|---|---|",
    ]
    for rate in rates:
        Xm, _ = as_table(mask_modalities(data.data, rate, random_state=0))
        hidden = np.isnan(Xm) & ~np.isnan(full)
        for label, make in imputers.items():
            log(f"[impute] {rate:.0%} {label} ...")
            start = time.perf_counter()
            imputer = make()
            out = imputer.fit_transform(Xm)
            if label.startswith("KNN, standardised"):
                out = imputer[0].inverse_transform(out)
            elapsed = time.perf_counter() - start
            sq = np.where(hidden, ((out - full) / std) ** 2, 0.0)
            pooled = np.sqrt(sq.sum() / hidden.sum())
            per_mod = np.sqrt(
                np.mean(
                    [sq[:, s].sum() / hidden[:, s].sum() for s in spec.values()]
                )
            )
            extra = ""
            if isinstance(imputer, CalibratedModalityImputer):
                extra = f" (q={imputer.n_components_}, {imputer.n_iter_} EM iterations)"
            lines.append(
                f"| {rate:.0%} | {label}{extra} | {pooled:.3f} | {per_mod:.3f} "
                f"| {elapsed:.1f} |"
            )
            log(lines[-1])
    return lines


def classification(data, rates, quick):
    """Section 2: macro-F1 of classifiers behind each imputer."""
    n_splits = 2 if quick else 5
    _, spec = as_table(data.data)
    imputers = {
        "SimpleImputer(add_indicator=True)": SimpleImputer(add_indicator=True),
        "KNNImputer(k=5)": KNNImputer(n_neighbors=5),
        "CalibratedModalityImputer(add_indicator=True)": CalibratedModalityImputer(
            add_indicator=True, modalities=spec, random_state=0
        ),
    }
    classifiers = {
        "LogisticRegression": lambda imp: make_pipeline(
            imp, StandardScaler(), LogisticRegression(max_iter=3000)
        ),
    }
    if not quick:
        classifiers["HistGradientBoosting"] = lambda imp: make_pipeline(
            imp, HistGradientBoostingClassifier(random_state=0)
        )
    cv = StratifiedKFold(n_splits, shuffle=True, random_state=0)
    lines = [
        "## 2. Classification behind each imputer",
        "",
        f"Macro-F1, {n_splits}-fold `StratifiedKFold(shuffle=True, random_state=0)`, "
        "mean ± std over folds; the imputer is fitted inside the pipeline on the "
        "training folds only. LogisticRegression(max_iter=3000) follows a "
        "StandardScaler; HistGradientBoostingClassifier(random_state=0) takes the "
        "imputed features as they are. Fit time: mean per fold, seconds.",
        "",
        "| hidden | classifier | imputer | macro-F1 | fit time (s) |",
        "|---|---|---|---|---|",
    ]
    for rate in rates:
        Xm, _ = as_table(mask_modalities(data.data, rate, random_state=0))
        for clf_label, make in classifiers.items():
            for imp_label, imputer in imputers.items():
                log(f"[classify] {rate:.0%} {clf_label} + {imp_label} ...")
                scores = cross_validate(
                    make(clone(imputer)), Xm, data.target, cv=cv,
                    scoring="f1_macro", n_jobs=1,
                )
                f1 = scores["test_score"]
                lines.append(
                    f"| {rate:.0%} | {clf_label} | {imp_label} | "
                    f"{f1.mean():.3f} ± {f1.std():.3f} | {scores['fit_time'].mean():.1f} |"
                )
                log(lines[-1])
    return lines


def fusion_missing(data, rates, quick):
    """Each fusion classifier with missing="mask" vs "calibrated", same folds."""
    from sklearn_mmfusion._compare import format_table, run_comparison, summarize
    from sklearn_mmfusion._discovery import all_fusion_estimators

    cv = 2 if quick else 5
    estimators = {}
    for Est in all_fusion_estimators("classifier"):
        for missing in ("mask", "calibrated"):
            estimators[f"{Est.__name__} ({missing})"] = Est(missing=missing, random_state=0)
    results = run_comparison(data.data, data.target, estimators, missing_rates=rates,
                             cv=cv, n_jobs=2, progress=False)
    return [
        "## 3. Fusion estimators: learnable token vs calibrated imputation",
        "",
        f"`missing=\"mask\"` (a learnable token per modality) against "
        f"`missing=\"calibrated\"` (CalMRL imputation of the missing encodings), "
        f"{cv}-fold `StratifiedKFold(shuffle=True, random_state=0)`, defaults otherwise.",
        "",
        format_table(summarize(results)),
    ]


# Each section: function(data, rates, quick) -> list of markdown lines.
SECTIONS = [imputation_error, classification, fusion_missing]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="30%% missing only, 2 folds, no HistGradientBoosting")
    parser.add_argument("--output", type=Path, default=None,
                        help="markdown file to write (default: benchmarks/results/"
                        "imputation.md, or imputation_quick.md with --quick)")
    parser.add_argument("--sections", nargs="+", choices=[f.__name__ for f in SECTIONS],
                        help="run only these sections (default: all)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rates = [0.3] if args.quick else [0.3, 0.5]
    data = load_mfeat()
    start = time.perf_counter()
    lines = [
        "# Imputing missing modalities on mfeat" + (" (quick)" if args.quick else ""),
        "",
        "`python benchmarks/imputation.py" + (" --quick" if args.quick else "") + "`: "
        "`load_mfeat()` (2,000 samples, 6 modalities, 649 features), modality rows "
        "hidden with `mask_modalities(X, rate, random_state=0)`.",
        "",
    ]
    for section in SECTIONS:
        if args.sections is None or section.__name__ in args.sections:
            lines += section(data, rates, args.quick) + [""]
    lines.append(f"Total time: {time.perf_counter() - start:.0f} s.")
    text = "\n".join(lines) + "\n"
    print(text)
    output = args.output or RESULTS / (
        "imputation_quick.md" if args.quick else "imputation.md"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    log(f"written to {output}")


if __name__ == "__main__":
    main()
