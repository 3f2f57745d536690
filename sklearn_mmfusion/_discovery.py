"""List the package's public fusion estimators (for tests and the CLI)."""

import inspect


def all_fusion_estimators(kind=None):
    """Public fusion estimator classes, sorted by name.

    Parameters
    ----------
    kind : {"classifier", "regressor", "embedder"} or None, default=None
        Keep only one flavour.

    Returns
    -------
    classes : list of type
    """
    import sklearn_mmfusion as package

    from ._base import BaseFusion, FusionClassifier, FusionEmbedder, FusionRegressor

    wanted = {None: BaseFusion, "classifier": FusionClassifier,
              "regressor": FusionRegressor, "embedder": FusionEmbedder}[kind]
    classes = (getattr(package, name) for name in package.__all__)
    # The bases and task flavours are abstract (no network): not estimators.
    return sorted(
        (c for c in classes
         if inspect.isclass(c) and issubclass(c, wanted) and not inspect.isabstract(c)),
        key=lambda c: c.__name__,
    )
