"""ETO-style reuse: start from the best schedules of similar, already-tuned operators.

ETO (VLDB'22) reuses the tuned program of an operator of the same type whose loop extents all
dominate, or are all dominated by, the new operator's, and prunes the space around it. Here: the
database's workloads with the same op and element types whose extents dominate (all ≥) or are
dominated (all ≤) are the donors (for convolutions: the same layout and stride, extents N, OH, OW,
OC, KH, KW, IC); their top-k schedules of the searched sketch are adapted to the new
extents (tiles clamped to the loop and to the knob options) and measured first; then the search
explores only the neighbourhood of the best measured schedule (single-knob mutations), not the
whole space. With no donor it falls back to evolutionary search.
"""

from __future__ import annotations

import random

from ..space import Sketch
from .base import History, register, unseen
from .evolutionary import EvolutionaryStrategy

__all__ = ["ReuseStrategy", "dominates"]


def dominates(a: dict[str, int], b: dict[str, int]) -> bool:
    """True if every extent of ``a`` is ≥ the same extent of ``b`` (same dimension names)."""
    return a.keys() == b.keys() and all(a[k] >= b[k] for k in a)


def _adapt(sketch: Sketch, d: dict) -> dict | None:
    """Fit a donor's decisions to this sketch: nearest option ≤ the donor's value, then validate."""
    out = {}
    for k in sketch.knobs:
        v = d.get(k.name)
        if v is None:
            return None
        opts = sorted(k.options)
        le = [o for o in opts if o <= v]
        out[k.name] = le[-1] if le else opts[0]
    # Keep vector tiles dividing distribution tiles after clamping.
    for dist, vec in (("dist_m", "vec_m"), ("dist_n", "vec_n"), ("dist_ow", "vec_ow"), ("dist_oc", "vec_oc")):
        if dist in out and vec in out and out[dist] % out[vec]:
            fits = [o for o in next(k for k in sketch.knobs if k.name == vec).options if out[dist] % o == 0]
            if not fits:
                return None
            out[vec] = max(fits)
    return out if sketch.validate(out) is None else None


@register
class ReuseStrategy:
    """Transfer schedules from dominating / dominated workloads, then search their neighbourhood.

    Args:
        db: the tuning database holding the donors' records.
        target: target name the donors were measured on.
        k: schedules taken per donor.
    """

    name = "reuse"

    def __init__(self, db=None, target: str = "llvm-cpu", k: int = 3):
        self.db, self.target, self.k = db, target, k
        self.fallback = EvolutionaryStrategy()
        self.donors: dict[str, list[str]] = {}

    def transferred(self, sketch: Sketch) -> list[dict]:
        """Adapted schedules from the donors of ``sketch.workload``, best donors' first."""
        if self.db is None:
            return []
        w = sketch.workload
        me = w.extents
        cands = []
        donors = []
        for key, kind, info in self.db.workloads():
            if key == w.key or kind != w.kind or tuple(info.get("types", ())) != tuple(w.types):
                continue
            if list(info.get("strides", [1, 1])) != list(getattr(w, "strides", (1, 1))):
                continue  # convolutions: same stride (a different stride is a different operator)
            ext = info.get("dims", {})
            if not (dominates(ext, me) or dominates(me, ext)):
                continue
            dist = sum(abs(ext[k] - me[k]) / max(ext[k], me[k]) for k in me)
            for rank, rec in enumerate(self.db.top_k(key, self.target, self.k, sketch=sketch.name)):
                adapted = _adapt(sketch, rec.decisions)
                if adapted is not None:
                    cands.append((dist, rank, adapted))
            donors.append(key)
        self.donors[w.key] = donors
        cands.sort(key=lambda c: (c[0], c[1]))
        seen, out = set(), []
        for _, _, d in cands:
            t = tuple(sorted(d.items()))
            if t not in seen:
                seen.add(t)
                out.append(d)
        return out

    def propose(self, sketch: Sketch, history: History, n: int, rng: random.Random) -> list[dict]:
        if not history:
            seeds = self.transferred(sketch)
            if not seeds:
                return self.fallback.propose(sketch, history, n, rng)
            picked = unseen(sketch, history, n, rng, iter(seeds + [None] * (50 * n)).__next__)
            if len(picked) < n:
                picked += unseen(sketch, list(history) + [(d, None) for d in picked], n - len(picked), rng,
                                 lambda: sketch.mutate(picked[0], rng) if picked else sketch.sample(rng))
            return picked
        ok = sorted([(t, d) for d, t in history if t is not None], key=lambda x: x[0])
        if not ok:
            return self.fallback.propose(sketch, history, n, rng)
        best = ok[0][1]
        second = ok[1][1] if len(ok) > 1 else best
        return unseen(sketch, history, n, rng,
                      lambda: sketch.mutate(best if rng.random() < 0.75 else second, rng))
