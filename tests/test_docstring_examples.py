"""Every ``Examples`` section of the package's docstrings runs and prints what it says.

The same doctests ``pytest --doctest-modules sklearn_mmfusion`` collects, run
from the plain test command (``python -m pytest tests``), one test each.
"""

import doctest
import importlib
import pkgutil

import pytest

import sklearn_mmfusion


def _doctests():
    finder = doctest.DocTestFinder(exclude_empty=True)
    modules = [sklearn_mmfusion] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(sklearn_mmfusion.__path__, "sklearn_mmfusion.")
        if info.name != "sklearn_mmfusion.__main__"
    ]
    seen = set()
    for module in modules:
        for test in finder.find(module, module.__name__):
            # A re-exported object is found from every module that names it.
            key = (test.filename, test.lineno)
            if test.examples and key not in seen:
                seen.add(key)
                yield test


DOCTESTS = sorted(_doctests(), key=lambda t: t.name)


def test_the_package_has_examples_to_run():
    # Every concrete estimator documents a runnable example.
    names = {test.name.rsplit(".", 1)[-1] for test in DOCTESTS}
    assert {"ConcatFusionClassifier", "TransformerFusionClassifier", "ConFuEmbedder",
            "compare", "plot_gates"} <= names


@pytest.mark.parametrize("test", DOCTESTS, ids=lambda t: t.name)
def test_docstring_example(test):
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
