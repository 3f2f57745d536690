"""Order of the gallery examples (sphinx-gallery ``within_subsection_order``)."""

from pathlib import Path

ORDER = [
    "plot_quickstart.py",
    "plot_grid_search_pipeline.py",
    "plot_missing_modalities.py",
    "plot_inspection.py",
    "plot_confu_xor.py",
    "plot_distributed_grid_search.py",
    "plot_hyperparameter_search.py",
]


class ExampleOrder:
    """Sort key: the position in ``ORDER``, unknown files last by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)

    def __repr__(self):
        return "ExampleOrder"
