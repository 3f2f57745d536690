"""Command line: ``python -m sklearn_mmfusion <command>``."""

import argparse
import sys
import time


def _demo(args):
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    from . import ConcatFusionClassifier, LateFusionClassifier
    from .datasets import load_mfeat, mask_modalities

    X, y = load_mfeat(return_X_y=True)
    if args.missing_rate:
        X = mask_modalities(X, args.missing_rate, random_state=args.random_state)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.random_state
    )
    print(
        f"mfeat: {len(X_train)} train / {len(X_test)} test samples, modalities "
        f"{list(X)}, {args.missing_rate:.0%} of modality rows hidden"
    )
    for est in (
        ConcatFusionClassifier(random_state=args.random_state),
        LateFusionClassifier(random_state=args.random_state),
    ):
        start = time.perf_counter()
        est.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        score = f1_score(y_test, est.predict(X_test), average="macro")
        print(
            f"{type(est).__name__:<24} macro-F1 {score:.4f}   "
            f"fit {seconds:5.1f} s, {est.n_iter_} epochs"
        )
    return 0


def _rate(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-mmfusion",
        description="Multimodal fusion estimators for scikit-learn.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit two fusion classifiers on the shipped mfeat data set"
    )
    demo.add_argument("--missing-rate", type=_rate, default=0.3,
                      help="fraction of modality rows to hide (default 0.3)")
    demo.add_argument("--random-state", type=int, default=0)
    demo.set_defaults(run=_demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
