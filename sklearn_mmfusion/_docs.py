"""Docstring fragments shared by the estimators, and :class:`Substitution`.

The common parameters are documented once here; a class docstring says
``%(fusion_parameters)s`` where they belong, and each estimator module
substitutes them explicitly, with its own fragments, through
``@Substitution(**fragments)`` (imbalanced-learn's pattern). Nothing here is
changed by other modules; a default that differs per method is an argument
of the function that writes its fragment.
"""

from types import MappingProxyType

from .nn._defaults import DEFAULTS

_MODALITY_DROPOUT = """\
    modality_dropout : float, default=%(default)s
        Probability of hiding each observed modality of a training sample (at
        least one is kept), which trains robustness to missing modalities.%(note)s"""


def fusion_parameters(*, modality_dropout=0.0, modality_dropout_note="",
                      numerical_embedding="auto"):
    """The shared parameters' fragment, with the method's ``modality_dropout``
    default (and a sentence on why, when it is not the common one)."""
    note = f"\n{modality_dropout_note}" if modality_dropout_note else ""
    dropout = _MODALITY_DROPOUT % {"default": modality_dropout, "note": note}
    return _FUSION_PARAMETERS % {"modality_dropout": dropout,
                                 "numerical_embedding": repr(numerical_embedding),
                                 "embedding_max_width": DEFAULTS["embedding_max_width"],
                                 "embedding_dim": DEFAULTS["embedding_dim"],
                                 "n_bins": DEFAULTS["n_bins"]}


_FUSION_PARAMETERS = """\
    modalities : dict of str to (list or slice), default=None
        How to split a 2-D array or DataFrame ``X`` into modalities: each name
        maps to its columns (names, integer positions or a ``slice``). Leave
        ``None`` when ``X`` is a mapping of modality arrays; with a 2-D ``X`` and
        ``None``, all columns form one modality ``"x"``.
    hidden_dim : int or "auto", default="auto"
        Width of the modality encodings and of the fused representation.
        ``"auto"`` follows the number of training samples: the power of two
        nearest ``3 * sqrt(n)``, between 32 and 256 (32 for about 100
        samples, 128 for 1,000-3,000); the width used is ``hidden_dim_``.
    n_ensemble : int or "auto", default="auto"
        Number of networks trained apart, each with its own seed, whose
        predictions are averaged (class probabilities, or outputs for
        regression): a deep ensemble, the cheapest reliable variance reduction
        on small data. ``"auto"`` spends about the cost of one fit on 2,000
        rows: ``2000 // n_samples`` members, between 1 and 4 (4 up to 500
        samples, 2 for 700-1,000, 1 from 1,000 on). ``transform`` and the
        method's own outputs (gates, embeddings) come from the first member,
        which is the network ``n_ensemble=1`` trains; ``history_`` is its
        history (``callbacks`` run for every member's training).
        ``partial_fit`` trains one network; a ``warm_start`` fit continues
        training the fitted ensemble as a whole. Embedders, which have no
        prediction to average, train one network.
    dropout : float, default=0.1
        Dropout probability inside the network.
%(modality_dropout)s
    missing : {"mask", "zero", "calibrated"}, default="mask"
        What stands in for a missing modality's encoding: a learnable token per
        modality (``"mask"``), zeros (``"zero"``), or its CalMRL imputation
        from the observed modalities (``"calibrated"``): a shared-latent model
        of the encodings, fitted by EM before training and refreshed after
        each epoch; the imputations are detached (a closed-form step).
    numerical_embedding : {"auto", "periodic", "piecewise"} or None, default=%(numerical_embedding)s
        How each feature of a dense modality of at most %(embedding_max_width)s columns
        reaches the modality's first layer (Gorishniy et al., 2022); wider
        or sparse modalities (bags of words) keep the plain linear layer.
        ``"piecewise"``: its piecewise-linear encoding on up to %(n_bins)s quantile
        bins learned from the training rows where the modality is present
        (``[1, ..., 1, fraction, 0, ..., 0]``), so that the first layer can
        put a step at any bin edge, as a tree splits a feature.
        ``"periodic"``: a learned periodic embedding (PLR-lite: cosines and
        sines of learned frequencies, then a shared linear layer and ReLU,
        %(embedding_dim)s outputs per feature). ``None``: the scaled features as
        they are. ``"auto"``: ``"piecewise"`` on fewer than 150 training
        samples (those not held out for early stopping), where the bins
        raised the best method's macro-F1 on small cuts of real multi-view
        data in 10 of 12 cases, ``None`` from there on, where they cost up to
        4.2 points (measured on classifiers; regressors follow the same rule);
        ``partial_fit`` takes ``None``. The choice made is
        ``numerical_embedding_``. On small data with smooth, roughly linear
        class boundaries ``None`` can be the better choice.
    scaling : {"robust", "standard"} or None, default="robust"
        Per-feature scaling learned on the rows where the modality is present.
        ``"robust"`` (RealMLP-TD's): subtract the median, divide by the
        interquartile range, then smooth-clip to (-3, 3), so heavy tails and
        outliers stay bounded; ``"standard"``: zero mean, unit variance;
        ``None``: raw values. A ``scipy.sparse`` modality is only divided by
        its scale (half its range, or its standard deviation), never centred,
        and stays sparse up to the first layer. NaNs inside a present row are
        always imputed with the feature's training mean.
    max_epochs : int, default=200
        Maximum number of passes over the training data.
    batch_size : int or "auto", default="auto"
        Samples per gradient step. ``"auto"``: 128 up to 32,767 training
        samples, then the power of two at or below ``n / 128`` up to 1,024
        (256 from 32,768, 512 from 65,536, 1,024 from 131,072), so that an
        epoch has at least 128 steps; ``partial_fit`` uses 128. The batch used
        is ``batch_size_``.
    lr : float, default=1e-3
        Learning rate of AdamW.
    weight_decay : float, default=1e-4
        Weight decay of AdamW.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers), train at the constant rate ``lr`` until the held-out
        loss has not improved (by a relative ``tol``) for ``patience``
        epochs, restore the best weights, then anneal: ``patience`` more
        epochs on all the training data (the held-out rows included), the
        learning rate decaying on a cosine toward 1%% of ``lr``. Only when
        the held-out set has at least 50 samples: on fewer, its loss is
        noise, so the whole ``max_epochs`` schedule (cosine decay over
        ``max_epochs``) is trained on all the data instead
        (``early_stopping_`` and ``n_validation_`` say which happened;
        ``history_[:, "phase"]`` says, per epoch, ``"schedule"``, or
        ``"early_stopping"`` then ``"anneal"``).
    validation_fraction : float, default=0.1
        Fraction held out for early stopping.
    patience : int, default=10
        Epochs without an improvement of the validation loss (by a relative
        ``tol``) before early stopping ends; also the length of the anneal
        that follows it (at most half of ``max_epochs``).
    tol : float, default=1e-3
        Relative improvement of the validation loss that counts for
        ``patience``: an epoch counts as an improvement only if its loss is
        below ``(1 - tol)`` times the loss of the last epoch that counted,
        whose weights are the best ones restored (skorch's ``EarlyStopping``
        with ``threshold=tol``). Relative, unlike the absolute ``tol`` of
        scikit-learn's MLP and gradient boosting; smaller gains are noise on
        a held-out tenth and cost epochs, not accuracy. In [0, 1); versions
        before it was a parameter used 1e-4.
    device : str, default="cpu"
        Torch device to train on: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, or
        ``"auto"`` (CUDA when available). The training data is kept on the
        device. Predictions run where the trained network is.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, batch order and the validation
        split. The same seed gives identical predictions on CPU.
    verbose : int, default=0
        Print skorch's per-epoch log when positive.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks run during training, in every phase and for
        every ensemble member. Scoring callbacks work on the network's own
        targets: ``EpochScoring("accuracy")`` compares class codes (indices
        into ``classes_``), a regressor's scores read the standardised
        target. Validation scores are recorded only in epochs with a
        held-out set (the ``"early_stopping"`` phase); a callback that needs
        one in every epoch (skorch's ``EarlyStopping``, ``Checkpoint`` on a
        validation score) fails in the others: use ``early_stopping``,
        ``patience`` and ``tol`` instead.
    warm_start : bool, default=False
        As in scikit-learn: when True, ``fit`` on a fitted estimator goes on
        training its network (with its modalities, scaling statistics,
        classes or target scaling, and AdamW state) for up to ``max_epochs``
        more epochs on the new ``X``, with early stopping (at the current
        learning rate, without the anneal of a first ``fit``), instead of
        starting from new weights. ``partial_fit`` always continues."""

_CLASSIFIER_PARAMETERS = """\
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn; ``"balanced"``
        weights inversely to class frequencies.
    label_smoothing : float, default=0.1
        Label smoothing of the cross-entropy (as RealMLP-TD trains): the
        target puts ``1 - label_smoothing`` on the true class and spreads the
        rest evenly, which keeps logits from growing without bound on small
        or separable data."""

_FITTED_ATTRIBUTES = """\
    modalities_ : list of str
        Modality names, in the order of the network's inputs.
    n_features_in_ : int
        Number of input columns (all modalities together).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame with string column names.
    module_ : torch.nn.Module
        The trained fusion network (see :mod:`sklearn_mmfusion.nn`).
    history_ : skorch.history.History
        Per epoch: ``train_loss``, ``valid_loss`` (early stopping epochs
        only), ``event_lr`` (the learning rate), the duration, and ``phase``:
        ``"schedule"`` (no early stopping), ``"early_stopping"`` then
        ``"anneal"``, or ``"partial_fit"`` / ``"warm_start"``; e.g.
        ``history_[:, "train_loss"]``. ``history_[:, key]`` lists only the
        epochs that have ``key``.
    n_iter_ : int
        Number of epochs trained.
    hidden_dim_ : int
        Width of the network (``hidden_dim``, or the ``"auto"`` choice).
    batch_size_ : int
        Samples per gradient step (``batch_size``, or the ``"auto"`` choice).
    numerical_embedding_ : {"periodic", "piecewise"} or None
        The numerical embedding the network was built with
        (``numerical_embedding``, or the ``"auto"`` choice); it applies to the
        narrow dense modalities only (see ``numerical_embedding``), so a
        network whose modalities are all wide or sparse is plain whatever it
        says.
    n_ensemble_ : int
        Number of networks averaged (``n_ensemble``, or the ``"auto"`` choice).
    early_stopping_ : bool
        Whether early stopping was used (see ``early_stopping``).
    n_validation_ : int
        Samples held out for early stopping (0 without it)."""

_CLASSIFIER_ATTRIBUTES = """\
    classes_ : ndarray of shape (n_classes,)
        Class labels."""


COMMON_DOCS = MappingProxyType({
    "fusion_parameters": fusion_parameters(),
    "classifier_parameters": _CLASSIFIER_PARAMETERS,
    "fitted_attributes": _FITTED_ATTRIBUTES,
    "classifier_attributes": _CLASSIFIER_ATTRIBUTES,
})
"""The fragments every estimator module starts from (read-only)."""


class Substitution:
    """Decorator filling ``%(name)s`` in a docstring from ``fragments``.

    As imbalanced-learn's ``utils._docstring.Substitution``: the fragments
    are passed explicitly per class; a name the docstring uses but the call
    does not give fails at import, not silently in the rendered docs.
    """

    def __init__(self, **fragments):
        self.fragments = fragments

    def __call__(self, obj):
        if obj.__doc__:
            obj.__doc__ = obj.__doc__ % self.fragments
        return obj
