"""Bundled models, built from code with random weights (no downloads).

Each builder takes a ``size`` preset — ``tiny`` for tests, ``small``, and ``base`` for benchmarks
(BERT-base: hidden 768, 12 heads, seq 128) — or explicit keyword overrides, and returns
``(torch.nn.Module, example_inputs)``. The modules are in eval mode with deterministic weights.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NAMES", "SIZES", "build"]

NAMES = ("mlp", "cnn", "bert")
SIZES = ("tiny", "small", "base")


def build(name: str, size: str = "tiny", seed: int = 0, **overrides: Any):
    """Build bundled model ``name`` at preset ``size``; returns ``(module, example_inputs)``."""
    from ..errors import MlirOptError

    if name not in NAMES:
        raise MlirOptError(f"unknown bundled model '{name}' (choose from {', '.join(NAMES)})")
    if size not in SIZES:
        raise MlirOptError(f"unknown size '{size}' (choose from {', '.join(SIZES)})")
    try:
        import torch
    except ImportError:
        raise MlirOptError("bundled models need the 'torch' extra: pip install 'mlir_opt[torch]'") from None
    torch.manual_seed(seed)
    if name == "mlp":
        from .mlp import build_mlp as builder
    elif name == "cnn":
        from .cnn import build_cnn as builder
    else:
        from .bert import build_bert_layer as builder
    return builder(size=size, **overrides)
