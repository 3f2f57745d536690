"""Time per training epoch: our estimators vs a raw PyTorch loop vs MLPClassifier.

    python benchmarks/training_speed.py                 # ConcatFusionClassifier
    python benchmarks/training_speed.py --all           # every fusion classifier
    python benchmarks/training_speed.py --quick
    python benchmarks/training_speed.py --all --device cuda   # on a GPU machine

Each estimator trains with its defaults (width ``hidden_dim="auto"``, which is
128 on mfeat, batch 128, AdamW lr 1e-3); ``--batch-size`` overrides the batch.

Same data (mfeat, standardised, no validation split), same network and
optimiser, same process, runs interleaved and repeated; the median epoch time
of each is compared. The raw loop is what a PyTorch user would write by hand:
pre-built tensors, a random permutation per epoch, index, forward, backward,
step. ``MLPClassifier`` is scikit-learn's MLP (Adam, same batch size) on the
concatenated features, twice: with one hidden layer of ``hidden_dim`` units,
and with one hidden layer as wide as it takes to match the number of
parameters of our network ("matched").
With ``--device cuda`` our estimators and the raw loop keep the data on the
GPU (MLPClassifier stays on the CPU, as always).

A second table fits every estimator with all its defaults (early stopping
included) on the training part of one mfeat fold (the first of
StratifiedKFold(3, shuffle=True, random_state=0), as in real_data.py) next to
HistGradientBoostingClassifier on the same fold, timed three times
(first, middle, last) to share the machine's drift; ``--no-fold-fit`` skips
it, ``--fold-fit-seeds 0 1 2`` fits each estimator once per seed (early
stopping's epoch count, and so the fit time, follows the seed), and
``--fold-fit-only`` writes that table alone (training_speed_fold_fit.md). Writes benchmarks/results/training_speed.md (training_speed_cuda.md on a
GPU).
"""

import argparse
import platform
import statistics
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from torch.utils.flop_counter import FlopCounterMode
from sklearn.neural_network import MLPClassifier

from sklearn_mmfusion._base import fused_adamw_supported
from sklearn_mmfusion._data import ModalitySchema, observation_mask, split_modalities
from sklearn_mmfusion._discovery import all_fusion_estimators
from sklearn_mmfusion.datasets import load_mfeat

from _results import RESULTS, matmul_rate, write_results



def _synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def raw_loop_epoch_times(network, xs, mask, y, epochs, batch_size, lr, weight_decay, seed):
    """Epoch times of a hand-written loop over ``network`` (on the device of
    ``mask``, where the data already is)."""
    device = mask.device
    torch.manual_seed(seed)
    network = network.to(device)
    # The same optimiser configuration as the estimators (fused AdamW).
    optimizer = torch.optim.AdamW(network.parameters(), lr=lr, weight_decay=weight_decay,
                                  fused=fused_adamw_supported(device))
    criterion = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    n = len(y)
    times = []
    network.train()
    for _ in range(epochs):
        _synchronize(device)
        start = time.perf_counter()
        order = torch.randperm(n, generator=generator).to(device)
        for i in range(0, n, batch_size):
            idx = order[i : i + batch_size]
            out = network([x[idx] for x in xs], mask[idx])
            loss = criterion(out.prediction, y[idx])
            if out.aux_loss is not None:
                loss = loss + 0.1 * out.aux_loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        _synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def training_flops_per_epoch(network, xs, mask, y, batch_size, seed=0, loss=None):
    """Matrix-product FLOPs of forward + backward over one epoch (train mode),
    counted by FlopCounterMode on one batch and scaled to the epoch.

    ``loss(out, rows)``: the training loss of the batch ``rows``; by default
    cross-entropy on ``y`` plus 0.1 x the network's auxiliary loss.
    """
    torch.manual_seed(seed)
    network.train()
    rows = torch.randperm(len(y))[:batch_size].to(mask.device)
    counter = FlopCounterMode(display=False)
    with counter:
        out = network([x[rows] for x in xs], mask[rows])
        if loss is None:
            value = torch.nn.functional.cross_entropy(out.prediction, y[rows])
            if out.aux_loss is not None:
                value = value + 0.1 * out.aux_loss
        else:
            value = loss(out, rows)
        value.backward()
    network.zero_grad(set_to_none=True)
    return counter.get_total_flops() * len(y) / len(rows)


def fold_fit_table(classes, X, y, device, params=None, hgb_params=None, seeds=(0,),
                   fold_only=False):
    """Fit seconds with every default on one mfeat fold, next to HGB's
    (``params``, ``hgb_params``: overrides, for the smoke test only).

    Each estimator is fitted once per seed in ``seeds``: under early stopping
    the seed moves the number of epochs, and so the fit time, more than any
    per-step change does. ``fold_only``: the table is the whole output (its
    own title line).
    """
    train, test = next(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    flat = np.hstack([np.asarray(X[name]) for name in X])  # HGB takes one table

    def timed(est, data):
        start = time.perf_counter()
        est.fit(data[train], y[train])
        seconds = time.perf_counter() - start
        return seconds, f1_score(y[test], est.predict(data[test]), average="macro")

    def hgb_fit():
        return timed(HistGradientBoostingClassifier(random_state=0, **(hgb_params or {})),
                     flat)

    hgb = []
    middle = len(classes) // 2
    rows = []
    for i, Est in enumerate(classes):
        if i in (0, middle):
            hgb.append(hgb_fit())
        for seed in seeds:
            print(f"fold fit: {Est.__name__}, seed {seed}", file=sys.stderr, flush=True)
            est = Est(random_state=seed, device=device, **(params or {}))
            seconds, score = timed(est, X)
            rows.append((Est.__name__, seed, seconds, est.n_iter_, score))
    hgb.append(hgb_fit())
    hgb_seconds = statistics.median(s for s, _ in hgb)
    lines = [
        "",
        "# Fit time with the defaults on one mfeat fold, next to HistGradientBoosting"
        if fold_only else
        "## Fit with the defaults on one mfeat fold, next to HistGradientBoosting",
        "",
        f"Training part of the first StratifiedKFold(3, shuffle=True, random_state=0) fold "
        f"({len(train)} rows), every default (early stopping on 10% of it), "
        f"random_state {', '.join(map(str, seeds))}; "
        f"HistGradientBoostingClassifier(random_state=0) on the same rows, fitted 3 times "
        f"(first, middle, last: {', '.join(f'{s:.1f}' for s, _ in hgb)} s), median "
        f"{hgb_seconds:.1f} s, macro-F1 {hgb[0][1]:.4f}. Macro-F1 on the fold's "
        f"{len(test)} test rows.",
        "",
        "| estimator | seed | epochs run | fit s | HGB fit s (median) | fit / HGB | macro-F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, seed, seconds, epochs, score in rows:
        lines.append(f"| {name} | {seed} | {epochs} | {seconds:.3g} | {hgb_seconds:.3g} | "
                     f"{seconds / hgb_seconds:.2f} | {score:.4f} |")
    # Per estimator over its seeds: the typical fit (median, as HGB's is) and
    # the slowest, both against HGB's median.
    lines += [
        "",
        "| estimator | fit / HGB, median over seeds | slowest fit / HGB (seed) | "
        "seconds per epoch, median |",
        "|---|---|---|---|",
    ]
    for name in dict.fromkeys(name for name, *_ in rows):
        mine = [(seconds, seed, epochs) for n, seed, seconds, epochs, _ in rows if n == name]
        slowest, slowest_seed, _ = max(mine)
        typical = statistics.median(seconds for seconds, _, _ in mine)
        per_epoch = statistics.median(seconds / epochs for seconds, _, epochs in mine)
        lines.append(f"| {name} | {typical / hgb_seconds:.2f} | "
                     f"{slowest / hgb_seconds:.2f} ({slowest_seed}) | {per_epoch:.3f} |")
    return lines


def estimator_epoch_times(Est, X, y, epochs, params):
    est = Est(max_epochs=epochs, early_stopping=False, random_state=0, **params).fit(X, y)
    return list(est.history_[:, "dur"]), est


def mlp_epoch_times(flat, y, epochs, hidden_dim, batch_size, lr):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        mlp = MLPClassifier((hidden_dim,), batch_size=batch_size, learning_rate_init=lr,
                            max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1,
                            random_state=0).fit(flat, y)
        total = time.perf_counter() - start
    return [total / mlp.n_iter_] * mlp.n_iter_


def resample_rows(X, y, n_samples, seed=0):
    """``n_samples`` rows drawn from ``X`` with replacement, each feature
    jittered by 1% of its standard deviation so that no two rows are equal."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(y), n_samples)
    out = {}
    for name in X:
        block = np.asarray(X[name], dtype=np.float64)[rows]
        out[name] = block + 0.01 * block.std(axis=0) * rng.standard_normal(block.shape)
    return out, y[rows]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="every fusion classifier")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--device", default="cpu", help='"cpu" or "cuda"')
    parser.add_argument("--batch-size", type=int, default=None,
                        help="override the estimators' default batch (128)")
    parser.add_argument("--no-fold-fit", action="store_true",
                        help="skip the fit-with-defaults-on-one-fold table")
    parser.add_argument("--fold-fit-seeds", type=int, nargs="+", default=[0],
                        help="fit each estimator on the fold once per seed (default 0)")
    parser.add_argument("--fold-fit-only", action="store_true",
                        help="only the fold-fit table (training_speed_fold_fit.md)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: torch's own choice)")
    parser.add_argument("--n-samples", type=int, default=None,
                        help="resample mfeat's rows (with replacement, jittered) to this "
                             "many, e.g. 200000 for the GPU goal at batch 1024")
    parser.add_argument("--no-mlp", action="store_true",
                        help="skip the MLPClassifier columns (slow at large --n-samples)")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda, but PyTorch sees no CUDA device")
    output = args.output or str(
        RESULTS / ("training_speed.md" if device.type == "cpu" else "training_speed_cuda.md")
    )
    classes = all_fusion_estimators("classifier") if args.all else [
        c for c in all_fusion_estimators("classifier") if c.__name__ == "ConcatFusionClassifier"
    ]
    if args.fold_fit_only:
        X, y = load_mfeat(return_X_y=True)
        lines = fold_fit_table(classes, X, y, args.device, seeds=args.fold_fit_seeds,
                               fold_only=True)
        lines.append(f"\nMachine: {platform.machine()}, {torch.get_num_threads()} torch "
                     f"threads, torch {torch.__version__}; load average at the end "
                     f"{__import__('os').getloadavg()[0]:.2f} (1 min).")
        write_results("\n".join(lines[1:]) + "\n", args.output or str(
            RESULTS / "training_speed_fold_fit.md"))
        return 0
    epochs = args.epochs or (5 if args.quick else 20)
    repeats = args.repeats or (1 if args.quick else 3)
    if args.threads:
        torch.set_num_threads(args.threads)
    params = dict(device=args.device)
    if args.batch_size:
        params["batch_size"] = args.batch_size
    rates = []  # one per estimator, after its epochs: the machine's rate drifts

    X, y = load_mfeat(return_X_y=True)
    if args.n_samples:
        X, y = resample_rows(X, y, args.n_samples)
    arrays = split_modalities(X)
    mask_np = observation_mask(arrays)
    schema = ModalitySchema(arrays, mask_np)
    blocks, _ = schema.encode(arrays, mask_np)
    xs = [torch.from_numpy(b).to(device) for b in blocks]
    mask = torch.from_numpy(mask_np).to(device)
    y_t = torch.from_numpy(y).to(device)
    flat = np.hstack(blocks)

    rows = []
    mlp_times = []
    for Est in classes:
        print(f"epochs: {Est.__name__}", file=sys.stderr, flush=True)
        ours, raw = [], []
        for rep in range(repeats):  # interleave to share any drift in machine load
            times, est = estimator_epoch_times(Est, X, y, epochs, params)
            ours += times[1:]  # the first epoch pays one-off warm-up costs
            hidden_dim, batch_size = est.hidden_dim_, est.batch_size_
            network = est._build_network(est._network_init_)  # same architecture, new weights
            raw += raw_loop_epoch_times(network, xs, mask, y_t, epochs, batch_size, est.lr,
                                        est.weight_decay, rep)[1:]
            if args.no_mlp:
                continue
            if not mlp_times or len(mlp_times) < repeats * (epochs - 1):
                mlp_times += mlp_epoch_times(flat, y, epochs, hidden_dim, batch_size,
                                             est.lr)[1:]
        ours_ms = 1e3 * statistics.median(ours)
        raw_ms = 1e3 * statistics.median(raw)
        n_params = sum(p.numel() for p in network.parameters())
        # One hidden layer of h units has (d + 1) h + (h + 1) c parameters.
        d, c = flat.shape[1], len(np.unique(y))
        width = max(1, round((n_params - c) / (d + 1 + c)))
        mlp_ms = matched_ms = float("nan")
        if not args.no_mlp:
            mlp_ms = 1e3 * statistics.median(mlp_times)
            matched = []
            for _ in range(repeats):
                matched += mlp_epoch_times(flat, y, epochs, width, batch_size, est.lr)[1:]
            matched_ms = 1e3 * statistics.median(matched)
        flops = training_flops_per_epoch(
            est._build_network(est._network_init_).to(device), xs, mask,
            y_t, batch_size)
        rates.append(matmul_rate(device))
        bound_ms = 1e3 * flops / rates[-1]
        rows.append((Est.__name__, ours_ms, raw_ms, mlp_ms, n_params, width, matched_ms,
                     flops, bound_ms))

    lines = [
        "# Training speed: time per epoch",
        "",
        f"mfeat ({len(y)} x {flat.shape[1]}, 6 modalities"
        + (", rows resampled with replacement and jittered" if args.n_samples else "")
        + "), every estimator with its defaults "
        f"(hidden_dim={hidden_dim}, batch_size={batch_size}, AdamW lr {est.lr}); "
        f"{epochs} epochs x {repeats} repeats, median epoch (first epoch of each run "
        f"dropped). Machine: {platform.machine()}, {torch.get_num_threads()} torch "
        f"threads, torch {torch.__version__}, "
        + (torch.cuda.get_device_name(device) + " (our loop and the raw loop; "
           "MLPClassifier on the CPU)." if device.type == "cuda" else "CPU."),
        f" fp32 matmul rate measured after each estimator's epochs: "
        f"{min(rates) / 1e9:.1f}-{max(rates) / 1e9:.1f} GFLOP/s in this run; bound = "
        "the matrix-product FLOPs of forward + backward per epoch (FlopCounterMode, "
        "train mode) / the estimator's rate (optimizer and element-wise work not counted). "
        f"Load average at the end {__import__('os').getloadavg()[0]:.2f} (1 min).",
        "",
        "| estimator | parameters | ours ms/epoch | raw PyTorch loop ms/epoch | ours / raw | "
        f"MLPClassifier({hidden_dim},) ms/epoch | ours / MLP | "
        "matched MLPClassifier (width) ms/epoch | ours / matched MLP | "
        "GFLOP/epoch (fwd+bwd) | bound ms/epoch | fraction of bound |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, ours_ms, raw_ms, mlp_ms, n_params, width, matched_ms, flops,
         bound_ms) in rows:
        if args.no_mlp:
            mlp_cells = f"- | - | - ({width}) | -"
        else:
            mlp_cells = (f"{mlp_ms:.1f} | {ours_ms / mlp_ms:.2f} | {matched_ms:.1f} ({width}) | "
                         f"{ours_ms / matched_ms:.2f}")
        lines.append(
            f"| {name} | {n_params:,} | {ours_ms:.1f} | {raw_ms:.1f} | {ours_ms / raw_ms:.2f} | "
            f"{mlp_cells} | {flops / 1e9:.2f} | {bound_ms:.1f} | {bound_ms / ours_ms:.0%} |"
        )
    if not args.no_fold_fit:
        # The epoch table first, in case the fold fits fail or are stopped.
        write_results("\n".join(lines) + "\n", output)
        lines += fold_fit_table(classes, X, y, args.device, seeds=args.fold_fit_seeds)
    text = "\n".join(lines) + "\n"
    write_results(text, output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
