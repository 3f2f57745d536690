"""Grid search over a fusion estimator on a local dask.distributed cluster.

``pip install .[distributed]`` (also part of the ``test`` extra) is all a user
needs: scikit-learn's ``GridSearchCV`` hands its fits to joblib, and joblib's
``"dask"`` backend ships them to the cluster's workers. The same code runs
against a remote scheduler with ``Client("tcp://scheduler:8786")``.
"""

import os

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

distributed = pytest.importorskip("distributed")

from conftest import FAST  # noqa: E402

from sklearn_mmfusion import GatedFusionClassifier, ModalityDict  # noqa: E402
from sklearn_mmfusion.datasets import (  # noqa: E402
    make_multimodal_classification,
    mask_modalities,
)

GRID = {"gate": ["softmax", "sigmoid"], "hidden_dim": [8, 16]}


def _search(n_jobs):
    X, y = make_multimodal_classification(
        n_samples=120, modality_dims=(6, 5, 4), n_informative=2, class_sep=1.5,
        random_state=0,
    )
    # A ModalityDict (not a plain dict) so that the CV splitter can index it;
    # some modality rows missing, to ship NaN blocks to the workers as well.
    X = mask_modalities(ModalityDict(X), 0.2, random_state=0)
    estimator = GatedFusionClassifier(**{**FAST, "hidden_dim": 8})
    return GridSearchCV(estimator, GRID, cv=2, n_jobs=n_jobs).fit(X, y)


def test_grid_search_on_local_dask_cluster_matches_local_run():
    local = _search(n_jobs=1)

    # Worker *processes* (one thread each): every fit runs alone in its
    # process, as on a real cluster, and its arguments are pickled to get
    # there. (Thread workers would share torch's global RNG between
    # concurrent fits, and the scores would depend on timing.) Loopback only,
    # no dashboard; the scheduler's small HTTP server takes a free port, so a
    # busy 8787 cannot make it warn.
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    ) as cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream:
            with joblib.parallel_backend("dask"):
                remote = _search(n_jobs=-1)
        worker_pids = client.run(os.getpid)
        worker_threads = client.run(lambda: __import__("torch").get_num_threads())

    # The fits really ran in the workers, not in this process.
    assert stream.data, "no task ran on the dask workers"
    assert {task["worker"] for task in stream.data} <= set(worker_pids)
    assert os.getpid() not in worker_pids.values()
    # dask starts workers with OMP_NUM_THREADS=1: no oversubscription.
    assert set(worker_threads.values()) == {1}

    # Same fits, same seeds: the same scores, hence the same winner.
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"],
        rtol=0, atol=1e-12,
    )
    for key in ("split0_test_score", "split1_test_score"):
        np.testing.assert_allclose(
            remote.cv_results_[key], local.cv_results_[key], rtol=0, atol=1e-12
        )
    assert list(remote.cv_results_["params"]) == list(local.cv_results_["params"])
    # The grid is not degenerate: the comparison can tell candidates apart.
    assert len(set(np.round(local.cv_results_["mean_test_score"], 6))) > 1
