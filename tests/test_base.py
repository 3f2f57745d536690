"""Behaviour every fusion estimator shares (run on each of them)."""

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, with_missing
from skorch.helper import SliceDict
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mmfusion import PerModality
from sklearn_mmfusion._discovery import all_fusion_estimators
from sklearn_mmfusion.datasets import make_multimodal_classification

CLASSIFIERS = all_fusion_estimators("classifier")
REGRESSORS = all_fusion_estimators("regressor")
ESTIMATORS = CLASSIFIERS + REGRESSORS


def _target(Est, X, y):
    if Est in REGRESSORS:
        return X["m0"][:, 0] + 0.5 * X["m1"][:, 1]
    return y


def test_discovery_finds_both_flavours():
    names = {c.__name__ for c in ESTIMATORS}
    assert {"ConcatFusionClassifier", "LateFusionRegressor"} <= names
    assert len(CLASSIFIERS) == len(REGRESSORS)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_input_forms_give_identical_predictions(Est, multimodal_data):
    X, y = multimodal_data
    y = _target(Est, X, y)
    flat = np.hstack(list(X.values()))
    widths = np.cumsum([0] + [v.shape[1] for v in X.values()])
    spec = {name: slice(int(a), int(b)) for name, a, b in zip(X, widths[:-1], widths[1:])}
    columns = [f"c{i}" for i in range(flat.shape[1])]
    df = pd.DataFrame(flat, columns=columns)
    name_spec = {name: columns[s] for name, s in spec.items()}
    inputs = [
        (dict(X), {}), (X, {}), (SliceDict(**X), {}),
        (flat, {"modalities": spec}), (df, {"modalities": name_spec}),
    ]
    predictions = [
        Est(**FAST, **params).fit(data, y).predict(data) for data, params in inputs
    ]
    for pred in predictions[1:]:
        np.testing.assert_array_equal(pred, predictions[0])


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_trains_and_predicts_with_missing_rows(Est, multimodal_data):
    X, y = multimodal_data
    y = _target(Est, X, y)
    Xm = with_missing(X, 0.3)
    for name in Xm:  # sample 0 misses every modality: valid input
        Xm[name][0] = np.nan
    est = Est(**FAST).fit(Xm, y)
    pred = est.predict(Xm)
    assert pred.shape == (len(y),)
    Z = est.transform(Xm)
    assert Z.dtype == np.float32 and Z.shape == (len(y), FAST["hidden_dim"])
    assert np.isfinite(Z).all()
    if Est in CLASSIFIERS:
        proba = est.predict_proba(Xm)
        np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_classifier_learns_well_above_chance(Est):
    from sklearn_mmfusion.datasets import make_multimodal_classification

    X, y = make_multimodal_classification(
        n_samples=600, modality_dims=(6, 5, 4), n_informative=2, n_classes=3,
        class_sep=1.5, random_state=1,
    )
    est = Est(hidden_dim=32, max_epochs=60, random_state=0).fit(X[:450], y[:450])
    assert est.score(X[450:], y[450:]) > 0.75  # chance is 1/3


@pytest.mark.parametrize("Est", REGRESSORS)
def test_regressor_learns_and_handles_2d_targets(Est, multimodal_data):
    X, _ = multimodal_data
    y = X["m0"][:, 0] + 0.5 * X["m1"][:, 1]
    # 180 samples are too few for early stopping: the default 200-epoch
    # schedule is trained (60 epochs of 2 steps each underfit).
    est = Est(hidden_dim=32, random_state=0).fit(X[:180], y[:180])
    assert not est.early_stopping_
    assert est.score(X[180:], y[180:]) > 0.6
    Y = np.c_[y, -2 * y + 100]
    est2 = Est(**FAST).fit(X, Y)
    assert est2.predict(X).shape == (len(y), 2)
    # Targets are standardised internally, predictions come back on their scale.
    assert abs(est2.predict(X)[:, 1].mean() - Y[:, 1].mean()) < 5


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_string_labels_and_class_weight(Est, multimodal_data):
    X, y = multimodal_data
    labels = np.array(["no", "yes"])[y]
    est = Est(**FAST, class_weight="balanced").fit(X, labels)
    assert set(est.classes_) == {"no", "yes"}
    assert set(est.predict(X)) <= {"no", "yes"}
    Est(**FAST, class_weight={"no": 1.0, "yes": 3.0}).fit(X, labels)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_early_stopping_then_anneal_and_history(Est, multimodal_data):
    X, y = multimodal_data
    y = _target(Est, X, y)
    # 25% of 240 samples: 60 held out, enough for early stopping (>= 50).
    est = Est(hidden_dim=16, max_epochs=200, patience=3, lr=1e-2, validation_fraction=0.25,
              random_state=0).fit(X, y)
    assert est.early_stopping_ and est.n_validation_ == 60
    phases = est.history_[:, "phase"]
    assert len(phases) == est.n_iter_ < 200
    # Early stopping first, then exactly `patience` anneal epochs.
    n_stop = phases.count("early_stopping")
    assert phases == ["early_stopping"] * n_stop + ["anneal"] * 3
    valid = est.history_[:n_stop, "valid_loss"]
    # Early stopping stopped because the loss had not improved (by `tol`,
    # relative) for `patience` epochs: none of the last three beat the best
    # before them by that much.
    assert min(valid[-3:]) >= min(valid[:-3]) * (1 - est.tol)
    # Early stopping runs at the constant rate, and says so in every epoch.
    assert est.history_[:n_stop, "event_lr"] == [pytest.approx(1e-2)] * n_stop
    # The anneal trains on all rows (no validation loss) at a learning rate
    # that starts at the initial one and decays on a cosine, epoch by epoch
    # (toward 1% of it: 3 epochs give 100%, 75% and 26%).
    anneal = est.history_[n_stop:]
    assert all("valid_loss" not in epoch for epoch in anneal)
    lrs = [epoch["event_lr"] for epoch in anneal]
    assert lrs[0] == pytest.approx(1e-2) and lrs[1] < lrs[0] and lrs[2] < 0.3 * lrs[0]
    est_no = Est(**{**FAST, "early_stopping": False}).fit(X, y)
    assert est_no.n_iter_ == FAST["max_epochs"]
    assert "valid_loss" not in est_no.history_[-1]
    assert set(est_no.history_[:, "phase"]) == {"schedule"}


@pytest.mark.parametrize("tol", [0.0, 0.1])
def test_tol_is_the_relative_improvement_early_stopping_counts(tol, multimodal_data):
    """Early stopping ends at the first epoch that closes ``patience`` epochs
    without a validation loss below ``(1 - tol)`` times that of the last epoch
    that counted; a larger ``tol`` stops earlier."""
    Est = next(c for c in CLASSIFIERS if c.__name__ == "ConcatFusionClassifier")
    X, y = multimodal_data
    params = dict(hidden_dim=16, max_epochs=200, patience=3, lr=1e-2,
                  validation_fraction=0.25, random_state=0)
    est = Est(**params, tol=tol).fit(X, y)
    n_stop = est.history_[:, "phase"].count("early_stopping")
    # It stopped on the rule, not at its epoch limit (max_epochs - anneal).
    assert 3 < n_stop < 200 - 3
    best, waited = np.inf, 0
    for epoch, loss in enumerate(est.history_[:n_stop, "valid_loss"], start=1):
        if loss < best * (1 - tol):
            best, waited = loss, 0
        else:
            waited += 1
        if waited == 3:
            break
    assert epoch == n_stop
    if tol:
        # The same trajectory (same seed): what counts under tol also counts
        # under 0, so the larger tol stops no later, and here strictly earlier.
        loose = Est(**params, tol=0.0).fit(X, y)
        assert n_stop < loose.history_[:, "phase"].count("early_stopping")


@pytest.mark.parametrize("name, scoring", [
    ("ConFuClassifier", "accuracy"), ("CLARGARegressor", "r2")])
def test_skorch_scoring_callbacks_score_every_phase_they_can(name, scoring, multimodal_data):
    """skorch's EpochScoring, the usual extra callback, scores the network's
    predictions (it failed on the network's FusionOutput before): on the
    training batches in every epoch, on the held-out rows only where there
    are some (early stopping, not the anneal)."""
    from skorch.callbacks import EpochScoring

    Est = next(c for c in ESTIMATORS if c.__name__ == name)
    X, y = multimodal_data
    y = _target(Est, X, y)
    # The plain first layer: with the piecewise encoding, lr=1e-2 overfits
    # these Gaussian classes (180 training rows) in the first epoch, and the
    # learning curve checked below is flat.
    est = Est(hidden_dim=16, max_epochs=40, patience=3, lr=1e-2, validation_fraction=0.25,
              numerical_embedding=None, random_state=0, callbacks=[
                  EpochScoring(scoring, name="valid_score"),
                  EpochScoring(scoring, on_train=True, name="train_score")]).fit(X, y)
    history = est.history_
    stopping = [e for e in history if e["phase"] == "early_stopping"]
    anneal = [e for e in history if e["phase"] == "anneal"]
    assert len(anneal) == 3 and all("valid_score" not in e for e in anneal)
    # Every epoch, the last of early stopping included (its stop skipped the
    # callbacks that came after it).
    assert all(np.isfinite(e["train_score"]) for e in history)
    valid = [e["valid_score"] for e in stopping]
    assert all(np.isfinite(valid)) and max(valid) <= 1.0
    # The scores measure the network: the held-out score at the best
    # validation loss is well above the first epoch's and far from chance.
    best = int(np.argmin([e["valid_loss"] for e in stopping]))
    assert valid[best] > valid[0] and valid[best] > 0.6


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_sample_weight_changes_the_fit(Est, multimodal_data):
    X, y = multimodal_data
    y = _target(Est, X, y)
    w = np.where(np.arange(len(y)) % 2 == 0, 1.0, 0.0)
    a = Est(**FAST).fit(X, y, sample_weight=w).transform(X)
    b = Est(**FAST).fit(X, y).transform(X)
    ones = Est(**FAST).fit(X, y, sample_weight=np.ones(len(y))).transform(X)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(ones, b)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_pipeline_with_per_modality_scaler(Est, multimodal_data):
    X, y = multimodal_data
    y = _target(Est, X, y)
    pipe = make_pipeline(PerModality(StandardScaler()), Est(**FAST, scaling=None))
    pipe.fit(with_missing(X), y)
    assert pipe.predict(X).shape == (len(y),)


def test_grid_search_with_two_jobs(multimodal_data):
    from sklearn_mmfusion import ConcatFusionClassifier

    X, y = multimodal_data
    # lr 1e-2: the 15-epoch cosine schedule of FAST learns this task in time.
    search = GridSearchCV(
        ConcatFusionClassifier(**{**FAST, "lr": 1e-2}),
        {"hidden_dim": [8, 16], "modality_dropout": [0.0, 0.2]},
        cv=3, n_jobs=2,
    ).fit(with_missing(X), y)
    assert set(search.best_params_) == {"hidden_dim", "modality_dropout"}
    assert search.best_score_ > 0.7
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_feature_names_out(Est, multimodal_data):
    X, y = multimodal_data
    est = Est(**FAST).fit(X, _target(Est, X, y))
    names = est.get_feature_names_out()
    assert len(names) == FAST["hidden_dim"]
    assert names[0] == f"{Est.__name__.lower()}0"


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_calibrated_missing_modalities(Est, multimodal_data):
    X, y = multimodal_data
    y = _target(Est, X, y)
    Xm = with_missing(X, 0.4)
    est = Est(**FAST, missing="calibrated").fit(Xm, y)
    calibrator = est.module_.encoder.calibrator
    assert calibrator.is_initialized
    # The imputations come from a fitted model, not from the zero init.
    assert all(float(W.abs().sum()) > 0 for W in calibrator.components)
    pred = est.predict(Xm)
    assert np.isfinite(est.transform(Xm)).all() and pred.shape == (len(y),)
    masked = Est(**FAST, missing="mask").fit(Xm, y)
    assert not np.array_equal(est.transform(Xm), masked.transform(Xm))


@pytest.mark.parametrize("Est", CLASSIFIERS)
def test_small_data_trains_the_schedule_instead_of_collapsing(Est):
    """40 samples, 5 classes: 10% would hold out 4 samples, whose loss is
    noise; the estimator says it trained without early stopping and learns."""
    X, y = make_multimodal_classification(
        n_samples=440, modality_dims=(6, 5, 4), n_informative=2, n_classes=5,
        class_sep=2.0, flip_y=0.0, random_state=3,
    )
    # 400 test rows: the accuracy is measured to about +-0.025.
    train, test = np.arange(40), np.arange(40, 440)
    assert len(np.unique(y[train])) == 5
    est = Est(random_state=0, max_epochs=100).fit(X[train], y[train])
    assert not est.early_stopping_ and est.n_validation_ == 0
    assert est.n_iter_ == 100  # the whole schedule
    assert "valid_loss" not in est.history_[-1]
    assert est.hidden_dim_ == 32  # sized for 40 samples, not 128
    assert est.n_ensemble_ == 4  # and averaged over 4 networks
    majority = np.bincount(y[test]).max() / len(test)
    pred = est.predict(X[test])
    assert len(np.unique(pred)) >= 4  # not a near-constant model
    # A collapsed model scores about the majority rate (0.2-0.25 here).
    assert np.mean(pred == y[test]) > majority + 0.2


def test_auto_width_follows_the_number_of_samples():
    from sklearn_mmfusion._base import auto_hidden_dim

    widths = [auto_hidden_dim(n) for n in (10, 100, 400, 1500, 3000, 10_000, 10**6)]
    assert widths == [32, 32, 64, 128, 128, 256, 256]


def test_auto_ensemble_size_follows_the_number_of_samples():
    from sklearn_mmfusion._base import auto_n_ensemble

    sizes = [auto_n_ensemble(n) for n in (1, 40, 500, 501, 700, 1000, 1333, 10**6)]
    assert sizes == [4, 4, 4, 3, 2, 2, 1, 1]


def test_auto_batch_size_follows_the_number_of_samples():
    from sklearn_mmfusion._base import auto_batch_size

    sizes = [auto_batch_size(n) for n in (1, 40, 1333, 32_767, 32_768, 65_536, 131_071,
                                          131_072, 10**7)]
    assert sizes == [128, 128, 128, 128, 256, 512, 512, 1024, 1024]


def test_auto_batch_size_reaches_the_training_loop(multimodal_data, monkeypatch):
    """``batch_size="auto"`` is resolved on the training rows and is the batch
    the loop steps with (counted per gradient); an int is used as given;
    ``partial_fit`` takes 128 for "auto"."""
    import sklearn_mmfusion._base as base
    from conftest import RecordNonFiniteGradients
    from sklearn_mmfusion import ConcatFusionClassifier

    X, y = multimodal_data  # 240 rows
    seen = []
    monkeypatch.setattr(base, "auto_batch_size", lambda n: seen.append(n) or 32)

    def steps(**params):
        counter = RecordNonFiniteGradients()
        est = ConcatFusionClassifier(**{**FAST, "batch_size": "auto", "max_epochs": 1,
                                        "early_stopping": False,
                                        "callbacks": [counter], **params})
        return est, counter

    est, counter = steps()
    est.fit(X, y)
    assert est.batch_size_ == 32 and counter.n_batches == 8 and seen == [240]
    est, counter = steps(batch_size=100)
    est.fit(X, y)
    assert est.batch_size_ == 100 and counter.n_batches == 3
    est, counter = steps()
    est.partial_fit(X, y, classes=np.unique(y))
    assert est.batch_size_ == 128 and counter.n_batches == 2


ENSEMBLE_CASES = [c for c in ESTIMATORS if c.__name__ in (
    "ConcatFusionClassifier", "GatedFusionClassifier", "ConFuClassifier", "LateFusionRegressor")]


@pytest.mark.parametrize("Est", ENSEMBLE_CASES)
def test_ensemble_averages_members_whose_first_is_the_single_network(Est, multimodal_data):
    import pickle

    import torch

    X, y = multimodal_data
    y = _target(Est, X, y)
    params = {**FAST, "max_epochs": 8}
    single = Est(**params).fit(X, y)
    ensemble = Est(**{**params, "n_ensemble": 3}).fit(X, y)
    assert single.n_ensemble_ == 1 and ensemble.n_ensemble_ == 3
    members = ensemble.module_.members
    assert len(members) == 3
    # Member 0 is trained exactly as the single network: transform, the
    # method's outputs and the history are its.
    np.testing.assert_allclose(ensemble.transform(X), single.transform(X), rtol=1e-5, atol=1e-6)
    assert ensemble.n_iter_ == single.n_iter_
    # The others have their own seeds.
    w = [next(m.parameters()).detach() for m in members]
    assert not torch.equal(w[0], w[1]) and not torch.equal(w[1], w[2])
    # The prediction is the members' average.
    flat = ensemble.schema_.encode(*ensemble._split_input(X))
    xs = [torch.from_numpy(b) for b in flat[0]]
    mask = torch.from_numpy(flat[1])
    with torch.inference_mode():
        outs = [m(xs, mask).prediction for m in members]
    if Est in REGRESSORS:
        expected = torch.stack(outs).mean(0).numpy()
        np.testing.assert_allclose(ensemble._predict_raw(X), expected, rtol=1e-5, atol=1e-5)
    else:
        expected = torch.stack(outs).softmax(-1).mean(0).numpy()
        np.testing.assert_allclose(ensemble.predict_proba(X), expected, rtol=1e-5, atol=1e-6)
        # Averaging a few networks is no worse on its own training data here.
        assert ensemble.score(X, y) >= single.score(X, y) - 0.05
    loaded = pickle.loads(pickle.dumps(ensemble))
    np.testing.assert_allclose(loaded.predict(X), ensemble.predict(X), rtol=1e-6, atol=1e-6)
    assert loaded.n_ensemble_ == 3 and len(loaded.module_.members) == 3


def test_warm_start_partial_fit_and_embedders_with_ensembles(multimodal_data):
    from sklearn_mmfusion import ConcatFusionClassifier, ConFuEmbedder
    from sklearn_mmfusion.nn import FusionEnsemble

    X, y = multimodal_data
    params = {**FAST, "max_epochs": 4}
    est = ConcatFusionClassifier(**{**params, "n_ensemble": 2, "warm_start": True}).fit(X, y)
    first_epochs = est.n_iter_
    before = est.predict_proba(X)
    est.fit(X, y)  # continues the fitted ensemble as a whole
    assert isinstance(est.module_, FusionEnsemble) and est.n_ensemble_ == 2
    assert est.n_iter_ > first_epochs
    assert not np.allclose(est.predict_proba(X), before)
    streamed = ConcatFusionClassifier(**{**params, "n_ensemble": 3})
    streamed.partial_fit(X, y, classes=np.unique(y))
    assert streamed.n_ensemble_ == 1  # one network per stream
    # An embedder has no prediction to average: "auto" trains one network.
    embedder = ConFuEmbedder(hidden_dim=16, max_epochs=3, random_state=0).fit(X[:60])
    assert embedder.n_ensemble_ == 1


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_sparse_modality_matches_its_dense_twin(Est):
    """A scipy.sparse modality trains and predicts like the same data dense
    (robust scaling of a mostly-zero column is a pure scaling either way)."""
    import scipy.sparse as sp

    rng = np.random.RandomState(0)
    counts = sp.random(200, 300, density=0.03, random_state=1, format="csr")
    counts.data = np.round(counts.data * 5) + 1
    dense = rng.randn(200, 4)
    score = np.asarray(counts[:, :20].sum(axis=1)).ravel()
    y = (dense[:, 0] + score - score.mean() > 0).astype(int)
    if Est in REGRESSORS:
        y = dense[:, 0] + score
    sparse_X = {"dense": dense, "words": counts}
    dense_X = {"dense": dense, "words": counts.toarray()}
    a = Est(**FAST).fit(sparse_X, y)
    b = Est(**FAST).fit(dense_X, y)
    assert a.schema_.sparse == [False, True]
    np.testing.assert_allclose(a.predict(sparse_X), b.predict(dense_X), rtol=1e-4, atol=1e-4)
    # Predict accepts either form, whatever fit saw.
    np.testing.assert_allclose(a.predict(dense_X), a.predict(sparse_X), rtol=1e-5, atol=1e-5)
