"""Plots (matplotlib is an optional extra: ``pip install 'sklearn-mmfusion[plot]'``).

Two families: model inspection (:func:`plot_modality_importances`,
:func:`plot_gates`, :func:`plot_attention_graph`: what a fitted estimator
learned) and comparison (:func:`plot_comparison`,
:func:`plot_missing_rate_curve`: scores of methods side by side). Figures are
built with matplotlib's object API (no pyplot state, no display needed) and
returned, so callers can restyle or save them. Every function takes an
optional ``ax`` to draw into an existing figure instead.
"""

from ._comparison import plot_comparison, plot_missing_rate_curve
from ._inspection import plot_attention_graph, plot_gates, plot_modality_importances

__all__ = [
    "plot_attention_graph",
    "plot_comparison",
    "plot_gates",
    "plot_missing_rate_curve",
    "plot_modality_importances",
]
