"""Plots (matplotlib is an optional extra: ``pip install 'sklearn-mmfusion[plot]'``).

Figures are built with matplotlib's object API (no pyplot state, no display
needed) and returned, so callers can restyle or save them.
"""


def _figure(**kwargs):
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib: pip install 'sklearn-mmfusion[plot]'"
        ) from exc
    return Figure(**kwargs)


def plot_comparison(summary, path=None, title=None):
    """Macro-F1 per method (bars with ±1 std), or per missing rate (curves).

    Parameters
    ----------
    summary : list of dict
        Rows of :func:`sklearn_mmfusion._compare.summarize`: ``method``,
        ``missing_rate``, ``macro_f1``, ``macro_f1_std``.
    path : str or path-like, default=None
        Where to save the PNG; not saved when None.
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    rates = sorted({row["missing_rate"] for row in summary})
    methods = list(dict.fromkeys(row["method"] for row in summary))
    by_key = {(row["method"], row["missing_rate"]): row for row in summary}
    if len(rates) == 1:
        fig = _figure(figsize=(8, 0.45 * len(methods) + 1.5), layout="constrained")
        ax = fig.add_subplot()
        rows = sorted((by_key[(m, rates[0])] for m in methods), key=lambda r: r["macro_f1"])
        positions = range(len(rows))
        ax.barh(positions, [r["macro_f1"] for r in rows],
                xerr=[r["macro_f1_std"] for r in rows], color="tab:blue", alpha=0.8,
                capsize=3)
        ax.set_yticks(list(positions), [r["method"] for r in rows])
        low = min(r["macro_f1"] - r["macro_f1_std"] for r in rows)
        ax.set_xlim(max(0.0, low - 0.02), 1.0)
        ax.set_xlabel("macro-F1 (mean ± std over folds)")
        for pos, row in zip(positions, rows):
            # Right of the error bar, so the number never sits on it.
            ax.annotate(f"{row['macro_f1']:.3f}", (row["macro_f1"] + row["macro_f1_std"], pos),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
        heading = f"missing modality rows: {rates[0]:.0%}"
    else:
        fig = _figure(figsize=(8, 5), layout="constrained")
        ax = fig.add_subplot()
        for method in methods:
            rows = [by_key[(method, r)] for r in rates if (method, r) in by_key]
            ax.errorbar([100 * r["missing_rate"] for r in rows],
                        [r["macro_f1"] for r in rows],
                        yerr=[r["macro_f1_std"] for r in rows], marker="o", capsize=3,
                        label=method)
        ax.set_xlabel("modality rows hidden (%)")
        ax.set_ylabel("macro-F1 (mean ± std over folds)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        heading = "degradation with missing modalities"
    ax.set_title(f"{title}: {heading}" if title else heading)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
