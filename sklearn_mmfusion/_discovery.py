"""List the package's fusion estimators (for compare, ONNX, search and tests)."""

import inspect

from ._base import BaseFusion, FusionClassifier, FusionEmbedder, FusionRegressor


def all_fusion_estimators(kind=None):
    """The package's concrete fusion estimator classes, sorted by name.

    Found by walking the subclasses of :class:`BaseFusion` (the method modules
    are imported by the package's ``__init__``), keeping the public,
    non-abstract ones defined in this package: the bases and task flavours
    are abstract, and a user's own subclass elsewhere is not listed.

    Parameters
    ----------
    kind : {"classifier", "regressor", "embedder"} or None, default=None
        Keep only one flavour.

    Returns
    -------
    classes : list of type
    """
    wanted = {None: BaseFusion, "classifier": FusionClassifier,
              "regressor": FusionRegressor, "embedder": FusionEmbedder}[kind]
    found, stack = set(), [BaseFusion]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if (issubclass(sub, wanted) and not inspect.isabstract(sub)
                    and sub.__module__.startswith("sklearn_mmfusion.")
                    and not sub.__name__.startswith("_")):
                found.add(sub)
    return sorted(found, key=lambda c: c.__name__)
