"""The shared scikit-learn estimator base of every fusion method.

A fusion estimator is one of the three task flavours here (classifier,
regressor, self-supervised embedder) plus, in its own module, a parameter
mixin: the network class it trains (``_network``), the names of the extra
parameters that network takes (``_network_params``), their constraints, and
the weight of the network's auxiliary loss when it has one. What is left here
is the scikit-learn face: parameter validation, the fitted attributes, the
target of each task, the validation split, prediction in batches and
pickling. Training itself is :func:`sklearn_mmfusion._net.train`.

The bases and the flavours are abstract (``abc.ABC``): only a class with a
``_network`` can be instantiated, and ``inspect.isabstract`` tells the
package's estimators from its bases.

Estimator classes are dataclasses (``kw_only``, with scikit-learn's own
``repr``): the generated ``__init__`` only stores the parameters, and each class
declares only the parameters it adds.
"""

import copy
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.history import History
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state, compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    column_or_1d,
)

from ._sklearn_compat import Interval, StrOptions, _check_sample_weight, _fit_context
from ._data import FittedInput, iter_row_chunks
from ._docs import Substitution
from .nn import (
    DEFAULTS,
    MISSING_STRATEGIES,
    NUMERICAL_EMBEDDINGS,
    FusionEnsemble,
    quantile_bin_edges,
)
from .nn._ensemble import first_member
from ._net import (
    TRAINING_LOCK,
    TensorBatches,
    as_input_tensor,
    dense_input,
    float32_default,
    fused_adamw_supported,  # noqa: F401 (part of this module's face for tests)
    train,
)

# Rows per forward pass at predict/transform time: large enough to keep the
# device busy, small enough that the temporaries stay a few hundred MB.
PREDICT_BATCH_ROWS = 8192

# Early stopping watches the held-out loss only when the held-out set has at
# least this many samples: on fewer, the validation loss is noise (a 40-sample
# data set held out 4 samples and stopped on a near-constant model). Below it
# the full ``max_epochs`` schedule is trained on all the data instead.
MIN_VALIDATION_SAMPLES = 50


# ``n_ensemble="auto"`` trains members until they have seen about this many
# rows in all: a small data set, where one network's variance dominates and a
# fit takes seconds, gets an ensemble at the cost of one fit on this many
# rows; from this size on, a single network.
ENSEMBLE_ROW_BUDGET = 2000
MAX_AUTO_ENSEMBLE = 4


def _with_phase(history, phase):
    """The epochs of ``history``, each marked with the training ``phase`` it
    ran in (what ``history_[:, "phase"]`` reads)."""
    return [{**epoch, "phase": phase} for epoch in history]


# Quantile bins hold at least this many training rows (LightGBM's
# min_data_in_bin): on 27 present rows (basic_motions, half of each modality's
# rows hidden), 48 bins of about one row each cost every method 1-6 points of
# macro-F1, 8 bins none.
MIN_ROWS_PER_BIN = 3


# ``numerical_embedding="auto"`` bins the narrow modalities (piecewise) on fits
# of fewer training rows than this, and leaves them plain from here on. Paired
# on the same folds (benchmarks/results/piecewise_trial.md): on 133 training
# rows (200-row cuts of LandUse-21, Scene-15, mfeat) the best method rose in
# 10 of 12 cases, by up to 11 points of macro-F1, and basic_motions (53) became
# perfect; on 200 (a 300-row cut of Scene-15) it fell by 4.2 points, on 267
# (400-row cuts) by 0.5-2.0 and at full size by up to 2.1 (mfeat 0%: +0.1).
# 150 lies in the unmeasured gap between 133 and 200.
AUTO_PIECEWISE_MAX_ROWS = 150


def auto_numerical_embedding(n_samples):
    """Default numerical embedding: ``"piecewise"`` below
    ``AUTO_PIECEWISE_MAX_ROWS`` training rows, else ``None``."""
    return "piecewise" if n_samples < AUTO_PIECEWISE_MAX_ROWS else None


def piecewise_bin_edges(inputs, mask):
    """Quantile bin edges of every narrow dense modality, from the rows where
    it is present (``None`` for the others: they keep a plain first layer).

    A modality of more than ``DEFAULTS["embedding_max_width"]`` columns (bags
    of words) or a sparse one is not binned: its first layer would grow by the
    number of bins. At most ``DEFAULTS["n_bins"]`` bins, and no more than one
    per ``MIN_ROWS_PER_BIN`` present rows.
    """
    edges = []
    for m, x in enumerate(inputs):
        present = mask[:, m]
        n_present = int(present.sum())
        if (not isinstance(x, torch.Tensor) or x.shape[1] > DEFAULTS["embedding_max_width"]
                or n_present < 2):
            edges.append(None)
            continue
        n_bins = max(1, min(DEFAULTS["n_bins"], n_present // MIN_ROWS_PER_BIN))
        edges.append(quantile_bin_edges(x[present], n_bins).cpu().numpy())
    return edges


def auto_n_ensemble(n_samples):
    """Default number of ensemble members: ``ENSEMBLE_ROW_BUDGET // n_samples``
    in [1, 4] (4 up to 500 samples, 2 for 700-1,000, 1 from 1,000 on)."""
    return int(np.clip(ENSEMBLE_ROW_BUDGET // max(n_samples, 1), 1, MAX_AUTO_ENSEMBLE))


def auto_batch_size(n_samples):
    """Default batch: the power of two at or below ``n_samples / 128`` in
    [128, 1024], so an epoch is at least 128 steps (128 up to 32,767 samples,
    256 from 32,768, 512 from 65,536, 1,024 from 131,072): small and medium
    data sets keep the small batches they need, large ones stop paying the
    per-step overhead on 100,000s of rows (the batch grows with n, as in the
    tabular deep-learning benchmarks, e.g. Gorishniy et al. 2021)."""
    return int(np.clip(2 ** int(np.log2(max(n_samples, 128) / 128)), 128, 1024))


def auto_hidden_dim(n_samples):
    """Default width: the power of two nearest ``3 * sqrt(n_samples)``, in
    [32, 256] (32 for 100 samples, 64 for 400, 128 for 1,000-3,000, 256 from
    about 8,000), so that a small data set does not get a network of
    hundreds of thousands of parameters."""
    width = 2 ** round(np.log2(3.0 * np.sqrt(max(n_samples, 1))))
    return int(np.clip(width, 32, 256))

estimator_params = dataclasses.dataclass(kw_only=True, repr=False, eq=False)
"""Class decorator: turn annotated class attributes into ``__init__`` keywords."""


def merge_constraints(*classes, **extra):
    """Union of the ``_parameter_constraints`` of ``classes`` plus ``extra``."""
    merged = {}
    for klass in classes:
        merged.update(klass._parameter_constraints)
    merged.update(extra)
    return merged


def resolve_device(device):
    """``"auto"`` -> CUDA when available, else CPU; checks CUDA exists."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid torch device (e.g. 'cpu', 'cuda', "
            f"'cuda:1', 'auto'): {exc}"
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but PyTorch sees no CUDA device here; use "
            "device='cpu' or device='auto'."
        )
    return resolved


def _partial_fit_contract(fixes):
    """The ``partial_fit`` docstring paragraph shared by the flavours;
    ``fixes`` says what else the first call fixes (classes, targets)."""
    return f"""\
        One pass over the chunk, in mini-batches of ``batch_size`` in a seeded
        random order, with the AdamW state carried over from the previous
        call. The first call on an unfitted estimator fixes the modalities
        (names and widths), {fixes}, and the per-feature scaling statistics
        (``scaling``: median and interquartile range, or mean and standard
        deviation, of this first chunk; to use statistics of all the data,
        scale it yourself, e.g. with a ``StandardScaler`` fitted by its own
        ``partial_fit`` over the chunks or
        ``dask_ml.preprocessing.StandardScaler``, and set ``scaling=None``).
        ``hidden_dim="auto"`` means 128 and ``numerical_embedding="auto"``
        means ``None`` here: a stream's size is not known from its first
        chunk. Later calls must give the same modalities and
        column layout. No data is held out: ``early_stopping``,
        ``validation_fraction``, ``patience``, ``tol`` and ``max_epochs`` do not
        apply.
        On an estimator fitted with ``fit``, training continues from its
        network with a new optimizer state."""


@estimator_params
class BaseFusion(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator, ABC):
    """Abstract base class of the fusion estimators.

    Concrete estimators set ``_network`` (a :mod:`sklearn_mmfusion.nn` class
    called as ``_network(modality_dims, n_outputs, hidden_dim=, dropout=,
    missing=, modality_dropout=, **method_params)``) and ``_network_params``
    (names of their own parameters forwarded to it), and derive from one of
    the task flavours :class:`FusionClassifier`, :class:`FusionRegressor` or
    :class:`FusionEmbedder`.
    """

    modalities: Mapping | None = None
    hidden_dim: int | str = "auto"
    n_ensemble: int | str = "auto"
    dropout: float = DEFAULTS["dropout"]
    modality_dropout: float = DEFAULTS["modality_dropout"]
    missing: str = DEFAULTS["missing"]
    numerical_embedding: str | None = "auto"
    scaling: str | None = "robust"
    max_epochs: int = 200
    batch_size: int | str = "auto"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    early_stopping: bool = True
    validation_fraction: float = 0.1
    patience: int = 10
    tol: float = 1e-3
    device: str = "cpu"
    random_state: int | np.random.RandomState | None = None
    verbose: int = 0
    callbacks: list | None = None
    warm_start: bool = False

    _parameter_constraints = {
        "modalities": [Mapping, None],
        "hidden_dim": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_ensemble": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "modality_dropout": [Interval(Real, 0, 1, closed="left")],
        "missing": [StrOptions(set(MISSING_STRATEGIES))],
        "numerical_embedding": [StrOptions({"auto"} | {e for e in NUMERICAL_EMBEDDINGS if e}),
                                None],
        "scaling": [StrOptions({"robust", "standard"}), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, 1, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "warm_start": ["boolean"],
    }

    # -- what subclasses provide ------------------------------------------

    @property
    @abstractmethod
    def _network(self):
        """The :mod:`sklearn_mmfusion.nn` network class this method trains
        (a class attribute in the concrete estimators)."""

    # Names of the method's own parameters forwarded to ``_network``.
    _network_params = ()
    # Criterion of the task (``reduction="none"``); ``None`` for no head.
    _criterion = None
    _requires_y = True
    # How an ensemble combines its members' predictions (see
    # nn.FusionEnsemble); None: the flavour has no prediction to average,
    # so it trains one network.
    _ensemble_average = None

    @abstractmethod
    def _prepare_target(self, y):
        """``(target array or None, n_outputs, fitted target attributes)``."""

    @abstractmethod
    def _partial_target(self, y, classes, first):
        """As :meth:`_prepare_target`, for a chunk: the first call fixes what
        later calls are checked against."""

    def _network_kwargs(self, hidden_dim, numerical_embedding):
        """Keyword arguments of ``_network`` besides the dimensions."""
        params = {name: getattr(self, name) for name in self._network_params}
        return dict(
            hidden_dim=hidden_dim,
            dropout=self.dropout,
            missing=self.missing,
            modality_dropout=self.modality_dropout,
            numerical_embedding=numerical_embedding,
            **params,
        )

    def _member_init(self, schema, n_outputs, hidden_dim, numerical_embedding, dataset):
        """What ``_build_network`` needs to build one network for ``dataset``."""
        kwargs = self._network_kwargs(hidden_dim, numerical_embedding)
        if numerical_embedding == "piecewise":
            kwargs["bin_edges"] = piecewise_bin_edges(dataset.inputs, dataset.mask)
        return {"modality_dims": list(schema.widths), "n_outputs": int(n_outputs),
                "kwargs": kwargs}

    def _resolve_n_ensemble(self, n_samples):
        if self._ensemble_average is None:
            return 1
        if self.n_ensemble == "auto":
            return auto_n_ensemble(n_samples)
        return int(self.n_ensemble)

    def _resolve_batch_size(self, n_samples):
        if self.batch_size == "auto":
            return auto_batch_size(n_samples)
        return int(self.batch_size)

    def _resolve_numerical_embedding(self, n_samples):
        if self.numerical_embedding == "auto":
            return auto_numerical_embedding(n_samples)
        return self.numerical_embedding

    def _resolve_hidden_dim(self, n_samples):
        if self.hidden_dim == "auto":
            return auto_hidden_dim(n_samples)
        return int(self.hidden_dim)

    def _aux_weight(self):
        """Weight of the network's auxiliary loss; the parameter mixins of
        methods with one (contrastive terms) return their own parameter."""
        return 1.0

    def _criterion_kwargs(self):
        """Extra keyword arguments of the criterion (none here)."""
        return {}

    def _fitted_extras(self, arrays, mask):
        """Extra fitted attributes computed after training (none here)."""
        return {}

    # -- fit ----------------------------------------------------------------

    def _fit(self, X, y, sample_weight):
        self._check_fit_arguments(y)
        fitted_input, arrays, mask = FittedInput.learn(
            X, self.modalities, scaling=self.scaling, accept_sparse=True)
        target, n_outputs, target_attrs = self._prepare_target(y)
        n_samples = self._check_target_rows(target, mask.shape[0])
        weight = self._prepare_weight(sample_weight, n_samples, target_attrs)
        schema = fitted_input.schema
        seed = self._base_seed()
        validation, n_validation = self._validation_split(n_samples, target_attrs, seed)
        hidden_dim = self._resolve_hidden_dim(n_samples - n_validation)
        batch_size = self._resolve_batch_size(n_samples - n_validation)
        numerical_embedding = self._resolve_numerical_embedding(n_samples - n_validation)
        n_members = self._resolve_n_ensemble(n_samples)
        dataset = self._training_data(schema, arrays, mask, target, weight)  # once for all
        member_init = self._member_init(schema, n_outputs, hidden_dim, numerical_embedding,
                                        dataset)
        members, history = [], None
        for k in range(n_members):
            # Member 0 is the single network a fit with n_ensemble=1 trains;
            # the others differ by their seed (weights, dropout, batch order)
            # and share the validation rows.
            module, member_history = self._train_member(
                lambda: self._build_network(member_init), dataset,
                seed=(seed + 7919 * k) % np.iinfo(np.int32).max, batch_size=batch_size,
                validation=validation,
            )
            members.append(module)
            if k == 0:
                history = member_history
        if n_members > 1:
            network_init = {**member_init, "n_members": n_members,
                            "average": self._ensemble_average}
            module = self._build_network(network_init, members)
        else:
            network_init = member_init
        # Only now, with training done, do the fitted attributes change.
        self.__dict__.pop("_optimizer_state_", None)  # belonged to another network
        self._set_fitted(fitted_input, arrays, mask, module, network_init, history,
                         target_attrs)
        self.hidden_dim_ = hidden_dim
        self.batch_size_ = batch_size
        self.numerical_embedding_ = numerical_embedding
        self.n_ensemble_ = n_members
        self.early_stopping_ = validation is not None
        self.n_validation_ = n_validation
        return self

    def _check_fit_arguments(self, y):
        if y is None and self._requires_y:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        _check_callbacks(self.callbacks)

    def _split_input(self, X):
        """Any X form -> (arrays, mask), checked against the fit."""
        check_is_fitted(self, "module_")
        return self.fitted_input_.split(X, self, accept_sparse=True)

    def _base_seed(self):
        """One number from ``random_state`` that seeds a whole fit."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    @classmethod
    def _build_network(cls, init, members=None):
        """The network ``init`` describes: one, or a ``FusionEnsemble`` of
        ``init["n_members"]`` (new ones, or the trained ``members``)."""
        n_members = init.get("n_members", 1)
        if n_members == 1:
            return cls._network(init["modality_dims"], init["n_outputs"], **init["kwargs"])
        member_init = {k: v for k, v in init.items() if k not in ("n_members", "average")}
        if members is None:
            members = [cls._build_network(member_init) for _ in range(n_members)]
        return FusionEnsemble(members, average=init["average"])

    def _training_data(self, schema, arrays, mask, target, weight):
        """The encoded training data on the training device."""
        device = resolve_device(self.device)
        blocks, mask_all = schema.encode(arrays, mask)
        return TensorBatches(
            [as_input_tensor(b, device) for b in blocks],
            torch.from_numpy(mask_all).to(device),
            None if target is None else torch.from_numpy(target).to(device),
            torch.from_numpy(weight).to(device),
        )

    def _train_member(self, build_network, dataset, *, seed, batch_size, validation):
        """Train one network as ``fit`` does: ``(module, history)``.

        Without a validation split: ``max_epochs`` on all the rows, the
        learning rate decaying on a cosine toward 1%. With one: early stopping
        at a constant learning rate on the training rows, the best weights
        restored, then ``patience`` more epochs on all the rows (the held-out
        ones too) with the rate decaying on a cosine toward 1%. Early stopping
        alone stops where the loss stalls at the full rate (epoch 30-70 of a
        200-epoch cosine that has barely decayed) and never sees the held-out
        tenth; the anneal gains both, at ``patience`` epochs' cost.
        """
        if validation is None:
            module, history, _ = self._train(
                build_network, dataset, seed=seed, batch_size=batch_size,
                epochs=self.max_epochs, validation=None, cosine_schedule=True)
            return module, _with_phase(history, "schedule")
        anneal_epochs = min(self.patience, self.max_epochs // 2)
        module, history, optimizer_state = self._train(
            build_network, dataset, seed=seed, batch_size=batch_size,
            epochs=self.max_epochs - anneal_epochs, validation=validation)
        history = _with_phase(history, "early_stopping")
        if anneal_epochs == 0:
            return module, history
        trained = module.train()
        module, anneal_history, _ = self._train(
            lambda: trained, dataset, seed=seed + 1, batch_size=batch_size,
            epochs=anneal_epochs, validation=None, cosine_schedule=True,
            optimizer_state=optimizer_state, epochs_before=len(history))
        return module, history + _with_phase(anneal_history, "anneal")

    def _train(self, build_network, dataset, *, seed, batch_size, epochs, validation,
               cosine_schedule=False, optimizer_state=None, epochs_before=0):
        """Hand ``dataset`` (see ``_training_data``) to the training engine."""
        device = resolve_device(self.device)
        return train(
            build_network, dataset, criterion=self._criterion,
            criterion_kwargs=self._criterion_kwargs(), seed=seed, device=device,
            epochs=epochs, lr=self.lr, weight_decay=self.weight_decay,
            batch_size=batch_size, validation=validation, patience=self.patience,
            tol=self.tol,
            cosine_schedule=cosine_schedule, calibrated=self.missing == "calibrated",
            callbacks=self.callbacks, verbose=self.verbose, aux_weight=self._aux_weight(),
            optimizer_state=optimizer_state, epochs_before=epochs_before,
        )

    def _set_fitted(self, fitted_input, arrays, mask, module, network_init, history,
                    target_attrs, *, first=True, optimizer_state=None):
        """Set the fitted attributes once a training pass has succeeded.

        ``first``: a new network (``fit``, the first ``partial_fit``), whose
        input and target attributes are set; otherwise the epochs are added
        to the history of the fitted network.
        """
        schema = fitted_input.schema
        previous = 0 if first else self.n_iter_
        epochs = [
            {**{k: v for k, v in epoch.items() if k != "batches"}, "epoch": previous + i + 1}
            for i, epoch in enumerate(history)
        ]
        self.schema_ = schema
        self.module_ = module
        if optimizer_state is not None:
            self._optimizer_state_ = optimizer_state
        # What rebuilds the network when a pickle (or skops file) is loaded.
        self._network_init_ = network_init
        self.history_ = History(epochs if first else list(self.history_) + epochs)
        self.n_iter_ = previous + len(epochs)
        if first:
            self.fitted_input_ = fitted_input
            fitted_input.set_attributes(self)
            for name, value in target_attrs.items():
                setattr(self, name, value)
            self._n_features_out = int(
                self._forward(arrays, mask, _embedding, rows=slice(0, 1)).shape[1]
            )
        for name, value in self._fitted_extras(arrays, mask).items():
            setattr(self, name, value)

    def _validation_split(self, n_samples, target_attrs, seed):
        """``(train_split, n_validation)``: a skorch ``train_split`` holding out
        ``validation_fraction``, or ``(None, 0)`` without early stopping or
        when the held-out set would have fewer than ``MIN_VALIDATION_SAMPLES``."""
        if not self.early_stopping:
            return None, 0
        n_valid = int(round(self.validation_fraction * n_samples))
        if n_valid < MIN_VALIDATION_SAMPLES or n_samples - n_valid < 1:
            if self.verbose:
                print(
                    f"{type(self).__name__}: {n_valid} validation samples are too few "
                    f"for early stopping (< {MIN_VALIDATION_SAMPLES}); training all "
                    f"{self.max_epochs} epochs on all {n_samples} samples."
                )
            return None, 0
        stratify = target_attrs.get("_stratify")
        if stratify is not None:
            counts = np.bincount(stratify)
            n_classes = len(counts)
            if counts.min() < 2 or n_valid < n_classes or n_samples - n_valid < n_classes:
                stratify = None
        train_idx, valid_idx = train_test_split(
            np.arange(n_samples), test_size=n_valid, stratify=stratify, random_state=seed
        )

        def split(dataset, y=None, **fit_params):
            return dataset.subset(train_idx), dataset.subset(valid_idx)

        return split, n_valid

    def _prepare_weight(self, sample_weight, n_samples, target_attrs):
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, np.empty((n_samples, 0)), ensure_non_negative=True
            )
        extra = target_attrs.pop("_class_sample_weight", None)
        weight = np.ones(n_samples) if sample_weight is None else sample_weight
        if extra is not None:
            weight = weight * extra
        return weight.astype(np.float32)

    def _check_target_rows(self, target, n_samples):
        """``n_samples``, once the target is checked to have as many rows."""
        if target is not None and target.shape[0] != n_samples:
            raise ValueError(
                f"X has {n_samples} samples but y has {target.shape[0]}; they must match."
            )
        return n_samples

    # -- incremental training (partial_fit, warm_start) --------------------------

    def _partial_fit(self, X, y, classes, sample_weight):
        """One pass over the chunk ``(X, y)``; the first call sets everything up.

        The first call (on an unfitted estimator) fixes the schema (modality
        names, widths and scaling statistics, from this chunk), the classes or
        target scaling, and initialises the network. Later calls check the
        chunk against them and continue training the same network with the
        same AdamW state.
        """
        self._check_fit_arguments(y)
        first = not hasattr(self, "module_")
        if first:
            fitted_input, arrays, mask = FittedInput.learn(
                X, self.modalities, scaling=self.scaling, accept_sparse=True)
        else:
            fitted_input = self.fitted_input_
            arrays, mask = self._split_input(X)
        target, n_outputs, target_attrs = self._partial_target(y, classes, first)
        self._check_target_rows(target, mask.shape[0])
        weight = self._prepare_weight(sample_weight, mask.shape[0], target_attrs)
        self._train_more(fitted_input, arrays, mask, target, weight, n_outputs, target_attrs,
                         epochs=1, validation=None, first=first,
                         batch_size=self._stream_batch_size(), phase="partial_fit")
        return self

    def _warm_fit(self, X, y, sample_weight):
        """``fit`` with ``warm_start=True`` on a fitted estimator: more epochs
        of the fitted network (same schema, classes and optimizer state) on
        ``X``, with early stopping as in ``fit`` but at the current learning
        rate and without the anneal: the continued network keeps its
        optimizer's state."""
        self._check_fit_arguments(y)
        arrays, mask = self._split_input(X)
        target, n_outputs, target_attrs = self._partial_target(y, None, False)
        n_samples = self._check_target_rows(target, mask.shape[0])
        weight = self._prepare_weight(sample_weight, n_samples, target_attrs)
        stratify = target if target is not None and target.dtype == np.int64 else None
        validation, n_validation = self._validation_split(
            n_samples, {"_stratify": stratify}, self._chunk_seed())
        self._train_more(self.fitted_input_, arrays, mask, target, weight, n_outputs,
                         target_attrs, epochs=self.max_epochs, validation=validation,
                         first=False, phase="warm_start",
                         batch_size=self._resolve_batch_size(n_samples - n_validation))
        return self

    def _train_more(self, fitted_input, arrays, mask, target, weight, n_outputs,
                    target_attrs, *, epochs, validation, first, batch_size, phase):
        """Train a new (``first``) network or a copy of the fitted one for
        ``epochs`` passes, then set the fitted attributes (not before: the
        fitted network stays as it was if the pass fails)."""
        schema = fitted_input.schema
        dataset = self._training_data(schema, arrays, mask, target, weight)
        # A fitted network (an ensemble too) keeps its own description; a new
        # one takes its bin edges, if any, from this first chunk.
        network_init = (
            self._member_init(schema, n_outputs, self._stream_hidden_dim(),
                              self._stream_numerical_embedding(), dataset)
            if first else self._network_init_)
        build = ((lambda: self._build_network(network_init)) if first
                 else (lambda: copy.deepcopy(self.module_)))
        state = None if first else getattr(self, "_optimizer_state_", None)
        module, history, optimizer_state = self._train(
            build, dataset,
            seed=self._chunk_seed(), batch_size=batch_size,
            epochs=epochs, validation=validation,
            optimizer_state=None if state is None else _optimizer_state_to_torch(state),
            epochs_before=0 if first else self.n_iter_,
        )
        history = _with_phase(history, phase)
        self._set_fitted(fitted_input, arrays, mask, module, network_init, history,
                         target_attrs, first=first, optimizer_state=optimizer_state)
        self.hidden_dim_ = self._stream_hidden_dim()
        self.numerical_embedding_ = network_init["kwargs"]["numerical_embedding"]
        self.batch_size_ = batch_size
        self.n_ensemble_ = network_init.get("n_members", 1)
        self.early_stopping_ = False
        self.n_validation_ = 0

    def _stream_hidden_dim(self):
        """Width for incremental training: a fitted network keeps its own; a
        new one takes ``hidden_dim``, where ``"auto"`` means 128, since the
        size of a stream is not known from its first chunk."""
        if hasattr(self, "hidden_dim_"):
            return self.hidden_dim_
        return 128 if self.hidden_dim == "auto" else int(self.hidden_dim)

    def _stream_numerical_embedding(self):
        """Embedding of a new network for incremental training: ``"auto"``
        means ``None`` (a stream is taken to be large: its size is not known
        from its first chunk)."""
        return None if self.numerical_embedding == "auto" else self.numerical_embedding

    def _stream_batch_size(self):
        """Batch for incremental training: ``"auto"`` means 128, since the size
        of a stream is not known from one chunk."""
        return 128 if self.batch_size == "auto" else int(self.batch_size)

    def _chunk_seed(self):
        """A different seed for every pass: one number from ``random_state``
        plus the epochs trained so far, so that equal chunks are not shuffled
        (nor dropped out) alike, and a seeded run is reproducible."""
        return (self._base_seed() + getattr(self, "n_iter_", 0)) % np.iinfo(np.int32).max

    # -- predict / transform -------------------------------------------------

    def _forward(self, arrays, mask, compute, rows=slice(None)):
        """Run the trained network over ``rows`` in batches.

        ``compute(module, inputs, mask) -> Tensor`` picks what to return, e.g.
        ``module(inputs, mask).prediction``.
        """
        module = self.module_
        device = next(module.parameters()).device
        n = mask[rows].shape[0]
        offset = rows.start or 0
        result = None
        with torch.inference_mode(), float32_default():
            for chunk in iter_row_chunks(n, PREDICT_BATCH_ROWS):
                part = slice(offset + chunk.start, offset + chunk.stop)
                blocks, chunk_mask = self.schema_.encode(arrays, mask, part)
                out = compute(
                    module,
                    [dense_input(b, device) for b in blocks],
                    torch.from_numpy(chunk_mask).to(device),
                )
                values = out.float().cpu().numpy()
                if result is None:
                    result = np.empty((n,) + values.shape[1:], dtype=np.float32)
                result[chunk] = values
        return result

    def _predict_raw(self, X, compute=None):
        arrays, mask = self._split_input(X)
        return self._forward(arrays, mask, compute or _prediction)

    def transform(self, X):
        """Fused representation of each sample.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
            Input in any accepted form; missing modalities as all-NaN rows.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features_out), float32
        """
        return self._predict_raw(X, _embedding)

    def __getstate__(self):
        # A copy: BaseEstimator returns the instance's own __dict__ here.
        state = dict(super().__getstate__())
        module = state.get("module_")
        if isinstance(module, torch.nn.Module) and "_network_init_" in state:
            # The weights travel as numpy arrays, brought to CPU first: the
            # pickle holds no torch tensor, so it loads on a machine without
            # the training device (no GPU) and skops.io can read it.
            state["module_"] = {
                _WEIGHTS: {
                    name: value.detach().cpu().numpy()
                    for name, value in module.state_dict().items()
                }
            }
        if "_optimizer_state_" in state:
            state["_optimizer_state_"] = _optimizer_state_to_numpy(state["_optimizer_state_"])
        return state

    def __setstate__(self, state):
        module = state.get("module_")
        if isinstance(module, Mapping) and _WEIGHTS in module:
            state = dict(state, module_=self._restore_network(
                state["_network_init_"], module[_WEIGHTS]
            ))
        super().__setstate__(state)

    @classmethod
    def _restore_network(cls, init, weights):
        """The trained network, on CPU, from ``__getstate__``'s arrays."""
        # Its random initial weights are overwritten at once: draw them from a
        # forked RNG so that loading leaves the caller's torch RNG as it was.
        with TRAINING_LOCK, torch.random.fork_rng(devices=[]), float32_default():
            module = cls._build_network(init)
        module.load_state_dict(
            {name: torch.as_tensor(np.array(value)) for name, value in weights.items()}
        )
        return module.eval()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.dict = True
        tags.input_tags.sparse = True
        if tags.transformer_tags is not None:
            # transform returns float32 whatever the input dtype.
            tags.transformer_tags.preserves_dtype = []
        return tags


@estimator_params
class FusionClassifier(ClassifierMixin, BaseFusion):
    """Abstract classification flavour: cross-entropy, labels of any type,
    ``predict_proba``."""

    class_weight: dict | str | None = None
    label_smoothing: float = 0.1

    _parameter_constraints = merge_constraints(
        BaseFusion,
        class_weight=[StrOptions({"balanced"}), dict, None],
        label_smoothing=[Interval(Real, 0, 1, closed="left")],
    )
    _criterion = torch.nn.CrossEntropyLoss
    _ensemble_average = "probability"

    def _criterion_kwargs(self):
        return {"label_smoothing": self.label_smoothing}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the fusion classifier.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
            Training data; a sample's missing modality is an all-NaN row.
        y : array-like of shape (n_samples,)
            Class labels of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.

        Returns
        -------
        self : object
        """
        if self.warm_start and hasattr(self, "module_"):
            return self._warm_fit(X, y, sample_weight)
        return self._fit(X, y, sample_weight)

    @Substitution(partial_fit_contract=_partial_fit_contract(
        "the classes (``classes``, required on the first call)"))
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one pass over a chunk of the data (incremental learning).

%(partial_fit_contract)s

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
            A chunk of training data; a sample's missing modality is an all-NaN row.
        y : array-like of shape (n_samples,)
            Its class labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole data set. Required on the first call
            (a chunk may lack some classes); later calls may omit it or must
            repeat it.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.

        Returns
        -------
        self : object

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_mmfusion import ConcatFusionClassifier
        >>> from sklearn_mmfusion.datasets import make_multimodal_classification
        >>> X, y = make_multimodal_classification(n_samples=400, random_state=0)
        >>> clf = ConcatFusionClassifier(hidden_dim=16, random_state=0)
        >>> for rows in np.array_split(np.arange(400), 4):
        ...     clf = clf.partial_fit(X[rows], y[rows], classes=[0, 1])
        >>> clf.n_iter_
        4
        """
        return self._partial_fit(X, y, classes, sample_weight)

    def _partial_target(self, y, classes, first):
        """Codes of ``y`` in the classes fixed by the first call."""
        y = _check_labels(y)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError(
                    f"classes must be passed on the first call to partial_fit of "
                    f"{type(self).__name__} (every class of the whole data set; a "
                    "chunk may lack some)."
                )
            known = np.unique(_check_labels(classes))
            if len(known) < 2:
                raise ValueError(
                    f"classes={list(known)!r} has fewer than 2 classes; "
                    f"{type(self).__name__} needs at least 2."
                )
        else:
            known = self.classes_
            if classes is not None and not np.array_equal(np.unique(classes), known):
                raise ValueError(
                    f"classes={list(np.unique(classes))!r} differs from the classes "
                    f"of the first call to partial_fit (or of fit), {list(known)!r}."
                )
        unknown = np.setdiff1d(np.unique(y), known)
        if unknown.size:
            raise ValueError(
                f"y has labels {unknown[:5].tolist()} that are not in classes "
                f"{known.tolist()}."
            )
        attrs = {"classes_": known}
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the class counts of the whole data "
                "set, which partial_fit does not see; pass a dict of class weights."
            )
        if self.class_weight is not None:
            attrs["_class_sample_weight"] = compute_sample_weight(self.class_weight, y)
        codes = np.searchsorted(known, y).astype(np.int64)
        return codes, len(known), attrs

    def _prepare_target(self, y):
        y = _check_labels(y)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        classes = encoder.classes_
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {classes[0]!r}."
            )
        codes = encoder.transform(y)
        attrs = {"classes_": classes, "_stratify": codes}
        if self.class_weight is not None:
            # On the original labels, so that a dict is keyed as the user wrote it.
            attrs["_class_sample_weight"] = compute_sample_weight(self.class_weight, y)
        return codes.astype(np.int64), len(classes), attrs

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        logits = self._predict_raw(X)
        return torch.softmax(torch.from_numpy(logits).double(), dim=1).numpy()

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Computed from the logits with a log-softmax, so it stays finite where
        ``np.log(predict_proba(X))`` would underflow to ``-inf``.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        logits = self._predict_raw(X)
        return torch.log_softmax(torch.from_numpy(logits).double(), dim=1).numpy()

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits = self._predict_raw(X)
        return self.classes_[np.argmax(logits, axis=1)]


@estimator_params
class FusionRegressor(RegressorMixin, BaseFusion):
    """Abstract regression flavour: squared error on standardised targets,
    1-D or 2-D ``y``."""

    _parameter_constraints = merge_constraints(BaseFusion)
    _criterion = torch.nn.MSELoss
    _ensemble_average = "mean"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the fusion regressor.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
            Training data; a sample's missing modality is an all-NaN row.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets; standardised internally, predictions are on the original scale.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        if self.warm_start and hasattr(self, "module_"):
            return self._warm_fit(X, y, sample_weight)
        return self._fit(X, y, sample_weight)

    @Substitution(partial_fit_contract=_partial_fit_contract(
        "the number of targets and their standardisation (mean and standard "
        "deviation of the first chunk's ``y``)"))
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one pass over a chunk of the data (incremental learning).

%(partial_fit_contract)s

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
            A chunk of training data; a sample's missing modality is an all-NaN row.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets, shaped as in the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._partial_fit(X, y, None, sample_weight)

    def _partial_target(self, y, classes, first):
        """``y`` standardised with the statistics of the first call."""
        target, n_outputs, attrs = self._prepare_target(y)
        if first:
            return target, n_outputs, attrs
        y_ndim = attrs["_y_ndim"]
        if y_ndim != self._y_ndim or n_outputs != len(self._y_mean):
            raise ValueError(
                f"y has shape {np.shape(y)}, but the first call had "
                f"{len(self._y_mean)} target(s) as a {self._y_ndim}-D array."
            )
        raw = target * attrs["_y_scale"] + attrs["_y_mean"]
        return ((raw - self._y_mean) / self._y_scale).astype(np.float32), n_outputs, {}

    def _prepare_target(self, y):
        if np.iscomplexobj(np.asarray(y)):
            raise ValueError(
                f"y has complex values; {type(self).__name__} needs real-valued targets."
            )
        try:
            y = check_array(
                y, ensure_2d=False, dtype=np.float64, input_name="y", ensure_min_samples=1
            )
        except (TypeError, ValueError) as exc:
            if "convert" not in str(exc):
                raise
            raise ValueError(
                f"y must be numeric for {type(self).__name__} (a regressor): {exc}. "
                "For class labels use the Classifier flavour."
            ) from None
        if y.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D; got shape {y.shape}.")
        y2 = y.reshape(len(y), -1)
        mean = y2.mean(axis=0)
        scale = y2.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        attrs = {"_y_mean": mean, "_y_scale": scale, "_y_ndim": y.ndim}
        return ((y2 - mean) / scale).astype(np.float32), y2.shape[1], attrs

    def predict(self, X):
        """Predicted targets, shaped like the ``y`` seen at fit.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        y = self._predict_raw(X).astype(np.float64) * self._y_scale + self._y_mean
        return y.ravel() if self._y_ndim == 1 else y


@estimator_params
class FusionEmbedder(BaseFusion):
    """Abstract self-supervised flavour: no target, no head; the network's
    auxiliary loss (e.g. a contrastive one) is the whole loss, and
    ``transform`` gives the learned embedding."""

    _parameter_constraints = merge_constraints(BaseFusion)
    _requires_y = False

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the embedding from ``X`` alone.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
            Training data; a sample's missing modality is an all-NaN row.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        if self.warm_start and hasattr(self, "module_"):
            return self._warm_fit(X, None, None)
        return self._fit(X, None, None)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train the embedding for one pass over a chunk of ``X``.

        The contract of :meth:`FusionClassifier.partial_fit`: the first call
        fixes the modalities and the scaling statistics (from this chunk) and
        initialises the network; each call is one pass, with the AdamW state
        carried over; nothing is held out.

        Parameters
        ----------
        X : dict of array-like, ModalityDict, or array-like of shape (n_samples, n_features)
            A chunk of data.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        return self._partial_fit(X, None, None, None)

    def _prepare_target(self, y):
        return None, 0, {}

    def _partial_target(self, y, classes, first):
        return None, 0, {}


# Key of the weights in the pickled state of ``module_``.
_WEIGHTS = "state_dict"


def _check_callbacks(callbacks):
    """Every entry must be a skorch callback, before any training starts."""
    for item in callbacks or []:
        named = isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
        callback = item[1] if named else item
        if not (
            isinstance(callback, Callback)
            or (isinstance(callback, type) and issubclass(callback, Callback))
        ):
            raise TypeError(
                "callbacks must hold skorch callbacks (skorch.callbacks.Callback "
                f"instances or (name, callback) pairs); got {item!r} of type "
                f"{type(item).__name__}."
            )


def normalized_mean(per_sample):
    """Column means of a non-negative (n, M) array, scaled to sum to 1."""
    mean = per_sample.astype(float).mean(axis=0)
    total = mean.sum()
    return mean / total if total > 0 else mean


def _prediction(module, inputs, mask):
    return module(inputs, mask).prediction


def _embedding(module, inputs, mask):
    # An ensemble's embedding is its first member's: run only that one.
    return first_member(module)(inputs, mask).embedding


def _check_labels(y):
    """1-D labels with no missing value (NaN/None), as scikit-learn expects."""
    y = column_or_1d(np.asarray(y, dtype=object) if _has_none(y) else y, warn=True)
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(
            f"y contains NaN at rows {np.flatnonzero(np.isnan(y))[:5].tolist()}; "
            "drop or label those samples."
        )
    if y.dtype == object:
        missing = [i for i, v in enumerate(y) if v is None or (isinstance(v, float) and v != v)]
        if missing:
            raise ValueError(
                f"y contains missing labels (None/NaN) at rows {missing[:5]}; drop or "
                "label those samples."
            )
    return y


def _has_none(y):
    return isinstance(y, (list, tuple)) and any(v is None for v in y)


def _optimizer_state_to_numpy(state):
    """An optimizer ``state_dict`` with numpy arrays for tensors and lists for
    the per-parameter dict (no torch object, no int dict keys: pickle and skops
    store it as they store the weights)."""
    if isinstance(state, list):  # already converted
        return state
    per_param = [
        [int(index), {k: (v.detach().cpu().numpy() if torch.is_tensor(v) else v)
                      for k, v in values.items()}]
        for index, values in state["state"].items()
    ]
    return [per_param, copy.deepcopy(state["param_groups"])]


def _optimizer_state_to_torch(state):
    """Inverse of :func:`_optimizer_state_to_numpy` (a torch state passes through)."""
    if isinstance(state, Mapping):
        return state
    per_param, groups = state
    return {
        "state": {
            index: {k: (torch.as_tensor(np.array(v)) if isinstance(v, np.ndarray) else v)
                    for k, v in values.items()}
            for index, values in per_param
        },
        "param_groups": copy.deepcopy(groups),
    }
