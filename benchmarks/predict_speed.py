"""Inference speed of every estimator next to the machine's bound for its network.

    python benchmarks/predict_speed.py            # 200,000 rows
    python benchmarks/predict_speed.py --quick    # 100,000 rows, fewer repeats
    python benchmarks/predict_speed.py --rows 1000000

Every public fusion estimator, with its default parameters (so the default
network; trained only ``--epochs`` epochs on mfeat, since speed does not depend
on the weights), predicts and transforms ``--rows`` rows of mfeat tiled to that
size (float64, 6 modalities, 649 columns), with 20% of each modality's rows
missing (all-NaN) and 1% of the other values NaN. For each estimator:

* rows/s of ``predict`` (``transform`` for the embedder) and ``transform``,
  the best of ``--repeats`` calls;
* the *bound*: the network's FLOPs per row, counted by
  ``torch.utils.flop_counter.FlopCounterMode`` over one default predict batch
  in eval mode, divided by the fp32 matrix-product rate measured in the same
  run (the best of several 4096 x 1024 x 1024 products), and the fraction of
  that bound reached;
* the input conversion alone (``FittedInput.split`` + ``ModalitySchema.encode``,
  i.e. checks, splitting, masks, imputation, scaling, float32) in GB/s of
  float64 input;
* peak extra memory of ``predict`` (RSS sampled every 2 ms) over the input size;
* onnxruntime rows/s of the exported model (``sklearn_mmfusion.to_onnx``).

ConFu is also timed the way it predicted before issue 17 (its forward also
computing the contrastive loss, ``with_aux_loss=True``) on fewer rows, to give
the speed-up in the same run. Writes benchmarks/results/predict_speed.md
(predict_speed_quick.md with --quick).
"""

import argparse
import os
import platform
import sys
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from sklearn_mmfusion import ModalityDict
from sklearn_mmfusion._base import PREDICT_BATCH_ROWS

from sklearn_mmfusion._discovery import all_fusion_estimators
from sklearn_mmfusion.datasets import load_mfeat

from _results import RESULTS, matmul_rate, write_results
from predict_memory import PeakRSS, release_free_memory

GB = 1e9


def make_data(n_rows, seed=0):
    """mfeat tiled to ``n_rows``, with missing rows and scattered NaNs."""
    X, y = load_mfeat(return_X_y=True)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), n_rows)
    out = {}
    for name, block in X.items():
        a = np.asarray(block, dtype=np.float64)[idx]
        a[rng.random(n_rows) < 0.2] = np.nan
        a[rng.random(a.shape) < 0.01] = np.nan
        out[name] = a
    return X, y, ModalityDict(out)


def reference_encode(schema, arrays, mask, rows):
    """``ModalitySchema.encode`` as it was before issue 17 (full-size float64
    temporaries), kept here to time the speed-up in the same run."""
    blocks = []
    sub_mask = mask[rows]
    for m, name in enumerate(schema.names):
        with np.errstate(over="ignore", invalid="ignore"):
            values = (arrays[name][rows] - schema.means[m]) / schema.scales[m]
            keep = sub_mask[:, m : m + 1] & ~np.isnan(values)
            block = np.where(keep, values, 0.0).astype(np.float32)
        if not np.isfinite(block).all():
            raise ValueError(name)
        blocks.append(block)
    return blocks, sub_mask


def forward_flops(network, inputs, mask, **forward_kwargs):
    """Matrix-product FLOPs of one forward pass of ``network`` (no autograd)."""
    counter = FlopCounterMode(display=False)
    # The counter does not see inside the fused fast path of
    # nn.TransformerEncoderLayer (it counted 0.17 of 3.84 MFLOP per row on
    # mfeat): count on the unfused path, which does the same products.
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), counter:
            network(inputs, mask, **forward_kwargs)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return counter.get_total_flops()


def flops_per_row(est, arrays, mask, **forward_kwargs):
    """Matrix-product FLOPs per row of one default predict batch, eval mode."""
    rows = slice(0, min(PREDICT_BATCH_ROWS, mask.shape[0]))
    blocks, sub_mask = est.schema_.encode(arrays, mask, rows)
    inputs = [torch.from_numpy(b) for b in blocks]
    flops = forward_flops(est.module_, inputs, torch.from_numpy(sub_mask), **forward_kwargs)
    return flops / sub_mask.shape[0]


def best_time(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def onnx_rows_per_s(est, X, repeats):
    """onnxruntime rows/s of the exported model, or a reason it is missing."""
    try:
        import onnxruntime as ort

        from sklearn_mmfusion import to_onnx
    except ImportError as exc:
        return None, f"n/a ({exc.name or exc})"
    model = to_onnx(est)
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    n = len(X)
    feeds = [{name: X[name][start:start + PREDICT_BATCH_ROWS] for name in names}
             for start in range(0, n, PREDICT_BATCH_ROWS)]

    def run():
        for feed in feeds:
            session.run(None, feed)

    return n / best_time(run, repeats), None


def render(rows, notes, n, input_bytes, rates, repeats, epochs):
    """The markdown table of the rows measured so far."""
    lines = [
        "# Inference speed against the machine's bound",
        "",
        f"{n:,} rows of mfeat tiled (float64, 649 columns in 6 modalities, 20% of "
        f"each modality's rows missing, 1% scattered NaNs; input "
        f"{input_bytes / GB:.2f} GB). Estimators with default parameters, trained "
        f"{epochs} epochs on mfeat. Best of {repeats} call(s). fp32 matmul rate "
        f"measured before each estimator (the machine's rate drifts): "
        f"{min(rates) / 1e9:.1f}-{max(rates) / 1e9:.1f} GFLOP/s in this run. Bound = "
        f"the rate measured just before the row / "
        f"FLOPs per row (FlopCounterMode, eval mode, batch {PREDICT_BATCH_ROWS}). "
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}; load "
        f"average at the end {os.getloadavg()[0]:.2f} (1 min, shared machine).",
        "",
        "| estimator | MFLOP/row | bound rows/s | predict rows/s | fraction of bound | "
        "transform rows/s | input conversion GB/s | conversion / predict time | "
        "peak extra memory / input | onnxruntime rows/s | onnxruntime / predict |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        onnx = (f"{r['onnx']:,.0f} | {r['onnx'] / r['predict']:.2f}" if r["onnx"]
                else f"{r['onnx_note']} | -")
        lines.append(
            f"| {r['name']} | {r['flops'] / 1e6:.3f} | {r['bound']:,.0f} | "
            f"{r['predict']:,.0f} | {r['predict'] / r['bound']:.0%} | "
            f"{r['transform']:,.0f} | {r['convert']:.2f} | {r['convert_share']:.0%} | "
            f"{r['memory']:.2f} | {onnx} |"
        )
    lines += [""] + notes
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--estimators", nargs="*", default=None,
                        help="class names (default: every fusion estimator)")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    n = args.rows or (100_000 if args.quick else 200_000)
    repeats = args.repeats or (1 if args.quick else 2)
    output = args.output or str(
        RESULTS / ("predict_speed_quick.md" if args.quick else "predict_speed.md"))

    rates = []
    X_train, y_train, X = make_data(n)
    input_bytes = sum(X[name].nbytes for name in X)

    classes = all_fusion_estimators()
    if args.estimators:
        classes = [c for c in classes if c.__name__ in args.estimators]
    rows, notes = [], []
    for Est in classes:
        name = Est.__name__
        est = Est(max_epochs=args.epochs, early_stopping=False, random_state=0)
        target = y_train.astype(float) if "Regressor" in name else y_train
        est.fit(X_train, None if "Embedder" in name else target)
        arrays, mask = est.fitted_input_.split(X, est)
        flops = flops_per_row(est, arrays, mask)
        rates.append(matmul_rate())
        print(f"fp32 matmul: {rates[-1] / 1e9:.1f} GFLOP/s", file=sys.stderr)
        bound = rates[-1] / flops
        predict = est.transform if "Embedder" in name else est.predict
        t_predict = best_time(lambda: predict(X), repeats)
        t_transform = best_time(lambda: est.transform(X), repeats)

        def convert():
            arr, m = est.fitted_input_.split(X, est)
            for part in range(0, n, PREDICT_BATCH_ROWS):
                est.schema_.encode(arr, m, slice(part, part + PREDICT_BATCH_ROWS))

        t_convert = best_time(convert, repeats)
        if not notes or not notes[0].startswith("Input conversion"):
            def convert_before():
                arr, m = est.fitted_input_.split(X, est)
                for part in range(0, n, PREDICT_BATCH_ROWS):
                    reference_encode(est.schema_, arr, m,
                                     slice(part, part + PREDICT_BATCH_ROWS))

            t_before = best_time(convert_before, repeats)
            t_after = best_time(convert, repeats)
            notes.insert(0, (
                f"Input conversion (FittedInput.split + ModalitySchema.encode over "
                f"{n:,} rows, {input_bytes / GB:.2f} GB of float64): before issue 17 "
                f"{input_bytes / t_before / GB:.2f} GB/s, now "
                f"{input_bytes / t_after / GB:.2f} GB/s ({t_before / t_after:.2f}x), "
                "timed back to back."))
            print(notes[0], file=sys.stderr)
        release_free_memory()
        with PeakRSS() as rss:
            predict(X)
        try:
            onnx_rate, onnx_note = onnx_rows_per_s(est, X, repeats)
        except Exception as exc:  # report, do not hide, an export failure
            onnx_rate, onnx_note = None, f"failed: {type(exc).__name__}: {exc}"
        row = dict(
            name=name, flops=flops, bound=bound, predict=n / t_predict,
            transform=n / t_transform, convert=input_bytes / t_convert / GB,
            convert_share=t_convert / t_predict, memory=rss.extra / input_bytes,
            onnx=onnx_rate, onnx_note=onnx_note,
        )
        rows.append(row)
        print(f"{name}: predict {row['predict']:,.0f} rows/s (bound {bound:,.0f}), "
              f"transform {row['transform']:,.0f}, convert {row['convert']:.2f} GB/s, "
              f"onnx {onnx_rate or onnx_note}", file=sys.stderr)
        if name == "ConFuClassifier":
            # Before issue 17: the forward also computed the contrastive loss.
            legacy_n = min(n, 2 * PREDICT_BATCH_ROWS)
            part = X[:legacy_n]
            arr, m = est.fitted_input_.split(part, est)
            legacy_flops = flops_per_row(est, arr, m, with_aux_loss=True)
            t_legacy = best_time(lambda: est._forward(
                arr, m, lambda mod, xs, mk: mod(xs, mk, with_aux_loss=True).prediction), 1)
            t_new = best_time(lambda: est.predict(part), 1)
            notes.append(
                f"{name}: predict with the contrastive loss computed (before issue 17) "
                f"{legacy_n / t_legacy:,.0f} rows/s ({legacy_flops / 1e6:.1f} MFLOP/row), "
                f"without it {legacy_n / t_new:,.0f} rows/s ({flops / 1e6:.2f} MFLOP/row) "
                f"on the same {legacy_n:,} rows: {t_legacy / t_new:.0f}x faster."
            )
            print(notes[-1], file=sys.stderr)
        # Written after every estimator, so an interrupted run keeps its rows.
        write_results(render(rows, notes, n, input_bytes, rates, repeats, args.epochs),
                      output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
