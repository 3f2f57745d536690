"""Shared by the benchmark scripts: where results go, how they are written,
and the machine's matrix-product rate that the speed bounds divide by."""

import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def write_results(text, output):
    """Print the markdown ``text`` and write it to ``output``."""
    print(text)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return out


def matmul_rate(device="cpu", repeats=10):
    """Best fp32 FLOP/s of a (4096 x 1024) @ (1024 x 1024) product on ``device``.

    Measured in the same run as what it bounds, just before it: on a shared
    machine the rate drifts (82-182 GFLOP/s within an hour here).
    """
    import torch

    device = torch.device(device)

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    a = torch.randn(4096, 1024, device=device)
    b = torch.randn(1024, 1024, device=device)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        torch.mm(a, b)
        synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * 4096 * 1024 * 1024 / best
