"""ConFu estimators: the XOR case, retrieval, grid search."""

import warnings

import numpy as np
import pytest
from conftest import FAST, with_missing
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from sklearn_mmfusion import ConFuClassifier, ConFuEmbedder
from sklearn_mmfusion.datasets import make_xor_modalities


@pytest.fixture(scope="module")
def xor_data():
    X, y = make_xor_modalities(n_samples=1500, shared_strength=0.3, noise=0.1,
                               random_state=0)
    return X[:1050], y[:1050], X[1050:], y[1050:]


def _probe_accuracy(embedder, X_tr, y_tr, X_te, y_te):
    Z_tr = embedder.embed(X_tr, ["m0", "m1"])
    Z_te = embedder.embed(X_te, ["m0", "m1"])
    return LogisticRegression(max_iter=1000).fit(Z_tr, y_tr).score(Z_te, y_te)


def test_fused_alignment_reveals_xor_that_pairwise_cannot(xor_data):
    X_tr, y_tr, X_te, y_te = xor_data
    params = dict(hidden_dim=32, dropout=0.0, batch_size=256, max_epochs=40,
                  early_stopping=False, random_state=0)
    confu = ConFuEmbedder(fused_weight=0.5, **params).fit(X_tr)
    pairwise = ConFuEmbedder(fused_weight=0.0, **params).fit(X_tr)
    acc_confu = _probe_accuracy(confu, X_tr, y_tr, X_te, y_te)
    acc_pair = _probe_accuracy(pairwise, X_tr, y_tr, X_te, y_te)
    assert acc_confu >= 0.85, acc_confu
    assert acc_pair <= 0.65, acc_pair
    # Two-to-one retrieval of the held-out modality works far above chance
    # (chance recall@10 on 450 samples is 10/450).
    scores = confu.retrieval_scores(X_te, query=["m0", "m1"], target="m2")
    assert scores["recall@10"] > 0.3
    assert 0 <= scores["recall@1"] <= scores["recall@5"] <= scores["recall@10"] <= 1


def test_embedder_with_missing_rows_and_errors(xor_data):
    X_tr, _, X_te, _ = xor_data
    Xm = with_missing(X_tr, 0.3)
    emb = ConFuEmbedder(**FAST).fit(Xm)
    Z = emb.transform(with_missing(X_te, 0.5))
    assert Z.shape == (len(X_te), FAST["hidden_dim"]) and np.isfinite(Z).all()
    with pytest.raises(ValueError, match=r"Unknown modality\(ies\) \['nope'\]"):
        emb.embed(X_te, ["nope"])
    assert np.isfinite(emb.history_[:, "train_loss"]).all()


def test_embedder_warns_when_given_one_modality(xor_data):
    X_tr = xor_data[0]
    with pytest.warns(UserWarning, match="fitted on one modality \\('m0'\\)"):
        ConFuEmbedder(**FAST).fit({"m0": X_tr["m0"]})
    # Two modalities train without that warning.
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*fitted on one modality")
        ConFuEmbedder(**FAST).fit({"m0": X_tr["m0"], "m1": X_tr["m1"]})


def test_grid_search_over_fused_weight_and_temperature(multimodal_data):
    X, y = multimodal_data
    search = GridSearchCV(
        ConFuClassifier(**FAST),
        {"fused_weight": [0.0, 0.5], "temperature": [0.07, 0.2]},
        cv=2,
    ).fit(X, y)
    assert set(search.best_params_) == {"fused_weight", "temperature"}
    assert search.best_score_ > 0.7


@pytest.mark.parametrize("Est, watches_aux", [(ConFuClassifier, False), (ConFuEmbedder, True)])
def test_early_stopping_watches_the_task_loss_unless_self_supervised(Est, watches_aux,
                                                                     monkeypatch):
    # A classifier's validation loss is its cross-entropy alone (the
    # contrastive term would dominate it and keep training while the
    # embeddings align); an embedder has no other loss to watch.
    from sklearn_mmfusion.nn import ConFuFusion

    asked = []
    forward = ConFuFusion.forward

    def spy(self, xs, mask, with_aux_loss=None):
        if not self.training:
            asked.append(bool(with_aux_loss))
        return forward(self, xs, mask, with_aux_loss)

    monkeypatch.setattr(ConFuFusion, "forward", spy)
    X, y = make_xor_modalities(n_samples=1000, random_state=0)
    est = Est(hidden_dim=16, max_epochs=6, patience=2, random_state=0)
    est.fit(X, y) if Est is ConFuClassifier else est.fit(X)
    n_validated = sum("valid_loss" in epoch for epoch in est.history_)
    assert n_validated >= 1
    # One validation batch per early-stopping epoch, then the final check.
    assert asked[:n_validated] == [watches_aux] * n_validated
