"""partial_fit driven by dask_ml.wrappers.Incremental over a lazy dask array
(the 2-D + ``modalities`` form), on a loopback LocalCluster; predict on a dask
collection block-wise. The small version of benchmarks/out_of_core.py, using
its lazy generator."""

import os
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
wrappers = pytest.importorskip("dask_ml.wrappers")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import out_of_core  # noqa: E402


@pytest.fixture(scope="module")
def client():
    # Worker processes, as on a real cluster: the model travels pickled to
    # the worker; loopback only, no dashboard.
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    ) as cluster, distributed.Client(cluster) as client:
        client.run(lambda: __import__("torch").set_num_threads(1))
        yield client


def test_lazy_blocks_are_deterministic_and_never_materialised():
    X, y = out_of_core.lazy_data(10_000_000, 100_000)
    # 4 GB described, nothing computed: the graph holds no data.
    assert X.shape == (10_000_000, 100) and X.nbytes == 4_000_000_000
    assert X.numblocks == (100, 1)
    block = X.blocks[7].compute()
    np.testing.assert_array_equal(block, out_of_core.make_block(7, 100_000)[0])
    np.testing.assert_array_equal(y.blocks[7].compute(), out_of_core.make_block(7, 100_000)[1])
    # Every modality has whole missing (all-NaN) rows, and only those.
    for cols in out_of_core.MODALITIES.values():
        nan = np.isnan(block[:, cols])
        assert 0.05 < nan.all(axis=1).mean() < 0.15
        assert (nan.any(axis=1) == nan.all(axis=1)).all()


def test_incremental_trains_on_a_lazy_dask_array_and_predicts_blockwise(client):
    X, y = out_of_core.lazy_data(24_000, 2_000)
    X_test, y_test = out_of_core.lazy_data(6_000, 1_500, seed=1)
    est = out_of_core.make_estimator(batch_size=256)
    model = wrappers.Incremental(est, shuffle_blocks=True, random_state=0)
    model.fit(X, y, classes=[0, 1])
    fitted = model.estimator_
    assert fitted.n_iter_ == 12                      # one pass per block
    assert fitted.modalities_ == list(out_of_core.MODALITIES)
    # The training ran in the worker process: this process's copy is untouched.
    assert not hasattr(est, "module_")
    predictions = model.predict(X_test)
    assert isinstance(predictions, da.Array)
    assert predictions.chunks == ((1_500,) * 4,)      # block-wise, one block per block
    labels = predictions.compute()
    np.testing.assert_array_equal(labels, fitted.predict(X_test.compute()))
    proba = model.predict_proba(X_test)
    assert isinstance(proba, da.Array)
    np.testing.assert_allclose(proba.compute().sum(axis=1), 1.0, rtol=1e-6)
    accuracy = (labels == y_test.compute()).mean()
    assert accuracy > 0.7                            # chance is about 0.5
