"""CLARGA training time per epoch vs the number of modalities M.

    python benchmarks/clarga_scaling.py            # M = 2 ... 64, 5 repeats
    python benchmarks/clarga_scaling.py --quick    # fewer batches and repeats
    python benchmarks/clarga_scaling.py --modalities 2 4 8 16 32 64 128 256

The question: how does the cost of CLARGA grow with the number of modalities,
with the default sparse graph (``graph_k="auto"``, each node keeps
``ceil(sqrt(M)) + 1`` senders, self-loop included) and with the dense graph
(``graph_k=None``, all M senders)? Issue 4 asks for the default to grow
clearly sub-quadratically (log-log slope below 1.5).

What is timed: the network alone (``sklearn_mmfusion.nn.CLARGAFusion``), not
the estimator, so that skorch's fixed per-epoch costs do not flatten the
curve. One "epoch" is ``n_samples / batch_size`` training steps, each a
forward pass, the loss the estimators use (cross-entropy + 0.02 x InfoNCE),
a backward pass and a fused AdamW step, on pre-built tensors. The
architecture is the estimators' default (hidden_dim=128, n_heads=4,
n_layers=1, dropout=0.1, at most 32 InfoNCE modality pairs per step); the
data are Gaussian noise with 10 random classes, every modality observed (the
worst case for the dense graph), and the total input width is fixed (512
features split evenly across the M modalities), so only the number of
modalities changes.

Per M, both networks are built, trained for warm-up epochs, then their
epochs are interleaved (dense, auto, dense, auto, ...) so that any drift in
machine load hits both; the table shows the median epoch of each, in
wall-clock seconds and in CPU seconds of this process (with one torch thread
the CPU time is what the epoch costs, even when other processes share the
cores and stretch the wall-clock time). The slope is the least-squares fit of
log(time) on log(M) over all M, and over M >= 8 alone (where fixed per-step
costs weigh less).

Writes benchmarks/results/clarga_scaling.md (clarga_scaling_quick.md with
--quick).
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from sklearn_mmfusion._base import fused_adamw_supported
from sklearn_mmfusion.nn import CLARGAFusion
from sklearn_mmfusion.nn._clarga import resolve_graph_k

RESULTS = Path(__file__).parent / "results"
MODALITIES = (2, 4, 8, 16, 32, 64)
N_CLASSES = 10
CONTRASTIVE_WEIGHT = 0.02  # the estimators' default


def make_data(n_modalities, n_samples, total_width, seed):
    gen = torch.Generator().manual_seed(seed)
    width = total_width // n_modalities
    xs = [torch.randn(n_samples, width, generator=gen) for _ in range(n_modalities)]
    mask = torch.ones(n_samples, n_modalities, dtype=torch.bool)
    y = torch.randint(N_CLASSES, (n_samples,), generator=gen)
    return xs, mask, y


class Trainer:
    """A network, its optimiser and a batch order: one epoch per call."""

    def __init__(self, graph_k, xs, mask, y, hidden_dim, batch_size, seed):
        torch.manual_seed(seed)
        self.network = CLARGAFusion(
            [x.shape[1] for x in xs], N_CLASSES, hidden_dim=hidden_dim,
            n_heads=4, n_layers=1, graph_k=graph_k,
        ).train()
        self.optimizer = torch.optim.AdamW(
            self.network.parameters(), lr=1e-3, weight_decay=1e-4,
            fused=fused_adamw_supported(torch.device("cpu")),
        )
        self.xs, self.mask, self.y = xs, mask, y
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def epoch(self):
        """Train one epoch; returns (wall seconds, CPU seconds)."""
        n = len(self.y)
        start, start_cpu = time.perf_counter(), time.process_time()
        order = torch.randperm(n, generator=self.generator)
        for i in range(0, n, self.batch_size):
            idx = order[i : i + self.batch_size]
            out = self.network([x[idx] for x in self.xs], self.mask[idx])
            loss = F.cross_entropy(out.prediction, self.y[idx])
            if out.aux_loss is not None:
                loss = loss + CONTRASTIVE_WEIGHT * out.aux_loss
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return time.perf_counter() - start, time.process_time() - start_cpu


def loglog_slope(ms, seconds):
    """Least-squares slope of log(seconds) on log(M)."""
    return float(np.polyfit(np.log(ms), np.log(seconds), 1)[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="256 samples per epoch, 1 warm-up epoch, 3 repeats")
    parser.add_argument("--modalities", type=int, nargs="+", default=list(MODALITIES))
    parser.add_argument("--samples", type=int, default=None,
                        help="rows per epoch (default 1024; 256 with --quick)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden-dim", type=int, default=128)
    parser.add_argument("--total-width", type=int, default=512)
    parser.add_argument("--warmup", type=int, default=None,
                        help="warm-up epochs per network (default 2; 1 with --quick)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed epochs per network (default 5; 3 with --quick)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    n_samples = args.samples or (256 if args.quick else 1024)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    repeats = args.repeats or (3 if args.quick else 5)
    output = Path(args.output or RESULTS / (
        "clarga_scaling_quick.md" if args.quick else "clarga_scaling.md"))
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    wall_start = time.perf_counter()

    rows = []
    for n_mod in args.modalities:
        if args.total_width % n_mod:
            parser.error(f"--total-width {args.total_width} is not a multiple of M={n_mod}")
        xs, mask, y = make_data(n_mod, n_samples, args.total_width, seed=n_mod)
        trainers = {
            graph_k: Trainer(graph_k, xs, mask, y, args.hidden_dim, args.batch_size, seed=0)
            for graph_k in (None, "auto")
        }
        times = {graph_k: [] for graph_k in trainers}
        for _ in range(warmup):
            for trainer in trainers.values():
                trainer.epoch()
        for _ in range(repeats):
            for graph_k, trainer in trainers.items():
                times[graph_k].append(trainer.epoch())
        row = {"M": n_mod, "k": resolve_graph_k("auto", n_mod)}
        for graph_k, name in ((None, "dense"), ("auto", "auto")):
            row[name] = statistics.median(wall for wall, _ in times[graph_k])
            row[name + "_cpu"] = statistics.median(cpu for _, cpu in times[graph_k])
        rows.append(row)
        print(f"M={n_mod:3d}  k_auto={row['k']:2d}  "
              f"dense {row['dense']:.3f} s/epoch (CPU {row['dense_cpu']:.3f})  "
              f"auto {row['auto']:.3f} s/epoch (CPU {row['auto_cpu']:.3f})", flush=True)
    elapsed = time.perf_counter() - wall_start
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None

    ms = np.array([row["M"] for row in rows], dtype=float)
    tail = ms >= 8
    slopes, tail_slopes = {}, {}
    for key in ("dense", "auto", "dense_cpu", "auto_cpu"):
        series = np.array([row[key] for row in rows])
        slopes[key] = loglog_slope(ms, series) if len(ms) >= 2 else float("nan")
        tail_slopes[key] = (
            loglog_slope(ms[tail], series[tail]) if tail.sum() >= 2 else float("nan")
        )

    steps = -(-n_samples // args.batch_size)
    command = "python benchmarks/clarga_scaling.py" + (" --quick" if args.quick else "")
    load = (
        f" Load average (1 min) {load_before[0]:.2f} at the start, "
        f"{load_after[0]:.2f} at the end."
        if load_before is not None else ""
    )
    lines = [
        f"# CLARGA: training time per epoch vs number of modalities"
        f"{' (quick)' if args.quick else ''}",
        "",
        f"`{command}`: `sklearn_mmfusion.nn.CLARGAFusion` alone (no skorch), one epoch "
        f"= {steps} steps of forward + cross-entropy + {CONTRASTIVE_WEIGHT} x InfoNCE + "
        f"backward + fused AdamW on {n_samples} rows (batch {args.batch_size}); "
        f"{args.total_width} Gaussian input features split evenly across the M "
        f"modalities, all observed, {N_CLASSES} classes; hidden_dim={args.hidden_dim}, "
        f"n_heads=4, n_layers=1, dropout=0.1. Median of {repeats} epochs per network "
        f"after {warmup} warm-up epoch(s), dense and auto epochs interleaved. "
        f"`graph_k=\"auto\"` keeps k = ceil(sqrt(M)) + 1 senders per node "
        f"(self-loop included), `graph_k=None` all M. Wall-clock seconds per epoch; "
        f"CPU seconds of the process in the last two columns.",
        "",
        f"Machine: {platform.platform()}, {platform.machine()}, "
        f"{os.cpu_count()} logical CPUs, Python {platform.python_version()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} torch thread(s), CPU."
        f"{load} Total run time {elapsed:.0f} s.",
        "",
        "| M | k (auto) | dense s/epoch | auto s/epoch | dense / auto "
        "| dense CPU s | auto CPU s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['M']} | {row['k']} | {row['dense']:.3f} | {row['auto']:.3f} "
            f"| {row['dense'] / row['auto']:.2f} | {row['dense_cpu']:.3f} "
            f"| {row['auto_cpu']:.3f} |"
        )
    m_list = ", ".join(str(int(m)) for m in ms)
    lines += [
        "",
        f"Log-log slope (least squares over M = {m_list}), wall-clock: "
        f"dense **{slopes['dense']:.2f}**, auto (default) **{slopes['auto']:.2f}**; "
        f"CPU time: dense {slopes['dense_cpu']:.2f}, auto {slopes['auto_cpu']:.2f}.",
    ]
    if tail.sum() >= 2:
        lines.append(
            f"Over M >= 8 only, wall-clock: dense {tail_slopes['dense']:.2f}, auto "
            f"{tail_slopes['auto']:.2f}; CPU time: dense {tail_slopes['dense_cpu']:.2f}, "
            f"auto {tail_slopes['auto_cpu']:.2f}."
        )
    lines += [
        "",
        "A slope of 1 is linear growth in M, 2 quadratic. Issue 4's target, a slope "
        "below 1.5 for the default: "
        f"{'met' if slopes['auto'] < 1.5 else 'MISSED'} (wall-clock).",
    ]
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
