"""Lower a module from any input level (torch, torch-onnx, TOSA, StableHLO) to linalg/tensor.

The level is detected from the operations present; each level maps to the IREE/torch-mlir pass
pipeline that reaches linalg-on-tensors. After lowering, any op outside the linalg/tensor family is
reported as unsupported with its location.
"""

from __future__ import annotations

import re

from .. import ir as _ir
from ..errors import ImportError_

__all__ = ["Level", "detect_level", "lower_to_linalg", "PIPELINES", "LINALG_DIALECTS"]

TORCH_TO_LINALG = "torch-backend-to-linalg-on-tensors-backend-pipeline"

#: Level name -> pass pipeline that brings it to linalg/tensor.
PIPELINES = {
    "onnx": f"builtin.module(torch-onnx-to-torch-backend-pipeline,{TORCH_TO_LINALG})",
    "torch": f"builtin.module(torch-function-to-torch-backend-pipeline,{TORCH_TO_LINALG})",
    "tosa": "builtin.module(iree-tosa-input-transformation-pipeline)",
    "stablehlo": "builtin.module(iree-stablehlo-input-transformation-pipeline)",
    "linalg": None,
}

#: Dialects a linalg/tensor level module may contain.
LINALG_DIALECTS = {"builtin", "func", "arith", "math", "linalg", "tensor", "cf", "scf", "complex",
                   "ml_program", "util", "iree_linalg_ext", "bufferization", "affine"}

Level = str


def detect_level(module: _ir.ir.Module) -> Level:
    """``onnx``, ``torch``, ``tosa``, ``stablehlo`` or ``linalg`` from the ops in ``module``."""
    level = "linalg"
    for op in _ir.iter_ops(module):
        name = op.name
        if name == "torch.operator" and (_ir.op_name_attr(op) or "").startswith("onnx."):
            return "onnx"
        if name.startswith("torch."):
            level = "torch"
        elif name.startswith("func.") and "!torch." in str(op.attributes["function_type"]
                                                            if "function_type" in op.attributes else ""):
            level = "torch"
        elif level == "linalg" and name.startswith("tosa."):
            level = "tosa"
        elif level == "linalg" and (name.startswith("stablehlo.") or name.startswith("chlo.")):
            level = "stablehlo"
    return level


def _unsupported(message: str) -> str:
    """Turn a 'failed to legalize' diagnostic into 'unsupported op X at LOC'."""
    m = re.search(r"^(?:(.*?): )?failed to legalize operation '([^']+)'", message)
    if not m:
        return message
    where, op = m.group(1), m.group(2)
    named = re.search(r'name = "([^"]+)"', message)
    if op == "torch.operator" and named:
        op = named.group(1)
    return f"unsupported op '{op}': no lowering to linalg" + (f" (at {where})" if where else "")


def lower_to_linalg(module: _ir.ir.Module, level: Level | None = None, *,
                    source_name: str | None = None) -> Level:
    """Lower ``module`` in place to linalg/tensor; return the level it started from."""
    level = level or detect_level(module)
    pipeline = PIPELINES[level]
    if pipeline is not None:
        try:
            _ir.run_pipeline(module, pipeline, what=f"lowering {level} to linalg",
                             source_name=source_name)
        except Exception as err:  # MlirOptError with the first diagnostic
            msg = str(err)
            raise ImportError_(_unsupported(msg.split("failed: ", 1)[-1])) from None
    leftover = [op for op in _ir.iter_ops(module) if op.name.split(".")[0] not in LINALG_DIALECTS]
    if leftover:
        op = leftover[0]
        name = op.name
        if name == "torch.operator":
            name = _ir.op_name_attr(op) or name
        raise ImportError_(f"unsupported op '{name}' left after lowering {level} to linalg "
                           f"(at {op.location})")
    return level
