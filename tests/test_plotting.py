"""Figures of sklearn_mmfusion.plotting: rendered with Agg, content checked."""

import copy
import sys

import numpy as np
import pytest
import torch

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from conftest import FAST  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from sklearn_mmfusion import (  # noqa: E402
    CLARGAClassifier,
    GatedFusionClassifier,
    LateFusionClassifier,
    ModalityDict,
)
from sklearn_mmfusion.datasets import (  # noqa: E402
    make_multimodal_classification,
    mask_modalities,
)
from sklearn_mmfusion.plotting import (  # noqa: E402
    plot_attention_graph,
    plot_comparison,
    plot_gates,
    plot_missing_rate_curve,
    plot_modality_importances,
)

NAMES = ["audio", "image", "text"]


@pytest.fixture(scope="module")
def data():
    X, y = make_multimodal_classification(
        n_samples=120, modality_dims=(6, 5, 4), n_informative=2, class_sep=1.5,
        random_state=0,
    )
    X = ModalityDict({name: X[f"m{m}"] for m, name in enumerate(NAMES)})
    return mask_modalities(X, 0.3, random_state=0), y


@pytest.fixture(scope="module")
def fitted(data):
    # Fitted once per module (before the per-test one-thread fixture runs).
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        X, y = data
        yield {
            "gated": GatedFusionClassifier(**FAST).fit(X, y),
            "clarga": CLARGAClassifier(**FAST).fit(X, y),
        }
    finally:
        torch.set_num_threads(previous)


def observed(X, rows=slice(None)):
    return np.column_stack([~np.isnan(X[name][rows]).all(axis=1) for name in NAMES])


def save(fig, path):
    fig.savefig(path, dpi=60)
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 1000


def texts(labels):
    return [label.get_text() for label in labels]


# -- modality importances ----------------------------------------------------


@pytest.mark.parametrize("kind", ["gated", "clarga"])
def test_modality_importances_bars(fitted, kind, tmp_path):
    est = fitted[kind]
    fig = plot_modality_importances(est)
    save(fig, tmp_path / "importances.png")

    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_title() == f"{type(est).__name__}: modality importances"
    assert ax.get_xlabel() == "modality"
    assert ax.get_ylabel() == "importance (sums to 1)"
    assert texts(ax.get_xticklabels()) == NAMES == est.modalities_
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 3
    np.testing.assert_allclose([b.get_height() for b in bars], est.modality_importances_)
    # Value labels and the uniform reference line at 1/M.
    assert texts(ax.texts) == [f"{v:.2f}" for v in est.modality_importances_]
    assert len(ax.lines) == 1
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1 / 3, 1 / 3])


def _boxes(artists, renderer):
    return [artist.get_window_extent(renderer) for artist in artists]


@pytest.mark.parametrize("names", [
    ["audio", "image", "text"],
    ["accelerometer_features", "gyroscope_features", "heart_rate_monitor"],
])
def test_modality_importances_layout_nothing_overlaps_or_is_clipped(fitted, names):
    # Long names and a long title used to overlap each other and run off the
    # figure; the drawn text boxes are checked, not the code that places them.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    est = copy.copy(fitted["clarga"])
    est.modalities_ = names
    fig = plot_modality_importances(est)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    figure_box = fig.bbox
    ticks = _boxes(ax.get_xticklabels(), renderer)
    values = _boxes(ax.texts, renderer)
    legend = ax.get_legend().get_window_extent(renderer)
    title = ax.title.get_window_extent(renderer)
    for i, box in enumerate(ticks):
        assert not any(box.overlaps(other) for other in ticks[i + 1:]), names
    for box in ticks + values + [legend, title]:
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1, box
        assert figure_box.y0 <= box.y0 and box.y1 <= figure_box.y1, box
    assert not any(legend.overlaps(box) for box in values + [title])
    assert not any(title.overlaps(box) for box in values)


def test_plots_draw_into_a_given_axes(fitted, data):
    X, _ = data
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plot_modality_importances(fitted["gated"], ax=right) is fig
    assert not left.patches and len(right.patches) == 3
    assert plot_attention_graph(fitted["clarga"], X, ax=left) is fig
    assert any(isinstance(p, Circle) for p in left.patches)


# -- errors -----------------------------------------------------------------


@pytest.mark.parametrize("plot, Est", [
    (lambda est, X: plot_modality_importances(est), GatedFusionClassifier),
    (lambda est, X: plot_modality_importances(est), CLARGAClassifier),
    (plot_gates, GatedFusionClassifier),
    (plot_attention_graph, CLARGAClassifier),
])
def test_unfitted_estimator_raises_not_fitted(plot, Est, data):
    with pytest.raises(NotFittedError, match="not fitted"):
        plot(Est(**FAST), data[0])


def test_estimator_without_the_quantity_raises_type_error(fitted, data):
    X, y = data
    late = LateFusionClassifier().fit(X, y)
    with pytest.raises(TypeError, match="modality_importances_.*LateFusionClassifier"):
        plot_modality_importances(late)
    with pytest.raises(TypeError, match="`gates`.*CLARGAClassifier"):
        plot_gates(fitted["clarga"], X)
    with pytest.raises(TypeError, match="`attention_graph`.*GatedFusionClassifier"):
        plot_attention_graph(fitted["gated"], X)


def test_missing_matplotlib_says_how_to_install(monkeypatch, fitted):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'sklearn-mmfusion\[plot\]'"):
        plot_modality_importances(fitted["gated"])


# -- gates --------------------------------------------------------------------


def test_gates_heatmap_shows_samples_and_missing_cells(fitted, data, tmp_path):
    X, _ = data
    est = fitted["gated"]
    fig = plot_gates(est, X, max_samples=25)
    save(fig, tmp_path / "gates.png")

    assert len(fig.axes) == 2  # heatmap + colorbar
    ax, cbar = fig.axes
    assert ax.get_title() == "GatedFusionClassifier: gate per sample"
    assert ax.get_ylabel() == "modality"
    assert ax.get_xlabel() == ("sample (25 of 120 shown, grouped by dominant modality); "
                               "grey: missing modality")
    assert cbar.get_ylabel() == "gate (mean over hidden units)"
    assert texts(ax.get_yticklabels()) == NAMES
    # x ticks name the rows of X that are shown: evenly spaced, then sorted.
    rows = np.array([int(t) for t in texts(ax.get_xticklabels())])
    np.testing.assert_array_equal(np.sort(rows), np.linspace(0, 119, 25).round())

    image = ax.images[0].get_array()
    assert image.shape == (3, 25)
    # Missing modalities are masked (drawn grey), present ones carry the gate.
    present = observed(X, rows).T
    assert (~present).any()
    np.testing.assert_array_equal(np.ma.getmaskarray(image), ~present)
    gates = est.gates(X)[rows].T
    np.testing.assert_allclose(image.data[present], gates[present], rtol=1e-6)
    # Grouped by dominant modality, strongest first within a group.
    dominant = np.argmax(np.where(present, gates, -1), axis=0)
    assert np.all(np.diff(dominant) >= 0)
    for m in np.unique(dominant):
        strength = gates[m, dominant == m]
        assert np.all(np.diff(strength) <= 1e-7)


def test_gates_sort_options(fitted, data):
    X, _ = data
    est = fitted["gated"]
    ax = plot_gates(est, X, max_samples=30, sort=None).axes[0]
    rows = [int(t) for t in texts(ax.get_xticklabels())]
    assert rows == sorted(rows) and rows[0] == 0 and rows[-1] == 119

    ax = plot_gates(est, X, max_samples=30, sort="image").axes[0]
    image_row = ax.images[0].get_array()[1]
    values = image_row.compressed()
    assert np.all(np.diff(values) <= 0)
    # Samples without the image modality go last.
    assert not np.ma.getmaskarray(image_row)[: len(values)].any()

    # All samples, no tick labels past 40 columns; nothing missing, no note.
    full = {name: np.nan_to_num(X[name]) for name in NAMES}
    ax = plot_gates(est, full).axes[0]
    assert ax.images[0].get_array().shape == (3, 60)
    assert ax.get_xticks().size == 0 and "missing" not in ax.get_xlabel()
    with pytest.raises(ValueError, match="sort must be"):
        plot_gates(est, X, sort="video")
    with pytest.raises(ValueError, match="max_samples"):
        plot_gates(est, X, max_samples=0)


def test_gates_of_a_2d_input_split_by_a_modalities_spec(data):
    X, y = data
    flat = np.hstack([X[name] for name in NAMES])  # NaN blocks where missing
    spec = {"audio": slice(0, 6), "image": slice(6, 11), "text": slice(11, 15)}
    est = GatedFusionClassifier(**{**FAST, "max_epochs": 3}, modalities=spec)
    ax = plot_gates(est.fit(flat, y), flat[:30], sort=None).axes[0]
    assert texts(ax.get_yticklabels()) == NAMES
    np.testing.assert_array_equal(
        np.ma.getmaskarray(ax.images[0].get_array()), ~observed(X, slice(0, 30)).T
    )


# -- attention graph ----------------------------------------------------------


def test_attention_graph_edges_nodes_and_labels(fitted, data, tmp_path):
    X, _ = data
    est = fitted["clarga"]
    present = observed(X)
    sample = int(np.flatnonzero(~present.all(axis=1))[0])  # one modality missing
    fig = plot_attention_graph(est, X, sample=sample)
    save(fig, tmp_path / "attention.png")

    assert len(fig.axes) == 2  # graph + colorbar
    ax = fig.axes[0]
    assert ax.get_title() == f"CLARGAClassifier: attention graph of sample {sample}"
    assert fig.axes[1].get_ylabel() == "attention weight (sender → receiver)"

    weights = est.attention_graph(X)[sample]
    expected = {
        f"{NAMES[s]}->{NAMES[r]}": weights[r, s]
        for r in range(3) for s in range(3) if r != s and weights[r, s] > 0.01
    }
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert expected and len(arrows) == len(expected)
    assert {a.get_gid() for a in arrows} == set(expected)
    # Width proportional to the weight.
    ratios = [a.get_linewidth() / expected[a.get_gid()] for a in arrows]
    np.testing.assert_allclose(ratios, ratios[0])
    # No edge touches the missing modality.
    missing = NAMES[int(np.flatnonzero(~present[sample])[0])]
    assert not any(missing in a.get_gid().split("->") for a in arrows)

    nodes = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(nodes) == 3
    for node, name, is_present in zip(nodes, NAMES, present[sample]):
        hollow = node.get_facecolor() == (1.0, 1.0, 1.0, 1.0)
        assert hollow == (not is_present), name
    labels = texts(ax.texts)
    assert f"{missing}\n(missing)" in labels
    for name, is_present in zip(NAMES, present[sample]):
        if is_present:
            assert name in labels


def test_attention_graph_threshold_and_sample_range(fitted, data):
    X, _ = data
    est = fitted["clarga"]
    sample = int(np.flatnonzero(observed(X).all(axis=1))[0])
    weights = est.attention_graph(X)[sample]
    off_diagonal = weights[~np.eye(3, dtype=bool)]
    for threshold in (0.0, 0.3):
        ax = plot_attention_graph(est, X, sample=sample, threshold=threshold).axes[0]
        n_arrows = sum(isinstance(p, FancyArrowPatch) for p in ax.patches)
        assert n_arrows == int((off_diagonal > threshold).sum())
    last = plot_attention_graph(est, X, sample=-1).axes[0]
    assert last.get_title().endswith("sample 119")
    with pytest.raises(IndexError, match="sample=120"):
        plot_attention_graph(est, X, sample=120)


# -- missing-rate curves and the compare plot --------------------------------


def fold_rows():
    rows = []
    for method, slope in [("GatedFusion", 0.2), ("LogisticRegression", 0.5)]:
        for rate in (0.0, 0.3, 0.6):
            for fold, noise in enumerate((-0.01, 0.0, 0.01)):
                rows.append({
                    "method": method, "missing_rate": rate, "fold": fold,
                    "macro_f1": 0.95 - slope * rate + noise, "accuracy": 0.9 - rate / 4,
                    "fit_s": 1.0, "predict_s": 0.1,
                })
    return rows


@pytest.mark.parametrize("form", ["folds", "summary", "dataframe"])
def test_missing_rate_curve(form, tmp_path):
    from sklearn_mmfusion._compare import summarize

    rows = fold_rows()
    results = {"folds": rows, "summary": summarize(rows)}.get(form)
    if form == "dataframe":
        pd = pytest.importorskip("pandas")
        results = pd.DataFrame(summarize(rows))
    fig = plot_missing_rate_curve(results)
    save(fig, tmp_path / "curve.png")

    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_title() == "robustness to missing modalities"
    assert ax.get_xlabel() == "modality rows hidden (%)"
    assert ax.get_ylabel() == "macro-F1 (mean ± std over folds)"
    assert texts(ax.get_legend().get_texts()) == ["GatedFusion", "LogisticRegression"]
    assert len(ax.containers) == 2
    np.testing.assert_allclose(ax.get_xticks(), [0, 30, 60])
    for container, slope in zip(ax.containers, (0.2, 0.5)):
        line, _, (bars,) = container
        np.testing.assert_allclose(line.get_xdata(), [0, 30, 60])
        np.testing.assert_allclose(line.get_ydata(), 0.95 - slope * np.array([0, 0.3, 0.6]))
        # Error bars span ± the std over the three folds.
        for segment in bars.get_segments():
            np.testing.assert_allclose(np.ptp(segment[:, 1]), 2 * np.std([-0.01, 0, 0.01]))


def test_missing_rate_curve_other_metric_and_errors():
    ax = plot_missing_rate_curve(fold_rows(), metric="accuracy").axes[0]
    assert ax.get_ylabel() == "accuracy (mean ± std over folds)"
    np.testing.assert_allclose(ax.containers[0].lines[0].get_ydata(), [0.9, 0.825, 0.75])
    with pytest.raises(ValueError, match=r"lack \['auc'\]"):
        plot_missing_rate_curve(fold_rows(), metric="auc")
    with pytest.raises(ValueError, match="empty"):
        plot_missing_rate_curve([])


def test_plot_comparison_dots_and_curves(tmp_path):
    from sklearn_mmfusion._compare import summarize

    summary = summarize(fold_rows())
    one_rate = [dict(row, kind="fusion" if row["method"] == "GatedFusion" else "baseline")
                for row in summary if row["missing_rate"] == 0.3]
    path = tmp_path / "compare.png"
    fig = plot_comparison(one_rate, path, title="toy")
    assert path.stat().st_size > 1000
    ax = fig.axes[0]
    assert ax.get_title() == "toy\nmissing modality rows: 30%"
    # One dot per method at its mean, best method on top, coloured by kind.
    assert texts(ax.get_yticklabels()) == ["LogisticRegression", "GatedFusion"]
    dots = [c.lines[0] for c in ax.containers]
    np.testing.assert_allclose([d.get_xdata()[0] for d in dots], [0.8, 0.89])
    assert [d.get_color() for d in dots] == ["tab:orange", "tab:blue"]
    assert texts(ax.get_legend().get_texts()) == ["fusion method", "baseline"]
    # The zoomed axis says so, and spans the whiskers.
    low, high = ax.get_xlim()
    assert low < 0.8 - 0.01 and high > 0.89 + 0.01
    assert "axis zoomed" in ax.get_xlabel()

    fig = plot_comparison(summary)
    ax = fig.axes[0]
    assert ax.get_title() == "degradation with missing modalities"
    assert len(ax.containers) == 2
    assert texts(ax.get_legend().get_texts()) == ["GatedFusion", "LogisticRegression"]
