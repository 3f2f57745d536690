"""Quick loop for recipe changes: fusion defaults (and LR / HGB) on the shared data sets.

    python benchmarks/recipe_dev.py --datasets basic_motions WebKB --no-base
    python benchmarks/recipe_dev.py --datasets 3Sources --params '{"scaling": "standard"}'

3-fold StratifiedKFold(shuffle, random_state=0), the baselines.md masks (legacy draws),
macro-F1 per fold; every fusion classifier built with ``random_state=0`` and ``--params``.
Prints one line per (data set, rate, method) with the mean, std, worst fold, fit seconds
and epochs trained. A fast side-by-side for trying a change to the shared recipe; the
full comparison (LightGBM, RealMLP-TD, HAPT, results file) is ``real_data.py``.
"""
import argparse, json, sys, time, os, warnings
from pathlib import Path
import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("SNAP", str(ROOT)))
import sklearn_mmfusion as mm
from sklearn_mmfusion import ModalityDict
from sklearn.pipeline import make_pipeline
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import HistGradientBoostingClassifier

DATA = ROOT.parent / "shared" / "data"

def load(name):
    if name == "mfeat":
        from sklearn_mmfusion.datasets import load_mfeat
        b = load_mfeat(); return b.data, b.target
    d = np.load(f"{DATA}/{name}.npz")
    views = {k: d[k].astype(np.float64) for k in d.files if k not in ("y", "split", "subject", "recording") and d[k].ndim == 2}
    y = d["y"]
    return ModalityDict(views), y

def mask(X, rate, seed=0):
    names = list(X); n = len(X); M = len(names)
    rng = np.random.RandomState(seed)
    hide = rng.rand(n, M) < rate
    give = rng.randint(0, M, n)
    e = hide.all(1); hide[e, give[e]] = False
    out = {}
    for m, k in enumerate(names):
        b = np.array(X[k], dtype=np.float64); b[hide[:, m]] = np.nan; out[k] = b
    return ModalityDict(out)

def concat(X):
    return np.hstack([X[k] for k in X])

def baselines():
    return {
        "LR": make_pipeline(SimpleImputer(add_indicator=True), StandardScaler(), LogisticRegression(max_iter=3000)),
        "HGB": HistGradientBoostingClassifier(random_state=0),
    }

def fusion(names, params):
    out = {}
    for n in names:
        out[n] = getattr(mm, n)(**{"random_state": 0, **params})
    return out

def run_one(name, est, X, y, tr, te, is_fusion):
    import torch; torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    est = clone(est)
    Xtr = X[tr] if is_fusion else concat(X[tr]); Xte = X[te] if is_fusion else concat(X[te])
    t = time.perf_counter(); est.fit(Xtr, y[tr]); fit = time.perf_counter() - t
    p = est.predict(Xte)
    extra = {}
    if is_fusion:
        extra = {"n_iter": int(est.n_iter_)}
    return dict(method=name, f1=f1_score(y[te], p, average="macro"), fit_s=fit, **extra)

ap = argparse.ArgumentParser()
ap.add_argument("--datasets", nargs="+", default=["basic_motions", "3Sources", "BBCSport", "WebKB", "LandUse-21"])
ap.add_argument("--rates", default="0,0.3")
ap.add_argument("--est", nargs="+", default=["ConcatFusionClassifier", "LateFusionClassifier", "GatedFusionClassifier", "CLARGAClassifier", "ConFuClassifier"])
ap.add_argument("--no-base", action="store_true")
ap.add_argument("--cv", type=int, default=3)
ap.add_argument("--n-jobs", type=int, default=2)
ap.add_argument("--out", default=None)
ap.add_argument("--params", default="{}")
a = ap.parse_args()
rows = []
for ds in a.datasets:
    X0, y = load(ds)
    for rate in [float(r) for r in a.rates.split(",")]:
        X = mask(X0, rate) if rate else X0
        folds = list(StratifiedKFold(a.cv, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
        jobs = []
        ests = {} if a.no_base else {k: (v, False) for k, v in baselines().items()}
        ests.update({k: (v, True) for k, v in fusion(a.est, json.loads(a.params)).items()})
        for name, (e, isf) in ests.items():
            for f, (tr, te) in enumerate(folds):
                jobs.append(delayed(run_one)(name, e, X, y, tr, te, isf))
        res = Parallel(n_jobs=a.n_jobs)(jobs)
        maj = np.bincount(np.unique(y, return_inverse=True)[1]).max() / len(y)
        by = {}
        for r in res:
            by.setdefault(r["method"], []).append(r)
        for name, rs in by.items():
            f1s = [r["f1"] for r in rs]
            row = dict(ds=ds, rate=rate, method=name, f1=float(np.mean(f1s)), std=float(np.std(f1s)), min=float(np.min(f1s)),
                       fit_s=float(np.mean([r["fit_s"] for r in rs])), n_iter=[r.get("n_iter") for r in rs])
            rows.append(row)
            print(f"{ds:14s} {rate:.1f} {name:24s} F1 {row['f1']:.4f} ±{row['std']:.4f} min {row['min']:.3f} fit {row['fit_s']:6.1f}s it {row['n_iter']}", flush=True)
        best_base = max((r for r in rows if r["ds"] == ds and r["rate"] == rate and r["method"] in ("LR", "HGB")), key=lambda r: r["f1"], default=None)
        if best_base:
            fus = [r for r in rows if r["ds"] == ds and r["rate"] == rate and r["method"] not in ("LR", "HGB")]
            if fus:
                bf = max(fus, key=lambda r: r["f1"])
                print(f"   -> best fusion {bf['method']} err ratio vs {best_base['method']}: {(1-bf['f1'])/max(1e-9,1-best_base['f1']):.2f}", flush=True)
if a.out:
    json.dump(rows, open(a.out, "w"), indent=1)
