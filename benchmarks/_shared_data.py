"""Load any ``../shared/data/NAME.npz`` as (ModalityDict, y, groups, card).

The data sets whose cards say "do NOT ship inside the package" (BBCSport,
3Sources, WebKB, basic_motions, the raw HAPT windows) are read from here by
benchmarks and tests. Every 2-D array is a modality, except the label,
group and bookkeeping keys; a sparse-count view stored dense stays dense.
"""

import json
from pathlib import Path

import numpy as np

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_NOT_MODALITIES = {"y", "subject", "groups", "split", "recording"}


def shared_data_available(name=None):
    """Whether ``../shared/data`` (or its ``name``.npz) is there."""
    if name is None:
        return SHARED_DATA.is_dir()
    return (SHARED_DATA / f"{name}.npz").is_file()


def load_shared(name, folder=SHARED_DATA):
    """Return ``(X, y, groups, card)`` of ``folder/name.npz``.

    ``X`` is a ModalityDict of float32 arrays in file order; ``y`` the
    ``y`` key; ``groups`` the ``subject`` or ``groups`` key or None; ``card``
    the JSON card (an empty dict when absent). Keys such as basic_motions'
    ``split`` are left out of ``X`` (they are in ``card["extra"]``).
    """
    import scipy.sparse as sp

    from sklearn_mmfusion import ModalityDict

    folder = Path(folder)
    path = folder / f"{name}.npz"
    card_path = folder / f"{name}.json"
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    modalities, extra = {}, {}
    with np.load(path, allow_pickle=False) as npz:
        for key in npz.files:
            value = npz[key]
            if key in _NOT_MODALITIES or value.ndim != 2:
                extra[key] = value
            else:
                modalities[key] = value.astype(np.float32, copy=False)
    if not modalities:
        raise ValueError(f"{path} has no 2-D array to use as a modality: {sorted(extra)}")
    for key, value in list(modalities.items()):
        if sp.issparse(value):
            modalities[key] = value.toarray()
    y = extra.pop("y")
    groups = extra.pop("subject", extra.pop("groups", None))
    card["extra"] = extra
    return ModalityDict(modalities), y, groups, card
