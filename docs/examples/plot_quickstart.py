"""
Fusion on mfeat against scikit-learn baselines
==============================================

The UCI *Multiple Features* data set describes 2,000 handwritten digits with
six feature sets (Fourier coefficients, profile correlations, Karhunen-Loève
coefficients, pixel averages, Zernike moments, morphological features): six
*modalities* of the same digit. This example trains every fusion classifier
of ``sklearn_mmfusion`` on it and compares them with scikit-learn models on
the concatenated features, on one stratified train/test split.

The networks are kept small (``hidden_dim=64``) and short (``max_epochs=10``)
so that the example runs in well under a minute on one CPU thread; the
defaults score a little higher (see the benchmarks page).
"""

# %%
# The data: a ModalityDict
# ------------------------
#
# :func:`~sklearn_mmfusion.datasets.load_mfeat` returns the six modalities as
# a :class:`~sklearn_mmfusion.ModalityDict`: a dict of 2-D arrays whose
# ``len()`` is the number of samples and which indexes by rows, so that
# scikit-learn's ``train_test_split`` splits all the modalities at once.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mmfusion import (
    CLARGAClassifier,
    ConcatFusionClassifier,
    ConFuClassifier,
    GatedFusionClassifier,
    LateFusionClassifier,
)
from sklearn_mmfusion.datasets import load_mfeat

X, y = load_mfeat(return_X_y=True)
print(X)
print("samples:", len(X), " classes:", np.unique(y))

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
print("train:", X_train["pix"].shape, " test:", X_test["pix"].shape)

# %%
# Fusion classifiers and baselines
# --------------------------------
#
# Every fusion classifier takes the ``ModalityDict`` as it is. The
# scikit-learn baselines need one matrix: the modalities side by side.
common = dict(hidden_dim=64, max_epochs=10, random_state=0)
models = {
    "Concatenation": ConcatFusionClassifier(**common),
    "Late fusion": LateFusionClassifier(**common),
    "Gated (GMU)": GatedFusionClassifier(**common),
    "CLARGA": CLARGAClassifier(**common),
    "ConFu": ConFuClassifier(**common),
}
baselines = {
    "LogisticRegression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    "MLPClassifier": make_pipeline(
        StandardScaler(), MLPClassifier((128,), early_stopping=True, random_state=0)
    ),
}


def flat(modalities):
    """The modalities side by side, for estimators that want one matrix."""
    return np.hstack(list(modalities.values()))


scores, fit_times = {}, {}
for name, model in {**models, **baselines}.items():
    is_fusion = name in models
    train, test = (X_train, X_test) if is_fusion else (flat(X_train), flat(X_test))
    start = time.perf_counter()
    model.fit(train, y_train)
    fit_times[name] = time.perf_counter() - start
    scores[name] = model.score(test, y_test)
    print(f"{name:20s} accuracy {scores[name]:.3f}   fit {fit_times[name]:5.1f} s")

# %%
# With every modality present, all the methods are within a few points of
# each other on this data set. The next examples hide modalities, tune the
# fusion hyperparameters, and look inside the fitted models.
names = list(scores)
colors = ["tab:blue" if name in models else "tab:gray" for name in names]
fig, (ax_acc, ax_time) = plt.subplots(1, 2, figsize=(10, 4), sharey=True,
                                      layout="constrained")
positions = np.arange(len(names))
ax_acc.barh(positions, [scores[n] for n in names], color=colors)
ax_acc.set_yticks(positions, names)
ax_acc.invert_yaxis()
ax_acc.set_xlim(0.9, 1.0)
ax_acc.set_xlabel("test accuracy")
for pos, name in zip(positions, names):
    ax_acc.annotate(f"{scores[name]:.3f}", (scores[name], pos), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=8)
ax_time.barh(positions, [fit_times[n] for n in names], color=colors)
ax_time.set_xlabel("fit time (s, one CPU thread)")
fig.suptitle("mfeat, 70/30 split: fusion classifiers (blue) and baselines (gray)")
plt.show()

# %%
# What a fitted fusion estimator gives
# ------------------------------------
#
# Besides ``predict`` and ``predict_proba``, ``transform`` returns the fused
# representation of each sample, and the fitted attributes describe the
# training.
gated = models["Gated (GMU)"]
print("modalities_:", gated.modalities_)
print("predict_proba:", gated.predict_proba(X_test[:2]).round(3))
print("transform:", gated.transform(X_test).shape)
print("epochs trained:", gated.n_iter_)
phases = gated.history_[:, "phase"]
print("epochs per phase:", {phase: phases.count(phase) for phase in dict.fromkeys(phases)})
print("best validation loss:", round(min(gated.history_[:, "valid_loss"]), 4))
