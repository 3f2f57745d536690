"""Defaults and option sets of the fusion networks, defined once.

The networks of :mod:`sklearn_mmfusion.nn` take their default arguments from
here, so that other layers (e.g. the estimators) can import the same values
instead of repeating them. This module imports nothing, so that every other
module of the package can import it.
"""

#: How a missing modality's encoding slot is filled (see
#: :class:`~sklearn_mmfusion.nn.ModalityEncoder`): a learnable token per
#: modality, zeros, or the CalMRL imputation from the observed encodings.
MISSING_STRATEGIES = ("mask", "zero", "calibrated")

#: How :class:`~sklearn_mmfusion.nn.ModalityEncoder` feeds numerical features
#: to its first layer: raw (``None``), through a periodic embedding per
#: feature (:class:`~sklearn_mmfusion.nn.PeriodicEmbedding`), or through their
#: piecewise-linear encoding on quantile bins
#: (:class:`~sklearn_mmfusion.nn.PiecewiseLinearEncoding`).
NUMERICAL_EMBEDDINGS = (None, "periodic", "piecewise")

#: How :class:`~sklearn_mmfusion.nn.GatedFusion` normalises its gates: a
#: softmax over the observed modalities, or independent sigmoids.
GATES = ("softmax", "sigmoid")

DEFAULTS = {
    # Common width of the modality encodings (and of most fused layers).
    "hidden_dim": 128,
    # Dropout after each modality encoder and in the fusion layers and heads.
    "dropout": 0.1,
    # A learnable token per modality: the network can tell "absent" from any
    # observed value.
    "missing": "mask",
    # No modality is hidden during training unless asked for.
    "modality_dropout": 0.0,
    # The networks' own default: the raw features into the first layer (the
    # estimators choose theirs, see their numerical_embedding parameter).
    "numerical_embedding": None,
    # Periodic embeddings: modalities up to this many columns get one; per
    # feature d_embedding outputs; initial frequency scale sigma for inputs
    # robust-scaled to about [-3, 3] (rtdl_num_embeddings' default 0.01 starts
    # nearly linear there).
    "embedding_max_width": 256,
    "embedding_dim": 8,
    "embedding_sigma": 0.1,
    # Piecewise-linear encoding: at most this many quantile bins per feature
    # (rtdl_num_embeddings.compute_bins' default).
    "n_bins": 48,
    # GatedFusion: the softmax gate reduces to the bimodal GMU for M = 2.
    "gate": "softmax",
    # Attention heads of CLARGAFusion and TransformerFusion.
    "n_heads": 4,
    # CLARGAFusion hides each observed modality with this probability while
    # training (ALGORITHMS.md 1(c) proposes 0.1-0.2; on mfeat, 5-fold CV, 4
    # seeds, 0.1 raised macro-F1 by 0.10 points at 0% and 0.15 at 30% missing).
    "clarga_modality_dropout": 0.1,
    # CLARGAFusion's GAT layers: one, the estimator's default, so the network
    # used on its own is the one the estimator trains.
    "clarga_n_layers": 1,
    # CLARGAFusion: ceil(sqrt(M)) + 1 neighbours per node, self-loop included.
    "graph_k": "auto",
    # InfoNCE temperature of the contrastive terms (CLARGA, ConFu), the usual
    # CLIP-style value.
    "temperature": 0.07,
    # CLARGAFusion: at most this many modality pairs per contrastive term
    # (all pairs up to M = 8), so the term does not grow as M^2.
    "max_contrastive_pairs": 32,
    # ConFuFusion: lambda, equal weight to the fused and the pairwise terms.
    "fused_weight": 0.5,
    # ConFuFusion: at most this many leave-one-out fused terms per step, drawn
    # at random when M is larger (all of them up to M = 3, the published case).
    "confu_max_fused_terms": 3,
    # TransformerFusion's encoder layers.
    "transformer_n_layers": 2,
}
