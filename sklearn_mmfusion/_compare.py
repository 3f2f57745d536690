"""Compare fusion estimators with scikit-learn baselines on the same folds.

Protocol (the one of the shipped baselines, ``shared/data/baselines.md``):
``StratifiedKFold(cv, shuffle=True, random_state)`` for classification
(``KFold`` for regression, group-aware splitters when ``groups`` is given);
missing modalities hidden with
:func:`~sklearn_mmfusion.datasets.mask_modalities` in train and test folds
alike, with the same draws for every method; baselines see the modalities
concatenated in order (NaN where missing).
"""

import os
import time
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    get_scorer,
    mean_absolute_error,
    r2_score,
)
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    LeaveOneGroupOut,
    StratifiedGroupKFold,
    StratifiedKFold,
)
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import type_of_target

from ._data import ModalityDict, split_modalities
from ._discovery import all_fusion_estimators

__all__ = ["ComparisonResult", "compare"]

# name -> (function of (y_true, y_pred), greater is better, label)
_METRICS = {
    "macro_f1": (lambda t, p: f1_score(t, p, average="macro"), True, "macro-F1"),
    "accuracy": (accuracy_score, True, "accuracy"),
    "r2": (r2_score, True, "R²"),
    "mae": (mean_absolute_error, False, "MAE"),
}
_DEFAULT_SCORING = {"classification": ("macro_f1", "accuracy"), "regression": ("r2", "mae")}
DEFAULT_BASELINES = {
    "classification": ("LogisticRegression", "HistGradientBoosting", "MLPClassifier"),
    "regression": ("Ridge", "HistGradientBoosting", "MLPRegressor"),
}
OPTIONAL_BASELINES = ("LightGBM", "RealMLP-TD")


def _imputed(model):
    # Mean imputation with missing-indicators, then scaling: what a careful
    # user puts in front of a model that rejects NaN.
    return make_pipeline(SimpleImputer(add_indicator=True), StandardScaler(), model)


def _lightgbm(task, random_state, threads):
    import lightgbm

    kind = lightgbm.LGBMClassifier if task == "classification" else lightgbm.LGBMRegressor
    # LightGBM handles NaN natively.
    return kind(random_state=random_state, n_jobs=threads, verbose=-1)


def _realmlp(task, random_state, threads):
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

    kind = RealMLP_TD_Classifier if task == "classification" else RealMLP_TD_Regressor
    # pytabkit rejects NaN in numeric columns: impute (with indicators) first.
    return make_pipeline(
        SimpleImputer(add_indicator=True),
        kind(device="cpu", n_threads=threads, random_state=random_state, verbosity=0),
    )


def available_baselines(task="classification"):
    """Names of the baselines usable here: the defaults and installed optional ones."""
    names = list(DEFAULT_BASELINES[task])
    for name, module in zip(OPTIONAL_BASELINES, ("lightgbm", "pytabkit")):
        try:
            __import__(module)
        except ImportError:
            continue
        names.append(name)
    return names


def baseline_estimators(random_state=0, task="classification", names="default", threads=1):
    """The scikit-learn (and optional) baselines, by name.

    ``"default"``: LogisticRegression / Ridge (mean imputer with indicators
    and scaler), HistGradientBoosting (native NaN) and MLPClassifier /
    MLPRegressor, exactly as measured in ``baselines.md``. ``"all"`` adds
    LightGBM and RealMLP-TD (pytabkit) when installed; a list picks names.
    """
    classification = task == "classification"
    builders = {
        "LogisticRegression": lambda: _imputed(LogisticRegression(max_iter=3000)),
        "Ridge": lambda: _imputed(Ridge()),
        "HistGradientBoosting": lambda: (
            HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        )(random_state=random_state),
        "MLPClassifier": lambda: _imputed(MLPClassifier(
            (128,), early_stopping=True, max_iter=300, random_state=random_state)),
        "MLPRegressor": lambda: _imputed(MLPRegressor(
            (128,), early_stopping=True, max_iter=300, random_state=random_state)),
        "LightGBM": lambda: _lightgbm(task, random_state, threads),
        "RealMLP-TD": lambda: _realmlp(task, random_state, threads),
    }
    wrong_task = {"LogisticRegression", "MLPClassifier"} if not classification else {
        "Ridge", "MLPRegressor"}
    if names is None or names == "none":
        return {}
    if isinstance(names, str) and names == "default":
        names = DEFAULT_BASELINES[task]
    elif isinstance(names, str) and names == "all":
        names = available_baselines(task)
    elif isinstance(names, str):
        names = [part.strip() for part in names.split(",") if part.strip()]
    names = list(names)
    unknown = [n for n in names if n not in builders or n in wrong_task]
    if unknown:
        raise ValueError(
            f"unknown baseline(s) {', '.join(map(str, unknown))} for {task}; choose from "
            f"{', '.join(n for n in builders if n not in wrong_task)}, 'default' or 'all'."
        )
    out = {}
    for name in names:
        try:
            out[name] = builders[name]()
        except ImportError as exc:
            raise ValueError(
                f"baseline {name} needs {exc.name or 'an optional package'}: "
                "pip install 'sklearn-mmfusion[benchmarks]'."
            ) from None
    return out


def fusion_estimators(random_state=0, task="classification"):
    """Every fusion classifier (or regressor) with its default parameters."""
    kind = "classifier" if task == "classification" else "regressor"
    return {Est.__name__: Est(random_state=random_state) for Est in all_fusion_estimators(kind)}


def _detect_task(y, task):
    if task not in ("auto", "classification", "regression"):
        raise ValueError(f"task must be 'auto', 'classification' or 'regression'; got {task!r}.")
    if task != "auto":
        return task
    kind = type_of_target(y)
    return "regression" if kind in ("continuous", "continuous-multioutput") else "classification"


def _check_groups(groups, n):
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) != n:
        raise ValueError(f"groups must have one value per sample ({n}); got shape {groups.shape}.")
    missing = (
        np.isnan(groups.astype(float)) if groups.dtype.kind in "fc"
        else np.array([g is None or (isinstance(g, float) and np.isnan(g)) for g in groups])
    )
    if missing.any():
        raise ValueError(
            f"groups has {int(missing.sum())} missing value(s) (first at row "
            f"{int(np.flatnonzero(missing)[0])}): every sample needs a group."
        )
    return groups


def _folds(y, groups, cv, task, random_state):
    """The list of (train, test) index pairs and a description of the splitter."""
    n = len(y)
    if hasattr(cv, "split") and not isinstance(cv, str):
        return list(cv.split(np.zeros(n), y, groups)), type(cv).__name__
    if isinstance(cv, str):
        if cv != "logo":
            raise ValueError(f"cv must be an integer >= 2, 'logo' or a splitter; got {cv!r}.")
        if groups is None:
            raise ValueError("cv='logo' (leave one group out) needs groups.")
        n_groups = len(np.unique(groups))
        if n_groups < 2:
            raise ValueError(f"cv='logo' needs at least 2 groups; groups has {n_groups}.")
        return list(LeaveOneGroupOut().split(np.zeros(n), y, groups)), (
            f"leave-one-group-out ({n_groups} groups)")
    if not isinstance(cv, Integral) or isinstance(cv, bool) or cv < 2:
        raise ValueError(f"cv must be an integer >= 2, 'logo' or a splitter; got {cv!r}.")
    if groups is not None:
        n_groups = len(np.unique(groups))
        if n_groups < cv:
            raise ValueError(
                f"cv={cv} subject-wise folds need at least {cv} groups; groups has {n_groups}."
            )
        if task == "classification":
            splitter = StratifiedGroupKFold(cv, shuffle=True, random_state=random_state)
        else:
            splitter = GroupKFold(cv)
        return list(splitter.split(np.zeros(n), y, groups)), (
            f"{cv}-fold {type(splitter).__name__} over {n_groups} groups")
    if task == "classification":
        splitter = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    else:
        splitter = KFold(cv, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(n), y)), f"{cv}-fold {type(splitter).__name__}"


def _check_rates(missing_rates, n_modalities):
    for rate in missing_rates:
        if not isinstance(rate, Real) or not 0 <= rate < 1:
            raise ValueError(f"each missing rate must be in [0, 1); got {rate!r}.")
    top = max(missing_rates, default=0)
    if top > 0 and n_modalities == 1:
        raise ValueError(
            f"missing rate {top} needs at least two modalities: one is always kept per sample."
        )
    if top > (n_modalities - 1) / n_modalities + 1e-12:
        raise ValueError(
            f"missing rate {top} is above {(n_modalities - 1) / n_modalities:.3g}, the most "
            f"that can be hidden from {n_modalities} modalities keeping one per sample."
        )


def _resolve_scoring(scoring, task):
    if scoring is None:
        return list(_DEFAULT_SCORING[task])
    names = [scoring] if isinstance(scoring, str) else list(scoring)
    for name in names:
        if name in _METRICS:
            continue
        try:
            get_scorer(name)
        except ValueError:
            raise ValueError(
                f"unknown scoring {name!r}: use {', '.join(_METRICS)} or a scikit-learn "
                "scorer name (sklearn.metrics.get_scorer_names())."
            ) from None
    return names


def _fit_one(name, estimator, X, y, train, test, fold, rate, scoring, threads):
    import torch

    previous = torch.get_num_threads()
    # Bounded torch threads per fit: parallel fits x threads <= cores.
    torch.set_num_threads(threads)
    try:
        est = clone(estimator)
        with warnings.catch_warnings():
            # Convergence notes of baselines and deprecation chatter of
            # optional libraries would bury the progress bar.
            for category in (UserWarning, FutureWarning, DeprecationWarning):
                warnings.simplefilter("ignore", category=category)
            start = time.perf_counter()
            est.fit(X[train], y[train])
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            pred = est.predict(X[test])
            predict_s = time.perf_counter() - start
        row = {"method": name, "missing_rate": rate, "fold": fold}
        for metric in scoring:
            if metric in _METRICS:
                row[metric] = float(_METRICS[metric][0](y[test], pred))
            else:
                row[metric] = float(get_scorer(metric)(est, X[test], y[test]))
        row.update(fit_s=fit_s, predict_s=predict_s, n_train=len(train), n_test=len(test))
        return row
    finally:
        torch.set_num_threads(previous)


def _threads_per_fit(n_jobs):
    cores = os.cpu_count() or 1
    if n_jobs is None:
        workers = 1
    elif n_jobs < 0:
        workers = max(1, cores + 1 + n_jobs)
    else:
        workers = max(1, n_jobs)
    return max(1, cores // min(workers, cores))


def _concatenate(X):
    import scipy.sparse as sp

    blocks = list(X.values())
    if any(sp.issparse(b) for b in blocks):
        return sp.hstack(blocks).tocsr()
    return np.hstack(blocks)


def run_comparison(
    X, y, estimators, *, missing_rates=(0.0,), cv=5, random_state=0, n_jobs=1,
    progress=True, groups=None, task="classification", scoring=None, folds=None,
):
    """Cross-validate ``estimators`` on ``X`` at each missing rate (per-fold rows).

    The engine of :func:`compare`. Fusion estimators get ``X`` as a
    :class:`ModalityDict`; any other estimator gets the modalities
    concatenated (NaN where missing). Returns one dict per (method, missing
    rate, fold) with every score, ``fit_s`` and ``predict_s``.
    """
    from tqdm.auto import tqdm

    from ._base import BaseFusion
    from .datasets import mask_modalities

    y = np.asarray(y)
    X = X if isinstance(X, ModalityDict) else ModalityDict(split_modalities(X))
    scoring = _resolve_scoring(scoring, task)
    if folds is None:
        folds, _ = _folds(y, groups, cv, task, random_state)
    threads = _threads_per_fit(n_jobs)
    jobs = []
    for rate in missing_rates:
        X_rate = mask_modalities(X, rate, random_state=random_state) if rate else X
        flat = _concatenate(X_rate)
        for name, est in estimators.items():
            data = X_rate if isinstance(est, BaseFusion) else flat
            for fold, (train, test) in enumerate(folds):
                jobs.append((name, est, data, y, train, test, fold, float(rate), scoring, threads))
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


def summarize(results, scoring=None):
    """Mean ± std over folds per (method, missing rate), in first-seen order."""
    if not results:
        return []
    skip = {"method", "missing_rate", "fold", "fit_s", "predict_s", "n_train", "n_test", "kind"}
    metrics = scoring or [k for k in results[0] if k not in skip]
    groups = {}
    for row in results:
        groups.setdefault((row["method"], row["missing_rate"]), []).append(row)
    summary = []
    for (method, rate), rows in groups.items():
        entry = {"method": method, "missing_rate": rate}
        if "kind" in rows[0]:
            entry["kind"] = rows[0]["kind"]
        for metric in metrics:
            values = np.array([r[metric] for r in rows], dtype=float)
            entry[metric] = float(values.mean())
            entry[f"{metric}_std"] = float(values.std())
        entry["fit_s"] = float(np.mean([r["fit_s"] for r in rows]))
        entry["predict_s"] = float(np.mean([r["predict_s"] for r in rows]))
        entry["n_folds"] = len(rows)
        summary.append(entry)
    return summary


def format_table(summary, scoring=None):
    """A markdown table of :func:`summarize` output."""
    if not summary:
        return ""
    skip = {"method", "missing_rate", "kind", "fit_s", "predict_s", "n_folds"}
    metrics = scoring or [k for k in summary[0] if k not in skip and not k.endswith("_std")]
    labels = [_METRICS[m][2] if m in _METRICS else m for m in metrics]
    lines = [
        "| missing rate | method | " + " | ".join(labels) + " | fit s/fold | predict s/fold |",
        "|---|---|" + "---|" * len(metrics) + "---|---|",
    ]
    for row in summary:
        method = row["method"] + (" (baseline)" if row.get("kind") == "baseline" else "")
        scores = " | ".join(f"{row[m]:.4f} ± {row[m + '_std']:.4f}" for m in metrics)
        lines.append(
            f"| {row['missing_rate']:.0%} | {method} | {scores} | "
            f"{row['fit_s']:.2f} | {row['predict_s']:.3f} |"
        )
    return "\n".join(lines)


class ComparisonResult:
    """The outcome of :func:`compare`: per-fold records and their summaries.

    Attributes
    ----------
    records : list of dict
        One row per (method, missing rate, fold): ``method``, ``kind``
        (``"fusion"`` or ``"baseline"``), ``missing_rate``, ``fold``, every
        score, ``fit_s``, ``predict_s``, ``n_train``, ``n_test``.
    scoring : list of str
        Score names; the first one ranks the methods.
    task : {"classification", "regression"}
    cv_description : str
        The splitter, e.g. ``"5-fold StratifiedKFold"``.
    folds : list of (ndarray, ndarray)
        The (train, test) indices every method was evaluated on.
    """

    def __init__(self, records, *, scoring, task, cv_description, folds, kinds):
        self.records = records
        self.scoring = list(scoring)
        self.task = task
        self.cv_description = cv_description
        self.folds = folds
        self.kinds = dict(kinds)

    @property
    def metric(self):
        """The score that ranks the methods (the first of ``scoring``)."""
        return self.scoring[0]

    def _greater_is_better(self, metric=None):
        metric = metric or self.metric
        if metric in _METRICS:
            return _METRICS[metric][1]
        return True  # scikit-learn scorers are "greater is better"

    @property
    def missing_rates(self):
        return sorted({row["missing_rate"] for row in self.records})

    def summary(self):
        """Mean and std over folds per (method, missing rate), as a list of dicts."""
        return summarize(self.records, self.scoring)

    def to_frame(self):
        """One row per method x missing rate: mean and std of every score, times.

        Returns
        -------
        frame : pandas.DataFrame
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("to_frame needs pandas: pip install pandas") from exc
        return pd.DataFrame(self.summary())

    def _scores(self, method, rate):
        rows = sorted((r for r in self.records
                       if r["method"] == method and r["missing_rate"] == rate),
                      key=lambda r: r["fold"])
        return np.array([r[self.metric] for r in rows], dtype=float)

    def _ranked(self, rate, kind=None):
        methods = [m for m, k in self.kinds.items() if kind is None or k == kind]
        sign = 1 if self._greater_is_better() else -1
        scored = [(sign * self._scores(m, rate).mean(), m) for m in methods
                  if len(self._scores(m, rate))]
        return [m for _, m in sorted(scored, key=lambda t: -t[0])]

    def best(self, missing_rate=None, kind=None):
        """Name of the best method by the first score.

        Parameters
        ----------
        missing_rate : float, default=None
            Rank at this rate; None ranks by the mean over all rates.
        kind : {"fusion", "baseline"}, default=None
            Only among fusion methods or baselines.

        Returns
        -------
        name : str
        """
        rates = self.missing_rates if missing_rate is None else [missing_rate]
        if missing_rate is not None and missing_rate not in self.missing_rates:
            raise ValueError(f"missing_rate {missing_rate} was not run; ran {self.missing_rates}.")
        methods = [m for m, k in self.kinds.items() if kind is None or k == kind]
        if not methods:
            raise ValueError(f"no {kind} method in this comparison.")
        sign = 1 if self._greater_is_better() else -1
        return max(methods,
                   key=lambda m: sign * np.mean([self._scores(m, r).mean() for r in rates]))

    def _sentence(self, rate):
        label = _METRICS[self.metric][2] if self.metric in _METRICS else self.metric
        fusion = [m for m, k in self.kinds.items() if k == "fusion"]
        baselines = [m for m, k in self.kinds.items() if k == "baseline"]
        at = f"At {rate:.0%} missing modality rows" if len(self.missing_rates) > 1 or rate else "Here"
        if not fusion or not baselines:
            best = self.best(rate)
            s = self._scores(best, rate)
            return (f"{at}, {best} scores best ({label} {s.mean():.4f} ± {s.std():.4f}); "
                    "no baseline was run to compare it with.")
        best_f, best_b = self.best(rate, "fusion"), self.best(rate, "baseline")
        f, b = self._scores(best_f, rate), self._scores(best_b, rate)
        sign = 1 if self._greater_is_better() else -1
        diff = sign * (f - b)  # > 0: fusion better, paired over the same folds
        margin, spread = diff.mean(), diff.std()
        n = len(diff)
        detail = (f"{best_f} {f.mean():.4f} ± {f.std():.4f} vs {best_b} "
                  f"{b.mean():.4f} ± {b.std():.4f} {label}; paired difference "
                  f"{margin:+.4f} ± {spread:.4f} over {n} folds")
        if margin > 0 and margin > spread:
            return (f"{at}, the best fusion method {best_f} beats the best baseline "
                    f"{best_b} ({detail}).")
        if margin > 0:
            return (f"{at}, {best_f} is ahead of the best baseline {best_b} by less than the "
                    f"fold spread, so a baseline is about as good ({detail}).")
        return (f"{at}, a baseline is as good or better: {best_b} matches or beats every "
                f"fusion method, the best being {best_f} ({detail}).")

    @property
    def recommendation(self):
        """A sentence per missing rate: best fusion method vs best baseline, honestly."""
        return " ".join(self._sentence(rate) for rate in self.missing_rates)

    def to_markdown(self):
        """The summary table followed by the recommendation, as markdown."""
        return (f"{self.cv_description}; scores are mean ± std over folds.\n\n"
                f"{format_table(self.summary(), self.scoring)}\n\n{self.recommendation}\n")

    def plot(self, path=None, title=None):
        """Plot the first score per method (one rate) or against the missing rate.

        Fusion methods and baselines get different colours. Needs matplotlib.

        Parameters
        ----------
        path : str or path-like, default=None
            Save the figure there (PNG) when given.
        title : str, default=None

        Returns
        -------
        fig : matplotlib.figure.Figure
        """
        from .plotting import plot_comparison

        label = _METRICS[self.metric][2] if self.metric in _METRICS else self.metric
        return plot_comparison(self.summary(), path, title=title, metric=self.metric,
                               metric_label=label,
                               higher_is_better=self._greater_is_better())

    def __repr__(self):
        return (f"ComparisonResult({len(self.kinds)} methods, rates {self.missing_rates}, "
                f"{self.cv_description})")


def compare(
    X, y, *, groups=None, cv=5, missing_rates=(0.0,), estimators=None, baselines="default",
    scoring=None, task="auto", n_jobs=None, random_state=0, progress=True,
):
    """Cross-validate fusion estimators and baselines on the same folds.

    Every method sees the same folds and, at each missing rate, the same
    hidden modality rows (:func:`~sklearn_mmfusion.datasets.mask_modalities`
    with ``random_state``, in train and test folds alike). Fusion estimators
    get the modalities; baselines get them concatenated (NaN where missing).

    Parameters
    ----------
    X : mapping of str to 2-D array, or ModalityDict
        The modalities; a 2-D array or DataFrame is one modality ``"x"``.
    y : array-like of shape (n_samples,)
        Labels (any type, strings included) or continuous targets.
    groups : array-like of shape (n_samples,), default=None
        Subject (participant, site...) of each sample. When given, the
        folds are subject-wise: no group has samples on both sides.
    cv : int, "logo" or a scikit-learn splitter, default=5
        Without groups: ``StratifiedKFold`` (``KFold`` for regression),
        shuffled with ``random_state``. With groups: ``StratifiedGroupKFold``
        (``GroupKFold`` for regression); ``"logo"`` is
        ``LeaveOneGroupOut``.
    missing_rates : sequence of float, default=(0.0,)
        Fractions of each modality's rows hidden (see ``mask_modalities``).
    estimators : None, list of str or dict of str to estimator, default=None
        Fusion estimators: None runs every fusion classifier (or regressor)
        with default parameters; a list picks them by class name; a dict
        gives configured estimators.
    baselines : "default", "all", None, list of str or dict, default="default"
        ``"default"``: LogisticRegression / Ridge (mean imputer with missing
        indicators + scaler), HistGradientBoosting (native NaN) and
        MLPClassifier / MLPRegressor. ``"all"`` adds LightGBM and RealMLP-TD
        (pytabkit) when installed (``pip install 'sklearn-mmfusion[benchmarks]'``).
        A list picks names, a dict gives estimators, None runs none.
    scoring : None, str or list of str, default=None
        Scores per fold; the first ranks the methods. Default
        ``["macro_f1", "accuracy"]`` (classification) or ``["r2", "mae"]``
        (regression); scikit-learn scorer names work too.
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"``: regression when ``y`` is continuous (floats that are not
        all integers), classification otherwise.
    n_jobs : int, default=None
        Parallel fits (joblib); each gets ``cores // n_jobs`` torch threads.
    random_state : int, default=0
        Seeds the folds, the hidden rows and every estimator.
    progress : bool, default=True
        Progress bar over the fits on stderr.

    Returns
    -------
    result : ComparisonResult

    Raises
    ------
    ValueError
        Bad ``task``, ``cv``, ``groups`` (missing values, fewer groups than
        folds), ``scoring`` or an unknown estimator/baseline name, before any fit.

    Examples
    --------
    >>> from sklearn_mmfusion import ConcatFusionClassifier, compare
    >>> from sklearn_mmfusion.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=120, random_state=0)
    >>> result = compare(
    ...     X, y, cv=3, estimators={"Concat": ConcatFusionClassifier(max_epochs=5)},
    ...     baselines=["LogisticRegression"], progress=False)
    >>> sorted(result.to_frame()["method"])
    ['Concat', 'LogisticRegression']
    >>> result.best() in ("Concat", "LogisticRegression")
    True
    """
    y = np.asarray(y)
    X = X if isinstance(X, ModalityDict) else ModalityDict(split_modalities(X))
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}.")
    task = _detect_task(y, task)
    if groups is not None:
        groups = _check_groups(groups, len(y))
    _check_rates(missing_rates, len(X.keys()))
    scoring = _resolve_scoring(scoring, task)
    folds, description = _folds(y, groups, cv, task, random_state)

    candidates = fusion_estimators(random_state, task)
    if estimators is None:
        fusion = candidates
    elif isinstance(estimators, dict):
        fusion = dict(estimators)
    else:
        names = [estimators] if isinstance(estimators, str) else list(estimators)
        unknown = [n for n in names if n not in candidates]
        if unknown:
            raise ValueError(f"unknown fusion estimator(s) {', '.join(unknown)} for {task}; "
                             f"choose from {', '.join(candidates)}.")
        fusion = {n: candidates[n] for n in names}
    threads = _threads_per_fit(n_jobs)
    if isinstance(baselines, dict):
        base = dict(baselines)
    else:
        base = baseline_estimators(random_state, task, baselines, threads)
    clash = set(fusion) & set(base)
    if clash:
        raise ValueError(f"names used by both a fusion method and a baseline: {sorted(clash)}.")
    if not fusion and not base:
        raise ValueError("nothing to compare: no estimator and no baseline.")
    kinds = {**{n: "fusion" for n in fusion}, **{n: "baseline" for n in base}}
    records = run_comparison(
        X, y, {**fusion, **base}, missing_rates=missing_rates, random_state=random_state,
        n_jobs=n_jobs, progress=progress, task=task, scoring=scoring, folds=folds,
    )
    for row in records:
        row["kind"] = kinds[row["method"]]
    return ComparisonResult(records, scoring=scoring, task=task, cv_description=description,
                            folds=folds, kinds=kinds)
