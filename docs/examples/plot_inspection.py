"""
Inspecting fusion: modality importances, gates and attention graphs
===================================================================

Gated fusion weighs each modality of each sample with a gate; CLARGA passes
messages between a sample's modalities along a learned attention graph.
Both expose what they learned: ``modality_importances_`` (over the training
set), ``gates(X)`` and ``attention_graph(X)`` (per sample).
:mod:`sklearn_mmfusion.plotting` draws them. This example fits both models on
the *mfeat* digits with 30% of the modality rows missing.
"""

# %%
# Two models on mfeat with missing modalities
# -------------------------------------------
#
# Small models (``hidden_dim=32``, 10 epochs) to keep the example fast; their
# scores are a little below what the defaults reach.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from sklearn_mmfusion import CLARGAClassifier, GatedFusionClassifier
from sklearn_mmfusion.datasets import load_mfeat, mask_modalities
from sklearn_mmfusion.plotting import (
    plot_attention_graph,
    plot_gates,
    plot_modality_importances,
)

X, y = load_mfeat(return_X_y=True)
X = mask_modalities(X, 0.3, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
small = dict(hidden_dim=32, max_epochs=10, random_state=0)
gated = GatedFusionClassifier(**small).fit(X_train, y_train)
clarga = CLARGAClassifier(**small).fit(X_train, y_train)
for model in (gated, clarga):
    score = f1_score(y_test, model.predict(X_test), average="macro")
    print(f"{type(model).__name__}: test macro-F1 {score:.3f}")

# %%
# Modality importances
# --------------------
#
# For gated fusion, a modality's importance is its mean gate over the
# training samples; for CLARGA, the mean attention it sends to the other
# modalities. Both are normalised to sum to 1; the dashed line is the uniform
# share 1/6.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained", sharey=True)
plot_modality_importances(gated, ax=axes[0])
plot_modality_importances(clarga, ax=axes[1])
plt.show()

# %%
# Gates per sample
# ----------------
#
# Each column is a test sample, each row a modality; grey cells are missing
# modalities (gate 0). With ``gate="softmax"`` (the default) the gates of a
# sample's present modalities sum to 1, so when a strong modality is missing,
# the others take over its share. 60 samples are shown, evenly spaced over
# the test set and grouped by the modality with the largest gate.
fig, ax = plt.subplots(figsize=(11, 3.6), layout="constrained")
plot_gates(gated, X_test, ax=ax, max_samples=60)
plt.show()

# %%
# The mean gates with and without the ``fac`` modality make the hand-over
# explicit:
gates = gated.gates(X_test)
names = gated.modalities_
fac_missing = np.isnan(X_test["fac"]).all(axis=1)
for label, rows in [("fac present", ~fac_missing), ("fac missing", fac_missing)]:
    means = ", ".join(f"{n} {g:.2f}" for n, g in zip(names, gates[rows].mean(axis=0)))
    print(f"{label:12s} ({rows.sum():3d} samples): {means}")

# %%
# Attention graphs of two samples
# -------------------------------
#
# CLARGA's graph over one sample's modalities: an arrow from a sender to a
# receiver, as wide as the weight of the sender in the receiver's update
# (last layer, averaged over heads). Each modality keeps only its
# ``graph_k`` strongest neighbours (here ``ceil(sqrt(6)) + 1 = 4``, itself
# included), so the graph is sparse. A missing modality is a hollow node: it
# neither sends nor receives.
observed = np.column_stack([~np.isnan(X_test[n]).all(axis=1) for n in names])
complete = int(np.flatnonzero(observed.all(axis=1))[0])
partial = int(np.flatnonzero(observed.sum(axis=1) == 4)[0])
fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
plot_attention_graph(clarga, X_test, sample=complete, ax=axes[0])
plot_attention_graph(clarga, X_test, sample=partial, ax=axes[1])
plt.show()
