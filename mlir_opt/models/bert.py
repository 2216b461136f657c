"""A BERT-style encoder layer: multi-head self-attention with separate Q, K, V projections,
residual + LayerNorm, and a GELU feed-forward network (post-norm, as in BERT)."""

from __future__ import annotations

import math

import torch
from torch import nn

PRESETS = {
    "tiny": dict(batch=1, seq=16, hidden=64, heads=4, ffn=128),
    "small": dict(batch=1, seq=64, hidden=256, heads=4, ffn=1024),
    "base": dict(batch=1, seq=128, hidden=768, heads=12, ffn=3072),
}


class EncoderLayer(nn.Module):
    """One transformer encoder layer in BERT's layout."""

    def __init__(self, hidden: int, heads: int, ffn: int):
        super().__init__()
        assert hidden % heads == 0, "hidden must be a multiple of heads"
        self.heads, self.head_dim = heads, hidden // heads
        self.q = nn.Linear(hidden, hidden)
        self.k = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, hidden)
        self.o = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden)
        self.ff1 = nn.Linear(hidden, ffn)
        self.ff2 = nn.Linear(ffn, hidden)
        self.ln2 = nn.LayerNorm(hidden)

    def _split(self, x):  # [b, s, h] -> [b, heads, s, d]
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x):
        b, s, h = x.shape
        q, k, v = self._split(self.q(x)), self._split(self.k(x)), self._split(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v)
        ctx = ctx.transpose(1, 2).reshape(b, s, h)
        x = self.ln1(x + self.o(ctx))
        return self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))


def build_bert_layer(size: str = "tiny", **kw):
    """Return ``(EncoderLayer, (hidden_states,))`` for the preset, with keyword overrides."""
    cfg = {**PRESETS[size], **kw}
    model = EncoderLayer(cfg["hidden"], cfg["heads"], cfg["ffn"]).eval()
    return model, (torch.randn(cfg["batch"], cfg["seq"], cfg["hidden"]),)
