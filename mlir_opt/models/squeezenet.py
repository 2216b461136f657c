"""SqueezeNet 1.1 (Iandola et al. 2016): fire modules (1x1 squeeze, then parallel 1x1 and 3x3
expands concatenated), max-pools with ceil mode, a 1x1 conv classifier and global average pooling."""

from __future__ import annotations

import torch
from torch import nn

from .common import finish, scaled

__all__ = ["SqueezeNet", "build_squeezenet", "PRESETS"]

PRESETS = {
    "tiny": dict(batch=1, image=64, width=0.125, classes=10),
    "small": dict(batch=1, image=112, width=0.5, classes=1000),
    "base": dict(batch=1, image=224, width=1.0, classes=1000),
}


class Fire(nn.Module):
    """Squeeze 1x1 + ReLU, then expand 1x1 + ReLU and expand 3x3 + ReLU, concatenated on channels."""

    def __init__(self, cin: int, squeeze: int, expand: int):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.e1 = nn.Conv2d(squeeze, expand, 1)
        self.e3 = nn.Conv2d(squeeze, expand, 3, padding=1)
        self.out = 2 * expand

    def forward(self, x):
        s = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.e1(s)), torch.relu(self.e3(s))], 1)


class SqueezeNet(nn.Module):
    """SqueezeNet 1.1 with every channel count scaled by ``width``."""

    def __init__(self, width: float, classes: int):
        super().__init__()
        c = lambda n: scaled(n, width)  # noqa: E731
        layers: list[nn.Module] = [nn.Conv2d(3, c(64), 3, 2), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True)]
        cin = c(64)
        for item in (16, 16, "M", 32, 32, "M", 48, 48, 64, 64):
            if item == "M":
                layers.append(nn.MaxPool2d(3, 2, ceil_mode=True))
                continue
            fire = Fire(cin, c(item), c(4 * item))
            layers.append(fire)
            cin = fire.out
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Conv2d(cin, classes, 1)

    def forward(self, x):
        return torch.relu(self.classifier(self.features(x))).mean(dim=(2, 3))


def build_squeezenet(size: str = "tiny", **kw):
    """Return ``(SqueezeNet 1.1, (image,))`` for the preset (base: 224x224, batch 1)."""
    cfg = {**PRESETS[size], **kw}
    return finish(SqueezeNet(cfg["width"], cfg["classes"]), cfg["batch"], cfg["image"])
