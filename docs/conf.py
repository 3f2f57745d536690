"""Sphinx configuration of the sklearn-mmfusion documentation.

Build (from the repository root, after ``pip install ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Environment variables:

``MMFUSION_GALLERY``
    A regular expression: only the gallery examples whose path matches it are
    executed (the others are rendered without output). Default: all of them.
    ``MMFUSION_GALLERY=none`` executes none (a fast build of the prose and API).
"""

import os
import re
import sys
import warnings
from pathlib import Path

# One BLAS / torch thread per example: the gallery is timed on one CPU thread
# and must not oversubscribe a shared machine. Set before torch is imported.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))  # _gallery_order
sys.path.insert(0, str(HERE / "_ext"))  # benchmark_results

import torch  # noqa: E402

torch.set_num_threads(1)

import sklearn_mmfusion  # noqa: E402

# sphinx-gallery resolves the names an example uses (for its backreferences);
# HalvingRandomSearchCV only exists once this experimental import has run.
from sklearn.experimental import enable_halving_search_cv  # noqa: E402,F401

# -- project -----------------------------------------------------------------

project = "sklearn-mmfusion"
author = "the sklearn-mmfusion developers"
copyright = "2026, the sklearn-mmfusion developers"  # noqa: A001
release = sklearn_mmfusion.__version__
version = re.sub(r"\.dev.*$", "", release)

# -- extensions --------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "benchmark_results",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "examples"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"

autosummary_generate = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
# numpydoc renders the Parameters / Attributes sections; the class template
# lists the methods itself (see _templates/autosummary/class.rst).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-mmfusion {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "getting_started": []}
html_show_sourcelink = True

# -- sphinx-gallery ----------------------------------------------------------

_pattern = os.environ.get("MMFUSION_GALLERY", "")
if _pattern.lower() == "none":
    _pattern = r"^$"  # matches no example path: execute none

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": _pattern or r"/plot_",
    "ignore_pattern": r"__init__\.py|/_",
    "within_subsection_order": "_gallery_order.ExampleOrder",
    "doc_module": ("sklearn_mmfusion",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_mmfusion": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "capture_repr": ("_repr_html_", "__repr__"),
    "plot_gallery": "True",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# Matplotlib: no display, and quiet about it.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore", category=UserWarning, message="Matplotlib is currently using agg"
)
