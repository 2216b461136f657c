"""NasRNN: the recurrent cell found by neural architecture search (Zoph & Le 2017), unrolled over
``steps`` time steps, in the form TASO and TENSAT benchmark it.

Each step combines the input ``x_t`` and the state ``h`` eight times (``x_t @ Wx_i + h @ Wh_i``,
i.e. sixteen matmuls, eight sharing each operand) and mixes the eight results through a fixed tree of
ReLU / sigmoid / tanh, adds and products into the new state. The shared-operand matmuls are what
horizontal merging targets.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["NasRNN", "build_nasrnn", "PRESETS"]

PRESETS = {
    "tiny": dict(batch=1, hidden=32, steps=2),
    "small": dict(batch=1, hidden=256, steps=5),
    "base": dict(batch=1, hidden=512, steps=5),
}


class NasCell(nn.Module):
    """One NAS cell: eight x/h combinations mixed into the next state."""

    def __init__(self, hidden: int):
        super().__init__()
        scale = hidden ** -0.5
        self.wx = nn.ParameterList([nn.Parameter(torch.randn(hidden, hidden) * scale) for _ in range(8)])
        self.wh = nn.ParameterList([nn.Parameter(torch.randn(hidden, hidden) * scale) for _ in range(8)])

    def forward(self, x, h):
        t = [torch.matmul(x, wx) + torch.matmul(h, wh) for wx, wh in zip(self.wx, self.wh)]
        m0 = torch.relu(t[0]) + torch.sigmoid(t[3])
        m1 = torch.sigmoid(t[1]) + torch.tanh(t[2])
        m2 = torch.sigmoid(t[4]) * torch.tanh(t[5])
        m3 = torch.sigmoid(t[6]) * torch.relu(t[7])
        m4 = torch.sigmoid(m1) + torch.tanh(m2)
        m5 = torch.tanh(m0) * torch.tanh(m3)
        return torch.tanh(torch.tanh(m4) * torch.tanh(m5))


class NasRNN(nn.Module):
    """``steps`` cells applied to ``xs[t]`` (shape ``[steps, batch, hidden]``) from a learned state."""

    def __init__(self, hidden: int, steps: int, batch: int):
        super().__init__()
        self.steps = steps
        self.cells = nn.ModuleList([NasCell(hidden) for _ in range(steps)])
        self.h0 = nn.Parameter(torch.randn(batch, hidden) * 0.1)

    def forward(self, xs):
        h = self.h0
        for t, cell in enumerate(self.cells):
            h = cell(xs[t], h)
        return h


def build_nasrnn(size: str = "tiny", **kw):
    """Return ``(NasRNN, (xs,))`` for the preset (base: hidden 512, 5 steps, batch 1, as in TASO)."""
    cfg = {**PRESETS[size], **kw}
    model = NasRNN(cfg["hidden"], cfg["steps"], cfg["batch"]).eval()
    return model, (torch.randn(cfg["steps"], cfg["batch"], cfg["hidden"]),)
