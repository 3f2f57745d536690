"""What the plots share: matplotlib on demand, figures, labels and colours."""

_MISSING_COLOR = "0.85"
_METRIC_LABELS = {
    "macro_f1": "macro-F1",
    "accuracy": "accuracy",
    "fit_s": "fit time per fold (s)",
    "predict_s": "predict time per fold (s)",
}


_KIND_COLORS = {"fusion": "tab:blue", "baseline": "tab:orange"}



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
