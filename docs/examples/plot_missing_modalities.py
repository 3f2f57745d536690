"""
Missing modalities: learnable mask, calibrated imputation, imputer + any model
==============================================================================

In ``sklearn_mmfusion`` a sample that lacks a modality has an all-NaN row in
that modality. This example hides modality rows of the *mfeat* digits at
random and compares three ways of dealing with them:

* ``missing="mask"`` (the default): the network puts a learnable token in the
  place of a missing modality's encoding;
* ``missing="calibrated"``: it puts the CalMRL imputation of that encoding,
  predicted from the encodings of the modalities the sample has;
* :class:`~sklearn_mmfusion.CalibratedModalityImputer`: the same shared-latent
  model on the raw features, as a transformer, so that any scikit-learn
  estimator (here ``LogisticRegression`` and ``HistGradientBoostingClassifier``)
  can follow it.
"""

# %%
# Hiding modalities
# -----------------
#
# :func:`~sklearn_mmfusion.datasets.mask_modalities` hides each (sample,
# modality) row with a given probability, in a copy, and gives a sample that
# lost everything one modality back.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklearn_mmfusion import CalibratedModalityImputer, ConcatFusionClassifier, PerModality
from sklearn_mmfusion.datasets import load_mfeat, mask_modalities
from sklearn_mmfusion.plotting import plot_missing_rate_curve

X_full, y = load_mfeat(return_X_y=True)
X = mask_modalities(X_full, 0.5, random_state=0)
names = list(X)
observed = np.column_stack([~np.isnan(X[name]).all(axis=1) for name in names])
print("fraction of rows observed per modality:",
      {name: round(float(rate), 2) for name, rate in zip(names, observed.mean(axis=0))})
print("modalities per sample:", np.bincount(observed.sum(axis=1), minlength=7))

fig, ax = plt.subplots(figsize=(9, 2.6), layout="constrained")
ax.imshow(observed[:60].T, aspect="auto", cmap="Greys", vmin=0, vmax=1,
          interpolation="nearest")
ax.set_yticks(range(len(names)), names)
ax.set_xlabel("sample")
ax.set_title("mask_modalities(X, 0.5): observed rows in black, missing rows in white "
             "(first 60 samples)")
plt.show()

# %%
# How well can a missing modality be predicted?
# ---------------------------------------------
#
# Modalities of the same digit are strongly related, so the observed ones say
# a lot about a missing one. ``CalibratedModalityImputer`` fits one shared
# latent model of all the modalities by EM, using only the observed rows,
# and fills every missing row with its posterior-mean prediction. We know the
# hidden values here, so we can measure the error, on standardised features,
# against filling with the feature means.
imputer = CalibratedModalityImputer(n_components=16, random_state=0)
X_imputed = imputer.fit_transform(X)
print(f"EM: {imputer.n_iter_} iterations, log-likelihood "
      f"{imputer.loglik_[0]:.1f} -> {imputer.loglik_[-1]:.1f}")

rmse_calibrated, rmse_mean = [], []
for m, name in enumerate(names):
    hidden = ~observed[:, m]
    truth = X_full[name][hidden]
    scale = X_full[name].std(axis=0) + 1e-12
    feature_means = np.nanmean(X[name], axis=0)
    rmse_calibrated.append(np.sqrt(np.mean(((X_imputed[name][hidden] - truth) / scale) ** 2)))
    rmse_mean.append(np.sqrt(np.mean(((feature_means - truth) / scale) ** 2)))

fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
positions = np.arange(len(names))
ax.bar(positions - 0.2, rmse_mean, width=0.4, label="feature mean", color="tab:gray")
ax.bar(positions + 0.2, rmse_calibrated, width=0.4, label="CalibratedModalityImputer",
       color="tab:green")
ax.set_xticks(positions, names)
ax.set_ylabel("RMSE on the hidden rows\n(standardised features)")
ax.set_title("Imputing modality rows hidden at a 50% rate")
ax.set_ylim(0, 1.3)
ax.legend(ncols=2, loc="upper center")
plt.show()

# %%
# Robustness curve
# ----------------
#
# Macro-F1 as the rate of hidden modality rows grows, on 2 stratified folds,
# modality rows hidden in training and test data alike. Two fusion networks
# (the same concatenation network, with the learnable token or the calibrated
# imputation in missing slots) and two linear models on the concatenated
# features, behind mean imputation with missing indicators or behind the
# calibrated imputer.
fusion = dict(hidden_dim=64, max_epochs=10, random_state=0)
methods = {
    'concat, missing="mask"': ConcatFusionClassifier(missing="mask", **fusion),
    'concat, missing="calibrated"': ConcatFusionClassifier(missing="calibrated", **fusion),
    "mean imputer + LogReg": make_pipeline(
        SimpleImputer(add_indicator=True), StandardScaler(), LogisticRegression(max_iter=500)
    ),
    "calibrated imputer + LogReg": make_pipeline(
        CalibratedModalityImputer(random_state=0), StandardScaler(),
        LogisticRegression(max_iter=500),
    ),
}


def as_matrix(modalities):
    """Modalities side by side (NaN where missing), for plain estimators."""
    return np.hstack(list(modalities.values()))


folds = list(StratifiedKFold(2, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
rows = []
for rate in (0.0, 0.3, 0.6):
    X_rate = mask_modalities(X_full, rate, random_state=0) if rate else X_full
    for name, model in methods.items():
        # The imputers accept the ModalityDict too; the mean imputer needs a matrix.
        data = as_matrix(X_rate) if name.startswith("mean") else X_rate
        for fold, (train, test) in enumerate(folds):
            model.fit(data[train], y[train])
            pred = model.predict(data[test])
            rows.append({"method": name, "missing_rate": rate, "fold": fold,
                         "macro_f1": f1_score(y[test], pred, average="macro")})

fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
plot_missing_rate_curve(rows, ax=ax)
plt.show()

# %%
# Every method loses accuracy as modalities disappear, the fusion networks
# least. Calibrated imputations help both inside the network (more so as the
# missing rate grows) and before a linear model.
# (Two folds and 10 epochs make a noisy estimate; ``benchmarks/quality.py``
# and ``benchmarks/imputation.py`` measure the same with 5 folds.)

# %%
# Any estimator after the imputer
# -------------------------------
#
# The imputer's output has no missing rows, so a model that knows nothing
# about modalities can follow it. ``HistGradientBoostingClassifier`` handles
# NaN on its own, feature by feature; the imputer instead fills each missing
# modality from the others. To keep the example fast, a
# :class:`~sklearn_mmfusion.PerModality` PCA first reduces every modality to
# 80% of its variance (missing rows stay missing); both pipelines get the same
# reduction.
X_half = mask_modalities(X_full, 0.5, random_state=1)
train, test = folds[0]
hgb = dict(max_iter=30, learning_rate=0.2, random_state=0)
pipelines = {
    # HistGradientBoosting reads the NaN of the missing rows itself.
    "PCA + HGB (NaN as is)": make_pipeline(
        PerModality(PCA(0.8, random_state=0)),
        FunctionTransformer(as_matrix),
        HistGradientBoostingClassifier(**hgb),
    ),
    "PCA + calibrated imputer + HGB": make_pipeline(
        PerModality(PCA(0.8, random_state=0)),
        CalibratedModalityImputer(random_state=0),
        HistGradientBoostingClassifier(**hgb),
    ),
}
for name, model in pipelines.items():
    model.fit(X_half[train], y[train])
    score = f1_score(y[test], model.predict(X_half[test]), average="macro")
    print(f"{name:32s} macro-F1 {score:.3f}")
