"""Loading a saved estimator with ``skops.io`` without listing types by hand."""

__all__ = ["load"]


def _own_types():
    """Types a file written by ``skops.io.dump`` of our objects may hold that
    skops does not trust by default, and why each is safe to load:

    - the package's public estimators and transformers: ``BaseFusion.__setstate__``
      only rebuilds the class's own network from ints and strings and copies
      numpy arrays into it (``load_state_dict``); the transformers use
      scikit-learn's default ``__setstate__``;
    - ``ModalitySchema``: names, widths and numpy statistics, no custom loading;
    - ``FittedInput``: a ``ModalitySchema``, ints, strings and lists of column
      positions, no custom loading;
    - ``skorch.history.History``: a list subclass of per-epoch dicts of numbers.
    """
    from ._discovery import all_fusion_estimators
    from .impute import CalibratedModalityImputer
    from .preprocessing import ModalitySplitter, PerModality

    classes = [*all_fusion_estimators(), CalibratedModalityImputer, ModalitySplitter,
               PerModality]
    types = {f"{cls.__module__}.{cls.__qualname__}" for cls in classes}
    return types | {"sklearn_mmfusion._data.ModalitySchema",
                    "sklearn_mmfusion._data.FittedInput", "skorch.history.History"}


def load(file):
    """Load an estimator saved with ``skops.io.dump``, trusting only our types.

    ``skops.io.load`` refuses types it does not know unless they are listed
    as trusted. This helper trusts exactly the package's own estimators and
    transformers, its ``ModalitySchema`` and ``FittedInput`` and skorch's ``History`` (besides
    what skops trusts by default: numpy, scipy, scikit-learn), and refuses a
    file that holds anything else, naming the types.

    Parameters
    ----------
    file : str, path-like or file object
        A file written by ``skops.io.dump`` (needs the ``persist`` extra).

    Returns
    -------
    estimator : object
        The loaded object, e.g. a fitted fusion estimator or a ``Pipeline``
        of them.

    Raises
    ------
    ValueError
        The file holds types other than ours and skops' defaults (e.g. a
        custom transformer of yours): inspect them with
        ``skops.io.get_untrusted_types(file=...)`` and pass the ones you trust
        to ``skops.io.load(file, trusted=...)`` yourself.

    Examples
    --------
    >>> import os, tempfile
    >>> import skops.io as sio
    >>> import sklearn_mmfusion
    >>> from sklearn_mmfusion import ConcatFusionClassifier
    >>> from sklearn_mmfusion.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=100, random_state=0)
    >>> clf = ConcatFusionClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skops")
    >>> sio.dump(clf, path)
    >>> again = sklearn_mmfusion.load(path)
    >>> bool((again.predict(X) == clf.predict(X)).all())
    True
    """
    try:
        import skops.io as sio
    except ImportError as exc:
        raise ImportError(
            "Loading .skops files needs skops: pip install 'sklearn-mmfusion[persist]'"
        ) from exc
    if hasattr(file, "read"):
        data = file.read()
        untrusted = sio.get_untrusted_types(data=data)
    else:
        data = None
        untrusted = sio.get_untrusted_types(file=file)
    unknown = sorted(set(untrusted) - _own_types())
    if unknown:
        raise ValueError(
            f"The file holds types that are not sklearn_mmfusion's own: {unknown}. "
            "If you trust them, load it with skops.io.load(file, trusted="
            "skops.io.get_untrusted_types(file=file)) after checking that list."
        )
    if data is not None:
        return sio.loads(data, trusted=untrusted)
    return sio.load(file, trusted=untrusted)
