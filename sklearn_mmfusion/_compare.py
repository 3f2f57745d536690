"""Compare fusion estimators with scikit-learn baselines on the same folds.

The protocol is the one of the shipped baselines (``shared/data/baselines.md``):
``StratifiedKFold(cv, shuffle=True, random_state)``; missing modalities hidden
with :func:`~sklearn_mmfusion.datasets.mask_modalities` (same RNG draws) in
train and test folds alike; baselines see the modalities concatenated in order.
"""

import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._data import ModalityDict, split_modalities
from ._discovery import all_fusion_estimators


def baseline_estimators(random_state=0):
    """The scikit-learn baselines, exactly as measured in ``baselines.md``."""
    return {
        "LogisticRegression": make_pipeline(
            SimpleImputer(add_indicator=True), StandardScaler(),
            LogisticRegression(max_iter=3000),
        ),
        "HistGradientBoosting": HistGradientBoostingClassifier(random_state=random_state),
        "MLPClassifier": make_pipeline(
            SimpleImputer(add_indicator=True), StandardScaler(),
            MLPClassifier((128,), early_stopping=True, max_iter=300,
                          random_state=random_state),
        ),
    }


def fusion_estimators(random_state=0):
    """Every fusion classifier with its default parameters."""
    return {
        Est.__name__: Est(random_state=random_state)
        for Est in all_fusion_estimators("classifier")
    }


def _fit_one(name, estimator, X, y, train, test, fold, rate):
    import torch

    # One torch thread per joblib worker: workers x threads <= cores.
    torch.set_num_threads(1)
    est = clone(estimator)
    start = time.perf_counter()
    est.fit(X[train], y[train])
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = est.predict(X[test])
    predict_s = time.perf_counter() - start
    return {
        "method": name,
        "missing_rate": rate,
        "fold": fold,
        "macro_f1": f1_score(y[test], pred, average="macro"),
        "accuracy": accuracy_score(y[test], pred),
        "fit_s": fit_s,
        "predict_s": predict_s,
    }


def run_comparison(
    X, y, estimators, *, missing_rates=(0.0,), cv=5, random_state=0, n_jobs=1,
    progress=True,
):
    """Cross-validate ``estimators`` on ``X`` at each missing rate.

    Parameters
    ----------
    X : mapping of modality arrays or ModalityDict
    y : array-like of shape (n_samples,)
    estimators : dict of str to estimator
        Fusion estimators get ``X`` as a :class:`ModalityDict`; any other
        estimator gets the modalities concatenated (NaN where missing).
    missing_rates : sequence of float, default=(0.0,)
    cv : int, default=5
    random_state : int, default=0
        Seeds the folds and the hidden modality rows.
    n_jobs : int, default=1
        Fits run in parallel with joblib.
    progress : bool, default=True
        Show a progress bar over the fits (tqdm) on stderr.

    Returns
    -------
    results : list of dict
        One row per (method, missing rate, fold): ``macro_f1``, ``accuracy``,
        ``fit_s``, ``predict_s``.
    """
    from tqdm.auto import tqdm

    from ._base import BaseFusion
    from .datasets import mask_modalities

    y = np.asarray(y)
    X = ModalityDict(split_modalities(X))
    folds = list(
        StratifiedKFold(cv, shuffle=True, random_state=random_state).split(
            np.zeros(len(y)), y
        )
    )
    jobs = []
    for rate in missing_rates:
        X_rate = mask_modalities(X, rate, random_state=random_state) if rate else X
        flat = np.hstack(list(X_rate.values()))
        for name, est in estimators.items():
            data = X_rate if isinstance(est, BaseFusion) else flat
            for fold, (train, test) in enumerate(folds):
                jobs.append((name, est, data, y, train, test, fold, rate))
    bar = tqdm(total=len(jobs), desc="fits", unit="fit", disable=not progress)
    results = []
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_fit_one)(*job) for job in jobs
    )
    for row in outputs:
        results.append(row)
        bar.set_postfix_str(f"{row['method']} @{row['missing_rate']:.0%}")
        bar.update()
    bar.close()
    return results


def summarize(results):
    """Mean ± std over folds per (method, missing rate), in first-seen order."""
    groups = {}
    for row in results:
        groups.setdefault((row["method"], row["missing_rate"]), []).append(row)
    summary = []
    for (method, rate), rows in groups.items():
        f1 = np.array([r["macro_f1"] for r in rows])
        summary.append({
            "method": method,
            "missing_rate": rate,
            "macro_f1": f1.mean(),
            "macro_f1_std": f1.std(),
            "accuracy": np.mean([r["accuracy"] for r in rows]),
            "fit_s": np.mean([r["fit_s"] for r in rows]),
            "predict_s": np.mean([r["predict_s"] for r in rows]),
            "n_folds": len(rows),
        })
    return summary


def format_table(summary):
    """A markdown table of :func:`summarize` output."""
    lines = [
        "| missing rate | method | macro-F1 | accuracy | fit s/fold | predict s/fold |",
        "|---|---|---|---|---|---|",
    ]
    for row in summary:
        lines.append(
            f"| {row['missing_rate']:.0%} | {row['method']} | "
            f"{row['macro_f1']:.4f} ± {row['macro_f1_std']:.4f} | {row['accuracy']:.4f} | "
            f"{row['fit_s']:.1f} | {row['predict_s']:.2f} |"
        )
    return "\n".join(lines)
