"""Where a training step and a predict batch spend their time, per estimator.

    python benchmarks/step_profile.py                   # every fusion estimator
    python benchmarks/step_profile.py --quick           # smoke run: few steps
    python benchmarks/step_profile.py --compile         # also try torch.compile

The speed tables (training_speed.md, predict_speed.md) give each estimator's
fraction of its FLOP bound: the matrix-product FLOPs over the machine's fp32
matmul rate. This script says what fills the rest. Each fitted default
network (mfeat, the estimator's own ``hidden_dim`` and ``batch_size``) runs
training steps as a hand-written loop does (index the batch, forward, loss,
backward, fused AdamW step) and 8192-row predict batches, first timed plainly,
then under ``torch.profiler``; every operator's self time goes into one of:

- matrix products: ``mm``, ``addmm``, ``bmm``, ``baddbmm`` and the attention
  kernels, with the rate they reach (FLOPs counted by ``FlopCounterMode`` over
  their self time) next to the rate of one large product;
- copies and indexing: ``copy_``, ``cat``, ``stack``, ``where``, ``index*``,
  ``gather``, ``clone``, ...;
- element-wise and reductions: everything else ``aten::`` (GELU, LayerNorm,
  softmax, dropout masks, sums, the loss);
- optimizer: the fused AdamW kernel and its ``Optimizer.step`` frame;
- autograd engine: the ``autograd::`` frames around each backward node;
- Python and dispatch: the profiled wall time no operator accounts for.

Shares are of the profiled time (the profiler adds its own cost per operator,
so the plain step time is given beside it). ``--compile`` also times
``torch.compile`` (inductor, CPU) on the training step of two networks: its
compile time and its step time. Writes benchmarks/results/step_profile.md.
"""

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from sklearn_mmfusion._base import fused_adamw_supported
from sklearn_mmfusion._data import ModalitySchema, observation_mask, split_modalities
from sklearn_mmfusion._discovery import all_fusion_estimators
from sklearn_mmfusion.datasets import load_mfeat

from _results import RESULTS, matmul_rate, write_results
from predict_speed import forward_flops
from training_speed import training_flops_per_epoch

MATMUL_OPS = {
    "aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::addmv", "aten::mv",
    "aten::dot", "aten::_scaled_dot_product_flash_attention_for_cpu",
    "aten::_scaled_dot_product_flash_attention_for_cpu_backward",
    "aten::_native_multi_head_attention",
}
COPY_OPS = {
    "aten::copy_", "aten::cat", "aten::stack", "aten::where", "aten::index",
    "aten::index_select", "aten::index_put_", "aten::_index_put_impl_", "aten::gather",
    "aten::scatter", "aten::scatter_add_", "aten::clone", "aten::contiguous",
    "aten::_to_copy", "aten::masked_fill", "aten::masked_fill_", "aten::masked_scatter",
    "aten::fill_", "aten::zero_", "aten::zeros", "aten::zeros_like", "aten::empty",
    "aten::empty_like", "aten::empty_strided", "aten::ones_like", "aten::full",
    "aten::new_zeros", "aten::index_add_", "aten::embedding", "aten::embedding_backward",
    "aten::embedding_dense_backward", "aten::select_backward", "aten::slice_backward",
    "aten::unbind", "aten::split", "aten::split_with_sizes", "aten::narrow", "aten::slice",
    "aten::select", "aten::view", "aten::reshape", "aten::permute", "aten::transpose",
    "aten::t", "aten::expand", "aten::unsqueeze", "aten::squeeze", "aten::as_strided",
    "aten::_unsafe_view", "aten::flatten", "aten::detach", "aten::alias", "aten::randperm",
}
CATEGORIES = ("matrix products", "copies and indexing", "element-wise and reductions",
              "optimizer", "autograd engine", "Python and dispatch")


def category(name):
    """The category of a profiler event ``name`` (see the module docstring)."""
    lowered = name.lower()
    if name in MATMUL_OPS:
        return "matrix products"
    if "adam" in lowered or name.startswith("Optimizer."):
        return "optimizer"
    if name.startswith("autograd::"):
        return "autograd engine"
    if name in COPY_OPS:
        return "copies and indexing"
    if name.startswith("aten::"):
        return "element-wise and reductions"
    # Other record_function frames (skorch's, torch's Python frames) are
    # Python time between operators.
    return "Python and dispatch"


def shares(prof, wall_s):
    """Seconds per category from a profile covering ``wall_s`` seconds of
    wall time (the time no event accounts for is Python and dispatch), and
    the number of ``aten`` operator calls."""
    seconds = dict.fromkeys(CATEGORIES, 0.0)
    n_ops = 0
    for event in prof.key_averages():
        seconds[category(event.key)] += event.self_cpu_time_total / 1e6
        if event.key.startswith("aten::"):
            n_ops += event.count
    accounted = sum(seconds.values())
    seconds["Python and dispatch"] += max(wall_s - accounted, 0.0)
    return seconds, n_ops


class TaskLoss:
    """The training loss of a batch ``rows``: cross-entropy on the class
    (classifiers) or squared error on the standardised target (regressors),
    plus 0.1 x the network's auxiliary loss, which is the whole loss of the
    self-supervised embedder."""

    def __init__(self, kind, y_class, y_value):
        self.kind, self.y_class, self.y_value = kind, y_class, y_value

    def __call__(self, out, rows):
        loss = None
        if self.kind == "classifier":
            loss = torch.nn.functional.cross_entropy(out.prediction, self.y_class[rows])
        elif self.kind == "regressor":
            loss = torch.nn.functional.mse_loss(out.prediction, self.y_value[rows])
        if out.aux_loss is not None:
            aux = 0.1 * out.aux_loss
            loss = aux if loss is None else loss + aux
        return loss


def training_step(network, optimizer, xs, mask, loss, rows):
    value = loss(network([x[rows] for x in xs], mask[rows]), rows)
    optimizer.zero_grad()
    value.backward()
    optimizer.step()


def profile_training(network, xs, mask, loss, batch_size, steps, lr, weight_decay, seed=0):
    """(plain ms/step, profiled seconds per category per step, operator
    calls per step, FLOPs/step)."""
    torch.manual_seed(seed)
    network.train()
    optimizer = torch.optim.AdamW(network.parameters(), lr=lr, weight_decay=weight_decay,
                                  fused=fused_adamw_supported(mask.device))
    generator = torch.Generator().manual_seed(seed)
    n = len(mask)

    def batches(count):
        for _ in range(count):
            yield torch.randperm(n, generator=generator)[:batch_size]

    for rows in batches(5):  # warm-up: allocator, one-off imports
        training_step(network, optimizer, xs, mask, loss, rows)
    plain = []
    for rows in batches(steps):
        start = time.perf_counter()
        training_step(network, optimizer, xs, mask, loss, rows)
        plain.append(time.perf_counter() - start)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for rows in batches(steps):
            training_step(network, optimizer, xs, mask, loss, rows)
        wall = time.perf_counter() - start
    seconds, n_ops = shares(prof, wall)
    per_step = {k: v / steps for k, v in seconds.items()}
    # Counted on one batch of the epoch (train mode); per step here.
    flops = training_flops_per_epoch(network, xs, mask, loss.y_class, batch_size,
                                     loss=loss) * batch_size / n
    return 1e3 * statistics.median(plain), per_step, n_ops / steps, flops


def profile_predict(network, xs, mask, batch_rows, repeats):
    """(plain ms/batch, profiled seconds per category per batch, operator
    calls per batch, FLOPs/batch)."""
    network.eval()
    rows = torch.arange(min(batch_rows, len(mask)))
    bx, bm = [x[rows] for x in xs], mask[rows]
    with torch.inference_mode():
        network(bx, bm)
        plain = []
        for _ in range(repeats):
            start = time.perf_counter()
            network(bx, bm)
            plain.append(time.perf_counter() - start)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            start = time.perf_counter()
            for _ in range(repeats):
                network(bx, bm)
            wall = time.perf_counter() - start
    seconds, n_ops = shares(prof, wall)
    per_batch = {k: v / repeats for k, v in seconds.items()}
    return (1e3 * statistics.median(plain), per_batch, n_ops / repeats,
            forward_flops(network, bx, bm))


def compiled_training(network, xs, mask, loss, batch_size, steps, lr, weight_decay,
                      seed=0):
    """(compile seconds, ms/step compiled, ms/step eager) of the training step,
    alternated in the same process."""
    import copy

    eager = copy.deepcopy(network).train()
    compiled = torch.compile(network.train())
    results = {}
    for name, model in (("compiled", compiled), ("eager", eager)):
        torch.manual_seed(seed)
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay,
                                      fused=fused_adamw_supported(mask.device))
        generator = torch.Generator().manual_seed(seed)
        n = len(mask)
        start = time.perf_counter()
        for _ in range(3):  # compilation happens in the first steps
            training_step(model, optimizer, xs, mask, loss,
                          torch.randperm(n, generator=generator)[:batch_size])
        first = time.perf_counter() - start
        times = []
        for _ in range(steps):
            rows = torch.randperm(n, generator=generator)[:batch_size]
            begin = time.perf_counter()
            training_step(model, optimizer, xs, mask, loss, rows)
            times.append(time.perf_counter() - begin)
        results[name] = (first, 1e3 * statistics.median(times))
    return results["compiled"][0], results["compiled"][1], results["eager"][1]


def table(rows, unit, rate):
    head = ("| estimator | plain ms/" + unit + " | bound ms/" + unit + " | fraction of bound | "
            + " | ".join(CATEGORIES) + " | products' own rate GFLOP/s (of one large "
            "product's) | operators per " + unit + " | plain µs per operator |")
    lines = [head, "|" + "---|" * (7 + len(CATEGORIES))]
    for name, plain_ms, seconds, n_ops, flops in rows:
        total = sum(seconds.values())
        bound_ms = 1e3 * flops / rate
        mm = seconds["matrix products"]
        own = flops / mm / 1e9 if mm > 0 else float("nan")
        lines.append(
            f"| {name} | {plain_ms:.2f} | {bound_ms:.2f} | {bound_ms / plain_ms:.0%} | "
            + " | ".join(f"{seconds[c] / total:.0%}" for c in CATEGORIES)
            + f" | {own:.0f} ({own * 1e9 / rate:.0%}) | {n_ops:.0f} | "
            f"{1e3 * plain_ms / n_ops:.1f} |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few steps")
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps timed and profiled (default 60; quick 4)")
    parser.add_argument("--estimators", nargs="+", default=None)
    parser.add_argument("--compile", action="store_true",
                        help="also time torch.compile on the training step of Concat and ConFu")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    steps = args.steps or (4 if args.quick else 60)
    repeats = 2 if args.quick else 10
    output = args.output or str(RESULTS / ("step_profile_quick.md" if args.quick
                                           else "step_profile.md"))

    X, y = load_mfeat(return_X_y=True)
    arrays = split_modalities(X)
    mask_np = observation_mask(arrays)
    blocks, _ = ModalitySchema(arrays, mask_np).encode(arrays, mask_np)
    xs = [torch.from_numpy(b) for b in blocks]
    mask = torch.from_numpy(mask_np)
    y_class = torch.from_numpy(y)
    # Regressors learn the digit as a number, standardised (as their fit does).
    y_value = torch.from_numpy(((y - y.mean()) / y.std()).astype(np.float32)[:, None])
    # Predict batches of 8192 rows (the estimators' PREDICT_BATCH_ROWS): mfeat tiled.
    reps = -(-8192 // len(y))
    pxs = [x.repeat(reps, 1)[:8192] for x in xs]
    pmask = mask.repeat(reps, 1)[:8192]

    kinds = {Est: kind for kind in ("classifier", "regressor", "embedder")
             for Est in all_fusion_estimators(kind)}
    classes = [c for c in sorted(kinds, key=lambda c: c.__name__)
               if not args.estimators or c.__name__ in args.estimators]
    train_rows, predict_rows, compiled_rows, rates = [], [], [], []
    for Est in classes:
        print(f"profile: {Est.__name__}", file=sys.stderr, flush=True)
        # One epoch fixes the defaults' resolved width, batch and network.
        est = Est(max_epochs=1, early_stopping=False, n_ensemble=1, random_state=0)
        est.fit(X, y.astype(np.float64) if kinds[Est] == "regressor" else y)
        network = est._build_network(est._network_init_)
        loss = TaskLoss(kinds[Est], y_class, y_value)
        rates.append(matmul_rate("cpu"))
        train_rows.append((Est.__name__, *profile_training(
            network, xs, mask, loss, est.batch_size_, steps, est.lr, est.weight_decay)))
        predict_rows.append((Est.__name__, *profile_predict(network, pxs, pmask, 8192,
                                                            repeats)))
        if args.compile and Est.__name__ in ("ConcatFusionClassifier", "ConFuClassifier"):
            compiled_rows.append((Est.__name__, *compiled_training(
                est._build_network(est._network_init_), xs, mask, loss, est.batch_size_,
                steps, est.lr, est.weight_decay)))
    rate = statistics.median(rates)
    lines = [
        "# Where the time goes: a training step and a predict batch, per estimator",
        "",
        f"mfeat ({len(y)} x {sum(b.shape[1] for b in blocks)}, 6 modalities), every "
        f"fusion estimator's default network (hidden_dim={est.hidden_dim_}, "
        f"batch_size={est.batch_size_}); {steps} training steps (a hand-written loop: "
        "index, forward, cross-entropy for the classifiers or squared error on the "
        "standardised digit for the regressors, + 0.1 x auxiliary loss, which is the "
        f"embedder's whole loss; backward, fused AdamW) and "
        f"{repeats} predict batches of 8192 rows (eval, inference_mode), each timed "
        "plainly (median) and then under torch.profiler (CPU). Shares are of the profiled "
        "time. fp32 matmul rate of one 4096x1024x1024 product, measured before each "
        f"estimator: {min(rates) / 1e9:.0f}-{max(rates) / 1e9:.0f} GFLOP/s (median "
        f"{rate / 1e9:.0f}); bound = matrix-product FLOPs (FlopCounterMode) / that median "
        "rate. Machine: "
        f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch "
        f"{torch.__version__}; load average at the end {os.getloadavg()[0]:.2f} (1 min).",
        "",
        "## Training step",
        "",
        *table(train_rows, "step", rate),
        "",
        "## Predict batch (8192 rows)",
        "",
        *table(predict_rows, "batch", rate),
    ]
    if compiled_rows:
        lines += [
            "", "## torch.compile (inductor, CPU) on the training step", "",
            "The same network and loop, compiled and eager alternated in one process; "
            "compile s = the first 3 steps of the compiled network (tracing and C++ "
            "compilation).", "",
            "| estimator | compile s | compiled ms/step | eager ms/step | compiled / eager |",
            "|---|---|---|---|---|",
        ]
        for name, first, compiled_ms, eager_ms in compiled_rows:
            lines.append(f"| {name} | {first:.1f} | {compiled_ms:.2f} | {eager_ms:.2f} | "
                         f"{compiled_ms / eager_ms:.2f} |")
    write_results("\n".join(lines) + "\n", output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
