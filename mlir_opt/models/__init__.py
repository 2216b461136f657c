"""Bundled models, built from code with random weights (no downloads).

Each builder takes a ``size`` preset — ``tiny`` for tests (compiles in seconds), ``small``, and
``base`` for benchmarks (the published shapes: BERT-base with seq 128; the CNNs at 224x224, 299x299
for Inception-v3, batch 1; NasRNN and NasNet-A as TASO/TENSAT benchmark them) — or explicit keyword
overrides, and returns ``(torch.nn.Module, example_inputs)``. The modules are in eval mode with
deterministic weights; batch-norms carry non-trivial statistics so that folding them matters.

:data:`MODELS` maps each name to its builder and a one-line description; :data:`NAMES` lists them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

__all__ = ["MODELS", "NAMES", "SIZES", "ModelEntry", "build", "describe"]


@dataclass(frozen=True)
class ModelEntry:
    """A bundled model: ``module:function`` of its builder and what it is."""

    builder: str
    description: str


MODELS: dict[str, ModelEntry] = {
    "mlp": ModelEntry("mlp:build_mlp", "multi-layer perceptron (Linear+ReLU)"),
    "cnn": ModelEntry("cnn:build_cnn", "residual CNN (conv-batchnorm-relu blocks, residual add)"),
    "bert": ModelEntry("bert:build_bert_layer",
                       "BERT encoder layer (separate Q/K/V, LayerNorm, GELU FFN); base = BERT-base, seq 128"),
    "resnet50": ModelEntry("resnet:build_resnet50", "ResNet-50 (bottleneck blocks 3-4-6-3); base 224x224"),
    "resnext50": ModelEntry("resnet:build_resnext50", "ResNeXt-50 32x4d (grouped 3x3 convs); base 224x224"),
    "inception_v3": ModelEntry("inception:build_inception_v3",
                               "Inception-v3 (mixed blocks A-E, no aux head); base 299x299"),
    "squeezenet": ModelEntry("squeezenet:build_squeezenet", "SqueezeNet 1.1 (fire modules); base 224x224"),
    "vgg19": ModelEntry("vgg:build_vgg19", "VGG-19 (16 conv3x3 + 3 FC, 143 M params at base); base 224x224"),
    "mobilenet_v2": ModelEntry("mobilenet:build_mobilenet_v2",
                               "MobileNetV2 (inverted residuals, depthwise convs, ReLU6); base 224x224"),
    "nasrnn": ModelEntry("nasrnn:build_nasrnn", "NasRNN cell unrolled (16 matmuls per step); base hidden 512, 5 steps"),
    "nasnet_a": ModelEntry("nasnet:build_nasnet_a",
                           "NASNet-A cell stack (separable convs, pools); base 3x(5 normal + 1 reduction), 224x224"),
}
NAMES = tuple(MODELS)
SIZES = ("tiny", "small", "base")


def describe(name: str) -> str:
    """The one-line description of bundled model ``name``."""
    return MODELS[name].description


def build(name: str, size: str = "tiny", seed: int = 0, **overrides: Any):
    """Build bundled model ``name`` at preset ``size``; returns ``(module, example_inputs)``."""
    from ..errors import MlirOptError

    if name not in MODELS:
        raise MlirOptError(f"unknown bundled model '{name}' (choose from {', '.join(NAMES)})")
    if size not in SIZES:
        raise MlirOptError(f"unknown size '{size}' (choose from {', '.join(SIZES)})")
    try:
        import torch
    except ImportError:
        raise MlirOptError("bundled models need the 'torch' extra: pip install 'mlir_opt[torch]'") from None
    torch.manual_seed(seed)
    mod, fn = MODELS[name].builder.split(":")
    builder = getattr(importlib.import_module(f"{__name__}.{mod}"), fn)
    return builder(size=size, **overrides)
