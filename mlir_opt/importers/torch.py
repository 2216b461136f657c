"""Import a PyTorch ``nn.Module`` through iree-turbine's exporter, then lower to linalg/tensor."""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import ir as _ir
from ..errors import ImportError_
from ..model import Model
from .lowering import lower_to_linalg

__all__ = ["load_torch", "load_factory", "torch_reference"]


def _flatten(obj: Any) -> list:
    import torch

    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _flatten(o)]
    if isinstance(obj, dict):
        return [t for k in obj for t in _flatten(obj[k])]
    raise ImportError_(f"model returned {type(obj).__name__}; outputs must be tensors (or tuples/lists/dicts of them)")


def torch_reference(module: Any):
    """A reference callable running ``module`` eagerly on numpy inputs (no grad)."""
    import torch

    def run(inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        with torch.no_grad():
            out = module(*[torch.from_numpy(np.ascontiguousarray(a)) for a in inputs])
        return [t.detach().cpu().numpy() for t in _flatten(out)]

    return run


def load_torch(module: Any, example_inputs: Sequence[Any], *, name: str | None = None) -> Model:
    """Export ``module`` with ``example_inputs`` through iree-turbine and lower it to linalg.

    Args:
        module: a ``torch.nn.Module`` (put in eval mode here).
        example_inputs: tensors (or numpy arrays) fixing the static input shapes and dtypes.
        name: model name for reports (default: the class name).
    Returns:
        A :class:`Model` whose reference is the module run eagerly by torch.
    """
    try:
        import torch
        from iree.turbine import aot
    except ImportError as err:
        raise ImportError_(f"importing torch models needs the 'torch' extra ({err.name} is missing): "
                           "pip install 'mlir_opt[torch]'") from None
    if not isinstance(module, torch.nn.Module):
        raise ImportError_(f"expected a torch.nn.Module, got {type(module).__name__}")
    if isinstance(example_inputs, (torch.Tensor, np.ndarray)):
        example_inputs = (example_inputs,)
    args = tuple(torch.from_numpy(np.asarray(a)) if isinstance(a, np.ndarray) else a for a in example_inputs)
    module = module.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exported = aot.export(module, *args)
        src = exported.mlir_module
    except Exception as err:  # torch.export raises many kinds; report one line
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ImportError_(f"torch export failed: {type(err).__name__}: {first}") from None
    ctx = _ir.new_context()
    mod = _ir.parse(_ir.to_bytecode(src), ctx)
    _ir.inline_immutable_globals(mod)
    level = lower_to_linalg(mod, "torch")
    examples = [a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a) for a in args]
    return Model(name or type(module).__name__, mod, "main", "torch", torch_reference(module), "torch",
                 examples, meta={"input_level": level})


def load_factory(spec: str, *, name: str | None = None, **kwargs: Any) -> Model:
    """Load ``path/to/file.py:factory``; the factory returns ``(module, example_inputs)``."""
    path_s, _, func = spec.rpartition(":")
    path = Path(path_s)
    if not path.is_file():
        raise ImportError_(f"no such file: {path}")
    modname = f"_mlir_opt_user_{abs(hash(str(path.resolve())))}"
    try:
        spec_ = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec_)
        sys.modules[modname] = mod
        spec_.loader.exec_module(mod)
    except Exception as err:
        raise ImportError_(f"{path}: could not be loaded: {type(err).__name__}: {err}") from None
    factory = getattr(mod, func, None)
    if not callable(factory):
        raise ImportError_(f"{path} has no callable '{func}'")
    try:
        result = factory(**kwargs)
    except Exception as err:
        raise ImportError_(f"factory {spec} raised {type(err).__name__}: {err}") from None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise ImportError_(f"factory {spec} must return (module, example_inputs), got {type(result).__name__}")
    module, examples = result
    default = path.stem if func in ("build", "factory", "make") else func
    return load_torch(module, examples, name=name or default)
