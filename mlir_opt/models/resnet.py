"""ResNet-50 and ResNeXt-50 (32x4d): bottleneck residual networks (He et al. 2016; Xie et al. 2017).

The bottleneck is 1x1 -> 3x3 (grouped for ResNeXt) -> 1x1 with batch-norms and a projection
shortcut where the shape changes. ``width`` scales every channel count; ``layers`` is the number of
blocks per stage ((3, 4, 6, 3) for the -50 networks).
"""

from __future__ import annotations

import torch
from torch import nn

from .common import ConvBN, finish, scaled

__all__ = ["ResNet", "build_resnet50", "build_resnext50", "PRESETS", "RESNEXT_PRESETS"]

PRESETS = {
    "tiny": dict(batch=1, image=64, width=0.125, layers=(1, 1, 1, 1), classes=10),
    "small": dict(batch=1, image=112, width=0.5, layers=(3, 4, 6, 3), classes=1000),
    "base": dict(batch=1, image=224, width=1.0, layers=(3, 4, 6, 3), classes=1000),
}
#: ResNeXt-50 32x4d: cardinality 32, 4 channels per group in the first stage (doubling per stage).
RESNEXT_PRESETS = {
    "tiny": dict(PRESETS["tiny"], groups=4, group_width=2),
    "small": dict(PRESETS["small"], groups=32, group_width=2),
    "base": dict(PRESETS["base"], groups=32, group_width=4),
}


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (``groups``), 1x1 expand, residual add, ReLU."""

    def __init__(self, cin: int, inner: int, cout: int, stride: int, groups: int):
        super().__init__()
        self.body = nn.Sequential(ConvBN(cin, inner, 1), ConvBN(inner, inner, 3, stride, 1, groups=groups),
                                  ConvBN(inner, cout, 1, act=None))
        self.short = ConvBN(cin, cout, 1, stride, act=None) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return torch.relu(self.body(x) + self.short(x))


class ResNet(nn.Module):
    """Stem (7x7/2 conv, 3x3/2 max-pool), four bottleneck stages, global average pool, classifier."""

    def __init__(self, width: float, layers, classes: int, groups: int = 1, group_width: int | None = None):
        super().__init__()
        stem = scaled(64, width)
        self.stem = nn.Sequential(ConvBN(3, stem, 7, 2, 3), nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], stem
        for i, n in enumerate(layers):
            planes = scaled(64 * 2 ** i, width)
            inner = planes if group_width is None else groups * group_width * 2 ** i
            for j in range(n):
                blocks.append(Bottleneck(cin, inner, 4 * planes, 2 if (j == 0 and i > 0) else 1, groups))
                cin = 4 * planes
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(dim=(2, 3)))


def build_resnet50(size: str = "tiny", **kw):
    """Return ``(ResNet-50, (image,))`` for the preset (base: 224x224, batch 1), with keyword overrides."""
    cfg = {**PRESETS[size], **kw}
    return finish(ResNet(cfg["width"], cfg["layers"], cfg["classes"]), cfg["batch"], cfg["image"])


def build_resnext50(size: str = "tiny", **kw):
    """Return ``(ResNeXt-50 32x4d, (image,))`` for the preset (base: 224x224, batch 1)."""
    cfg = {**RESNEXT_PRESETS[size], **kw}
    model = ResNet(cfg["width"], cfg["layers"], cfg["classes"], groups=cfg["groups"], group_width=cfg["group_width"])
    return finish(model, cfg["batch"], cfg["image"])
