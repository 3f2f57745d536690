"""RealMLP-TD (pytabkit) over seeds and with its parts switched off, on one data set.

    python benchmarks/realmlp_seeds.py --dataset basic_motions --seeds 0 1 2

real_data.py fits RealMLP-TD once, with random_state=0. This refits it with
other seeds, on the same 3-fold StratifiedKFold(shuffle, random_state=0) and
every modality present (concatenated, as the baseline gets them), and with one
of its defaults changed at a time, and prints the macro-F1 per seed with the
rows it misclassified: whether a perfect cell is the method or the seed.
Needs the benchmarks extra (pytabkit).
"""
import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_data import load  # noqa: E402

# One RealMLP-TD default changed at a time (pytabkit's parameter names).
VARIANTS = {
    "defaults": {},
    "no front scale": {"add_front_scale": False},
    "no PBLD embeddings": {"use_plr_embeddings": False},
    "no label smoothing": {"use_ls": False},
    "no early stopping": {"use_early_stopping": False},
    "ReLU": {"act": "relu", "use_parametric_act": False},
    "standard parametrization": {"weight_param": "standard"},
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="basic_motions")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS),
                        choices=list(VARIANTS))
    args = parser.parse_args(argv)
    from pytabkit import RealMLP_TD_Classifier

    warnings.filterwarnings("ignore")
    X, y, _ = load(args.dataset)
    flat = np.hstack([np.asarray(X[name], dtype=np.float64) for name in X])
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(flat, y))
    print(f"{args.dataset}: {len(y)} rows, 3 folds; macro-F1 (mean of the folds) and the "
          "misclassified rows, per seed\n")
    print("| variant | " + " | ".join(f"seed {s}" for s in args.seeds) + " |")
    print("|---|" + "---|" * len(args.seeds))
    for name in args.variants:
        cells = []
        for seed in args.seeds:
            scores, wrong = [], []
            for train, test in folds:
                model = RealMLP_TD_Classifier(device="cpu", n_threads=2, random_state=seed,
                                              verbosity=0, **VARIANTS[name])
                pred = model.fit(flat[train], y[train]).predict(flat[test])
                scores.append(f1_score(y[test], pred, average="macro"))
                wrong += test[pred != y[test]].tolist()
            cells.append(f"{np.mean(scores):.4f} (rows {sorted(wrong)})" if wrong
                         else f"{np.mean(scores):.4f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
