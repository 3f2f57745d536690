"""The skorch side: a net that trains any fusion network on pre-built tensors.

skorch's default loop collates every batch from a ``Dataset`` sample by sample
and copies it to the device. Here the whole training set is converted to
tensors once (on the training device when it fits), and each batch is a
tensor index into them: no per-sample Python, no per-batch conversions.
"""

import contextlib
import functools
import inspect
import math
import threading

import numpy as np
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, LRScheduler

__all__ = [
    "BatchIterator",
    "FusionNet",
    "SparseRows",
    "RecordLearningRate",
    "RefreshCalibration",
    "TensorBatches",
    "TrainingDivergedError",
    "train",
]

# Training draws from torch's process-wide RNG (initial weights, dropout,
# shuffling); two fits running in threads of one process (joblib's threading
# backend, a dask worker with several threads) would interleave their draws and
# lose reproducibility. Fits in one process therefore train one at a time;
# separate processes (joblib's default) still run in parallel.
TRAINING_LOCK = threading.RLock()


@contextlib.contextmanager
def float32_default():
    """Run with torch's default dtype float32, whatever the caller set.

    The networks are float32 and some of their operations create tensors of
    the default dtype: a caller's ``torch.set_default_dtype(torch.float64)``
    would otherwise mix dtypes. The caller's default is restored on exit.
    """
    previous = torch.get_default_dtype()
    if previous == torch.float32:
        yield
        return
    torch.set_default_dtype(torch.float32)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


class SparseRows:
    """A sparse modality kept as a scipy CSR matrix, densified batch by batch.

    The whole data set stays sparse (memory proportional to its non-zeros);
    only the rows of one batch become a dense tensor, right before the
    network's first layer. Indexing takes what :class:`TensorBatches` gives
    (an index tensor or a slice) and returns a float32 tensor on ``device``.
    """

    def __init__(self, matrix, device):
        self.matrix = sp.csr_array(matrix, dtype=np.float32)
        self.device = torch.device(device)

    @property
    def shape(self):
        return self.matrix.shape

    def __getitem__(self, rows):
        if isinstance(rows, torch.Tensor):
            rows = rows.cpu().numpy()
        dense = self.matrix[rows].toarray()
        return torch.from_numpy(dense).to(self.device)

    def subset(self, rows):
        if isinstance(rows, torch.Tensor):
            rows = rows.cpu().numpy()
        return SparseRows(self.matrix[rows], self.device)


def as_input_tensor(block, device):
    """An encoded block as what the networks read: a dense float32 tensor on
    ``device``, or :class:`SparseRows` for a sparse block."""
    if sp.issparse(block):
        return SparseRows(block, device)
    return torch.from_numpy(block).to(device)


def dense_input(block, device):
    """An encoded block (dense or sparse) as one dense tensor on ``device``."""
    if sp.issparse(block):
        block = block.toarray()
    return torch.from_numpy(block).to(device)


class TensorBatches(torch.utils.data.Dataset):
    """A data set held as tensors and batched by indexing.

    Parameters
    ----------
    inputs : list of Tensor of shape (n_samples, d_m)
    mask : bool Tensor of shape (n_samples, M)
    target : Tensor of shape (n_samples, ...) or None
    weight : Tensor of shape (n_samples,)
    """

    def __init__(self, inputs, mask, target, weight):
        self.inputs = list(inputs)
        self.mask = mask
        self.target = target
        self.weight = weight

    def __len__(self):
        return self.mask.shape[0]

    def __getitem__(self, rows):
        """``(X, y)`` for ``rows`` (an index tensor or a slice)."""
        X = {
            "inputs": [x[rows] for x in self.inputs],
            "mask": self.mask[rows],
            "weight": self.weight[rows],
        }
        y = self.target[rows] if self.target is not None else None
        return X, y

    def subset(self, rows):
        rows = torch.as_tensor(rows, device=self.mask.device)
        target = self.target[rows] if self.target is not None else None
        return TensorBatches(
            [x.subset(rows) if isinstance(x, SparseRows) else x[rows] for x in self.inputs],
            self.mask[rows], target, self.weight[rows],
        )


class BatchIterator:
    """Yield mini-batches of a :class:`TensorBatches` by tensor indexing.

    Takes the place of skorch's ``DataLoader`` (``iterator_train`` /
    ``iterator_valid``). Shuffling draws one permutation per epoch from
    ``generator``, so a seeded generator makes the batch order reproducible.
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator)
            order = order.to(self.dataset.mask.device)
            for start in range(0, n, self.batch_size):
                yield self.dataset[order[start : start + self.batch_size]]
        else:
            for start in range(0, n, self.batch_size):
                yield self.dataset[start : start + self.batch_size]


class TrainingDivergedError(FloatingPointError):
    """The training loss became NaN or infinite."""


def diverged_error(epoch, what, lr):
    """The :class:`TrainingDivergedError` for ``what`` going wrong at ``epoch``."""
    return TrainingDivergedError(
        f"Training diverged at epoch {epoch}: {what}. Use a smaller learning "
        f"rate (lr={lr:g} now, try lr={lr / 10:g}), or check the input scale "
        "(scaling='robust')."
    )


class StopOnDivergence(Callback):
    """Stop training with a clear error as soon as an epoch's loss is not finite.

    The check reads the batch losses skorch already recorded, so it costs no
    device synchronisation of its own.
    """

    def on_epoch_end(self, net, **kwargs):
        epoch = net.history[-1]
        for key in ("train_loss", "valid_loss"):
            losses = [batch[key] for batch in epoch["batches"] if key in batch]
            if losses and not np.all(np.isfinite(losses)):
                bad = next(loss for loss in losses if not np.isfinite(loss))
                raise diverged_error(
                    epoch["epoch"], f"the {key.replace('_', ' ')} became {bad}", net.lr
                )


class RefreshCalibration(Callback):
    """Fit the CalMRL calibrators of ``missing="calibrated"`` networks by EM.

    Before the first epoch: ``warmup_iter`` EM iterations on the initial
    encodings; after each epoch: ``epoch_iter`` more on the current ones.
    Acts on every submodule with a ``refresh_calibration`` method, using the
    training split.
    """

    def __init__(self, warmup_iter=10, epoch_iter=1):
        self.warmup_iter = warmup_iter
        self.epoch_iter = epoch_iter

    def _refresh(self, net, dataset, max_iter):
        for module in net.module_.modules():
            if hasattr(module, "refresh_calibration"):
                module.refresh_calibration(dataset.inputs, dataset.mask, max_iter=max_iter)

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        if len(net.history) == 1:  # the first epoch has just been recorded
            self._refresh(net, dataset_train, self.warmup_iter)

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        self._refresh(net, dataset_train, self.epoch_iter)


class RecordLearningRate(Callback):
    """Record each epoch's learning rate as ``event_lr``, where no scheduler
    does (a constant-rate run), so that every epoch of ``history_`` has one."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("event_lr", net.optimizer_.param_groups[0]["lr"])


@functools.lru_cache(maxsize=None)
def _takes_aux_flag(module_class):
    """Whether ``module_class.forward`` has a ``with_aux_loss`` keyword."""
    return "with_aux_loss" in inspect.signature(module_class.forward).parameters


class FusionNet(NeuralNet):
    """A skorch ``NeuralNet`` for networks called as ``module(inputs, mask)``.

    The module returns a :class:`~sklearn_mmfusion.nn.FusionOutput`. The loss
    is the sample-weighted mean of the criterion (built with
    ``reduction="none"``) on ``prediction``, plus ``aux_weight * aux_loss``
    when the network reports an auxiliary loss (e.g. a contrastive term).

    Parameters
    ----------
    aux_weight : float, default=1.0
        Weight of the network's auxiliary loss.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(self, *args, aux_weight=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.aux_weight = aux_weight

    def initialize_criterion(self):
        if self.criterion is None:
            # Self-supervised training: the network's auxiliary loss is the
            # whole loss, there is no prediction to score.
            self.criterion_ = None
            return self
        return super().initialize_criterion()

    def infer(self, x, **fit_params):
        if (not self.module_.training and self.criterion_ is None
                and _takes_aux_flag(type(self.module_))):
            # Validation pass (eval mode) of a self-supervised network: its
            # auxiliary loss, which it computes only in training mode
            # (ConFu), is its whole loss, so early stopping watches it. With
            # a supervised head, early stopping watches the task loss alone,
            # as for every network: the contrastive term, 97% of ConFu's
            # loss on mfeat, kept training until the embeddings stopped
            # aligning, long after the predictions had.
            return self.module_(x["inputs"], x["mask"], with_aux_loss=True)
        return self.module_(x["inputs"], x["mask"])

    # The callbacks see each batch's ``y_pred`` as the prediction tensor, not
    # the FusionOutput: skorch's scoring callbacks cache it and move it with
    # ``to_device``, which rebuilds a tuple from its items alone (a NamedTuple
    # with required fields cannot be), then score it through ``predict``.
    def train_step_single(self, batch, **fit_params):
        step = super().train_step_single(batch, **fit_params)
        return {**step, "y_pred": _scored_output(step["y_pred"])}

    def validation_step(self, batch, **fit_params):
        step = super().validation_step(batch, **fit_params)
        return {**step, "y_pred": _scored_output(step["y_pred"])}

    def predict(self, X):
        """Class codes (argmax of the probabilities) for a classification
        network; what :meth:`predict_proba` gives otherwise. Used by skorch's
        scoring callbacks (e.g. ``EpochScoring("accuracy")``), which compare it
        with the encoded targets."""
        proba = self.predict_proba(X)
        if isinstance(self.criterion_, torch.nn.CrossEntropyLoss):
            return proba.argmax(axis=1)
        return proba

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = None
        if y_pred.prediction is not None:
            per_sample = self.criterion_(y_pred.prediction, y_true)
            if per_sample.dim() > 1:  # multi-output regression
                per_sample = per_sample.mean(dim=1)
            weight = X["weight"]
            loss = (per_sample * weight).sum() / weight.sum().clamp_min(1e-12)
        if y_pred.aux_loss is not None and self.aux_weight:
            aux = self.aux_weight * y_pred.aux_loss
            loss = aux if loss is None else loss + aux
        if loss is None:
            # Nothing to learn from in this batch (e.g. a self-supervised batch
            # with fewer than two complete rows): a zero that keeps the graph.
            loss = y_pred.embedding.sum() * 0.0
        return loss


def _scored_output(output):
    """What the callbacks get as a batch's ``y_pred``: the prediction, or the
    embedding of a network without a head."""
    return output.embedding if output.prediction is None else output.prediction


def fused_adamw_supported(device):
    """AdamW's fused kernel: one kernel for all parameters instead of a Python
    loop over them (about 20% of a CPU step for our networks). CUDA has had it
    for long; CPU since torch 2.4."""
    if device.type == "cuda":
        return True
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    return device.type == "cpu" and (major, minor) >= (2, 4)


def train(build_network, dataset, *, criterion, seed, device, epochs, lr, weight_decay,
          batch_size, criterion_kwargs=None, validation=None, patience=10, tol=1e-3,
          cosine_schedule=False, calibrated=False, callbacks=(), verbose=0,
          aux_weight=1.0, optimizer_state=None, epochs_before=0):
    """Train a fusion network on ``dataset``: the one training engine.

    ``fit``, ``partial_fit`` and warm-started fits all come here; they differ
    only in what they pass.

    Parameters
    ----------
    build_network : callable
        Returns the network to train (a new one, or a copy of a fitted one).
        Called under the seeded, forked RNG, so its initial weights follow
        ``seed`` and the caller's global torch RNG is left as it was.
    dataset : TensorBatches
    criterion : torch loss class or None
        Built with ``reduction="none"`` and ``criterion_kwargs``; ``None`` for
        a network without a head (its auxiliary loss is the whole loss).
    seed : int
        Seeds initial weights, dropout and the batch order.
    device : torch.device
    epochs : int
        Passes over the data (the most, with ``validation``).
    lr, weight_decay : float
        AdamW's.
    batch_size : int
    validation : callable or None
        skorch ``train_split`` holding out the validation rows; early stopping
        (``patience`` epochs without a relative improvement of ``tol`` on the
        last epoch that counted, whose weights are restored) watches their
        loss.
    cosine_schedule : bool
        Cosine decay of the learning rate over ``epochs``, to 1% of ``lr``.
    calibrated : bool
        Refresh the CalMRL calibrators by EM (``missing="calibrated"``).
    callbacks : sequence of skorch callbacks
        Run after the engine's own, except early stopping, which runs last.
    verbose : int
    aux_weight : float
        Weight of the network's auxiliary loss.
    optimizer_state : dict or None
        AdamW state to continue from (``partial_fit``, ``warm_start``).
    epochs_before : int
        Epochs the network has already trained, for error messages.

    Returns
    -------
    module : torch.nn.Module
        The trained network, in eval mode.
    history : skorch.history.History
    optimizer_state : dict
        AdamW's ``state_dict`` after training.
    """
    engine_callbacks = [("stop_on_divergence", StopOnDivergence())]
    if cosine_schedule:
        # The last epochs of a run take small steps (fit's whole run without
        # early stopping, or its anneal after early stopping).
        engine_callbacks.append(("lr_schedule", LRScheduler(
            policy=torch.optim.lr_scheduler.CosineAnnealingLR,
            T_max=epochs, eta_min=lr * 0.01,
        )))
    else:
        engine_callbacks.append(("record_lr", RecordLearningRate()))
    if calibrated:
        engine_callbacks.append(("refresh_calibration", RefreshCalibration()))
    # The user's callbacks run before early stopping, whose stop (raised at
    # the end of an epoch) would otherwise skip them on the last epoch.
    engine_callbacks += list(callbacks or [])
    if validation is not None:
        engine_callbacks.append(("early_stopping", EarlyStopping(
            monitor="valid_loss", patience=patience, threshold=tol,
            threshold_mode="rel", load_best=True)))
    criterion_params = {} if criterion is None else {
        "criterion__reduction": "none",
        **{f"criterion__{k}": v for k, v in (criterion_kwargs or {}).items()},
    }
    fork_devices = [device.index or 0] if device.type == "cuda" else []
    with TRAINING_LOCK, torch.random.fork_rng(devices=fork_devices), float32_default():
        torch.manual_seed(seed)
        net = FusionNet(
            module=build_network(),
            criterion=criterion,
            **criterion_params,
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=weight_decay,
            optimizer__fused=fused_adamw_supported(device),
            lr=lr,
            max_epochs=epochs,
            batch_size=batch_size,
            device=device,
            iterator_train=BatchIterator,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            iterator_valid=BatchIterator,
            train_split=validation,
            callbacks=engine_callbacks,
            verbose=verbose,
            aux_weight=aux_weight,
        )
        net.initialize()
        if optimizer_state is not None:
            net.optimizer_.load_state_dict(optimizer_state)
            # The state brings its own rate and decay; the ones asked for now
            # win (a user lowering ``lr`` between partial_fit calls).
            for group in net.optimizer_.param_groups:
                group["lr"], group["weight_decay"] = lr, weight_decay
        try:
            net.partial_fit(dataset, y=None, epochs=epochs)
        except TrainingDivergedError as exc:
            # Raised again here so that the traceback the user sees ends in
            # this package, not inside skorch's training loop.
            raise TrainingDivergedError(str(exc)) from None
        module = net.module_.eval()
        check_finite_network(module, dataset, epochs_before + len(net.history), lr)
        return module, net.history, net.optimizer_.state_dict()


def check_finite_network(module, dataset, epoch, lr):
    """A last training step can overflow the weights after the last recorded
    loss (no validation pass follows it): refuse to return such a network."""
    rows = slice(0, 1024)
    with torch.inference_mode():
        weights_ok = all(
            bool(torch.isfinite(t).all())
            for t in list(module.parameters()) + list(module.buffers())
            if t.is_floating_point()
        )
        outputs_ok = False
        if weights_ok:
            out = module([x[rows] for x in dataset.inputs], dataset.mask[rows])
            outputs_ok = all(
                bool(torch.isfinite(t).all())
                for t in (out.prediction, out.embedding)
                if t is not None
            )
    if not outputs_ok:
        what = (
            "the network outputs became non-finite" if weights_ok
            else "the network weights became non-finite"
        )
        raise diverged_error(epoch, what, lr)
