from pathlib import Path
import re

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'__version__ = "([^"]+)"', (HERE / "sklearn_mmfusion" / "__init__.py").read_text()
).group(1)

setup(
    name="sklearn-mmfusion",
    version=VERSION,
    description=(
        "Multimodal fusion (graph, gated, contrastive) for tabular modalities "
        "behind the scikit-learn API, robust to missing modalities."
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    packages=find_packages(include=["sklearn_mmfusion", "sklearn_mmfusion.*"]),
    package_data={"sklearn_mmfusion.datasets": ["data/*.npz", "data/*.json"]},
    python_requires=">=3.10",
    install_requires=[
        "scikit-learn>=1.6,<1.10",  # private names: sklearn_mmfusion/_sklearn_compat.py
        "skorch>=1.0",
        # CPU machines install torch==2.13.0 first (see README); never let pip
        # resolve an unpinned torch, which pulls a multi-GB CUDA build.
        "torch>=2.1",
        "numpy>=1.24",
        "scipy>=1.10",
        "joblib>=1.3",
    ],
    extras_require={
        # The test suite exercises every optional feature: plots, skops
        # persistence and grid search on a local dask cluster.
        "test": [
            "pytest>=7",
            "hypothesis>=6",
            "pandas>=1.5",
            "matplotlib>=3.6",
            "skops>=0.10",
            "dask[distributed]>=2024.1",
            "optuna>=3.0",
            "optuna-integration>=3.0",
            "dask-ml>=2024.4",
            # ONNX parity tests (onnxruntime is CPU-only and small).
            "onnx>=1.15",
            "onnxruntime>=1.17",
            "skl2onnx>=1.16",
            # The reference PeriodicEmbedding is checked against.
            "rtdl_num_embeddings>=0.0.11",
        ],
        # to_onnx: the network goes through torch's TorchScript exporter,
        # which needs nothing more; onnxruntime runs the result.
        "onnx": ["onnx>=1.15", "onnxruntime>=1.17", "skl2onnx>=1.16"],
        "plot": ["matplotlib>=3.6"],
        # compare(baselines="all") and benchmarks/real_data.py: the strong
        # tabular baselines (LightGBM, RealMLP-TD) and reading table files.
        "benchmarks": [
            "lightgbm>=4",
            "pytabkit>=1.0",
            "pandas>=1.5",
            "pyarrow>=12",
            "matplotlib>=3.6",
        ],
        "search": ["optuna>=3.0", "optuna-integration>=3.0"],
        "persist": ["skops>=0.10"],
        "distributed": ["dask[distributed]>=2024.1"],
        # Out-of-core training: dask_ml.wrappers.Incremental drives partial_fit.
        "dask": ["dask[distributed]>=2024.1", "dask-ml>=2024.4"],
        "docs": [
            "sphinx>=7",
            "numpydoc>=1.6",
            "sphinx-gallery>=0.15",
            "pydata-sphinx-theme>=0.15",
            "matplotlib>=3.6",
            "pandas>=1.5",
            # The gallery runs the distributed grid-search and search examples.
            "dask[distributed]>=2024.1",
            "optuna>=3.0",
            "optuna-integration>=3.0",
        ],
    },
    entry_points={
        "console_scripts": ["sklearn-mmfusion=sklearn_mmfusion._cli:main"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
