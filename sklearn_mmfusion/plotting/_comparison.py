"""Comparison plots: scores of methods side by side, and against missing rates."""

import numpy as np

from ._common import _KIND_COLORS, _METRIC_LABELS, _figure_and_axes


def plot_comparison(summary, path=None, title=None, *, ax=None, metric="macro_f1",
                    metric_label=None, higher_is_better=True):
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
    ax : matplotlib.axes.Axes, default=None
        Draw into this Axes; a new figure is created when None.
    metric : str, default="macro_f1"
    metric_label : str, default=None
        Axis label of the metric (defaults to its name).
    higher_is_better : bool, default=True
        Sort order of the methods.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure, or ``ax``'s figure.

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
        fig, ax = _figure_and_axes(ax, (8, 0.45 * len(methods) + 1.7))
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
        fig, ax = _figure_and_axes(ax, (8, 5))
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
