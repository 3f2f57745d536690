"""
Grid search over fusion hyperparameters in a Pipeline
=====================================================

Fusion estimators are ordinary scikit-learn estimators: every hyperparameter
is an ``__init__`` keyword, so ``GridSearchCV`` tunes them like any other,
also inside a ``Pipeline`` with per-modality preprocessing. The one thing to
get right is the input: scikit-learn must be able to split the *samples* of
``X``, which a plain ``dict`` of modalities does not allow, and a
:class:`~sklearn_mmfusion.ModalityDict` does.
"""

# %%
# Why not a plain dict
# --------------------
#
# scikit-learn counts samples with ``len(X)`` and takes folds with
# ``X[indices]``. For a dict, ``len`` is the number of *keys*:
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from sklearn_mmfusion import GatedFusionClassifier, ModalityDict, PerModality
from sklearn_mmfusion.datasets import load_mfeat, mask_modalities

X, y = load_mfeat(return_X_y=True)
X = mask_modalities(X, 0.3, random_state=0)  # 30% of the modality rows missing
plain = dict(X)
print("len(plain dict) =", len(plain), "   len(ModalityDict) =", len(X))
try:
    train_test_split(plain, y, random_state=0)
except ValueError as exc:
    print("plain dict:", exc)

# %%
# ``ModalityDict(plain)`` (or ``ModalityDict(audio=..., imu=...)``) wraps the
# same arrays; the loaders and generators of ``sklearn_mmfusion.datasets``
# return one already.
X = ModalityDict(plain)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
# The pipeline and the grid
# -------------------------
#
# :class:`~sklearn_mmfusion.PerModality` fits one PCA per modality, on the rows
# where that modality is present (missing rows stay all-NaN, so the fusion
# estimator still sees which modalities are missing). A float
# ``n_components`` keeps that fraction of each modality's variance. The grid
# also compares the two gate normalisations of gated fusion.
pipe = Pipeline([
    ("pca", PerModality(PCA(random_state=0))),
    ("fusion", GatedFusionClassifier(hidden_dim=64, max_epochs=10, random_state=0)),
])
param_grid = {
    "pca__transformer__n_components": [0.8, 0.95],
    "fusion__gate": ["softmax", "sigmoid"],
}
search = GridSearchCV(
    pipe, param_grid, cv=StratifiedKFold(3, shuffle=True, random_state=0),
    scoring="f1_macro", n_jobs=1,
)
search.fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"best CV macro-F1: {search.best_score_:.3f}")
print(f"test macro-F1 of the refitted best pipeline: "
      f"{search.score(X_test, y_test):.3f}")

# %%
# ``n_jobs=1`` keeps this example on one CPU core. With ``n_jobs=k``, give each
# worker one torch thread (``torch.set_num_threads(1)``, or
# ``OMP_NUM_THREADS=1``), so that k workers do not each start one thread per
# core.
#
# The cross-validation results
# ----------------------------
results = pd.DataFrame(search.cv_results_)
columns = ["param_pca__transformer__n_components", "param_fusion__gate",
           "mean_test_score", "std_test_score", "mean_fit_time", "rank_test_score"]
print(results[columns].to_string(index=False))

# %%
# The mean CV macro-F1 of each combination, with the standard deviation over
# the folds as error bars:
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
fractions = param_grid["pca__transformer__n_components"]
for offset, gate in zip((-0.1, 0.1), param_grid["fusion__gate"]):
    rows = results[results["param_fusion__gate"] == gate]
    rows = rows.set_index("param_pca__transformer__n_components").loc[fractions]
    ax.errorbar(np.arange(len(fractions)) + offset, rows["mean_test_score"],
                yerr=rows["std_test_score"], fmt="o", capsize=4, label=f'gate="{gate}"')
ax.set_xticks(range(len(fractions)), [f"{f:.0%} of the variance" for f in fractions])
ax.set_xlabel("PCA per modality")
ax.set_ylabel("CV macro-F1 (3 folds)")
ax.set_title("GridSearchCV over a PerModality(PCA) + gated fusion pipeline")
ax.legend()
plt.show()
