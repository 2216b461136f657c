"""A small residual CNN: conv-batchnorm-relu blocks with residual adds, pooling and a linear head."""

from __future__ import annotations

import torch
from torch import nn

from .common import randomize_bn

PRESETS = {
    "tiny": dict(batch=1, channels=8, image=16, blocks=1, classes=10),
    "small": dict(batch=1, channels=32, image=56, blocks=2, classes=100),
    "base": dict(batch=1, channels=64, image=112, blocks=3, classes=1000),
}


def conv_bn_relu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """3x3 convolution, inference batch-norm, ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class ResidualBlock(nn.Module):
    """Two conv-bn(-relu) layers and a residual add."""

    def __init__(self, c: int):
        super().__init__()
        self.a = conv_bn_relu(c, c)
        self.b = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return torch.relu(self.b(self.a(x)) + x)


class SmallCNN(nn.Module):
    """Stem, ``blocks`` residual blocks, global average pool and a classifier."""

    def __init__(self, channels: int, blocks: int, classes: int):
        super().__init__()
        self.stem = conv_bn_relu(3, channels, stride=2)
        self.blocks = nn.Sequential(*[ResidualBlock(channels) for _ in range(blocks)])
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        y = self.blocks(self.stem(x))
        return self.fc(y.mean(dim=(2, 3)))


def build_cnn(size: str = "tiny", **kw):
    """Return ``(SmallCNN, (image,))`` for the preset, with keyword overrides."""
    cfg = {**PRESETS[size], **kw}
    model = SmallCNN(cfg["channels"], cfg["blocks"], cfg["classes"])
    randomize_bn(model, seed=1)
    return model.eval(), (torch.randn(cfg["batch"], 3, cfg["image"], cfg["image"]),)
