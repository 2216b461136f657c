"""MobileNetV2 (Sandler et al. 2018): inverted residual blocks (1x1 expand + ReLU6, 3x3 depthwise +
ReLU6, 1x1 linear projection, residual add when the shape is kept)."""

from __future__ import annotations

from torch import nn

from .common import ConvBN, finish, scaled

__all__ = ["MobileNetV2", "build_mobilenet_v2", "PRESETS", "SETTINGS"]

#: (expansion t, channels c, repeats n, first stride s) per stage, as published.
SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))

PRESETS = {
    "tiny": dict(batch=1, image=64, width=0.25, max_repeats=1, classes=10),
    "small": dict(batch=1, image=112, width=0.5, max_repeats=4, classes=1000),
    "base": dict(batch=1, image=224, width=1.0, max_repeats=4, classes=1000),
}


class InvertedResidual(nn.Module):
    """Expand (1x1, ReLU6; skipped when t = 1), depthwise 3x3 (ReLU6), project (1x1, linear)."""

    def __init__(self, cin: int, cout: int, stride: int, t: int):
        super().__init__()
        hidden = cin * t
        layers = [] if t == 1 else [ConvBN(cin, hidden, 1, act="relu6")]
        layers += [ConvBN(hidden, hidden, 3, stride, 1, groups=hidden, act="relu6"), ConvBN(hidden, cout, 1, act=None)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetV2(nn.Module):
    """Stem 3x3/2 conv, the seven inverted-residual stages, 1x1 conv to 1280, pool, classifier."""

    def __init__(self, width: float, classes: int, max_repeats: int = 4):
        super().__init__()
        cin = scaled(32, width, 8)
        layers: list[nn.Module] = [ConvBN(3, cin, 3, 2, 1, act="relu6")]
        for t, c, n, s in SETTINGS:
            cout = scaled(c, width, 8)
            for i in range(min(n, max_repeats)):
                layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        last = scaled(1280, max(1.0, width), 8)
        layers.append(ConvBN(cin, last, 1, act="relu6"))
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(last, classes)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


def build_mobilenet_v2(size: str = "tiny", **kw):
    """Return ``(MobileNetV2, (image,))`` for the preset (base: width 1.0, 224x224, batch 1)."""
    cfg = {**PRESETS[size], **kw}
    return finish(MobileNetV2(cfg["width"], cfg["classes"], cfg["max_repeats"]), cfg["batch"], cfg["image"])
