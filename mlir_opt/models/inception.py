"""Inception-v3 (Szegedy et al. 2016) without the auxiliary head, in the usual module layout.

Mixed blocks A (35x35: 1x1 / 5x5 / double 3x3 / pool branches), B (grid reduction), C (17x17:
factorized 1x7 + 7x1 branches), D (grid reduction), E (8x8: split 1x3 / 3x1 branches). Every conv is
conv (no bias) + batch-norm (eps 1e-3) + ReLU. ``width`` scales all channel counts; ``repeats`` is
the number of A, C and E blocks ((3, 4, 2) in the published network).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .common import ConvBN, finish, scaled

__all__ = ["InceptionV3", "build_inception_v3", "PRESETS"]

PRESETS = {
    "tiny": dict(batch=1, image=75, width=1 / 16, repeats=(1, 1, 1), classes=10),
    "small": dict(batch=1, image=149, width=0.25, repeats=(3, 4, 2), classes=1000),
    "base": dict(batch=1, image=299, width=1.0, repeats=(3, 4, 2), classes=1000),
}


class _Ctx:
    def __init__(self, width: float):
        self.width = width

    def conv(self, cin: int, cout: int, k=1, stride=1, padding=0) -> ConvBN:
        return ConvBN(cin, scaled(cout, self.width), k, stride, padding, eps=1e-3)

    def c(self, n: int) -> int:
        return scaled(n, self.width)


class BlockA(nn.Module):
    def __init__(self, s: _Ctx, cin: int, pool: int):
        super().__init__()
        self.b1 = s.conv(cin, 64)
        self.b5 = nn.Sequential(s.conv(cin, 48), s.conv(s.c(48), 64, 5, padding=2))
        self.b3 = nn.Sequential(s.conv(cin, 64), s.conv(s.c(64), 96, 3, padding=1), s.conv(s.c(96), 96, 3, padding=1))
        self.bp = s.conv(cin, pool)
        self.out = s.c(64) * 2 + s.c(96) + s.c(pool)

    def forward(self, x):
        return torch.cat([self.b1(x), self.b5(x), self.b3(x), self.bp(F.avg_pool2d(x, 3, 1, 1))], 1)


class BlockB(nn.Module):
    def __init__(self, s: _Ctx, cin: int):
        super().__init__()
        self.b3 = s.conv(cin, 384, 3, 2)
        self.bd = nn.Sequential(s.conv(cin, 64), s.conv(s.c(64), 96, 3, padding=1), s.conv(s.c(96), 96, 3, 2))
        self.out = s.c(384) + s.c(96) + cin

    def forward(self, x):
        return torch.cat([self.b3(x), self.bd(x), F.max_pool2d(x, 3, 2)], 1)


class BlockC(nn.Module):
    def __init__(self, s: _Ctx, cin: int, c7: int):
        super().__init__()
        c7c = s.c(c7)
        self.b1 = s.conv(cin, 192)
        self.b7 = nn.Sequential(s.conv(cin, c7), s.conv(c7c, c7, (1, 7), padding=(0, 3)),
                                s.conv(c7c, 192, (7, 1), padding=(3, 0)))
        self.bd = nn.Sequential(s.conv(cin, c7), s.conv(c7c, c7, (7, 1), padding=(3, 0)),
                                s.conv(c7c, c7, (1, 7), padding=(0, 3)), s.conv(c7c, c7, (7, 1), padding=(3, 0)),
                                s.conv(c7c, 192, (1, 7), padding=(0, 3)))
        self.bp = s.conv(cin, 192)
        self.out = 4 * s.c(192)

    def forward(self, x):
        return torch.cat([self.b1(x), self.b7(x), self.bd(x), self.bp(F.avg_pool2d(x, 3, 1, 1))], 1)


class BlockD(nn.Module):
    def __init__(self, s: _Ctx, cin: int):
        super().__init__()
        self.b3 = nn.Sequential(s.conv(cin, 192), s.conv(s.c(192), 320, 3, 2))
        self.b7 = nn.Sequential(s.conv(cin, 192), s.conv(s.c(192), 192, (1, 7), padding=(0, 3)),
                                s.conv(s.c(192), 192, (7, 1), padding=(3, 0)), s.conv(s.c(192), 192, 3, 2))
        self.out = s.c(320) + s.c(192) + cin

    def forward(self, x):
        return torch.cat([self.b3(x), self.b7(x), F.max_pool2d(x, 3, 2)], 1)


class BlockE(nn.Module):
    def __init__(self, s: _Ctx, cin: int):
        super().__init__()
        c384 = s.c(384)
        self.b1 = s.conv(cin, 320)
        self.b3 = s.conv(cin, 384)
        self.b3a, self.b3b = s.conv(c384, 384, (1, 3), padding=(0, 1)), s.conv(c384, 384, (3, 1), padding=(1, 0))
        self.bd = nn.Sequential(s.conv(cin, 448), s.conv(s.c(448), 384, 3, padding=1))
        self.bda, self.bdb = s.conv(c384, 384, (1, 3), padding=(0, 1)), s.conv(c384, 384, (3, 1), padding=(1, 0))
        self.bp = s.conv(cin, 192)
        self.out = s.c(320) + 4 * c384 + s.c(192)

    def forward(self, x):
        y3, yd = self.b3(x), self.bd(x)
        return torch.cat([self.b1(x), self.b3a(y3), self.b3b(y3), self.bda(yd), self.bdb(yd),
                          self.bp(F.avg_pool2d(x, 3, 1, 1))], 1)


class InceptionV3(nn.Module):
    """Stem, A blocks, B, C blocks, D, E blocks, global average pool, classifier."""

    def __init__(self, width: float, repeats, classes: int):
        super().__init__()
        s = _Ctx(width)
        self.stem = nn.Sequential(s.conv(3, 32, 3, 2), s.conv(s.c(32), 32, 3), s.conv(s.c(32), 64, 3, padding=1),
                                  nn.MaxPool2d(3, 2), s.conv(s.c(64), 80), s.conv(s.c(80), 192, 3), nn.MaxPool2d(3, 2))
        blocks, cin = [], s.c(192)
        n_a, n_c, n_e = repeats
        for i in range(n_a):
            blocks.append(BlockA(s, cin, 32 if i == 0 else 64))
            cin = blocks[-1].out
        blocks.append(BlockB(s, cin))
        cin = blocks[-1].out
        for i in range(n_c):
            c7 = (128, 160, 160, 192)[min(i, 3)] if n_c > 1 else 128
            blocks.append(BlockC(s, cin, c7))
            cin = blocks[-1].out
        blocks.append(BlockD(s, cin))
        cin = blocks[-1].out
        for _ in range(n_e):
            blocks.append(BlockE(s, cin))
            cin = blocks[-1].out
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(dim=(2, 3)))


def build_inception_v3(size: str = "tiny", **kw):
    """Return ``(InceptionV3, (image,))`` for the preset (base: 299x299, batch 1)."""
    cfg = {**PRESETS[size], **kw}
    return finish(InceptionV3(cfg["width"], cfg["repeats"], cfg["classes"]), cfg["batch"], cfg["image"])
