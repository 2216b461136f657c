"""mlir_opt: a DNN inference optimizer on MLIR and IREE.

Import a model (PyTorch, ONNX, MLIR) to linalg/tensor IR, search for a faster equivalent graph and
faster per-dispatch schedules, compile and time every candidate with IREE, check every candidate
against a reference, and export the artifacts. See README.md for a tour.
"""

from .api import OptimizeResult, RunResult, bench, compile, load, optimize, run
from .backend import Target, Timing, get_target
from .errors import MlirOptError
from .model import Model

__version__ = "0.1.0"

__all__ = ["load", "compile", "run", "bench", "optimize", "Model", "Target", "Timing", "get_target",
           "MlirOptError", "OptimizeResult", "RunResult", "__version__"]
