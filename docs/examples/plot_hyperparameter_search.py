"""
Hyperparameter search for neural fusion: successive halving and Optuna
======================================================================

A grid over a neural network is slow: every cell trains to the end, bad
ones included. Two searches spend the budget better, and both take the
ranges worth searching from :func:`~sklearn_mmfusion.search_space`:

* :class:`~sklearn.model_selection.HalvingRandomSearchCV` with
  ``resource="max_epochs"`` trains many random candidates for a few epochs,
  keeps the better half, trains those for twice as long, and so on;
* ``optuna_integration.OptunaSearchCV`` (the ``search`` extra) proposes each
  next candidate from the scores of the previous ones (TPE).

Small data and few epochs keep this example fast; see the user guide's
search page for the reasons behind each range.
"""

# %%
# The data and the search space
# -----------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingRandomSearchCV, train_test_split

from sklearn_mmfusion import GatedFusionClassifier, search_space
from sklearn_mmfusion.datasets import make_multimodal_classification, mask_modalities

X, y = make_multimodal_classification(
    n_samples=400, modality_dims=(8, 6, 4), n_informative=3, class_sep=1.0, random_state=0
)
X = mask_modalities(X, 0.2, random_state=0)  # 20% of the modality rows missing
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

space = search_space(GatedFusionClassifier)
# Narrower widths than the default range keep this example fast on a CPU.
space["hidden_dim"] = [16, 32, 64]
for name, distribution in space.items():
    if hasattr(distribution, "dist"):  # a frozen scipy distribution
        args = ", ".join(f"{a:g}" for a in distribution.args)
        distribution = f"{distribution.dist.name}({args})"
    print(f"{name:19s} {distribution}")


def readable(params):
    """Parameters as plain Python values, floats to 3 significant digits."""
    return {k: float(f"{v:.3g}") if isinstance(v, float) else v for k, v in params.items()}

# %%
# Successive halving over epochs
# ------------------------------
#
# 8 candidates for 4 epochs, the best 4 for 8, 2 for 16, 1 for 32. Early
# stopping is off so that ``max_epochs`` is exactly the budget of a round.
halving = HalvingRandomSearchCV(
    GatedFusionClassifier(early_stopping=False, random_state=0),
    space,
    resource="max_epochs",
    min_resources=4,
    max_resources=32,
    factor=2,
    n_candidates=8,
    cv=2,
    random_state=0,
).fit(X_train, y_train)
print("best:", readable(halving.best_params_))
print(f"CV accuracy {halving.best_score_:.3f}, "
      f"test accuracy {halving.score(X_test, y_test):.3f}")

# %%
# Each round's candidates: the scores improve with the epochs, and the
# candidates that go on are the better ones of their round.
results = halving.cv_results_
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
for round_ in np.unique(results["iter"]):
    rows = results["iter"] == round_
    epochs = np.asarray(results["param_max_epochs"][rows], dtype=float)
    ax.errorbar(epochs + 0.3 * np.random.RandomState(round_).randn(rows.sum()),
                results["mean_test_score"][rows], yerr=results["std_test_score"][rows],
                fmt="o", capsize=2, label=f"round {round_}: {rows.sum()} candidates")
ax.set_xscale("log", base=2)
ax.set_xlabel("max_epochs (the resource)")
ax.set_ylabel("2-fold CV accuracy")
ax.set_title("HalvingRandomSearchCV(resource='max_epochs')")
_ = ax.legend(fontsize=8)

# %%
# Optuna
# ------
#
# The same ranges as optuna distributions (``backend="optuna"``). Each
# trial trains with early stopping, so ``max_epochs`` is only a ceiling.
try:
    import optuna
    from optuna_integration import OptunaSearchCV
except ImportError:
    print("optuna and optuna-integration are not installed: pip install '.[search]'")
else:
    import warnings

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # OptunaSearchCV is marked experimental, and optuna warns about its own
    # internals: neither says anything about this search.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")
    optuna_space = search_space(GatedFusionClassifier, backend="optuna")
    optuna_space["hidden_dim"] = optuna.distributions.CategoricalDistribution([16, 32, 64])
    tpe = OptunaSearchCV(
        GatedFusionClassifier(max_epochs=30, random_state=0),
        optuna_space,
        n_trials=6,
        cv=2,
        random_state=0,
    ).fit(X_train, y_train)
    print("best:", readable(tpe.best_params_))
    print(f"CV accuracy {tpe.best_score_:.3f}, test accuracy {tpe.score(X_test, y_test):.3f}")
    scores = [trial.value for trial in tpe.trials_]
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    ax.plot(range(1, len(scores) + 1), scores, "o-", label="trial")
    ax.plot(range(1, len(scores) + 1), np.maximum.accumulate(scores), "k--",
            label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("2-fold CV accuracy")
    ax.set_title("OptunaSearchCV (TPE)")
    _ = ax.legend(fontsize=8)
