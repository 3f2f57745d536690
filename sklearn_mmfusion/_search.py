"""Hyperparameter ranges worth searching, per fusion method.

One table of ranges (with the reason for each in the user guide,
``docs/user_guide/search.rst``), turned into scipy.stats distributions for
:class:`~sklearn.model_selection.RandomizedSearchCV` /
``HalvingRandomSearchCV``, or into optuna distributions for
``optuna_integration.OptunaSearchCV``.
"""

__all__ = ["search_space"]

# (kind, low, high) or ("choice", values). "log": log-uniform; "uniform":
# uniform on [low, high]. Only the parameters an estimator has are returned.
# Not searched on purpose: max_epochs (early stopping picks it, or it is the
# resource of successive halving), patience, tol, validation_fraction, missing,
# device, random_state; see the user guide.
_SHARED = {
    "lr": ("log", 3e-4, 3e-3),
    "weight_decay": ("log", 1e-6, 1e-2),
    "hidden_dim": ("choice", [32, 64, 128, 256]),
    "dropout": ("uniform", 0.0, 0.4),
    "modality_dropout": ("uniform", 0.0, 0.3),
    "batch_size": ("choice", [64, 128, 256]),
    # Numerical embeddings pay on some narrow numerical modalities, not all.
    "numerical_embedding": ("choice", [None, "periodic", "piecewise"]),
}
_METHOD = {
    # gate: softmax makes modalities compete, sigmoid lets several count fully.
    "gate": ("choice", ["softmax", "sigmoid"]),
    # hidden_dim above is a multiple of every n_heads here.
    "n_heads": ("choice", [2, 4]),
    "n_layers": ("choice", [1, 2]),
    "temperature": ("log", 0.05, 0.2),
    "fused_weight": ("uniform", 0.0, 1.0),
}
# contrastive_weight: the auxiliary loss must not drown the task loss; the
# useful range differs by method (CLARGA's InfoNCE over nodes is stronger).
_CONTRASTIVE = {
    "CLARGA": ("log", 0.005, 0.1),
    "ConFu": ("log", 0.01, 0.5),
}


def _specs(estimator):
    params = estimator.get_params(deep=False)
    specs = {name: spec for name, spec in {**_SHARED, **_METHOD}.items() if name in params}
    if "contrastive_weight" in params:
        family = "CLARGA" if type(estimator).__name__.startswith("CLARGA") else "ConFu"
        specs["contrastive_weight"] = _CONTRASTIVE[family]
    return specs


def _scipy(spec):
    from scipy import stats

    kind = spec[0]
    if kind == "choice":
        return list(spec[1])
    low, high = spec[1], spec[2]
    if kind == "log":
        return stats.loguniform(low, high)
    return stats.uniform(low, high - low)


def _optuna(spec):
    try:
        from optuna.distributions import CategoricalDistribution, FloatDistribution
    except ImportError as exc:
        raise ImportError(
            "backend='optuna' needs optuna: pip install 'sklearn-mmfusion[search]'"
        ) from exc
    kind = spec[0]
    if kind == "choice":
        return CategoricalDistribution(list(spec[1]))
    return FloatDistribution(spec[1], spec[2], log=kind == "log")


def search_space(estimator, *, backend="scipy", prefix=None):
    """The hyperparameter ranges worth searching for a fusion estimator.

    Parameters
    ----------
    estimator : fusion estimator, its class, or a Pipeline ending in one
        The method decides the parameters (e.g. ``gate`` for gated fusion,
        ``n_heads`` and ``contrastive_weight`` for CLARGA). For a
        :class:`~sklearn.pipeline.Pipeline` the space of its last step is
        returned, with keys prefixed ``"<step name>__"``.
    backend : {"scipy", "optuna"}, default="scipy"
        ``"scipy"``: scipy.stats distributions and lists, for
        :class:`~sklearn.model_selection.RandomizedSearchCV` and
        :class:`~sklearn.model_selection.HalvingRandomSearchCV`.
        ``"optuna"``: ``optuna.distributions`` objects, for
        ``optuna_integration.OptunaSearchCV``.
    prefix : str, default=None
        Put in front of every key (e.g. ``"clf__"``); for a Pipeline it
        defaults to the last step's name and ``"__"``.

    Returns
    -------
    space : dict of str to distribution or list
        Log-uniform for scale parameters (``lr``, ``weight_decay``,
        ``temperature``, ``contrastive_weight``), uniform for probabilities,
        lists for the discrete ones. ``max_epochs`` is not in it: early
        stopping chooses it, or successive halving uses it as its resource.
        The reasons for each range are in the user guide (search page).

    Examples
    --------
    >>> from sklearn.model_selection import RandomizedSearchCV
    >>> from sklearn_mmfusion import GatedFusionClassifier, search_space
    >>> space = search_space(GatedFusionClassifier)
    >>> sorted(space)
    ['batch_size', 'dropout', 'gate', 'hidden_dim', 'lr', 'modality_dropout', 'numerical_embedding', 'weight_decay']
    >>> space["gate"]
    ['softmax', 'sigmoid']
    >>> search = RandomizedSearchCV(GatedFusionClassifier(), space, n_iter=20)
    """
    if backend not in ("scipy", "optuna"):
        raise ValueError(f"backend must be 'scipy' or 'optuna'; got {backend!r}.")
    steps = getattr(estimator, "steps", None)
    if steps is not None:
        name, last = steps[-1]
        return search_space(last, backend=backend,
                            prefix=f"{name}__" if prefix is None else prefix)
    if isinstance(estimator, type):
        estimator = estimator()
    from ._base import BaseFusion

    if not isinstance(estimator, BaseFusion):
        raise TypeError(
            "search_space needs a fusion estimator of sklearn_mmfusion (or its "
            f"class, or a Pipeline ending in one); got {type(estimator).__name__}."
        )
    convert = _scipy if backend == "scipy" else _optuna
    return {f"{prefix or ''}{name}": convert(spec) for name, spec in _specs(estimator).items()}

