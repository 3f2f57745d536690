"""Build the data sets shipped in sklearn_mmfusion/datasets/data from ../shared/data.

    python benchmarks/build_shipped_data.py

HAPT: the raw 2.56 s windows (hapt_windows.npz, too big to ship) become
per-window features of each sensor with
:func:`sklearn_mmfusion.datasets.sensor_window_features`. Scene-15 and
LandUse-21 (MIT) are copied as they are. Each gets a JSON card.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout, not another installed copy

from sklearn_mmfusion.datasets import sensor_feature_names, sensor_window_features  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "sklearn_mmfusion" / "datasets" / "data"


def build_hapt():
    source = json.loads((SHARED / "hapt_windows.json").read_text())
    with np.load(SHARED / "hapt_windows.npz") as raw:
        acc = sensor_window_features(raw["acc"], sampling_rate=50.0)
        gyro = sensor_window_features(raw["gyro"], sampling_rate=50.0)
        y, subject, recording = raw["y"], raw["subject"], raw["recording"]
    np.savez_compressed(OUT / "hapt.npz", acc=acc, gyro=gyro, y=y.astype(np.int16),
                        subject=subject.astype(np.int16),
                        recording=recording.astype(np.int16))
    card = {
        "name": "hapt",
        "title": "UCI HAPT: smartphone accelerometer + gyroscope, 30 participants, 12 labels",
        "source": source["original_source"],
        "obtained_from": source["obtained_from"],
        "licence": "CC BY 4.0 (UCI); cite Reyes-Ortiz et al. (2016)",
        "windowing": source["windowing"],
        "features": "sklearn_mmfusion.datasets.sensor_window_features(windows, sampling_rate=50) "
                    "per sensor: 13 time/frequency statistics per axis and magnitude + 3 axis "
                    "correlations = 55 per sensor",
        "n_samples": int(len(y)),
        "modalities": {"acc": int(acc.shape[1]), "gyro": int(gyro.shape[1])},
        "feature_names": sensor_feature_names(),
        "labels": source["labels"],
        "groups": "subject (participant 1..30)",
        "protocol": source["protocol"],
    }
    (OUT / "hapt.json").write_text(json.dumps(card, indent=1) + "\n")


def copy_views(name, stem):
    shutil.copyfile(SHARED / f"{name}.npz", OUT / f"{stem}.npz")
    card = json.loads((SHARED / f"{name}.json").read_text())
    card["name"] = stem
    (OUT / f"{stem}.json").write_text(json.dumps(card, indent=1) + "\n")


def main():
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} not found")
    build_hapt()
    copy_views("Scene-15", "scene15")
    copy_views("LandUse-21", "landuse21")
    for path in sorted(OUT.glob("*.npz")):
        print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
