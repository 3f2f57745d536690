"""Command line: ``python -m sklearn_mmfusion compare`` (also ``sklearn-mmfusion``).

Bad arguments end with a one-line message and exit code 2 (argparse's
convention), never a traceback.
"""

import argparse
import json
import sys
from pathlib import Path

DATASETS = ("mfeat",)


def _rates(text):
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 0 or 0,0.3,0.5; got {text!r}")
    if not rates:
        raise argparse.ArgumentTypeError("give at least one rate")
    for rate in rates:
        if not 0 <= rate < 1:
            raise argparse.ArgumentTypeError(f"each rate must be in [0, 1); got {rate}")
    return rates


def _folds(text):
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer; got {text!r}")
    if k < 2:
        raise argparse.ArgumentTypeError(f"needs at least 2 folds; got {k}")
    return k


class _Parser(argparse.ArgumentParser):
    """Errors as one line (no usage block), exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser():
    parser = _Parser(
        prog="sklearn-mmfusion",
        description="Multimodal fusion estimators for scikit-learn.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser(
        "compare",
        help="cross-validate every fusion estimator and scikit-learn baselines",
        description=(
            "Cross-validate every fusion classifier and the scikit-learn baselines "
            "(LogisticRegression, HistGradientBoosting, MLPClassifier) on the same "
            "folds of a shipped data set, optionally hiding whole modality rows, and "
            "print accuracy, macro-F1, fit and predict time."
        ),
    )
    compare.add_argument("--dataset", default="mfeat",
                         help=f"shipped data set, one of {', '.join(DATASETS)} (default mfeat)")
    compare.add_argument("--missing-rate", type=_rates, default=[0.0], metavar="R[,R...]",
                         help="fraction of modality rows hidden in train and test; several "
                              "comma-separated rates draw a degradation curve (default 0)")
    compare.add_argument("--cv", type=_folds, default=3, metavar="K",
                         help="stratified folds (default 3)")
    compare.add_argument("--estimators", nargs="+", metavar="NAME",
                         help="subset of methods to run (default: all)")
    compare.add_argument("--n-jobs", type=int, default=2,
                         help="parallel fits (default 2; one torch thread each)")
    compare.add_argument("--random-state", type=int, default=0)
    compare.add_argument("--plot", metavar="FILE.png",
                         help="save a plot (needs matplotlib: pip install .[plot])")
    compare.add_argument("--output", metavar="FILE.csv|FILE.json",
                         help="save the per-fold results")
    compare.set_defaults(run=_compare)
    return parser


def _compare(args, parser):
    from ._compare import (
        baseline_estimators,
        format_table,
        fusion_estimators,
        run_comparison,
        summarize,
    )
    from .datasets import load_mfeat

    if args.dataset not in DATASETS:
        parser.error(f"unknown dataset {args.dataset!r}; choose from {', '.join(DATASETS)}")
    candidates = {**fusion_estimators(args.random_state),
                  **baseline_estimators(args.random_state)}
    if args.estimators:
        unknown = [name for name in args.estimators if name not in candidates]
        if unknown:
            parser.error(f"unknown estimator(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(candidates)}")
        candidates = {name: candidates[name] for name in args.estimators}
    if args.output and Path(args.output).suffix not in (".csv", ".json"):
        parser.error("--output must end in .csv or .json")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: pip install 'sklearn-mmfusion[plot]'")

    X, y = {"mfeat": load_mfeat}[args.dataset](return_X_y=True)
    print(f"{args.dataset}: {len(y)} samples, modalities {', '.join(X)}; "
          f"{args.cv}-fold CV, {len(candidates)} methods, missing rate(s) "
          f"{', '.join(f'{r:.0%}' for r in args.missing_rate)}", flush=True)
    results = run_comparison(X, y, candidates, missing_rates=args.missing_rate,
                             cv=args.cv, random_state=args.random_state,
                             n_jobs=args.n_jobs)
    summary = summarize(results)
    print(format_table(summary))
    if args.output:
        _save(results, Path(args.output))
        print(f"per-fold results written to {args.output}")
    if args.plot:
        from .plotting import plot_comparison

        plot_comparison(summary, args.plot, title=f"{args.dataset}, {args.cv}-fold CV")
        print(f"plot written to {args.plot}")
    return 0


def _save(results, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(results, indent=1))
        return
    import csv

    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
