"""Shared by the benchmark scripts: where results go and how they are written."""

from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def write_results(text, output):
    """Print the markdown ``text`` and write it to ``output``."""
    print(text)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return out
