"""List the package's public fusion estimators (for tests and the CLI)."""

import inspect


def all_fusion_estimators(kind=None):
    """Public fusion estimator classes, sorted by name.

    Parameters
    ----------
    kind : {"classifier", "regressor"} or None, default=None
        Keep only one flavour.

    Returns
    -------
    classes : list of type
    """
    import sklearn_mmfusion as package

    from ._base import BaseFusion, FusionClassifier, FusionRegressor

    wanted = {None: BaseFusion, "classifier": FusionClassifier,
              "regressor": FusionRegressor}[kind]
    classes = (getattr(package, name) for name in package.__all__)
    return sorted(
        (c for c in classes
         if inspect.isclass(c) and issubclass(c, wanted) and not c.__name__.startswith(("Base", "Fusion"))),
        key=lambda c: c.__name__,
    )
