"""Building blocks shared by the model zoo: scaled channel counts, conv-BN(-ReLU), real BN statistics."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["scaled", "ConvBN", "randomize_bn", "finish"]


def scaled(c: int, width: float, divisor: int = 1) -> int:
    """``c`` channels times ``width``, rounded to a multiple of ``divisor`` (at least ``divisor``)."""
    return max(divisor, int(round(c * width / divisor)) * divisor)


class ConvBN(nn.Sequential):
    """Convolution (no bias), inference batch-norm and an optional activation (``relu``/``relu6``)."""

    def __init__(self, cin: int, cout: int, k=1, stride=1, padding=0, groups: int = 1, act: str | None = "relu",
                 eps: float = 1e-5):
        layers = [nn.Conv2d(cin, cout, k, stride, padding, groups=groups, bias=False), nn.BatchNorm2d(cout, eps=eps)]
        if act == "relu":
            layers.append(nn.ReLU())
        elif act == "relu6":
            layers.append(nn.ReLU6())
        super().__init__(*layers)


def randomize_bn(model: nn.Module, seed: int = 1) -> None:
    """Give every BatchNorm2d non-trivial statistics and affine parameters (fresh ones are identities)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def finish(model: nn.Module, batch: int, image: int, channels: int = 3):
    """Randomize BN statistics, switch to eval mode, and return ``(model, (image_batch,))``."""
    randomize_bn(model)
    return model.eval(), (torch.randn(batch, channels, image, image),)
