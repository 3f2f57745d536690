"""GridSearchCV wall time: n_jobs=1 vs n_jobs=2, and torch threads in the workers.

    python benchmarks/grid_search.py            # 2 interleaved repeats, 20 epochs
    python benchmarks/grid_search.py --quick    # 1 repeat, 10 epochs

Data: ``make_multimodal_classification(n_samples=1500, modality_dims=(32, 64, 16),
n_informative=4, n_classes=3)`` as a ModalityDict. Search:
``GridSearchCV(ConcatFusionClassifier(max_epochs=20, early_stopping=False,
random_state=0), {"hidden_dim": [32, 64], "modality_dropout": [0, 0.2]}, cv=3)``
(12 fits + the refit; no early stopping, so every configuration does the same
work). Four configurations, interleaved and repeated so that they share any
drift in the load of the machine:

* ``n_jobs=1``, ``torch.set_num_threads(1)`` in the main process;
* ``n_jobs=1``, torch's default threads (one per core);
* ``n_jobs=2`` (joblib's loky workers), the final refit in the main process
  with torch's default threads (what a user gets out of the box);
* ``n_jobs=2``, the refit with ``torch.set_num_threads(1)``.

The refit is serial whatever ``n_jobs``, so with 12 parallel fits and one refit
of equal cost the ideal speed-up is 13 / 7 = 1.86x; the table also gives the
search phase alone (wall time minus ``refit_time_``).

joblib's loky backend sets ``OMP_NUM_THREADS`` (and the MKL/OpenBLAS
equivalents) to ``cpu_count // n_jobs`` in the workers it starts, so torch in
a worker starts with that many threads. The script checks it twice: with a tiny
``joblib.Parallel`` job, and inside the search itself (the scorer also reports
``torch.get_num_threads()`` of the process that scores each fold).

It also checks that ``best_params_`` is the same for every configuration (the
estimator is seeded). Reported speed-ups are ratios of the *minimum* wall time
over repeats (the least disturbed run); the median is shown too.
Issue 7's target: speed-up of n_jobs=2 >= 1.7x. Writes
benchmarks/results/grid_search.md (grid_search_quick.md with --quick).
"""

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV

from sklearn_mmfusion import ConcatFusionClassifier
from sklearn_mmfusion.datasets import make_multimodal_classification

from _results import RESULTS, write_results

GRID = {"hidden_dim": [32, 64], "modality_dropout": [0.0, 0.2]}
CONFIGS = (
    # (label, n_jobs, torch threads in the main process; None = torch's default)
    ("n_jobs=1, 1 torch thread", 1, 1),
    ("n_jobs=1, default torch threads", 1, None),
    ("n_jobs=2, refit with default torch threads", 2, None),
    ("n_jobs=2, refit with 1 torch thread", 2, 1),
)


def _worker_threads(_):
    import torch as worker_torch

    return (os.getpid(), worker_torch.get_num_threads(),
            os.environ.get("OMP_NUM_THREADS"))


def accuracy_and_threads(estimator, X, y):
    """Multi-metric scorer: accuracy, and torch's thread count where it runs."""
    return {"accuracy": accuracy_score(y, estimator.predict(X)),
            "torch_threads": torch.get_num_threads()}


def run_search(X, y, n_jobs, epochs, cv):
    search = GridSearchCV(
        ConcatFusionClassifier(max_epochs=epochs, early_stopping=False, random_state=0),
        GRID, cv=cv, n_jobs=n_jobs, scoring=accuracy_and_threads, refit="accuracy",
    )
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start, search


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 2)
    epochs = args.epochs or (10 if args.quick else 20)
    cv = 3
    output = args.output or str(
        RESULTS / ("grid_search_quick.md" if args.quick else "grid_search.md"))
    default_threads = torch.get_num_threads()
    n_cpus = os.cpu_count()

    X, y = make_multimodal_classification(n_samples=1500, modality_dims=(32, 64, 16),
                                          n_informative=4, n_classes=3, random_state=0)

    # Torch threads inside loky workers (this call also starts the worker pool,
    # which GridSearchCV(n_jobs=2) then reuses; its cost is reported apart).
    start = time.perf_counter()
    probe = Parallel(n_jobs=2)(delayed(_worker_threads)(i) for i in range(8))
    pool_start_s = time.perf_counter() - start
    worker_info = sorted(set(probe))

    times = {label: [] for label, _, _ in CONFIGS}
    search_times = {label: [] for label, _, _ in CONFIGS}  # without the refit
    searches = {}
    for rep in range(repeats):
        for label, n_jobs, threads in CONFIGS:
            torch.set_num_threads(threads or default_threads)
            try:
                wall, search = run_search(X, y, n_jobs, epochs, cv)
            finally:
                torch.set_num_threads(default_threads)
            times[label].append(wall)
            search_times[label].append(wall - search.refit_time_)
            searches[label] = search
            print(f"repeat {rep}: {label}: {wall:.1f} s (refit {search.refit_time_:.1f} s, "
                  f"load {os.getloadavg()[0]:.2f})", file=sys.stderr)

    single = CONFIGS[0][0]
    base_single = min(times[single])
    base_default = min(times[CONFIGS[1][0]])
    base_search = min(search_times[single])
    best_params = {label: s.best_params_ for label, s in searches.items()}
    same_params = all(p == best_params[single] for p in best_params.values())
    ref_scores = searches[single].cv_results_["mean_test_accuracy"]
    max_score_diff = max(
        float(np.max(np.abs(s.cv_results_["mean_test_accuracy"] - ref_scores)))
        for s in searches.values()
    )
    load = os.getloadavg()

    lines = [
        "# GridSearchCV: n_jobs=1 vs n_jobs=2",
        "",
        f"make_multimodal_classification(n_samples=1500, modality_dims=(32, 64, 16), "
        f"n_classes=3) as a ModalityDict; GridSearchCV(ConcatFusionClassifier("
        f"max_epochs={epochs}, early_stopping=False, random_state=0), {GRID}, cv={cv}): "
        f"{cv * 4} fits + refit. {repeats} repeat(s), interleaved; speed-ups from the "
        f"minimum wall time. Machine: {platform.machine()}, {n_cpus} CPUs, "
        f"{default_threads} torch threads by default, torch {torch.__version__}, CPU, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}; load average "
        f"at the end {load[0]:.2f} (1 min) / {load[1]:.2f} (5 min).",
        "",
        "| configuration | torch threads per CV fit | refit threads | wall s (min) | "
        "wall s (median) | refit s | speed-up vs n_jobs=1, 1 thread | "
        "speed-up vs n_jobs=1, default threads | search phase s (no refit) | "
        "search-phase speed-up vs 1 thread |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, n_jobs, threads in CONFIGS:
        seen = sorted({int(t) for t in
                       searches[label].cv_results_["mean_test_torch_threads"]})
        best = min(times[label])
        med = statistics.median(times[label])
        refit = searches[label].refit_time_
        phase = min(search_times[label])
        lines.append(
            f"| {label} | {'/'.join(map(str, seen))} | {threads or default_threads} | "
            f"{best:.1f} | {med:.1f} | {refit:.1f} | {base_single / best:.2f}× | "
            f"{base_default / best:.2f}× | {phase:.1f} | {base_search / phase:.2f}× |"
        )
    lines += [
        "",
        "Torch threads in loky workers (tiny joblib.Parallel(n_jobs=2) job: "
        "pid, torch.get_num_threads(), OMP_NUM_THREADS): "
        + "; ".join(f"{pid}: {n}, {omp}" for pid, n, omp in worker_info)
        + f". Starting the worker pool took {pool_start_s:.1f} s (not in the n_jobs=2 "
        "times: the pool is reused).",
        "",
        f"best_params_ identical across configurations: {same_params} "
        f"({best_params[single]}); max |Δ mean_test_accuracy| over the grid "
        f"{max_score_diff:.4f}.",
        "",
    ]
    for label, n_jobs, _ in CONFIGS:
        if n_jobs == 1:
            continue
        speedup = base_single / min(times[label])
        speedup_default = base_default / min(times[label])
        lines.append(
            f"Target (issue 7), {label}: speed-up >= 1.7× over n_jobs=1 with one torch "
            f"thread: {'PASS' if speedup >= 1.7 else 'FAIL'} ({speedup:.2f}×); over "
            f"n_jobs=1 with the default threads: "
            f"{'PASS' if speedup_default >= 1.7 else 'FAIL'} ({speedup_default:.2f}×)."
        )
    text = "\n".join(lines) + "\n"
    write_results(text, output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
