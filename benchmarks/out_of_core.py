"""Out-of-core training: one epoch of ``dask_ml.wrappers.Incremental`` over a
lazily generated dask array far larger than memory.

The data (``--rows`` x 100 float32 columns in 4 modalities of 25, with 10% of
each modality's rows missing, i.e. all-NaN) is a dask array whose blocks are
generated from their own seeds when a task needs them: it is never
materialised, and 20,000,000 rows would be 8 GB. A ``LocalCluster`` on
loopback (one worker process, one thread) runs the chain of
``partial_fit`` calls, one per block, in a shuffled block order. Reported:
rows/s of the whole epoch (generation included), the peak RSS of every
process (this one, which also runs the scheduler, and the worker and its
nanny), and accuracy on a held-out block against chance.

Peak RSS should not grow with the row count: run two sizes to see it
(``--rows 2000000 --rows 8000000``); each size runs on a fresh cluster.

    python benchmarks/out_of_core.py --rows 20000000
    python benchmarks/out_of_core.py --quick          # 400,000 rows
"""

import argparse
import os
import resource
import sys
import time

import numpy as np

# This checkout's package, here and in the worker processes (they inherit the
# environment and the parent's sys.path).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (ROOT, os.environ.get("PYTHONPATH")) if p
)

N_FEATURES = 100
N_MODALITIES = 4
MODALITIES = {
    f"m{m}": slice(m * N_FEATURES // N_MODALITIES, (m + 1) * N_FEATURES // N_MODALITIES)
    for m in range(N_MODALITIES)
}
MISSING_RATE = 0.1
LABEL_NOISE = 0.05


def _weights():
    """The fixed ground truth: which features matter, across all modalities."""
    rng = np.random.RandomState(12345)
    w = np.zeros(N_FEATURES)
    for block in MODALITIES.values():
        cols = np.arange(N_FEATURES)[block][:4]
        w[cols] = rng.randn(len(cols))
    return w / np.linalg.norm(w)


def make_block(index, n_rows, seed=0):
    """Block ``index`` of the lazy data: ``(X, y)``, the same on every call.

    Labels depend on features of every modality (a linear part and an
    interaction of the first two modalities), computed before rows are
    hidden, with ``LABEL_NOISE`` of them flipped.
    """
    rng = np.random.default_rng([seed, index])
    X = rng.standard_normal((n_rows, N_FEATURES), dtype=np.float32)
    w = _weights()
    score = X @ w.astype(np.float32) + 0.5 * X[:, 0] * X[:, 25]
    y = (score > 0).astype(np.int64)
    flip = rng.random(n_rows) < LABEL_NOISE
    y[flip] = 1 - y[flip]
    for block in MODALITIES.values():
        X[rng.random(n_rows) < MISSING_RATE, block] = np.nan
    return X, y


def lazy_data(n_rows, chunk_rows, seed=0):
    """``(X, y)`` as dask arrays of blocks of ``chunk_rows`` rows, generated on demand."""
    import dask.array as da

    sizes = [chunk_rows] * (n_rows // chunk_rows)
    if n_rows % chunk_rows:
        sizes.append(n_rows % chunk_rows)
    sizes = tuple(sizes)

    def x_block(block_info=None):
        index = block_info[None]["chunk-location"][0]
        return make_block(index, sizes[index], seed)[0]

    def y_block(block_info=None):
        index = block_info[None]["chunk-location"][0]
        return make_block(index, sizes[index], seed)[1]

    X = da.map_blocks(x_block, chunks=(sizes, (N_FEATURES,)), dtype=np.float32,
                      meta=np.empty((0, N_FEATURES), np.float32))
    y = da.map_blocks(y_block, chunks=(sizes,), dtype=np.int64, meta=np.empty((0,), np.int64))
    return X, y


def peak_rss_mb():
    """This process's peak resident set size, in MB (Linux: ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_estimator(**params):
    from sklearn_mmfusion import ConcatFusionClassifier

    defaults = dict(modalities=MODALITIES, hidden_dim=64, batch_size=1024, lr=2e-3,
                    random_state=0)
    return ConcatFusionClassifier(**{**defaults, **params})


def progress_callback(n_blocks, every):
    """A skorch callback printing one line every ``every`` passes (chunks),
    from the worker that trains, so that a long epoch shows it is moving."""
    from skorch.callbacks import Callback

    class ChunkProgress(Callback):
        def __init__(self, n_blocks, every):
            self.n_blocks = n_blocks
            self.every = every
            self._done = 0
            self._start = None

        def get_params(self, deep=True):
            # The counters are state, not parameters (clone must not pass them).
            return {"n_blocks": self.n_blocks, "every": self.every}

        def on_train_begin(self, net, **kwargs):
            self._start = self._start or time.perf_counter()

        def on_train_end(self, net, **kwargs):
            self._done += 1
            if self._done % self.every == 0 or self._done == self.n_blocks:
                elapsed = time.perf_counter() - self._start
                print(f"  chunk {self._done}/{self.n_blocks}  {elapsed:7.1f} s  "
                      f"loss {net.history[-1, 'train_loss']:.4f}  "
                      f"worker peak RSS {peak_rss_mb():.0f} MB", file=sys.stderr, flush=True)

    return ChunkProgress(n_blocks, every)


def run(n_rows, chunk_rows, *, n_test=50_000, seed=0, verbose=True, profile=False):
    """Train one epoch on ``n_rows`` lazy rows on a fresh loopback cluster
    (``profile``: keep distributed's worker profiler on)."""
    import dask
    import distributed
    from dask_ml.wrappers import Incremental

    X, y = lazy_data(n_rows, chunk_rows, seed)
    n_blocks = X.numblocks[0]
    # distributed's statistical profiler samples the worker's stacks every
    # 10 ms and keeps every distinct stack it has seen for the dashboard: in
    # a long chain of partial_fit tasks that tree grows without bound (with
    # tracemalloc in the worker: 11 MB per 30 tasks of 10,000 rows with it,
    # 0.5 MB without). Off here, as docs/user_guide/out_of_core.rst advises; the
    # nanny hands this config to the worker process.
    with dask.config.set({"distributed.worker.profile.enabled": profile}), distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        memory_limit="4GB",
    ) as cluster, distributed.Client(cluster) as client:
        client.run(lambda: __import__("torch").set_num_threads(1))
        every = max(1, n_blocks // 20)
        model = Incremental(
            make_estimator(callbacks=[progress_callback(n_blocks, every)] if verbose else None),
            shuffle_blocks=True, random_state=seed,
        )
        if verbose:
            print(f"{n_rows:,} rows in {n_blocks} blocks of {chunk_rows:,}: one epoch...",
                  file=sys.stderr, flush=True)
        start = time.perf_counter()
        model.fit(X, y, classes=[0, 1])
        train_s = time.perf_counter() - start
        fitted = model.estimator_
        # Block-wise prediction on a dask collection: a held-out block, as
        # dask, compared with the labels of that block.
        X_test, y_test = lazy_data(n_test, n_test // 5, seed=seed + 1)
        predictions = model.predict(X_test)
        accuracy = float((predictions.compute() == y_test.compute()).mean())
        worker_rss = client.run(peak_rss_mb)
        nanny_rss = client.run(peak_rss_mb, nanny=True)
    chance = float(max(np.mean(y_test.compute()), 1 - np.mean(y_test.compute())))
    return {
        "rows": n_rows,
        "blocks": n_blocks,
        "chunk_rows": chunk_rows,
        "train_s": train_s,
        "rows_per_s": n_rows / train_s,
        "peak_rss_client_mb": peak_rss_mb(),
        "peak_rss_worker_mb": max(worker_rss.values()),
        "peak_rss_nanny_mb": max(nanny_rss.values()),
        "accuracy": accuracy,
        "chance": chance,
        "n_iter": fitted.n_iter_,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append",
                        help="rows of the lazy array (repeat for several sizes); "
                             "default 20,000,000")
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="400,000 rows")
    parser.add_argument("--dask-profiler", action="store_true",
                        help="keep distributed's worker profiler on (its call tree grows "
                             "with the number of tasks)")
    parser.add_argument("--output", default=None, help="markdown table (default: "
                        "benchmarks/results/out_of_core.md, not written with --quick)")
    args = parser.parse_args(argv)
    sizes = args.rows or ([400_000] if args.quick else [20_000_000])
    chunk = min(args.chunk_rows, 20_000) if args.quick else args.chunk_rows
    rows = [run(n, chunk, profile=args.dask_profiler) for n in sizes]
    lines = [
        "# Out-of-core training: dask_ml Incremental over a lazy dask array",
        "",
        f"{N_FEATURES} float32 columns in {N_MODALITIES} modalities, {MISSING_RATE:.0%} of "
        "each modality's rows missing, generated block by block (never materialised); "
        "one epoch of `partial_fit` calls in shuffled block order on a loopback "
        "LocalCluster (1 worker process, 1 thread, `nice`d on a shared 2-core machine; "
        f"distributed's worker profiler {'on' if args.dask_profiler else 'off'}). "
        f"ConcatFusionClassifier(hidden_dim=64, batch_size=1024). Accuracy on a held-out "
        f"5 blocks of 10,000 rows predicted block-wise with `Incremental.predict`; labels "
        f"have {LABEL_NOISE:.0%} flipped, so the best possible accuracy is about "
        f"{1 - LABEL_NOISE:.2f}.",
        "",
        "| rows | blocks x rows | epoch (s) | rows/s | peak RSS worker (MB) | "
        "peak RSS client+scheduler (MB) | peak RSS nanny (MB) | accuracy | chance |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['rows']:,} | {r['blocks']} x {r['chunk_rows']:,} | {r['train_s']:.0f} | "
            f"{r['rows_per_s']:,.0f} | {r['peak_rss_worker_mb']:.0f} | "
            f"{r['peak_rss_client_mb']:.0f} | {r['peak_rss_nanny_mb']:.0f} | "
            f"{r['accuracy']:.3f} | {r['chance']:.3f} |"
        )
    text = "\n".join(lines) + "\n"
    if args.quick and args.output is None:
        print(text)
        return rows
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _results import RESULTS, write_results

    write_results(text, args.output or RESULTS / "out_of_core.md")
    return rows


if __name__ == "__main__":
    main()
