"""Plots (matplotlib is an optional extra: ``pip install 'sklearn-mmfusion[plot]'``).

Figures are built with matplotlib's object API (no pyplot state, no display
needed) and returned, so callers can restyle or save them. Every function
takes an optional ``ax`` to draw into an existing figure instead.
"""

import numbers

import numpy as np

__all__ = [
    "plot_attention_graph",
    "plot_comparison",
    "plot_gates",
    "plot_missing_rate_curve",
    "plot_modality_importances",
]

_MISSING_COLOR = "0.85"
_METRIC_LABELS = {
    "macro_f1": "macro-F1",
    "accuracy": "accuracy",
    "fit_s": "fit time per fold (s)",
    "predict_s": "predict time per fold (s)",
}


def _matplotlib():
    """The matplotlib module, or an ImportError that says how to install it."""
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "Plotting needs matplotlib: pip install 'sklearn-mmfusion[plot]'"
        ) from exc
    return matplotlib


def _figure(**kwargs):
    return _matplotlib().figure.Figure(**kwargs)


def _figure_and_axes(ax, figsize):
    """A new constrained-layout figure with one Axes, or ``ax`` and its figure."""
    if ax is None:
        fig = _figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    return ax.figure, ax


def _check_capability(estimator, attribute, function, providers):
    """Clear errors for an unfitted estimator or one without ``attribute``."""
    from sklearn.utils.validation import check_is_fitted

    name = type(estimator).__name__
    if not hasattr(estimator, attribute):
        # An estimator that lacks the attribute only because it is not
        # fitted yet gets scikit-learn's NotFittedError first.
        check_is_fitted(estimator)
        raise TypeError(
            f"{function} needs an estimator with `{attribute}`, which {name} does "
            f"not have; {providers} provide it."
        )
    check_is_fitted(estimator)


def _modality_names(estimator, n_modalities):
    names = getattr(estimator, "modalities_", None)
    if names is None or len(names) != n_modalities:
        return [f"modality {m}" for m in range(n_modalities)]
    return [str(name) for name in names]


def _observed(estimator, X, names):
    """Boolean (n_samples, M) in ``names`` order: True where the row is present."""
    from ._data import split_modalities

    arrays = split_modalities(X, getattr(estimator, "modalities", None))
    if not all(name in arrays for name in names):
        arrays = dict(zip(names, arrays.values()))
    return np.column_stack([~np.isnan(arrays[name]).all(axis=1) for name in names])


def plot_modality_importances(estimator, ax=None):
    """Bar chart of a fitted estimator's ``modality_importances_``.

    One bar per modality, in the order of ``estimator.modalities_``, with its
    value written above it.

    Parameters
    ----------
    estimator : fitted estimator with ``modality_importances_``
        E.g. :class:`~sklearn_mmfusion.GatedFusionClassifier` (mean gate per
        modality) or :class:`~sklearn_mmfusion.CLARGAClassifier` (mean
        attention each modality sends); bars are named by ``modalities_``.
    ax : matplotlib.axes.Axes, default=None
        Draw into this Axes; a new figure is created when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure, or ``ax``'s figure.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        The estimator is not fitted.
    TypeError
        The estimator has no ``modality_importances_``.

    See Also
    --------
    plot_gates : The per-sample gates behind the gated importances.
    plot_attention_graph : One sample's attention graph (CLARGA).

    Notes
    -----
    The dashed line marks the uniform share ``1 / n_modalities``: bars above
    it are modalities the model leans on more than average.

    Examples
    --------
    >>> from sklearn_mmfusion import GatedFusionClassifier
    >>> from sklearn_mmfusion.datasets import make_multimodal_classification
    >>> from sklearn_mmfusion.plotting import plot_modality_importances
    >>> X, y = make_multimodal_classification(n_samples=100, random_state=0)
    >>> clf = GatedFusionClassifier(hidden_dim=16, max_epochs=5, random_state=0)
    >>> fig = plot_modality_importances(clf.fit(X, y))
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['m0', 'm1', 'm2']
    >>> fig.savefig("importances.png")  # doctest: +SKIP
    """
    _check_capability(
        estimator, "modality_importances_", "plot_modality_importances",
        "GatedFusion* and CLARGA* estimators",
    )
    importances = np.asarray(estimator.modality_importances_, dtype=float).ravel()
    names = _modality_names(estimator, len(importances))
    title = f"{type(estimator).__name__}: modality importances"
    # Sized from the text it must hold (about 0.1 in per character of the
    # 12 pt title, 0.075 in per character of a 10 pt tick label), so that
    # neither the title nor the names are clipped or run into each other:
    # each bar gets room for its name up to 1.5 in, longer names turn upright.
    longest = max(len(name) for name in names)
    slot = min(max(0.8, 0.075 * longest + 0.2), 1.5)
    rotate = 0.075 * longest > slot - 0.1
    width = max(4.0, 1.4 + slot * len(names) + 1.4, 0.1 * len(title) + 1.0)
    height = 3.5 + (0.075 * longest if rotate else 0.0)
    fig, ax = _figure_and_axes(ax, (width, height))
    positions = np.arange(len(names))
    bars = ax.bar(positions, importances, color="tab:blue", alpha=0.85)
    ax.set_xticks(positions, names)
    if rotate:
        ax.tick_params(axis="x", labelrotation=90)
    ax.axhline(1 / len(names), color="0.3", linestyle="--", linewidth=1,
               label=f"uniform (1/{len(names)})")
    ax.bar_label(bars, fmt="{:.2f}", padding=2, fontsize=8)
    # Autoscaled (room above the labels), so Axes with sharey stay in step.
    ax.margins(y=0.15)
    ax.set_xlabel("modality")
    ax.set_ylabel("importance (sums to 1)")
    ax.set_title(title)
    # Outside the bars, on the right, so it never covers a bar or its value
    # label (constrained layout makes room for it).
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0, frameon=False)
    return fig


def plot_gates(estimator, X, ax=None, *, max_samples=60, sort="dominant"):
    """Heatmap of per-sample gates (modalities × samples), missing cells grey.

    Shows how much each sample's prediction draws on each modality, and how
    the gates shift when a modality is missing.

    Parameters
    ----------
    estimator : fitted estimator with a ``gates(X)`` method
        E.g. :class:`~sklearn_mmfusion.GatedFusionClassifier`.
    X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
        Samples to show, in any input form the estimator accepts.
    ax : matplotlib.axes.Axes, default=None
        Draw into this Axes; a new figure is created when None.
    max_samples : int, default=60
        At most this many samples are shown, evenly spaced over ``X`` (so a
        data set sorted by class still shows every class).
    sort : {"dominant", None} or str, default="dominant"
        Column order: ``"dominant"`` groups samples by the modality with the
        largest gate (strongest first within a group); a modality name sorts
        by that modality's gate, descending; None keeps the order of ``X``.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure, or ``ax``'s figure.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        The estimator is not fitted.
    TypeError
        The estimator has no ``gates`` method.
    ValueError
        ``sort`` is not one of the options.

    See Also
    --------
    plot_modality_importances : The gates averaged over the training samples.

    Notes
    -----
    A missing modality (all-NaN row) has gate 0; its cell is drawn grey
    rather than as a 0 on the colour scale (the x label says so). When at most 40 samples are shown,
    the x tick labels are their row numbers in ``X``.

    Examples
    --------
    >>> from sklearn_mmfusion import GatedFusionClassifier
    >>> from sklearn_mmfusion.datasets import (
    ...     make_multimodal_classification, mask_modalities)
    >>> from sklearn_mmfusion.plotting import plot_gates
    >>> X, y = make_multimodal_classification(n_samples=100, random_state=0)
    >>> X = mask_modalities(X, 0.3, random_state=0)
    >>> clf = GatedFusionClassifier(hidden_dim=16, max_epochs=5, random_state=0)
    >>> fig = plot_gates(clf.fit(X, y), X, max_samples=20)
    >>> fig.axes[0].images[0].get_array().shape  # modalities x samples shown
    (3, 20)
    """
    _check_capability(estimator, "gates", "plot_gates", "GatedFusion* estimators")
    matplotlib = _matplotlib()
    if not (isinstance(max_samples, numbers.Integral) and max_samples >= 1):
        raise ValueError(f"max_samples must be a positive integer; got {max_samples!r}.")
    gates = np.asarray(estimator.gates(X), dtype=float)
    n_samples, n_modalities = gates.shape
    names = _modality_names(estimator, n_modalities)
    observed = _observed(estimator, X, names)

    rows = np.arange(n_samples)
    if n_samples > max_samples:
        rows = np.unique(np.linspace(0, n_samples - 1, max_samples).round().astype(int))
    shown = np.where(observed[rows], gates[rows], np.nan)
    if sort == "dominant":
        dominant = np.nanargmax(np.where(observed[rows], shown, -np.inf), axis=1)
        strength = shown[np.arange(len(rows)), dominant]
        order = np.lexsort((-strength, dominant))
        how = ", grouped by dominant modality"
    elif sort is None:
        order = np.arange(len(rows))
        how = ""
    elif sort in names:
        order = np.argsort(-np.nan_to_num(shown[:, names.index(sort)], nan=-1.0),
                           kind="stable")
        how = f", sorted by the {sort} gate"
    else:
        raise ValueError(
            f"sort must be 'dominant', None or a modality name {names}; got {sort!r}."
        )
    rows, shown = rows[order], shown[order]

    fig, ax = _figure_and_axes(ax, (min(12.0, 3.0 + 0.15 * len(rows)),
                                    1.6 + 0.4 * n_modalities))
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad=_MISSING_COLOR)
    image = ax.imshow(np.ma.masked_invalid(shown.T), aspect="auto", cmap=cmap,
                      vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_yticks(np.arange(n_modalities), names)
    if len(rows) <= 40:
        ax.set_xticks(np.arange(len(rows)), [str(r) for r in rows], rotation=90,
                      fontsize=7)
    else:
        ax.set_xticks([])
    missing_note = "; grey: missing modality" if not observed[rows].all() else ""
    ax.set_xlabel(f"sample ({len(rows)} of {n_samples} shown{how}){missing_note}")
    ax.set_ylabel("modality")
    ax.set_title(f"{type(estimator).__name__}: gate per sample")
    colorbar = fig.colorbar(image, ax=ax, pad=0.02)
    colorbar.set_label("gate (mean over hidden units)")
    return fig


def plot_attention_graph(estimator, X, sample=0, ax=None, *, threshold=0.01):
    """One sample's attention graph drawn over its modalities.

    Modalities sit on a circle; an arrow from sender ``n`` to receiver ``m``
    has a width proportional to ``estimator.attention_graph(X)[sample, m, n]``
    (the weight of ``n`` in ``m``'s update) and the gid ``"n->m"``. The
    number inside a node is its self-weight. Missing modalities are hollow grey nodes (they send and
    receive nothing).

    Parameters
    ----------
    estimator : fitted estimator with an ``attention_graph(X)`` method
        E.g. :class:`~sklearn_mmfusion.CLARGAClassifier`.
    X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
        Samples in any input form the estimator accepts.
    sample : int, default=0
        Row of ``X`` to draw (negative values count from the end).
    ax : matplotlib.axes.Axes, default=None
        Draw into this Axes; a new figure is created when None.
    threshold : float, default=0.01
        Edges with a weight at or below this are not drawn.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure, or ``ax``'s figure.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        The estimator is not fitted.
    TypeError
        The estimator has no ``attention_graph`` method.
    IndexError
        ``sample`` is out of range.

    See Also
    --------
    plot_modality_importances : Attention sent per modality, over the training set.

    Examples
    --------
    >>> from matplotlib.patches import FancyArrowPatch
    >>> from sklearn_mmfusion import CLARGAClassifier
    >>> from sklearn_mmfusion.datasets import make_multimodal_classification
    >>> from sklearn_mmfusion.plotting import plot_attention_graph
    >>> X, y = make_multimodal_classification(n_samples=100, random_state=0)
    >>> clf = CLARGAClassifier(hidden_dim=16, max_epochs=5, graph_k=None,
    ...                        random_state=0).fit(X, y)
    >>> fig = plot_attention_graph(clf, X, sample=3, threshold=0.0)
    >>> arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    >>> len(arrows)  # dense graph over 3 present modalities: 3 x 2 edges
    6
    """
    _check_capability(estimator, "attention_graph", "plot_attention_graph",
                      "CLARGA* estimators")
    matplotlib = _matplotlib()
    attention = np.asarray(estimator.attention_graph(X), dtype=float)
    n_samples, n_modalities = attention.shape[:2]
    if not -n_samples <= sample < n_samples:
        raise IndexError(f"sample={sample} is out of range for X with {n_samples} rows.")
    sample = int(sample) % n_samples
    weights = attention[sample]
    names = _modality_names(estimator, n_modalities)
    observed = _observed(estimator, X, names)[sample]

    from matplotlib.colors import Normalize
    from matplotlib.patches import Circle, FancyArrowPatch

    fig, ax = _figure_and_axes(ax, (5.6, 4.8))
    angles = np.pi / 2 - 2 * np.pi * np.arange(n_modalities) / n_modalities
    centres = np.column_stack([np.cos(angles), np.sin(angles)])
    radius = min(0.16, 0.9 * np.sin(np.pi / max(n_modalities, 2)))
    cmap = matplotlib.colormaps["viridis_r"]
    norm = Normalize(0.0, 1.0)
    max_width = 9.0

    for receiver in range(n_modalities):
        for sender in range(n_modalities):
            weight = weights[receiver, sender]
            if sender == receiver or not weight > threshold:
                continue
            start, end = centres[sender], centres[receiver]
            unit = (end - start) / np.linalg.norm(end - start)
            ax.add_patch(FancyArrowPatch(
                start + radius * unit, end - radius * unit,
                arrowstyle="-|>", mutation_scale=8 + 14 * weight,
                connectionstyle="arc3,rad=0.15", shrinkA=1, shrinkB=1,
                linewidth=max_width * weight, color=cmap(norm(weight)),
                alpha=0.9, zorder=2, gid=f"{names[sender]}->{names[receiver]}",
            ))

    for m, (name, centre) in enumerate(zip(names, centres)):
        present = bool(observed[m])
        ax.add_patch(Circle(
            centre, radius, zorder=3, linewidth=1.5,
            facecolor="tab:blue" if present else "white",
            edgecolor="navy" if present else "0.6",
            linestyle="-" if present else "--",
        ))
        if present:
            ax.text(*centre, f"{weights[m, m]:.2f}", ha="center", va="center",
                    color="white", fontsize=8, zorder=4)
        # Outside the circle, aligned away from it so long labels never
        # cover their node.
        x, y = centre * (1 + radius + 0.05)
        ax.text(x, y, name if present else f"{name}\n(missing)",
                ha="left" if x > 0.2 else "right" if x < -0.2 else "center",
                va="bottom" if y > 0.2 else "top" if y < -0.2 else "center",
                fontsize=10, color="black" if present else "0.5", zorder=4)

    colorbar = fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax,
                            shrink=0.7, pad=0.02)
    colorbar.set_label("attention weight (sender → receiver)")
    reach = 1.0 + radius + 0.55
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-reach, reach)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{type(estimator).__name__}: attention graph of sample {sample}")
    ax.text(0.5, -0.02, "arrow width ∝ weight; number in a node: its self-weight",
            transform=ax.transAxes, ha="center", va="top", fontsize=8, color="0.3")
    return fig


_KIND_COLORS = {"fusion": "tab:blue", "baseline": "tab:orange"}


def plot_comparison(summary, path=None, title=None, *, metric="macro_f1", metric_label=None,
                    higher_is_better=True):
    """A score per method (dots with ±1 std), or per missing rate (curves).

    With one missing rate, each method is a dot at its mean score with a
    ±1 std whisker, sorted best on top. The axis is zoomed on the scores,
    so dots (not bars, whose length would suggest a zero baseline) mark
    them, and the axis range is stated in its label. Fusion methods and
    baselines (rows with ``kind``) get different colours.

    Parameters
    ----------
    summary : list of dict
        Rows of :meth:`sklearn_mmfusion.ComparisonResult.summary`:
        ``method``, ``missing_rate``, ``<metric>``, ``<metric>_std`` and
        optionally ``kind`` (``"fusion"`` or ``"baseline"``).
    path : str or path-like, default=None
        Where to save the PNG; not saved when None.
    title : str, default=None
    metric : str, default="macro_f1"
    metric_label : str, default=None
        Axis label of the metric (defaults to its name).
    higher_is_better : bool, default=True
        Sort order of the methods.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> from sklearn_mmfusion.plotting import plot_comparison
    >>> summary = [
    ...     {"method": "A", "kind": "fusion", "missing_rate": 0.0,
    ...      "macro_f1": 0.95, "macro_f1_std": 0.01},
    ...     {"method": "B", "kind": "baseline", "missing_rate": 0.0,
    ...      "macro_f1": 0.96, "macro_f1_std": 0.01},
    ... ]
    >>> fig = plot_comparison(summary)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['A', 'B']
    """
    label = metric_label or _METRIC_LABELS.get(metric, metric)
    rates = sorted({row["missing_rate"] for row in summary})
    methods = list(dict.fromkeys(row["method"] for row in summary))
    by_key = {(row["method"], row["missing_rate"]): row for row in summary}
    kinds = {row["method"]: row.get("kind") for row in summary}

    def color(method, index):
        return _KIND_COLORS.get(kinds[method]) or f"C{index % 10}"

    if len(rates) == 1:
        fig = _figure(figsize=(8, 0.45 * len(methods) + 1.7), layout="constrained")
        ax = fig.add_subplot()
        sign = 1 if higher_is_better else -1
        rows = sorted((by_key[(m, rates[0])] for m in methods), key=lambda r: sign * r[metric])
        for pos, row in enumerate(rows):
            ax.errorbar(row[metric], pos, xerr=row.get(f"{metric}_std", 0.0), fmt="o",
                        color=color(row["method"], pos), capsize=3, markersize=7)
            ax.annotate(f"{row[metric]:.3f}",
                        (row[metric] + row.get(f"{metric}_std", 0.0), pos),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
        ax.set_yticks(range(len(rows)), [r["method"] for r in rows])
        low = min(r[metric] - r.get(f"{metric}_std", 0.0) for r in rows)
        high = max(r[metric] + r.get(f"{metric}_std", 0.0) for r in rows)
        pad = max(0.1 * (high - low), 0.005)
        ax.set_xlim(low - pad, high + 2.5 * pad)  # room for the numbers
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel(f"{label} (mean ± std over folds; axis zoomed to "
                      f"{low - pad:.3g} – {high + 2.5 * pad:.3g})")
        heading = f"missing modality rows: {rates[0]:.0%}"
    else:
        fig = _figure(figsize=(8, 5), layout="constrained")
        ax = fig.add_subplot()
        for index, method in enumerate(methods):
            rows = [by_key[(method, r)] for r in rates if (method, r) in by_key]
            baseline = kinds[method] == "baseline"
            ax.errorbar([100 * r["missing_rate"] for r in rows],
                        [r[metric] for r in rows],
                        yerr=[r.get(f"{metric}_std", 0.0) for r in rows],
                        marker="s" if baseline else "o", capsize=3,
                        linestyle="--" if baseline else "-",
                        label=method + (" (baseline)" if baseline else ""))
        ax.set_xticks([100 * r for r in rates])
        ax.set_xlabel("modality rows hidden (%)")
        ax.set_ylabel(f"{label} (mean ± std over folds)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        heading = "degradation with missing modalities"
    if any(kinds.values()) and len(rates) == 1:
        from matplotlib.lines import Line2D

        present = [k for k in _KIND_COLORS if k in kinds.values()]
        ax.legend([Line2D([], [], marker="o", linestyle="", color=_KIND_COLORS[k])
                   for k in present], [f"{k} method" if k == "fusion" else k for k in present],
                  fontsize=8, loc="lower right")
    # Two lines: a long title (file name, splitter) is not cut off.
    ax.set_title(f"{title}\n{heading}" if title else heading)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def _records(results):
    """Rows as a list of dicts, from a list of dicts or a DataFrame."""
    if hasattr(results, "to_dict") and hasattr(results, "columns"):
        return results.to_dict("records")
    return [dict(row) for row in results]


def plot_missing_rate_curve(results, ax=None, metric="macro_f1"):
    """A metric against the missing-modality rate, one curve per method.

    Each point is the mean over folds at one rate, with ± one standard
    deviation as error bar.

    Parameters
    ----------
    results : list of dict or pandas.DataFrame
        Rows with ``method``, ``missing_rate`` and ``metric``: the summary of
        :func:`sklearn_mmfusion._compare.summarize` (error bars from its
        ``<metric>_std`` column when present), or the per-fold rows of
        ``sklearn-mmfusion compare --output`` (mean ± std over the folds).
    ax : matplotlib.axes.Axes, default=None
        Draw into this Axes; a new figure is created when None.
    metric : str, default="macro_f1"
        Column to plot, e.g. ``"macro_f1"``, ``"accuracy"`` or ``"fit_s"``.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure, or ``ax``'s figure.

    Raises
    ------
    ValueError
        ``results`` is empty or lacks ``method``, ``missing_rate`` or
        ``metric``.

    See Also
    --------
    plot_comparison : The plot of the ``compare`` command.

    Examples
    --------
    >>> from sklearn_mmfusion.plotting import plot_missing_rate_curve
    >>> summary = [
    ...     {"method": "A", "missing_rate": 0.0, "macro_f1": 0.95, "macro_f1_std": 0.01},
    ...     {"method": "A", "missing_rate": 0.5, "macro_f1": 0.90, "macro_f1_std": 0.02},
    ...     {"method": "B", "missing_rate": 0.0, "macro_f1": 0.96, "macro_f1_std": 0.01},
    ...     {"method": "B", "missing_rate": 0.5, "macro_f1": 0.80, "macro_f1_std": 0.03},
    ... ]
    >>> fig = plot_missing_rate_curve(summary)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['A', 'B']
    """
    rows = _records(results)
    if not rows:
        raise ValueError("results is empty: nothing to plot.")
    needed = ("method", "missing_rate", metric)
    absent = [key for key in needed if key not in rows[0]]
    if absent:
        raise ValueError(
            f"results rows lack {absent}; they have {sorted(rows[0])}. Pass the rows "
            "of sklearn_mmfusion._compare.summarize or of the compare command's output."
        )
    groups = {}
    for row in rows:
        groups.setdefault(row["method"], {}).setdefault(
            float(row["missing_rate"]), []).append(row)

    fig, ax = _figure_and_axes(ax, (7, 4.5))
    rates = sorted({rate for by_rate in groups.values() for rate in by_rate})
    for method, by_rate in groups.items():
        xs, means, stds = [], [], []
        for rate in sorted(by_rate):
            group = by_rate[rate]
            values = np.array([float(r[metric]) for r in group])
            if len(group) > 1:
                std = values.std()
            else:
                std = float(group[0].get(f"{metric}_std", 0.0) or 0.0)
            xs.append(100 * rate)
            means.append(values.mean())
            stds.append(0.0 if np.isnan(std) else std)
        ax.errorbar(np.asarray(xs, dtype=float), np.asarray(means, dtype=float),
                    yerr=np.asarray(stds, dtype=float), marker="o", capsize=3,
                    label=str(method))
    ax.set_xticks([100 * rate for rate in rates])
    ax.set_xlabel("modality rows hidden (%)")
    ax.set_ylabel(f"{_METRIC_LABELS.get(metric, metric)} (mean ± std over folds)")
    ax.set_title("robustness to missing modalities")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
