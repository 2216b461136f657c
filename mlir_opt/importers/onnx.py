"""Import an ONNX file: checks, opset upgrade, shape inference, external data, then linalg.

IREE's ONNX importer handles opset >= 17 well; older models (many zoo models are opset 7–12) fail
on ops such as MaxPool and BatchNormalization, so models below :data:`MIN_OPSET` are upgraded with
``onnx.version_converter`` first. Graph inputs that also appear as initializers (the old exporters'
habit) are constants, not inputs. Models over 2 GB go through file-based shape inference.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .. import ir as _ir
from ..errors import ImportError_
from ..model import Model
from .lowering import lower_to_linalg

__all__ = ["load_onnx", "onnxruntime_reference", "MIN_OPSET"]

#: Models with a lower default-domain opset are upgraded to this one before import.
MIN_OPSET = 17
_TWO_GB = 2**31


def _need(mod: str):
    try:
        return __import__(mod)
    except ImportError:
        raise ImportError_(f"importing ONNX models needs the 'onnx' extra ({mod} is missing): "
                           "pip install 'mlir_opt[onnx]'") from None


def _default_opset(model) -> int:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return imp.version
    return 0


def _read(path: Path):
    onnx = _need("onnx")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as err:
        raise ImportError_(f"{path}: not a readable ONNX model ({type(err).__name__}: "
                           f"{str(err).splitlines()[0] if str(err) else 'parse error'})") from None
    if not model.graph.node:
        raise ImportError_(f"{path}: ONNX model has no nodes (truncated or empty file?)")
    has_external = any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    if has_external:
        try:
            onnx.load_external_data_for_model(model, str(path.parent))
        except Exception as err:
            raise ImportError_(f"{path}: external data could not be loaded: {err}") from None
    return model, has_external


def _infer_shapes(model, path: Path):
    onnx = _need("onnx")
    try:
        if model.ByteSize() < _TWO_GB:
            return onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception as err:
        raise ImportError_(f"{path}: ONNX shape inference failed: {str(err).splitlines()[0]}") from None
    # Over the protobuf limit: infer from the file on disk, then reload the weights.
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        out = Path(tmp) / "inferred.onnx"
        onnx.shape_inference.infer_shapes_path(str(path), str(out), data_prop=True)
        inferred = onnx.load(str(out), load_external_data=False)
    onnx.load_external_data_for_model(inferred, str(path.parent))
    return inferred


def onnxruntime_reference(path: Path, input_names: list[str], threads: int | None = None):
    """A reference callable running the ONNX file with ONNX Runtime on the CPU."""
    ort = _need("onnxruntime")
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.log_severity_level = 3
    state: dict = {}

    def run(inputs):
        if "sess" not in state:
            state["sess"] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        outs = state["sess"].run(None, dict(zip(input_names, inputs)))
        return [np.asarray(o) for o in outs]

    return run


def load_onnx(path: str | Path, *, name: str | None = None, opset: int | None = None) -> Model:
    """Import an ONNX file and lower it to linalg/tensor.

    Args:
        path: the ``.onnx`` file (external data is read from its directory).
        name: model name for reports (default: the file stem).
        opset: upgrade to this opset (default: to :data:`MIN_OPSET` when older).
    Returns:
        A :class:`Model` whose reference is ONNX Runtime on the original file.
    """
    path = Path(path)
    onnx = _need("onnx")
    model, has_external = _read(path)
    original_opset = _default_opset(model)
    target = opset or (MIN_OPSET if original_opset < MIN_OPSET else None)
    if target and target != original_opset:
        try:
            model = onnx.version_converter.convert_version(model, target)
        except Exception as err:
            raise ImportError_(f"{path}: opset upgrade {original_opset} -> {target} failed: "
                               f"{str(err).splitlines()[0]}") from None
    initializers = {t.name for t in model.graph.initializer}
    real_inputs = [i for i in model.graph.input if i.name not in initializers]
    for inp in real_inputs:
        dims = inp.type.tensor_type.shape.dim
        if any(not d.HasField("dim_value") for d in dims):
            shape = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]
            raise ImportError_(f"{path}: input '{inp.name}' has a dynamic shape {shape}; "
                               "mlir_opt needs static shapes (fix them, e.g. with onnx.tools.update_model_dims)")
    model = _infer_shapes(model, path)
    # Data-dependent output shapes (Unique, NonZero, …) crash torch-mlir's lowering; refuse them.
    producers = {o: n for n in model.graph.node for o in n.output}
    for out in model.graph.output:
        tt = out.type.tensor_type
        if not tt.HasField("shape") or any(not d.HasField("dim_value") for d in tt.shape.dim):
            node = producers.get(out.name)
            by = f" (produced by {node.op_type} '{node.name}')" if node is not None else ""
            raise ImportError_(f"{path}: output '{out.name}' has a dynamic or unknown shape{by}; "
                               "mlir_opt needs static shapes")

    from iree.compiler.extras import onnx_importer

    ctx = _ir.new_context()
    try:
        info = onnx_importer.ModelInfo(model)
        module = info.create_module(context=ctx)
        importer = onnx_importer.NodeImporter.define_function(info.main_graph, module.operation)
        importer.import_all()
    except Exception as err:
        raise ImportError_(f"{path}: IREE's ONNX importer failed: {type(err).__name__}: "
                           f"{str(err).splitlines()[0] if str(err) else ''}") from None
    level = lower_to_linalg(module, "onnx")
    from .mlir import pick_entry

    entry = pick_entry(module, None, str(path))
    input_names = [i.name for i in real_inputs]
    return Model(name or path.stem, module, entry, "onnx",
                 onnxruntime_reference(path, input_names), "onnxruntime",
                 meta={"input_level": level, "path": str(path), "opset": original_opset,
                       "opset_imported": target or original_opset, "external_data": has_external,
                       "input_names": input_names})
