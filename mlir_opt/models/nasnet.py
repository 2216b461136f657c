"""A NASNet-A cell stack (Zoph et al. 2018), in the shape TASO and TENSAT benchmark it: a stem, then
``stages`` stages of ``cells`` normal cells followed by a reduction cell.

Cells take the two previous cell outputs (``prev``, ``cur``), bring both to the cell's channel count
(1x1 conv, strided when ``prev`` has twice the resolution), and combine pairs of branch ops by adds:
separable convolutions (ReLU, depthwise kxk, pointwise 1x1, batch-norm), 3x3 average / max pools and
identities. A normal cell concatenates ``prev`` and its five sums (6C channels); a reduction cell
(stride 2) concatenates its four unused sums (4C channels).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .common import ConvBN, finish, scaled

__all__ = ["NasNetA", "build_nasnet_a", "PRESETS"]

PRESETS = {
    "tiny": dict(batch=1, image=32, channels=8, stages=1, cells=1, classes=10),
    "small": dict(batch=1, image=112, channels=32, stages=3, cells=2, classes=1000),
    "base": dict(batch=1, image=224, channels=128, stages=3, cells=5, classes=1000),
}


class SepConv(nn.Module):
    """ReLU, depthwise kxk conv (stride), pointwise 1x1 conv, batch-norm."""

    def __init__(self, c: int, k: int, stride: int = 1):
        super().__init__()
        self.dw = nn.Conv2d(c, c, k, stride, k // 2, groups=c, bias=False)
        self.pw = ConvBN(c, c, 1, act=None)

    def forward(self, x):
        return self.pw(self.dw(torch.relu(x)))


def _avg(x, stride=1):
    return F.avg_pool2d(x, 3, stride, 1, count_include_pad=False)


def _max(x, stride=1):
    return F.max_pool2d(x, 3, stride, 1)


class Fit(nn.Module):
    """ReLU then 1x1 conv-BN to ``c`` channels; strided when the input has twice the resolution."""

    def __init__(self, cin: int, c: int, stride: int):
        super().__init__()
        self.conv = ConvBN(cin, c, 1, stride, act=None)

    def forward(self, x):
        return self.conv(torch.relu(x))


class NormalCell(nn.Module):
    def __init__(self, c_prev: int, c_cur: int, c: int, prev_stride: int):
        super().__init__()
        self.fp, self.fc = Fit(c_prev, c, prev_stride), Fit(c_cur, c, 1)
        self.s3h, self.s3p, self.s5h, self.s5p, self.s3p2 = (SepConv(c, k) for k in (3, 3, 5, 5, 3))
        self.out = 6 * c

    def forward(self, prev, cur):
        p, h = self.fp(prev), self.fc(cur)
        y1 = self.s3h(h) + h
        y2 = self.s3p(p) + self.s5h(h)
        y3 = _avg(h) + p
        y4 = _avg(p) + _avg(p)
        y5 = self.s5p(p) + self.s3p2(p)
        return torch.cat([p, y1, y2, y3, y4, y5], 1)


class ReductionCell(nn.Module):
    def __init__(self, c_prev: int, c_cur: int, c: int, prev_stride: int):
        super().__init__()
        self.fp, self.fc = Fit(c_prev, c, prev_stride), Fit(c_cur, c, 1)
        self.s7p, self.s5h, self.s7p2, self.s5p = (SepConv(c, k, 2) for k in (7, 5, 7, 5))
        self.s3z = SepConv(c, 3)
        self.out = 4 * c

    def forward(self, prev, cur):
        p, h = self.fp(prev), self.fc(cur)
        z1 = self.s7p(p) + self.s5h(h)
        z2 = _max(h, 2) + self.s7p2(p)
        z3 = _avg(h, 2) + self.s5p(p)
        z4 = _max(h, 2) + self.s3z(z1)
        z5 = _avg(z1) + z2
        return torch.cat([z2, z3, z4, z5], 1)


class NasNetA(nn.Module):
    """Stem (3x3/2 conv-BN, 3x3/2 max-pool), cell stages, global average pool, classifier."""

    def __init__(self, channels: int, stages: int, cells: int, classes: int):
        super().__init__()
        stem = scaled(channels, 0.5)
        self.stem = nn.Sequential(ConvBN(3, stem, 3, 2, 1, act=None), nn.MaxPool2d(3, 2, 1))
        self.cells = nn.ModuleList()
        # (channels, resolution divisor) of the two most recent outputs
        prev, cur = (stem, 1), (stem, 1)
        c = channels
        for _ in range(stages):
            for _ in range(cells):
                cell = NormalCell(prev[0], cur[0], c, 2 if prev[1] < cur[1] else 1)
                self.cells.append(cell)
                prev, cur = cur, (cell.out, cur[1])
            cell = ReductionCell(prev[0], cur[0], c * 2, 2 if prev[1] < cur[1] else 1)
            self.cells.append(cell)
            prev, cur = cur, (cell.out, cur[1] * 2)
            c *= 2
        self.fc = nn.Linear(cur[0], classes)

    def forward(self, x):
        prev = cur = self.stem(x)
        for cell in self.cells:
            prev, cur = cur, cell(prev, cur)
        return self.fc(torch.relu(cur).mean(dim=(2, 3)))


def build_nasnet_a(size: str = "tiny", **kw):
    """Return ``(NasNetA, (image,))`` for the preset (base: 224x224, batch 1, 3 stages of 5 normal cells
    and a reduction cell, 128 channels doubling per stage, as in TASO's NasNet-A benchmark)."""
    cfg = {**PRESETS[size], **kw}
    model = NasNetA(cfg["channels"], cfg["stages"], cfg["cells"], cfg["classes"])
    return finish(model, cfg["batch"], cfg["image"])
