"""Peak extra memory and throughput of ``predict`` on a million rows.

    python benchmarks/predict_memory.py            # 1,000,000 rows
    python benchmarks/predict_memory.py --quick    # 200,000 rows

Input: a ModalityDict shaped like mfeat (6 modalities of widths 76, 216, 64,
240, 47, 6; 649 columns), float32 standard-normal data generated in float32
(1,000,000 rows = 2.6 GB). Each estimator (default ``hidden_dim=128``) is first
trained on 2,000 rows of the same distribution (labels from a random linear
rule over 10 classes; 5 epochs, no early stopping), then ``predict`` runs on
the full input twice:

1. timed, with the process's resident set size (RSS, read from
   ``/proc/self/statm`` every 2 ms by a background thread, or psutil if
   installed) giving the peak *extra* RSS over the RSS just before the call:
   this sees every allocation, torch's included;
2. under ``tracemalloc``, whose peak covers Python and numpy allocations (numpy
   reports its buffers to tracemalloc) but not torch's own CPU allocations.

Before each measurement the garbage collector runs and glibc's ``malloc_trim``
hands cached free memory back, so that the baseline is clean. Target (issue 7):
peak extra memory below twice the input size. Writes
benchmarks/results/predict_memory.md (predict_memory_quick.md with --quick).
"""

import argparse
import ctypes
import gc
import os
import platform
import sys
import threading
import time
import tracemalloc

import numpy as np
import torch

from sklearn_mmfusion import CLARGAClassifier, ConcatFusionClassifier, ModalityDict

from _results import RESULTS, write_results

WIDTHS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}
ESTIMATORS = {"ConcatFusionClassifier": ConcatFusionClassifier,
              "CLARGAClassifier": CLARGAClassifier}
MB = 1e6

try:
    import psutil

    _PROCESS = psutil.Process()

    def rss_bytes():
        return _PROCESS.memory_info().rss

    RSS_SOURCE = "psutil"
except ImportError:
    _PAGE = os.sysconf("SC_PAGE_SIZE")

    def rss_bytes():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE

    RSS_SOURCE = "/proc/self/statm"


def release_free_memory():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakRSS:
    """Context manager: peak RSS above the RSS at entry, sampled in a thread."""

    def __init__(self, interval=0.002):
        self.interval = interval

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.interval)

    def __enter__(self):
        self.baseline = rss_bytes()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())
        self.extra = self.peak - self.baseline


def make_data(n_samples, seed):
    """float32 modalities generated in float32 (no float64 intermediate)."""
    rng = np.random.default_rng(seed)
    return ModalityDict({
        name: rng.standard_normal((n_samples, width), dtype=np.float32)
        for name, width in WIDTHS.items()
    })


def linear_labels(X, n_classes=10, seed=0):
    rng = np.random.default_rng(seed)
    scores = sum(X[name] @ rng.standard_normal((X[name].shape[1], n_classes))
                 for name in WIDTHS)
    return scores.argmax(axis=1)


def measure(estimator, X, input_bytes):
    release_free_memory()
    with PeakRSS() as rss:
        start = time.perf_counter()
        pred = estimator.predict(X)
        wall = time.perf_counter() - start
    del pred
    release_free_memory()
    tracemalloc.start()
    pred = estimator.predict(X)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del pred
    return {
        "rss_extra": rss.extra,
        "rss_baseline": rss.baseline,
        "traced_peak": traced_peak,
        "wall": wall,
        "ratio": rss.extra / input_bytes,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n-samples", type=int, default=None)
    parser.add_argument("--estimators", nargs="*", default=list(ESTIMATORS),
                        choices=list(ESTIMATORS))
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    n = args.n_samples or (200_000 if args.quick else 1_000_000)
    output = args.output or str(
        RESULTS / ("predict_memory_quick.md" if args.quick else "predict_memory.md"))

    X_train = make_data(2000, seed=1)
    y_train = linear_labels(X_train)
    start = time.perf_counter()
    X = make_data(n, seed=2)
    gen_s = time.perf_counter() - start
    input_bytes = sum(X[name].nbytes for name in WIDTHS)

    rows = []
    for name in args.estimators:
        est = ESTIMATORS[name](max_epochs=5, early_stopping=False, random_state=0)
        start = time.perf_counter()
        est.fit(X_train, y_train)
        fit_s = time.perf_counter() - start
        result = measure(est, X, input_bytes)
        result.update(name=name, fit_s=fit_s)
        rows.append(result)
        print(f"{name}: fit {fit_s:.1f} s, predict {result['wall']:.1f} s, "
              f"extra RSS {result['rss_extra'] / MB:.0f} MB, traced peak "
              f"{result['traced_peak'] / MB:.0f} MB", file=sys.stderr)

    lines = [
        "# predict: peak extra memory and throughput",
        "",
        f"{n:,} rows x 649 float32 columns in 6 modalities shaped like mfeat "
        f"(input {input_bytes / MB:.0f} MB, generated in {gen_s:.1f} s); estimators "
        "with default parameters (hidden_dim=128) trained 5 epochs on 2,000 rows. "
        f"Peak extra RSS over the RSS before the call (sampled every 2 ms from "
        f"{RSS_SOURCE}); tracemalloc peak in a second call (numpy/Python only). "
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}, CPU; "
        f"load average at the end {os.getloadavg()[0]:.2f} (1 min).",
        "",
        "| estimator | input MB | RSS before predict MB | peak extra RSS MB | "
        "extra / input | tracemalloc peak MB | predict s | rows/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {input_bytes / MB:.0f} | {r['rss_baseline'] / MB:.0f} | "
            f"{r['rss_extra'] / MB:.0f} | {r['ratio']:.3f} | {r['traced_peak'] / MB:.0f} | "
            f"{r['wall']:.1f} | {n / r['wall']:,.0f} |"
        )
    lines.append("")
    for r in rows:
        ok = r["rss_extra"] < 2 * input_bytes
        lines.append(
            f"Target (issue 7), {r['name']}: peak extra memory < 2 x input: "
            f"{'PASS' if ok else 'FAIL'} ({r['rss_extra'] / MB:.0f} MB vs "
            f"{2 * input_bytes / MB:.0f} MB)."
        )
    text = "\n".join(lines) + "\n"
    write_results(text, output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
