"""search_space: valid ranges for every method; successive halving over
max_epochs and OptunaSearchCV run our estimators end to end."""

import numpy as np
import pytest
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingRandomSearchCV, ParameterSampler
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mmfusion import GatedFusionClassifier, PerModality, search_space
from sklearn_mmfusion._discovery import all_fusion_estimators
from sklearn_mmfusion.datasets import make_multimodal_classification

SMALL = dict(hidden_dim=8, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    return make_multimodal_classification(
        n_samples=160, modality_dims=(5, 4, 3), n_informative=2, class_sep=1.5, random_state=0
    )


@pytest.mark.parametrize("Est", all_fusion_estimators(), ids=lambda E: E.__name__)
def test_every_sampled_configuration_is_valid(Est):
    space = search_space(Est)
    assert {"lr", "weight_decay", "hidden_dim", "dropout"} <= set(space)
    assert set(space) <= set(Est().get_params())
    for params in ParameterSampler(space, n_iter=25, random_state=0):
        est = Est().set_params(**params)
        est._validate_params()          # inside the declared constraints
        if "n_heads" in params:
            assert params["hidden_dim"] % params["n_heads"] == 0
    optuna_space = search_space(Est, backend="optuna") if _has("optuna") else space
    assert set(optuna_space) == set(space)


def _has(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def test_pipeline_space_is_prefixed_and_bad_input_is_refused():
    pipe = make_pipeline(PerModality(StandardScaler()), GatedFusionClassifier())
    space = search_space(pipe)
    assert set(space) == {f"gatedfusionclassifier__{k}" for k in search_space(GatedFusionClassifier)}
    assert set(pipe.get_params()) >= set(space)
    with pytest.raises(TypeError, match="fusion estimator"):
        search_space(StandardScaler())
    with pytest.raises(ValueError, match="backend"):
        search_space(GatedFusionClassifier, backend="hyperopt")


def test_halving_random_search_over_max_epochs(data):
    X, y = data
    space = {k: v for k, v in search_space(GatedFusionClassifier).items() if k != "hidden_dim"}
    search = HalvingRandomSearchCV(
        GatedFusionClassifier(**SMALL, early_stopping=False), space,
        resource="max_epochs", min_resources=5, max_resources=40, factor=2,
        n_candidates=8, cv=2, random_state=0,
    ).fit(X, y)
    # Each round trains the surviving half for twice the epochs.
    assert list(search.n_resources_) == [5, 10, 20, 40]
    epochs = np.asarray(search.cv_results_["param_max_epochs"], dtype=int)
    rounds = np.asarray(search.cv_results_["iter"])
    assert [sorted(set(epochs[rounds == r])) for r in range(4)] == [[5], [10], [20], [40]]
    assert list(search.n_candidates_) == [8, 4, 2, 1]
    best = search.best_estimator_
    assert best.max_epochs == 40 and best.n_iter_ == 40
    assert search.best_score_ > 0.6 and best.score(X, y) > 0.6


def test_optuna_search_cv(data):
    pytest.importorskip("optuna")
    optuna_integration = pytest.importorskip("optuna_integration")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X, y = data
    space = search_space(GatedFusionClassifier, backend="optuna")
    space.pop("hidden_dim")
    search = optuna_integration.OptunaSearchCV(
        GatedFusionClassifier(**SMALL, max_epochs=30), space, n_trials=4, cv=2,
        random_state=0,
    ).fit(X, y)
    assert len(search.trials_) == 4
    assert set(search.best_params_) == set(space)
    for name, value in search.best_params_.items():
        assert getattr(search.best_estimator_, name) == value
        assert space[name]._contains(space[name].to_internal_repr(value))
    assert search.best_score_ > 0.6


def test_optuna_pruning_through_partial_fit():
    # enable_pruning: OptunaSearchCV trains each trial by partial_fit, one
    # epoch per step, reports the fold score after each, and the pruner stops
    # trials that trail the median of earlier ones at the same step.
    optuna = pytest.importorskip("optuna")
    optuna_integration = pytest.importorskip("optuna_integration")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Enough rows that one epoch is many steps, and a wide lr range so that
    # the trials differ early.
    X, y = make_multimodal_classification(
        n_samples=1000, modality_dims=(5, 4, 3), n_informative=2, class_sep=1.5,
        random_state=0,
    )
    space = search_space(GatedFusionClassifier, backend="optuna")
    space.pop("hidden_dim")
    space["lr"] = optuna.distributions.FloatDistribution(1e-5, 3e-3, log=True)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2),
    )
    search = optuna_integration.OptunaSearchCV(
        GatedFusionClassifier(**SMALL), space, n_trials=8, cv=2, max_iter=8,
        enable_pruning=True, study=study, random_state=0,
    ).fit(X, y)
    states = [t.state for t in search.trials_]
    pruned = states.count(optuna.trial.TrialState.PRUNED)
    assert pruned >= 1 and states.count(optuna.trial.TrialState.COMPLETE) >= 2
    # A pruned trial stopped before max_iter steps; a complete one ran them all.
    steps = {t.state: len(t.intermediate_values) for t in search.trials_}
    assert steps[optuna.trial.TrialState.PRUNED] < 8
    assert steps[optuna.trial.TrialState.COMPLETE] == 8
    assert search.best_score_ > 0.6
