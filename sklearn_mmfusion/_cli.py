"""Command line: ``python -m sklearn_mmfusion compare`` (also ``sklearn-mmfusion``).

A thin layer over :func:`sklearn_mmfusion.compare`: it reads a shipped data
set or a file, splits its columns into modalities, and prints / writes what
``compare`` returns. Bad input ends with a one-line message and exit code 2
(argparse's convention), never a traceback.
"""

import argparse
import fnmatch
import json
import sys
from pathlib import Path

SHIPPED = ("mfeat", "hapt", "scene15", "landuse21")
TABLE_SUFFIXES = (".csv", ".parquet", ".feather")


class InputError(ValueError):
    """Bad data or arguments: reported as one line, exit code 2."""


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
    if text == "logo":
        return "logo"
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'logo'; got {text!r}")
    if k < 2:
        raise argparse.ArgumentTypeError(f"needs at least 2 folds; got {k}")
    return k


def _modality_arg(text):
    name, sep, pattern = text.partition("=")
    if not sep or not name.strip() or not pattern.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=PATTERN (e.g. acc=acc_*); got {text!r}")
    return name.strip(), [p.strip() for p in pattern.split(",") if p.strip()]


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
        help="cross-validate every fusion estimator and baselines on your data",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Cross-validate every fusion estimator and the baselines on the same folds\n"
            "(and the same hidden modality rows), print every score, fit and predict time,\n"
            "and say whether fusion beats the best baseline.\n\n"
            "DATA is a shipped data set (" + ", ".join(SHIPPED) + ") or a .csv, .parquet,\n"
            ".feather or .npz file. In a table, --target names the label column and\n"
            "--modality / --modalities group the other columns; columns no modality claims\n"
            "are ignored (listed on the output). Without either, every numeric column except\n"
            "the target and groups is one modality 'x'. In an .npz, each 2-D array is a\n"
            "modality, except the --target (default 'y') and --groups keys.\n\n"
            "example:\n"
            "  sklearn-mmfusion compare patients.csv --target diagnosis --groups patient_id \\\n"
            "      --modality 'lab=lab_*' --modality 'imaging=mri_*,ct_volume' --cv 5 \\\n"
            "      --missing-rate 0,0.3 --report report.html"
        ),
    )
    compare.add_argument("data", nargs="?", default="mfeat", metavar="DATA",
                         help="shipped data set name or file path (default mfeat)")
    compare.add_argument("--target", metavar="COL",
                         help="label column (tables: required) or key (.npz: default y)")
    compare.add_argument("--modality", action="append", type=_modality_arg, default=[],
                         metavar="NAME=PATTERN",
                         help="a modality and its columns: comma-separated names and/or shell "
                              "globs such as acc_* (repeatable)")
    compare.add_argument("--modalities", metavar="SPEC.json",
                         help="JSON object modality -> list of columns/globs (instead of "
                              "--modality)")
    compare.add_argument("--groups", metavar="COL",
                         help="subject/group column: folds become subject-wise")
    compare.add_argument("--cv", type=_folds, default=3, metavar="K|logo",
                         help="K folds (stratified; group-aware with --groups) or logo = leave "
                              "one group out (default 3)")
    compare.add_argument("--task", choices=("auto", "classification", "regression"),
                         default="auto", help="default auto: regression when the target is "
                                              "continuous")
    compare.add_argument("--missing-rate", type=_rates, default=[0.0], metavar="R[,R...]",
                         help="share of each modality's rows hidden in train and test; several "
                              "comma-separated rates draw a degradation curve (default 0)")
    compare.add_argument("--estimators", nargs="+", metavar="NAME",
                         help="fusion estimators to run (default: all)")
    compare.add_argument("--baselines", default="default", metavar="default|all|NAME,...",
                         help="default: LogisticRegression/Ridge, HistGradientBoosting, MLP; "
                              "all: also LightGBM and RealMLP-TD when installed; none; or "
                              "a comma-separated list")
    compare.add_argument("--n-jobs", type=int, default=2,
                         help="parallel fits (default 2; cores/n-jobs torch threads each)")
    compare.add_argument("--random-state", type=int, default=0,
                         help="seeds folds, hidden rows and estimators (default 0)")
    compare.add_argument("--output", metavar="FILE.csv|FILE.json",
                         help="save the per-fold results")
    compare.add_argument("--report", metavar="FILE.md|FILE.html",
                         help="write a report: table, plots, recommendation")
    compare.add_argument("--plot", metavar="FILE.png",
                         help="save the comparison plot (needs matplotlib: pip install .[plot])")
    compare.set_defaults(run=_compare)
    return parser


# ---------------------------------------------------------------- reading data


def _read_table(path):
    try:
        import pandas as pd
    except ImportError:
        raise InputError(f"reading {path.suffix} files needs pandas: pip install pandas")
    readers = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".feather": pd.read_feather}
    try:
        frame = readers[path.suffix](path)
    except ImportError as exc:
        raise InputError(f"reading {path.suffix} needs pyarrow: pip install pyarrow ({exc})")
    except Exception as exc:  # a parser error of any library: one line
        raise InputError(f"cannot read {path}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    frame.columns = [str(c) for c in frame.columns]
    if frame.empty:
        raise InputError(f"{path} has no rows")
    return frame


def _match(columns, patterns, name):
    matched = []
    for pattern in patterns:
        hits = [pattern] if pattern in columns else fnmatch.filter(columns, pattern)
        if not hits:
            raise InputError(f"pattern {pattern!r} of modality {name!r} matches no column")
        matched += [c for c in hits if c not in matched]
    return matched


def _modality_spec(args):
    if args.modality and args.modalities:
        raise InputError("give --modality or --modalities, not both")
    if args.modalities:
        try:
            spec = json.loads(Path(args.modalities).read_text())
        except OSError as exc:
            raise InputError(f"cannot read --modalities {args.modalities}: {exc.strerror}")
        except json.JSONDecodeError as exc:
            raise InputError(f"--modalities {args.modalities} is not valid JSON: {exc}")
        if not isinstance(spec, dict) or not spec or not all(
                isinstance(v, (list, str)) for v in spec.values()):
            raise InputError(f"--modalities {args.modalities} must be a JSON object "
                             "modality -> list of columns/globs")
        return {str(k): [v] if isinstance(v, str) else [str(p) for p in v]
                for k, v in spec.items()}
    spec = {}
    for name, patterns in args.modality:
        if name in spec:
            raise InputError(f"modality {name!r} given twice")
        spec[name] = patterns
    return spec


def _column(frame, name, option):
    if name not in frame.columns:
        close = fnmatch.filter(list(frame.columns), f"*{name}*")[:3]
        hint = f" (similar: {', '.join(close)})" if close else ""
        raise InputError(f"{option} column {name!r} not found in {len(frame.columns)} "
                         f"columns{hint}")
    return frame[name]


def _missing_count(values):
    import pandas as pd

    return int(pd.isna(values).sum())


def _labels(series, name):
    import numpy as np
    import pandas as pd

    missing = _missing_count(series)
    if missing:
        raise InputError(f"target column {name!r} has {missing} missing value(s)")
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy()
    return np.asarray(series.astype(str))


def _load_frame(frame, args):
    """X (ModalityDict), y, groups and notes from a DataFrame and the options."""
    import numpy as np
    import pandas as pd

    from ._data import ModalityDict

    if not args.target:
        raise InputError("--target COL is required for a table (the column to predict)")
    columns = list(frame.columns)
    y = _labels(_column(frame, args.target, "--target"), args.target)
    reserved = [args.target]
    groups = None
    if args.groups:
        if args.groups == args.target:
            raise InputError("--groups and --target name the same column")
        series = _column(frame, args.groups, "--groups")
        missing = _missing_count(series)
        if missing:
            raise InputError(f"groups column {args.groups!r} has {missing} missing value(s)")
        groups = series.astype(str).to_numpy()
        reserved.append(args.groups)
    spec = _modality_spec(args)
    notes = []
    if not spec:
        numeric = [c for c in columns if c not in reserved
                   and pd.api.types.is_numeric_dtype(frame[c])]
        other = [c for c in columns if c not in reserved and c not in numeric]
        if not numeric:
            raise InputError("no numeric column besides the target/groups: nothing to learn from")
        spec = {"x": numeric}
        notes.append(f"no --modality given: the {len(numeric)} numeric columns are one "
                     "modality 'x'")
        if other:
            notes.append(f"ignored non-numeric columns: {', '.join(other[:10])}"
                         + (" ..." if len(other) > 10 else ""))
    else:
        owner = {}
        for name, patterns in spec.items():
            matched = _match(columns, patterns, name)
            for col in matched:
                if col in reserved:
                    which = "--target" if col == args.target else "--groups"
                    raise InputError(f"column {col!r} of modality {name!r} is the {which} "
                                     "column")
                if col in owner:
                    raise InputError(f"column {col!r} is in two modalities: {owner[col]!r} "
                                     f"and {name!r}")
                owner[col] = name
            spec[name] = matched
        unused = [c for c in columns if c not in owner and c not in reserved]
        if unused:
            notes.append(f"{len(unused)} column(s) in no modality, ignored: "
                         f"{', '.join(unused[:10])}" + (" ..." if len(unused) > 10 else ""))
    X = {}
    for name, cols in spec.items():
        bad = [c for c in cols if not (pd.api.types.is_numeric_dtype(frame[c])
                                       or pd.api.types.is_bool_dtype(frame[c]))]
        if bad:
            raise InputError(f"modality {name!r} has non-numeric column(s): "
                             f"{', '.join(bad[:10])}" + (" ..." if len(bad) > 10 else ""))
        X[name] = frame[cols].to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isinf(X[name]).any():
            bad = [c for c, col in zip(cols, X[name].T) if np.isinf(col).any()]
            raise InputError(f"modality {name!r} has infinite values in column(s): "
                             f"{', '.join(bad[:10])}")
    return ModalityDict(X), y, groups, notes


def _load_npz(path, args):
    import numpy as np
    import scipy.sparse as sp

    from ._data import ModalityDict

    try:
        npz = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise InputError(f"cannot read {path}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    with npz:
        arrays = {key: npz[key] for key in npz.files}
    target = args.target or "y"
    if target not in arrays:
        raise InputError(f"--target key {target!r} not in {path.name} (keys: "
                         f"{', '.join(arrays)})")
    if args.modality or args.modalities:
        raise InputError("--modality/--modalities apply to tables; in an .npz each 2-D array "
                         "is a modality")
    y = arrays.pop(target)
    if y.ndim != 1:
        raise InputError(f"--target key {target!r} must be 1-D; got shape {y.shape}")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise InputError(f"target {target!r} has {int(np.isnan(y).sum())} missing value(s)")
    groups = None
    if args.groups:
        if args.groups not in arrays:
            raise InputError(f"--groups key {args.groups!r} not in {path.name} (keys: "
                             f"{', '.join(arrays)})")
        groups = arrays.pop(args.groups)
        if groups.dtype.kind == "f" and np.isnan(groups).any():
            raise InputError(f"groups {args.groups!r} has {int(np.isnan(groups).sum())} "
                             "missing value(s)")
    X = {k: v for k, v in arrays.items() if v.ndim == 2}
    ignored = [k for k in arrays if k not in X]
    if not X:
        raise InputError(f"{path.name} has no 2-D array to use as a modality")
    for key, value in X.items():
        if value.dtype.kind not in "biuf":
            raise InputError(f"modality {key!r} is not numeric (dtype {value.dtype})")
        X[key] = value.toarray() if sp.issparse(value) else value.astype(np.float64)
    notes = [f"ignored non-2-D keys: {', '.join(ignored)}"] if ignored else []
    return ModalityDict(X), y, groups, notes


def _load_shipped(name, args):
    from . import datasets

    if args.target or args.modality or args.modalities or args.groups:
        raise InputError(f"--target/--modality/--modalities/--groups apply to files; {name} is "
                         "a shipped data set")
    loader = getattr(datasets, f"load_{name}")
    loaded = loader(return_X_y=True)
    X, y, groups = loaded if len(loaded) == 3 else (*loaded, None)
    notes = ["groups = participant: subject-wise folds"] if groups is not None else []
    return X, y, groups, notes


def load_data(args):
    """(X, y, groups, notes) for the DATA argument and options."""
    if args.data in SHIPPED:
        return _load_shipped(args.data, args)
    path = Path(args.data)
    if path.suffix not in (*TABLE_SUFFIXES, ".npz"):
        raise InputError(f"DATA {args.data!r} is neither a shipped data set ("
                         f"{', '.join(SHIPPED)}) nor a .csv/.parquet/.feather/.npz file")
    if not path.is_file():
        raise InputError(f"file {args.data} not found")
    if path.suffix == ".npz":
        return _load_npz(path, args)
    return _load_frame(_read_table(path), args)


# ---------------------------------------------------------------- outputs


def _save(results, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(results, indent=1, default=str))
        return
    import csv

    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)


def _time_figure(result):
    """Fit seconds per fold per method (log scale), fusion vs baselines coloured."""
    from .plotting._common import _KIND_COLORS, _figure

    rate = result.missing_rates[0]
    rows = sorted((r for r in result.summary() if r["missing_rate"] == rate),
                  key=lambda r: r["fit_s"])
    fig = _figure(figsize=(8, 0.4 * len(rows) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    for pos, row in enumerate(rows):
        ax.plot(row["fit_s"], pos, "o", color=_KIND_COLORS.get(row["kind"], "C0"))
        ax.annotate(f"{row['fit_s']:.2g} s", (row["fit_s"], pos), xytext=(5, 0),
                    textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [r["method"] for r in rows])
    ax.set_xscale("log")
    ax.margins(x=0.15)
    ax.grid(axis="x", alpha=0.3, which="both")
    ax.set_xlabel("fit time per fold (s, log scale)")
    ax.set_title(f"training cost at {rate:.0%} missing (blue: fusion, orange: baseline)")
    return fig


def write_report(result, path, title):
    """Markdown or HTML report: recommendation, table, score and time plots."""
    import base64
    import io

    path.parent.mkdir(parents=True, exist_ok=True)
    figures = {"scores": result.plot(title=title), "fit time": _time_figure(result)}
    if path.suffix == ".md":
        images = []
        for label, fig in figures.items():
            png = path.with_name(f"{path.stem}_{label.replace(' ', '_')}.png")
            fig.savefig(png, dpi=120)
            images.append(f"![{label}]({png.name})")
        text = (f"# {title}\n\n**Recommendation.** {result.recommendation}\n\n"
                f"{result.to_markdown()}\n" + "\n\n".join(images) + "\n")
        path.write_text(text, encoding="utf-8")
        return
    import html

    blocks = []
    for label, fig in figures.items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120)
        data = base64.b64encode(buffer.getvalue()).decode()
        blocks.append(f'<figure><img alt="{label}" src="data:image/png;base64,{data}">'
                      f"<figcaption>{label}</figcaption></figure>")
    frame = result.to_frame()
    path.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
        "</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p><b>Recommendation.</b> "
        f"{html.escape(result.recommendation)}</p><p>{html.escape(result.cv_description)}; "
        "scores are mean and std over folds.</p>"
        + frame.to_html(index=False, float_format=lambda v: f"{v:.4f}")
        + "".join(blocks) + "</body></html>\n", encoding="utf-8")


# ---------------------------------------------------------------- the command


def _check_options(args, parser):
    if args.output and Path(args.output).suffix not in (".csv", ".json"):
        parser.error("--output must end in .csv or .json")
    if args.report and Path(args.report).suffix not in (".md", ".html"):
        parser.error("--report must end in .md or .html")
    if args.plot and Path(args.plot).suffix != ".png":
        parser.error("--plot must end in .png")
    if args.report and Path(args.report).suffix == ".html":
        try:
            import pandas  # noqa: F401
        except ImportError:
            parser.error("--report .html needs pandas: pip install pandas")
    if args.plot or args.report:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot/--report need matplotlib: pip install 'sklearn-mmfusion[plot]'")
    if args.n_jobs == 0:
        parser.error("--n-jobs must not be 0")


def _compare(args, parser):
    import numpy as np

    from ._compare import (
        _check_groups,
        _check_rates,
        _detect_task,
        _folds,
        baseline_estimators,
        compare,
        format_table,
        fusion_estimators,
    )

    _check_options(args, parser)
    try:
        X, y, groups, notes = load_data(args)
        task = _detect_task(np.asarray(y), args.task)
        if groups is not None:
            groups = _check_groups(groups, len(y))
        if args.cv == "logo" and groups is None:
            raise InputError("--cv logo (leave one group out) needs --groups")
        folds, description = _folds(np.asarray(y), groups, args.cv, task, args.random_state)
        if task == "classification":
            _, counts = np.unique(y, return_counts=True)
            if groups is None and counts.min() < args.cv:
                raise InputError(f"the rarest class has {counts.min()} sample(s), fewer than "
                                 f"--cv {args.cv} folds")
        candidates = fusion_estimators(args.random_state, task)
        fusion = None
        if args.estimators:
            unknown = [n for n in args.estimators if n not in candidates]
            if unknown:
                raise InputError(f"unknown estimator(s) {', '.join(unknown)} for {task}; "
                                 f"choose from {', '.join(candidates)} (baselines go in "
                                 "--baselines)")
            fusion = list(args.estimators)
        baselines = None if args.baselines == "none" else args.baselines
        baseline_estimators(args.random_state, task, baselines)  # validates the names
        _check_rates(args.missing_rate, len(X.keys()))
    except ValueError as exc:  # InputError and the validation errors of compare()
        parser.error(str(exc).rstrip("."))
    n_methods = len(fusion or candidates) + len(baseline_estimators(
        args.random_state, task, baselines))
    print(f"{args.data}: {len(y)} samples, {task}, modalities "
          f"{', '.join(f'{m} ({b.shape[1]})' for m, b in X.items())}; {description}, "
          f"{n_methods} methods, missing rate(s) "
          f"{', '.join(f'{r:.0%}' for r in args.missing_rate)}", flush=True)
    for note in notes:
        print(f"note: {note}", flush=True)
    result = compare(
        X, y, groups=groups, cv=args.cv, missing_rates=args.missing_rate, estimators=fusion,
        baselines=baselines, task=task, n_jobs=args.n_jobs, random_state=args.random_state,
    )
    print(format_table(result.summary(), result.scoring))
    print(f"\n{result.recommendation}")
    title = f"{Path(args.data).name}, {description}"
    if args.output:
        _save(result.records, Path(args.output))
        print(f"per-fold results written to {args.output}")
    if args.plot:
        result.plot(args.plot, title=title)
        print(f"plot written to {args.plot}")
    if args.report:
        write_report(result, Path(args.report), title)
        print(f"report written to {args.report}")
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
