"""Model inspection plots: what a fitted fusion estimator learned."""

import numbers

import numpy as np

from ._common import _MISSING_COLOR, _figure_and_axes, _matplotlib


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


def _observed(estimator, X):
    """Boolean (n_samples, M) in the fit's modality order: True where the row
    is present (the fitted estimator's own check and mask of ``X``)."""
    return estimator.fitted_input_.split(X, estimator, accept_sparse=True)[1]


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
    observed = _observed(estimator, X)

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
    observed = _observed(estimator, X)[sample]

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
