"""ONNX export: a fitted fusion estimator (or a Pipeline ending in one) as one
ONNX graph holding everything ``predict`` does.

The graph is three parts joined by name:

1. the data contract of :class:`~sklearn_mmfusion._data.ModalitySchema`
   (splitting a 2-D table, the all-NaN-row masks, partial-NaN imputation,
   the fitted scaling, float32), written with ``onnx.helper``;
2. the trained network, exported by ``torch.onnx.export`` (the TorchScript
   exporter, which needs nothing beyond torch; the calibrated missing
   strategy is exported through a lookup table of its posterior
   covariances, one per pattern of observed modalities);
3. the output mapping: softmax and the class labels, or the target
   de-standardisation.

:func:`register_skl2onnx_converters` registers the same graph with
``skl2onnx`` (and converters for :class:`ModalitySplitter` and
:class:`PerModality`), so ``skl2onnx.to_onnx`` converts a ``Pipeline`` too.
The ONNX packages are optional (``pip install "sklearn-mmfusion[onnx]"``)
and imported only here.
"""

import copy
import io
import itertools
import warnings

import numpy as np
import torch

from .nn._ensemble import first_member


__all__ = ["register_skl2onnx_converters", "to_onnx"]

DEFAULT_OPSET = 17
# Beyond this many modalities the calibrated strategy's table of 2^M
# posterior covariances gets too large to embed.
_MAX_CALIBRATED_MODALITIES = 12


def _onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            "ONNX export needs the optional ONNX packages: "
            'pip install "sklearn-mmfusion[onnx]" (onnx, onnxruntime, skl2onnx).'
        ) from exc
    return onnx


class _Graph:
    """Nodes and initializers of an ONNX graph under construction, with
    names unique under ``prefix``."""

    def __init__(self, prefix="mmf_"):
        self.onnx = _onnx()
        self.prefix = prefix
        self.nodes, self.initializers = [], []
        self._count = itertools.count()

    def name(self, hint):
        return f"{self.prefix}{hint}_{next(self._count)}"

    def const(self, value, hint="const"):
        name = self.name(hint)
        value = np.asarray(value)
        if value.dtype.kind in "OUS":
            tensor = self.onnx.helper.make_tensor(
                name, self.onnx.TensorProto.STRING, value.shape,
                [str(v).encode("utf-8") for v in value.ravel()],
            )
        else:
            tensor = self.onnx.numpy_helper.from_array(value, name)
        self.initializers.append(tensor)
        return name

    def op(self, op_type, inputs, output=None, **attrs):
        output = output or self.name(op_type.lower())
        self.nodes.append(
            self.onnx.helper.make_node(op_type, list(inputs), [output],
                                       name=self.name(op_type), **attrs)
        )
        return output

    def cast(self, name, dtype, output=None):
        return self.op("Cast", [name], output, to=_tensor_type(dtype))

    def observed(self, x, width):
        """(N, 1) bool: the row of ``x`` (double) is not all NaN."""
        present = self.cast(self.op("Not", [self.op("IsNaN", [x])]), np.float64)
        count = self.op("MatMul", [present, self.const(np.ones((width, 1)), "ones")])
        return self.op("Greater", [count, self.const(np.zeros(1), "zero")])

    def columns(self, table, positions):
        return self.op("Gather", [table, self.const(np.asarray(positions, np.int64),
                                                    "columns")], axis=1)

    def inline(self, model, inputs, outputs):
        """Append ``model``'s graph, its inputs and outputs renamed to ours."""
        graph = model.graph
        rename = {v.name: new for v, new in zip(graph.input, inputs)}
        rename.update({v.name: new for v, new in zip(graph.output, outputs)})
        prefix = self.name("sub") + "_"

        def new_name(old):
            return old if not old else rename.get(old, prefix + old)

        for init in graph.initializer:
            init = copy.copy(init)
            init.name = new_name(init.name)
            self.initializers.append(init)
        for node in graph.node:
            if any(a.type in (a.GRAPH, a.GRAPHS) for a in node.attribute):
                raise NotImplementedError(
                    f"cannot inline the {node.op_type} node (it holds a subgraph)."
                )
            node = copy.copy(node)
            names = [new_name(n) for n in node.input]
            while names and not names[-1]:  # an omitted trailing optional input
                names.pop()
            node.input[:] = names
            node.output[:] = [new_name(n) for n in node.output]
            node.name = prefix + node.name
            self.nodes.append(node)


def _tensor_type(dtype):
    from onnx import TensorProto

    return {
        np.dtype(np.float32): TensorProto.FLOAT,
        np.dtype(np.float64): TensorProto.DOUBLE,
        np.dtype(np.int64): TensorProto.INT64,
        np.dtype(bool): TensorProto.BOOL,
    }[np.dtype(dtype)]


# ---------------------------------------------------------------------------
# 1. The data contract
# ---------------------------------------------------------------------------


def _split_table(g, table, estimator):
    """Per-modality tensors of a 2-D table input, in the fit's order."""
    if estimator.modalities is None:  # a 2-D X without a spec: one modality
        return [table]
    positions = estimator.fitted_input_.column_positions()
    return [g.columns(table, positions[name]) for name in estimator.modalities_]


def _encode(g, schema, xs):
    """ONNX of ``schema.encode``: float32 blocks and the (N, M) bool mask.

    Per feature: a NaN becomes the training mean, then ``(x - center) /
    scale``, smooth-clipped on the features the schema clips (robust
    scaling), in float64; the rows of a missing modality become zeros. A
    sparse modality is fed densely: it has no centre and no clipped feature,
    so this is the same.
    """
    from ._data import SMOOTH_CLIP

    blocks, observed = [], []
    for m, x in enumerate(xs):
        x = g.cast(x, np.float64)
        obs = g.observed(x, schema.widths[m])
        values = g.op("Where", [g.op("IsNaN", [x]), g.const(schema.means[m], "mean"), x])
        values = g.op("Div", [g.op("Sub", [values, g.const(schema.centers[m], "center")]),
                              g.const(schema.scales[m], "scale")])
        clipped = schema.clipped[m]
        if clipped.any():  # values / sqrt(1 + (values / bound)^2) where clipped
            ratio = g.op("Div", [values, g.const(np.array([SMOOTH_CLIP]), "bound")])
            denom = g.op("Sqrt", [g.op("Add", [g.const(np.ones(1), "one"),
                                               g.op("Mul", [ratio, ratio])])])
            smooth = g.op("Div", [values, denom])
            values = smooth if clipped.all() else g.op(
                "Where", [g.const(clipped, "clipped"), smooth, values])
        block = g.op("Where", [obs, values, g.const(np.zeros(1), "zero")])
        blocks.append(g.cast(block, np.float32))
        observed.append(obs)
    mask = observed[0] if len(observed) == 1 else g.op("Concat", observed, axis=1)
    return blocks, mask


# ---------------------------------------------------------------------------
# 2. The network
# ---------------------------------------------------------------------------


class _TableCalibrator(torch.nn.Module):
    """The CalMRL imputation of :class:`ModalityCalibrator` with the posterior
    covariance of every pattern of observed modalities precomputed, so the
    graph is a lookup and matrix products (no unique, no Cholesky)."""

    def __init__(self, calibrator):
        super().__init__()
        from .nn._calibrator import _e_step

        n_mod = calibrator.n_modalities
        Ws, mus, s2 = calibrator._params()
        patterns = torch.tensor(
            list(itertools.product([False, True], repeat=n_mod)), dtype=torch.bool
        ).flip(1)  # row c has modality m observed iff bit m of c is set
        q = Ws[0].shape[1]
        covariances = []
        for pattern in patterns:
            zs = [torch.zeros(1, W.shape[0], dtype=W.dtype) for W in Ws]
            _, cov, _ = _e_step(Ws, mus, s2, zs, pattern[None])
            covariances.append(cov[0])
        self.register_buffer("cov", torch.stack(covariances).reshape(-1, q * q))
        self.register_buffer("bits", 2 ** torch.arange(n_mod, dtype=torch.int64))
        self.q = q
        for m, (W, mu) in enumerate(zip(Ws, mus)):
            self.register_buffer(f"W_{m}", W)
            self.register_buffer(f"mu_{m}", mu)
            self.register_buffer(f"s2_{m}", s2[m].clone())
        self.n_modalities = n_mod

    def forward(self, zs, mask):
        dtype = self.W_0.dtype
        b = 0.0
        for m, z in enumerate(zs):
            W, mu = getattr(self, f"W_{m}"), getattr(self, f"mu_{m}")
            r = torch.where(mask[:, m, None], z.to(dtype) - mu, torch.zeros((), dtype=dtype))
            b = b + r @ W / getattr(self, f"s2_{m}")
        code = (mask.to(torch.int64) * self.bits).sum(1)
        cov = self.cov.index_select(0, code).view(-1, self.q, self.q)
        mean = (cov @ b.unsqueeze(-1)).squeeze(-1)
        out = []
        for m, z in enumerate(zs):
            fill = mean @ getattr(self, f"W_{m}").T + getattr(self, f"mu_{m}")
            out.append(torch.where(mask[:, m, None], z, fill.to(z.dtype)))
        return out


class _Exported(torch.nn.Module):
    """``module(xs, mask)`` as a function of positional tensors, one output."""

    def __init__(self, module, output):
        super().__init__()
        self.module = module
        self.output = output

    def forward(self, *args):
        out = self.module(list(args[:-1]), args[-1])
        return out.prediction if self.output == "prediction" else out.embedding


def _export_network(module, widths, output, opset):
    """The network as an ONNX model with inputs x0..x{M-1}, mask; output out."""
    onnx = _onnx()
    module = copy.deepcopy(module).cpu().float().eval()
    for sub in module.modules():
        calibrator = getattr(sub, "calibrator", None)
        if calibrator is not None:
            if calibrator.n_modalities > _MAX_CALIBRATED_MODALITIES:
                raise ValueError(
                    f"missing='calibrated' exports a table over the 2^M patterns of "
                    f"observed modalities; M={calibrator.n_modalities} is above "
                    f"{_MAX_CALIBRATED_MODALITIES}."
                )
            sub.calibrator = _TableCalibrator(calibrator)
    wrapper = _Exported(module, output).eval()
    n = 4  # a few rows with every kind of mask, for the trace
    xs = tuple(torch.zeros(n, w) for w in widths)
    mask = torch.ones(n, len(widths), dtype=torch.bool)
    mask[1, 0] = False
    mask[2] = False
    names = [f"x{m}" for m in range(len(widths))] + ["mask"]
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the dynamo one,
        # which needs onnxscript; it still exports these networks exactly.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper, xs + (mask,), buffer, input_names=names, output_names=["out"],
            dynamic_axes={name: {0: "n"} for name in names + ["out"]},
            opset_version=opset, dynamo=False,
        )
    return onnx.load_from_string(buffer.getvalue())


# ---------------------------------------------------------------------------
# 3. The whole estimator
# ---------------------------------------------------------------------------


def _default_method(estimator):
    from ._base import FusionClassifier, FusionRegressor

    if isinstance(estimator, (FusionClassifier, FusionRegressor)):
        return "predict"
    return "transform"


def _output_names(estimator, method):
    from ._base import FusionClassifier

    if method == "predict" and isinstance(estimator, FusionClassifier):
        return ["label", "probabilities"]
    return ["variable"] if method == "predict" else ["embedding"]


def _build(g, estimator, inputs, outputs, method, opset, out_dtype=np.float64):
    """Append the estimator's graph to ``g``: ``inputs`` (one table or one
    tensor per modality, fit order) -> ``outputs`` (see ``_output_names``)."""
    from ._base import FusionClassifier

    if estimator.modalities is not None:
        xs = _split_table(g, inputs[0], estimator)
    elif len(inputs) == len(estimator.modalities_):
        xs = list(inputs)
    else:
        raise ValueError(
            f"{type(estimator).__name__} was fitted on the modalities "
            f"{estimator.modalities_} of a mapping: its graph takes one tensor per "
            f"modality, got {len(inputs)} input(s)."
        )
    blocks, mask = _encode(g, estimator.schema_, xs)
    kind = "prediction" if method == "predict" else "embedding"
    net_out = g.name("network_out")
    # An ensemble's embedding is its first member's: export only that one.
    module = estimator.module_ if kind == "prediction" else first_member(estimator.module_)
    network = _export_network(module, estimator.schema_.widths, kind, opset)
    g.inline(network, blocks + [mask], [net_out])
    if method == "transform":
        g.op("Identity", [net_out], outputs[0])
    elif isinstance(estimator, FusionClassifier):
        labels = np.asarray(estimator.classes_)
        if labels.dtype.kind in "iub":
            labels = labels.astype(np.int64)
        elif labels.dtype.kind == "f":
            labels = labels.astype(np.float64)
        index = g.op("ArgMax", [net_out], axis=1, keepdims=0)
        g.op("Gather", [g.const(labels, "classes"), index], outputs[0], axis=0)
        g.cast(g.op("Softmax", [g.cast(net_out, np.float64)], axis=1), out_dtype,
               outputs[1])
    else:
        y = g.op("Add", [g.op("Mul", [g.cast(net_out, np.float64),
                                      g.const(estimator._y_scale, "y_scale")]),
                         g.const(estimator._y_mean, "y_mean")])
        if estimator._y_ndim == 1:
            y = g.op("Reshape", [y, g.const(np.array([-1], np.int64), "shape")])
        g.cast(y, out_dtype, outputs[0])


def _input_specs(estimator):
    """(name, width) of the graph inputs of a standalone export."""
    if estimator.modalities is not None:
        return [("X", estimator.n_features_in_)]
    return list(zip(estimator.modalities_, estimator.schema_.widths))


def to_onnx(estimator, *, method=None, input_dtype=np.float64, target_opset=None,
            initial_types=None):
    """Export a fitted fusion estimator, or a ``Pipeline`` ending in one, to ONNX.

    The graph holds everything ``predict`` (or ``transform``) does: the split
    of a 2-D table into modalities, the all-NaN-row masks, the imputation of
    partial NaNs, the fitted scaling, the missing-modality strategy, the
    network and the label mapping (or the target scale). It runs in
    ``onnxruntime`` without torch or this package.

    Parameters
    ----------
    estimator : fitted fusion estimator or Pipeline
        A ``Pipeline`` (e.g. ``ModalitySplitter`` or
        ``PerModality(StandardScaler())`` first) is converted by ``skl2onnx``
        with this package's converters registered.
    method : {"predict", "transform"}, optional
        What the graph computes; defaults to ``predict`` for classifiers and
        regressors and ``transform`` for :class:`ConFuEmbedder`.
    input_dtype : numpy dtype, default=np.float64
        Element type of the inputs (float64 or float32). Scaling runs in
        float64 either way, as in ``predict``.
    target_opset : int, optional
        ONNX opset; defaults to 17.
    initial_types : list of (str, skl2onnx type), optional
        Inputs of a ``Pipeline`` (default: from its first step, one input per
        modality or the 2-D table, of ``input_dtype``).

    Returns
    -------
    model : onnx.ModelProto
        Inputs: one ``(n, d_m)`` tensor per modality, named after it (an
        estimator fitted on a mapping), or the 2-D table ``"X"`` (fitted with
        ``modalities=``). A missing modality is an all-NaN row, as in
        ``predict``. Outputs: ``label`` and ``probabilities`` (classifier;
        float64 for float64 inputs), ``variable`` (regressor, shaped like
        ``predict``'s output), ``embedding`` (``transform``, float32).

    Notes
    -----
    Input checks that ``predict`` makes (infinite values, the number of
    columns) are not in the graph beyond what onnxruntime checks (shapes).

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from sklearn_mmfusion import ConcatFusionClassifier, to_onnx
    >>> from sklearn_mmfusion.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(n_samples=200, random_state=0)
    >>> clf = ConcatFusionClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> session = ort.InferenceSession(to_onnx(clf).SerializeToString())
    >>> label, proba = session.run(None, {k: np.asarray(v) for k, v in X.items()})
    >>> bool((label == clf.predict(X)).all())
    True
    """
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    onnx = _onnx()
    opset = DEFAULT_OPSET if target_opset is None else int(target_opset)
    input_dtype = np.dtype(input_dtype)
    if input_dtype not in (np.float32, np.float64):
        raise ValueError(f"input_dtype must be float32 or float64, got {input_dtype}.")
    if isinstance(estimator, Pipeline):
        return _pipeline_to_onnx(estimator, input_dtype, opset, initial_types)
    from ._base import BaseFusion

    if not isinstance(estimator, BaseFusion):
        raise TypeError(
            "to_onnx takes a fitted sklearn_mmfusion estimator or a Pipeline ending "
            f"in one; got {type(estimator).__name__}."
        )
    check_is_fitted(estimator, "module_")
    method = method or _default_method(estimator)
    if method not in ("predict", "transform") or (
        method == "predict" and _default_method(estimator) == "transform"
    ):
        raise ValueError(
            f"method must be 'predict' or 'transform' ('transform' only for "
            f"{type(estimator).__name__}); got {method!r}."
        )
    g = _Graph()
    specs = _input_specs(estimator)
    inputs = [onnx.helper.make_tensor_value_info(name, _tensor_type(input_dtype),
                                                 ["n", width]) for name, width in specs]
    outputs = _output_names(estimator, method)
    _build(g, estimator, [name for name, _ in specs], outputs, method, opset,
           out_dtype=input_dtype)
    graph = onnx.helper.make_graph(
        g.nodes, type(estimator).__name__, inputs,
        [onnx.helper.make_tensor_value_info(name, 0, None) for name in outputs],
        g.initializers,
    )
    model = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", opset)],
        producer_name="sklearn_mmfusion",
    )
    model.ir_version = min(model.ir_version, 9)  # readable by older runtimes
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model)
    return model


# ---------------------------------------------------------------------------
# skl2onnx: parsers, shape calculators and converters
# ---------------------------------------------------------------------------


def _skl2onnx():
    try:
        import skl2onnx
    except ImportError as exc:
        raise ImportError(
            'Converting a Pipeline needs skl2onnx: pip install "sklearn-mmfusion[onnx]".'
        ) from exc
    return skl2onnx


def _tensor_class(variable):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    return DoubleTensorType if isinstance(variable.type, DoubleTensorType) else FloatTensorType


def _np_dtype(variable):
    from skl2onnx.common.data_types import DoubleTensorType

    return np.float64 if isinstance(variable.type, DoubleTensorType) else np.float32


def _ordered(inputs, names):
    """Inputs in the order of ``names`` when they are named after them."""
    by_name = {v.raw_name: v for v in inputs}
    if len(inputs) == len(names) and all(n in by_name for n in names):
        return [by_name[n] for n in names]
    return list(inputs)


def _fusion_parser(scope, model, inputs, custom_parsers=None):
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    from ._base import FusionClassifier

    op = scope.declare_local_operator(_alias(model), model)
    op.inputs = _ordered(inputs, model.modalities_)
    tensor = _tensor_class(inputs[0])
    if isinstance(model, FusionClassifier):
        kind = np.asarray(model.classes_).dtype.kind
        label_type = (StringTensorType([None]) if kind in "OUS"
                      else Int64TensorType([None]) if kind in "iub" else tensor([None]))
        op.outputs.append(scope.declare_local_variable("label", label_type))
        op.outputs.append(scope.declare_local_variable(
            "probabilities", tensor([None, len(model.classes_)])))
    elif _default_method(model) == "predict":
        shape = [None] if model._y_ndim == 1 else [None, len(model._y_mean)]
        op.outputs.append(scope.declare_local_variable("variable", tensor(shape)))
    else:
        from skl2onnx.common.data_types import FloatTensorType

        op.outputs.append(scope.declare_local_variable(
            "embedding", FloatTensorType([None, model._n_features_out])))
    return list(op.outputs)


def _fusion_converter(scope, operator, container):
    model = operator.raw_operator
    g = _Graph(prefix=scope.get_unique_variable_name("mmfusion") + "_")
    _build(g, model, [v.full_name for v in operator.inputs],
           [v.full_name for v in operator.outputs], _default_method(model),
           container.target_opset, out_dtype=_np_dtype(operator.inputs[0]))
    _emit(g, container)


def _splitter_parser(scope, model, inputs, custom_parsers=None):
    op = scope.declare_local_operator(_alias(model), model)
    op.inputs = list(inputs)
    tensor = _tensor_class(inputs[0])
    positions = model.fitted_input_.column_positions()
    for name in model.modalities_:
        op.outputs.append(scope.declare_local_variable(
            name, tensor([None, len(positions[name])])))
    return list(op.outputs)


def _splitter_converter(scope, operator, container):
    model = operator.raw_operator
    g = _Graph(prefix=scope.get_unique_variable_name("mmsplit") + "_")
    positions = model.fitted_input_.column_positions()
    for name, out in zip(model.modalities_, operator.outputs):
        g.op("Gather", [operator.inputs[0].full_name,
                        g.const(np.asarray(positions[name], np.int64), "columns")],
             out.full_name, axis=1)
    _emit(g, container)


def _per_modality_parser(scope, model, inputs, custom_parsers=None):
    op = scope.declare_local_operator(_alias(model), model)
    op.inputs = _ordered(inputs, model.modalities_)
    tensor = _tensor_class(inputs[0])
    widths = [model._widths_out[name] for name in model.modalities_]
    if len(inputs) == 1 and (model.modalities is not None or len(widths) == 1):
        op.outputs.append(scope.declare_local_variable("variable", tensor([None, sum(widths)])))
    else:
        for name, width in zip(model.modalities_, widths):
            op.outputs.append(scope.declare_local_variable(name, tensor([None, width])))
    return list(op.outputs)


def _per_modality_converter(scope, operator, container):
    skl2onnx = _skl2onnx()
    model = operator.raw_operator
    dtype = _np_dtype(operator.inputs[0])
    g = _Graph(prefix=scope.get_unique_variable_name("mmper") + "_")
    inputs = [v.full_name for v in operator.inputs]
    table = len(operator.outputs) == 1 and len(model.modalities_) > 1 or (
        model.modalities is not None)
    if len(inputs) == 1 and model.modalities is not None:
        positions = model.fitted_input_.column_positions()
        inputs = [g.columns(inputs[0], positions[name]) for name in model.modalities_]
    tensor = _tensor_class(operator.inputs[0])
    outs = []
    for m, name in enumerate(model.modalities_):
        width_in = model.schema_.widths[m]
        inner = skl2onnx.convert_sklearn(
            model.transformers_[name], initial_types=[("x", tensor([None, width_in]))],
            target_opset=container.target_opset,
        )
        inner_out = g.name("inner_out")
        g.inline(inner, [inputs[m]], [inner_out])
        observed = g.observed(g.cast(inputs[m], np.float64), width_in)
        # Missing rows stay all-NaN, as PerModality.transform leaves them.
        nan = g.const(np.full(1, np.nan, dtype=dtype), "nan")
        out = None if table else operator.outputs[m].full_name
        outs.append(g.op("Where", [observed, g.cast(inner_out, dtype), nan], out))
    if table:
        g.op("Concat", outs, operator.outputs[0].full_name, axis=1)
    _emit(g, container)


def _emit(g, container):
    """Move ``g``'s nodes and initializers into a skl2onnx container."""
    from onnx import helper, numpy_helper

    for init in g.initializers:
        if init.data_type == init.STRING:
            container.add_initializer(init.name, init.data_type, list(init.dims),
                                      list(init.string_data))
        else:
            if not init.raw_data:  # skl2onnx copies raw_data only
                init = numpy_helper.from_array(numpy_helper.to_array(init), init.name)
            container.add_initializer(init.name, init.data_type, list(init.dims), init)
    for node in g.nodes:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        container.add_node(node.op_type, list(node.input), list(node.output),
                           name=node.name, op_domain=node.domain or "", **attrs)


def _shape_calculator(operator):
    """Output types are set by the parsers."""


def _alias(model):
    cls = model if isinstance(model, type) else type(model)
    return f"SklearnMMFusion{cls.__name__}"


def register_skl2onnx_converters():
    """Register this package's estimators and transformers with skl2onnx.

    After the call ``skl2onnx.to_onnx`` / ``convert_sklearn`` convert every
    fusion estimator, :class:`ModalitySplitter` and :class:`PerModality`
    (whose inner transformer must itself have a skl2onnx converter), alone
    or in a ``Pipeline``. :func:`to_onnx` calls it for you. A modality is
    one graph input (or one variable between steps); a classifier's outputs
    are ``label`` and ``probabilities`` (a tensor, no ZipMap).

    Examples
    --------
    >>> from sklearn_mmfusion import register_skl2onnx_converters
    >>> register_skl2onnx_converters()
    """
    skl2onnx = _skl2onnx()
    from ._discovery import all_fusion_estimators
    from .preprocessing import ModalitySplitter, PerModality

    for cls in all_fusion_estimators():
        skl2onnx.update_registered_converter(
            cls, _alias(cls), _shape_calculator, _fusion_converter,
            parser=_fusion_parser,
        )
    skl2onnx.update_registered_converter(
        ModalitySplitter, _alias(ModalitySplitter), _shape_calculator,
        _splitter_converter, parser=_splitter_parser,
    )
    skl2onnx.update_registered_converter(
        PerModality, _alias(PerModality), _shape_calculator, _per_modality_converter,
        parser=_per_modality_parser,
    )


def _pipeline_to_onnx(pipeline, input_dtype, opset, initial_types):
    skl2onnx = _skl2onnx()
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    register_skl2onnx_converters()
    if initial_types is None:
        first = pipeline.steps[0][1]
        tensor = DoubleTensorType if input_dtype == np.float64 else FloatTensorType
        if getattr(first, "modalities", None) is not None or not hasattr(first, "schema_"):
            n = first.n_features_in_
            initial_types = [("X", tensor([None, n]))]
        else:
            initial_types = [(name, tensor([None, width]))
                             for name, width in zip(first.schema_.names, first.schema_.widths)]
    return skl2onnx.to_onnx(pipeline, initial_types=initial_types, target_opset=opset)
