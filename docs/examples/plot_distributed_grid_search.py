"""
Grid search on a dask cluster
=============================

A grid search over fusion hyperparameters is a set of independent fits.
scikit-learn's :class:`~sklearn.model_selection.GridSearchCV` hands them to
joblib, and joblib's ``"dask"`` backend sends them to the workers of a
`dask.distributed <https://distributed.dask.org>`_ cluster. The estimator and
the search code stay the same: only the ``with`` block around ``fit`` changes.

Install the optional extra on the machine that runs the search *and* on every
worker::

    pip install "sklearn-mmfusion[distributed]"

Here the cluster is a :class:`~distributed.LocalCluster` on this machine, so
the example runs anywhere; the last section points the same code at a real
scheduler.
"""

# %%
# Data and search
# ---------------
#
# 600 digits of *mfeat* (six modalities), 30% of the modality rows hidden.
# The search compares the two gate normalisations of gated fusion at two
# widths, with 3-fold cross-validation: 12 fits. ``X`` must be a
# :class:`~sklearn_mmfusion.ModalityDict` so that the folds can index it.
import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_mmfusion import GatedFusionClassifier
from sklearn_mmfusion.datasets import load_mfeat, mask_modalities

X, y = load_mfeat(return_X_y=True)
subset, _ = train_test_split(np.arange(len(y)), train_size=600, stratify=y, random_state=0)
X, y = mask_modalities(X[subset], 0.3, random_state=0), y[subset]

search = GridSearchCV(
    GatedFusionClassifier(max_epochs=10, batch_size=64, random_state=0),
    param_grid={"gate": ["softmax", "sigmoid"], "hidden_dim": [16, 64]},
    cv=3,
    scoring="f1_macro",
    n_jobs=-1,  # under the dask backend: every worker thread of the cluster
)

# %%
# A note on ``if __name__ == "__main__"``: dask starts worker *processes*
# with ``spawn``, which re-imports the script that started them. The guard
# keeps the workers from running the searches themselves when the example is
# run as ``python plot_distributed_grid_search.py``.
#
# The reference: the same search in this process, one fit after another.
if __name__ == "__main__":
    local = clone(search).set_params(n_jobs=1).fit(X, y)
    print("local best:", local.best_params_, f"macro-F1 {local.best_score_:.4f}")

# %%
# The search on a local cluster
# -----------------------------
#
# Two worker processes with one thread each, listening on the loopback
# interface only, without the dashboard. Each fit runs alone in its worker
# process, as it would on a cluster node. ``Client(cluster)`` becomes the
# default client, which joblib's ``"dask"`` backend uses.
from distributed import Client, LocalCluster  # noqa: E402

if __name__ == "__main__":
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, Client(cluster) as client:
        print("workers:", list(client.scheduler_info()["workers"]))
        with joblib.parallel_backend("dask"):
            distributed_search = clone(search).fit(X, y)
    print("dask best: ", distributed_search.best_params_,
          f"macro-F1 {distributed_search.best_score_:.4f}")

# %%
# Same seeds, same fits: the two runs agree on every candidate's score, hence
# on the best parameters. (The final refit on all of ``X`` runs in this
# process in both cases.)
if __name__ == "__main__":
    scores = pd.DataFrame({
        "params": [str(p) for p in local.cv_results_["params"]],
        "local": local.cv_results_["mean_test_score"],
        "dask": distributed_search.cv_results_["mean_test_score"],
    })
    print(scores.to_string(index=False, float_format="{:.4f}".format))
    assert distributed_search.best_params_ == local.best_params_
    np.testing.assert_allclose(scores["dask"], scores["local"], rtol=0, atol=1e-12)

# %%
# On a real cluster
# -----------------
#
# Start a scheduler on one machine and workers on the others (or use any
# deployment of dask: Kubernetes, SLURM with ``dask-jobqueue``, a cloud
# service), with the same versions of ``sklearn-mmfusion``, torch and
# scikit-learn everywhere::
#
#     dask scheduler                                  # on host "scheduler"
#     dask worker tcp://scheduler:8786 --nworkers 4 --nthreads 1   # per node
#
# ``--nthreads 1`` gives each fit a process of its own. Fits that share a
# process as threads also share torch's global random number generator, so
# sklearn-mmfusion trains them one at a time (their results still match a
# local run, but the threads of a worker do not train in parallel).
#
# Then connect to the scheduler instead of creating a ``LocalCluster``; the
# rest is unchanged:
#
# .. code-block:: python
#
#     from distributed import Client
#
#     with Client("tcp://scheduler:8786"):
#         with joblib.parallel_backend("dask"):
#             search.fit(X, y)
