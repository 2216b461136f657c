"""VGG-19 (Simonyan & Zisserman 2015): sixteen 3x3 conv + ReLU layers in five stages separated by
2x2 max-pools, then three fully connected layers (4096, 4096, classes). No batch-norm (config E)."""

from __future__ import annotations

import torch
from torch import nn

from .common import finish, scaled

__all__ = ["VGG", "build_vgg19", "PRESETS", "VGG19"]

#: Conv widths of VGG-19; "M" is a 2x2 max-pool.
VGG19 = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")

PRESETS = {
    "tiny": dict(batch=1, image=32, width=1 / 16, classes=10),
    "small": dict(batch=1, image=112, width=0.25, classes=1000),
    "base": dict(batch=1, image=224, width=1.0, classes=1000),
}


class VGG(nn.Module):
    """The conv stack of ``cfg`` and a three-layer classifier on the flattened features."""

    def __init__(self, width: float, classes: int, image: int, cfg=VGG19):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for item in cfg:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, scaled(item, width), 3, padding=1), nn.ReLU()]
                cin = scaled(item, width)
        self.features = nn.Sequential(*layers)
        side = image // 2 ** cfg.count("M")
        hidden = scaled(4096, width)
        self.classifier = nn.Sequential(nn.Linear(cin * side * side, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                        nn.ReLU(), nn.Linear(hidden, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def build_vgg19(size: str = "tiny", **kw):
    """Return ``(VGG-19, (image,))`` for the preset (base: 224x224, batch 1; 143 M parameters)."""
    cfg = {**PRESETS[size], **kw}
    return finish(VGG(cfg["width"], cfg["classes"], cfg["image"]), cfg["batch"], cfg["image"])
