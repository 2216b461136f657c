"""A multi-layer perceptron: Linear -> ReLU blocks."""

from __future__ import annotations

import torch
from torch import nn

PRESETS = {
    "tiny": dict(batch=4, d_in=32, hidden=64, layers=2, d_out=16),
    "small": dict(batch=16, d_in=256, hidden=512, layers=3, d_out=64),
    "base": dict(batch=64, d_in=1024, hidden=2048, layers=4, d_out=1000),
}


class MLP(nn.Module):
    """``layers`` hidden Linear+ReLU layers, then a Linear head."""

    def __init__(self, d_in: int, hidden: int, layers: int, d_out: int):
        super().__init__()
        dims = [d_in] + [hidden] * layers
        self.body = nn.Sequential(*[m for a, b in zip(dims, dims[1:]) for m in (nn.Linear(a, b), nn.ReLU())])
        self.head = nn.Linear(dims[-1], d_out)

    def forward(self, x):
        return self.head(self.body(x))


def build_mlp(size: str = "tiny", **kw):
    """Return ``(MLP, (x,))`` for the preset, with keyword overrides."""
    cfg = {**PRESETS[size], **kw}
    model = MLP(cfg["d_in"], cfg["hidden"], cfg["layers"], cfg["d_out"]).eval()
    return model, (torch.randn(cfg["batch"], cfg["d_in"]),)
