"""ETO-style reuse: start from the best schedules of similar, already-tuned operators.

ETO (VLDB'22) reuses the tuned program of an operator of the same type whose loop extents all
dominate, or are all dominated by, the new operator's, and prunes the space around it. Here:

* **Donors.** The database's workloads (this run's and earlier runs') with the same op and element
  types and records of the same sketch. ``relation="dominance"`` keeps ETO's rule (extents all ≥ or
  all ≤; convolutions also the same stride); ``relation="similar"`` (the default) admits any such
  workload and ranks donors by the distance of their extents in log₂ space (dominating / dominated
  donors first among equals), so operators with no dominance relation (the attention matmuls of a
  transformer next to its projections) still get a donor. Extents are compared in the space the
  sketch's knobs tile: the GEMM view for ``img2col_tiling`` (so convolutions of any stride and
  kernel size are compared as the matmuls img2col makes of them). At most ``max_donors`` donors.
* **Transfer.** Each donor's top-``k`` schedules are carried over twice: with the same tile sizes
  (snapped to the nearest valid options, :func:`nearest_valid`), and with *relative* tiling — outer
  (distribution / workgroup) tiles scaled by the ratio of the recipient's extent to the donor's,
  register tiles kept — then measured first, the nearest donor's best (as is) at the very front.
* **Robust donor figures.** A donor's best by its search measurements is partly a noise winner
  (the minimum of many single noisy timings). With ``retime=m`` (default 6), the donor's top-``m``
  records are rebuilt and re-timed side by side (interleaved rounds in one process,
  :func:`~mlir_opt.backend.benchmark_interleaved`) and its top-``k`` are taken by the re-timed
  medians. The re-timing is done once per donor (``retimed``, shareable across instances);
  ``retime_cost[donor]`` counts the schedules re-timed (one trial each), which
  :mod:`mlir_opt.ops.efficiency` charges to the donor's users, and all ``m`` records count as
  relied on (``used``).
* **Early donor pool** (``donor_pool="early"``): the donor's candidates for transfer (its top-``k``,
  or the top-``retime`` re-timed) are taken only among its records up to the first one within 95 %
  of its best (by its own search measurements), not among all of them. A donor keeps finding
  schedules a few per cent better long after that point, and the late ones, when transferred, are
  what the recipients are charged for (:mod:`mlir_opt.ops.efficiency`: the donor's trials between
  its own 95 % and the last transferred record). ``"best"`` (default) takes the donor's best overall.
  ``donor_pool="retimed"`` (fifteenth session) finds the pool's end by re-timing instead: the donor's
  ``retime`` fastest records by search time (overall) are re-timed side by side and the pool ends at
  the first of them, in trial order, within 95 % of the fastest re-timed median. A search's fastest
  single timing is often a noise winner found late (BERT's first attention matmul, fourteenth
  session: its search best at trial 29, 0.17 ms, re-timed no faster than its trial-8 record), and
  with ``"early"`` its users were charged every donor trial up to it. The donor's fastest record of
  another sketch (a fixed trial: IREE's default, data tiling) is re-timed with them, so the end is
  the donor's own convergence point: a donor that converged at data tiling before any searched
  record (BERT's FFN-up) gives nothing — its later records would be charged to its users as
  surplus — and the next donor is taken (without re-timing, when the fixed trial's search time is
  already within 95 % of its searched records'). As with ``"early"``, the records that only locate the end
  are not relied on; all re-timed records are charged as re-timing trials, to every workload that
  consulted the donor (listed in ``donors`` even when it gave nothing).
* **Ranking.** A learned cost model (:class:`~mlir_opt.ops.cost_model.GBTCostModel`) trained on
  the donors' records — only those up to the last record transferred, so the donor trials reuse
  relies on are exactly the ones :mod:`mlir_opt.ops.efficiency` charges it for — and on this
  search's own measurements orders the remaining transferred candidates and the neighbourhood.
* **Pruned search.** The first batch measures transferred schedules only; then only the
  neighbourhood of the best measured schedules is explored: every single-knob change of the best
  two, crossovers of the best three and the transferred schedules not yet measured, ranked by the
  cost model, one proposal per batch (of three or more) picked at random from that pool so the
  model keeps learning.

* **First batch after transfer** (``first_neighbours``, default on): the first ``ceil(n / 2)``
  transferred schedules (the nearest donor's best first, the rest by the model), then, competing for
  the rest of the batch, the other transferred schedules and every one-knob neighbour of the first
  ones, ranked by the cost model (trained on the donors' records). On BERT's 768x768 matmul
  (2026-11-26) the best schedule was a one-knob neighbour of a transferred one that the later
  neighbourhood reached only at trial 24.
* **Family prior for recipients** (``family_prior``, default on since the fourteenth session): a
  workload *with* donors also measures the anchor family (below, fitted to it) right after the
  first transferred schedules: the first batch holds the first ``ceil(n / 2)`` transferred
  schedules, then family members; members that did not fit come first in the next batch. What a
  donor's search converged to differs from run to run on these noisy machines (ResNet-50 convs
  17-23, thirteenth session: the 3x3 anchor's best was an 8x32 / 256x128 tile in one run, an 8x32 /
  32x32 peeled tile in another), and its recipients inherited that luck (set totals 10.3x and 2.5x
  for identical runs); the family is a fixed prior about the hardware that does not depend on it.
* **Anchor** (a workload with no donor; ``anchor="family"``, the default): instead of the
  evolutionary fallback, the first batch is a hand-picked *register-tile family*
  (:data:`ANCHOR_FAMILY`: register tiles sized to the CPU's vector registers, moderate cache-level
  outer tiles, snapped to the workload's valid options), and the search goes on as the pruned
  neighbourhood search above, around the best measured. ``anchor="evolutionary"`` restores the
  old fallback. :meth:`ReuseStrategy.has_donor` tells a caller in advance whether a workload is an
  anchor (``benchmarks/op_search.py --reuse-anchor-budget`` gives anchors a larger budget, counted
  as their own trials).

:meth:`ReuseStrategy.order` gives the order in which a tuner should search several workloads so
that later ones find donors (anchors first).
"""

from __future__ import annotations

import heapq
import math
import random

from ..cost_model import GBTCostModel
from ..dispatches import ConvWorkload, Workload, workload_from_info
from ..space import Sketch
from .base import History, register, unseen
from .evolutionary import EvolutionaryStrategy

__all__ = ["ANCHOR_FAMILY", "REGISTER_TILE_KNOBS", "TRANSFERS", "by_shape", "FAMILY_LANES", "DONOR_POOLS", "EARLY_LEVEL", "anchor_family", "anchor_seeds", "ReuseStrategy", "dominates", "nearest_valid", "scaled_tiles", "transfer_extents", "log_distance"]

#: Knob-name prefixes of outer (distribution / workgroup) tiles: scaled with the extents when a
#: schedule is transferred relatively; the suffix names the dimension (``dist_m`` tiles ``M``).
OUTER_TILES = ("dist_", "wg_")


#: Hand-picked first schedules for an anchor (a workload with no donor), per sketch: a family of
#: register tiles sized to the target's vector registers, with moderate outer tiles. The register
#: tiles: ``vec_n`` = 2 vectors of 8 fp32 lanes (AVX2, this machine; one AVX-512 vector), ``vec_m``
#: 4–8 rows so that ``vec_m × vec_n / 8`` accumulators fit the 16 vector registers (8x16 exactly
#: fills them, 16x16 spills), ``vec_k`` 2–8 (reduction unroll); outer tiles 64 x 128 (a 64xK A-panel
#: and a Kx128 B-panel per workgroup, L2-sized for K ≤ 1024), and a 256-wide ``dist_n`` variant.
#: Snapped to each workload's valid options by :func:`nearest_valid`, duplicates dropped. The
#: evidence for the choice (2026-11-26 CPU-time runs, docs/op-level.md): the fastest schedules of
#: the three ResNet quick convs shared vec_n 16 / vec_k 8; BERT's best were vec 8x16 / 16x16.
#: This is a prior about the hardware, not about one workload; the neighbourhood search after it
#: moves every knob. ``img2col_tiling``'s family also covers its ``peel`` and ``cache_n`` knobs
#: (since 2026-11-27, ninth session; before, all members had both at 0).
ANCHOR_FAMILY: dict[str, tuple[dict, ...]] = {
    "double_tiling": (
        # wide-register targets only, first: an 8-row x 2-vector tile in tall 128 x 32 workgroups
        # (one register-tile column per workgroup), vec_k 4. The fastest re-timed schedule of BERT's
        # 768x768 matmul in all four op_search runs of the fourteenth/fifteenth sessions (found only by
        # random search, at its trial 79 of 288); timed side by side (fifteenth session, AVX-512 Xeon)
        # it was 99.7 % of the fastest there where the best of the other members was 89 %, the fastest
        # on the FFN-down matmul, 92-94 % on the attention matmuls (whose best member stays 4x64) and
        # 68 % on FFN-up (docs/op-level.md, "A re-timed donor pool and a tall matmul member").
        dict(dist_m=128, dist_n=32, vec_m=8, vec_n=16, vec_k=4, min_lanes=16),
        dict(dist_m=64, dist_n=128, vec_m=8, vec_n=16, vec_k=8),
        dict(dist_m=64, dist_n=128, vec_m=4, vec_n=16, vec_k=8),
        dict(dist_m=128, dist_n=256, vec_m=8, vec_n=16, vec_k=2),
        dict(dist_m=64, dist_n=256, vec_m=4, vec_n=32, vec_k=4),
    ),
    # the same register tiles; the second and fourth member also peel the loops, the fourth with a
    # cache-level N tile (cache_n 64 inside dist_n 256): IREE's own config for a matmul after img2col
    # carries both (cache_parallel, enable_loop_peeling), and 3 of the 4 best re-timed schedules of
    # ResNet-50's first four convs (2026-11-27 eighth-session run) had peel 1 and/or a cache_n
    "img2col_tiling": (
        # wide-register targets only, first: an 8-row x 2-vector outer-product tile (vec_k 1: one
        # broadcast-FMA step per k, no reduction across lanes) in 64 x 32 workgroups, not peeled. Timed
        # side by side (fourteenth session, AVX-512 Xeon) it was the fastest schedule timed, or within
        # 4 %, on all seven of ResNet-50's convs 17-23 (1.11-1.31x faster than random search's best of
        # 240 trials on six, a tie on the seventh) and within 9 % on convs 1-16 (fastest on 8 of 16); the
        # six op_search runs on convs 17-23 in which reuse happened on such tiles scored set totals of
        # 4.6-10.3x, the ten without 2.5-4.6x (docs/op-level.md, "Family prior for recipients, an
        # outer-product conv member").
        dict(dist_m=64, dist_n=32, vec_m=8, vec_n=16, vec_k=1, cache_n=0, peel=0, min_lanes=16),
        dict(dist_m=64, dist_n=128, vec_m=8, vec_n=16, vec_k=8, cache_n=0, peel=0),
        dict(dist_m=64, dist_n=128, vec_m=4, vec_n=16, vec_k=8, cache_n=0, peel=1),
        dict(dist_m=128, dist_n=256, vec_m=8, vec_n=16, vec_k=2, cache_n=0, peel=0),
        dict(dist_m=64, dist_n=256, vec_m=4, vec_n=32, vec_k=4, cache_n=64, peel=1),
        # wide-register targets only (``min_lanes`` 16): a tall 16-row x 1-vector tile (16 of 32 zmm
        # accumulators) in 128 x 32 workgroups, peeled — the shape of random search's best on 4 of
        # ResNet-50's convs 17-23 (GEMM N of 49-256 output pixels): 0.77-1.31x of the best known
        # schedule on all seven, where the 4x64 member above was 2.7-6.3x; on convs 1-8 (N up to 3136)
        # the 4x64 member is the best of the family on 3 (within 1 % on 2 more) and this one on 2: both
        # kept (timed side by side, thirteenth session; docs/op-level.md "A 16x16 / 128x32 member for
        # small N").
        # The twelfth session's tall member had 128 x 64 workgroups.
        dict(dist_m=128, dist_n=32, vec_m=16, vec_n=8, vec_k=4, cache_n=0, peel=1, min_lanes=16),
    ),
}


#: fp32 lanes :data:`ANCHOR_FAMILY`'s register tiles are written for (AVX2's 256-bit vectors).
FAMILY_LANES = 8


def anchor_family(sketch_name: str, lanes: int = FAMILY_LANES) -> list[dict]:
    """:data:`ANCHOR_FAMILY` of ``sketch_name`` sized to vectors of ``lanes`` fp32 lanes.

    The family is written for AVX2 (:data:`FAMILY_LANES`); on a target with wider (or narrower)
    vectors each register tile keeps its shape in *vectors*: ``vec_n`` (and a ``cache_n`` below it)
    scale by ``lanes / 8``, ``vec_m`` rows stay, so an AVX-512 tile is 8x32 where AVX2's is 8x16 —
    the same 16 accumulator registers out of 32 instead of 16. On an AVX-512 Xeon (2026-11-27, tenth
    session) the AVX2 family's first tiles reached 77 % and 42 % of the best on BERT's 768x768
    matmul, while 8x32 / 4x64 tiles were among the fastest found (docs/op-level.md). A member with
    ``min_lanes`` is a tile only targets of at least that many lanes hold in registers: left out on
    narrower ones; one with ``max_lanes`` is left out on wider ones (the keys are not knobs and are
    dropped)."""
    out = []
    for d in ANCHOR_FAMILY.get(sketch_name, ()):
        d = dict(d)
        if lanes < d.pop("min_lanes", 0) or lanes > d.pop("max_lanes", lanes):
            continue
        if lanes != FAMILY_LANES and "vec_n" in d:
            d["vec_n"] = max(1, d["vec_n"] * lanes // FAMILY_LANES)
            if d.get("cache_n"):
                d["cache_n"] = max(d["cache_n"], d["vec_n"])
        out.append(d)
    return out


def anchor_seeds(sketch: Sketch, lanes: int | None = None) -> list[dict]:
    """:func:`anchor_family` of ``sketch`` fitted to its workload (valid, distinct; [] if none).

    ``lanes``: the target's fp32 vector lanes (default: this machine's,
    :func:`~mlir_opt.ops.space.host_vector_lanes`)."""
    if lanes is None:
        from ..space import host_vector_lanes

        lanes = host_vector_lanes()
    out, seen = [], set()
    for want in anchor_family(sketch.name, lanes):
        d = nearest_valid(sketch, want)
        if d is not None and _key(d) not in seen:
            seen.add(_key(d))
            out.append(d)
    return out


#: The knobs that make a schedule's register tile, per sketch (:func:`by_shape`).
REGISTER_TILE_KNOBS: dict[str, tuple[str, ...]] = {
    "double_tiling": ("vec_m", "vec_n"), "img2col_tiling": ("vec_m", "vec_n"),
    "transform_script": ("vec_m", "vec_n"), "mmt4d_script": ("m0", "n0"),
    "conv_tiling": ("vec_ow", "vec_oc"),
}
#: ``ReuseStrategy(transfer=…)``: a donor's ``k`` best records overall (``top``), or its best record of
#: each register-tile shape first (``shape``, :func:`by_shape`).
TRANSFERS = ("top", "shape")


def by_shape(recs: list, sketch_name: str, n: int) -> list:
    """``n`` of the database records ``recs`` (best first): the first of each register-tile shape
    (:data:`REGISTER_TILE_KNOBS`) in order, then the rest in order. A sketch without register-tile
    knobs keeps the order (the first ``n``)."""
    knobs = REGISTER_TILE_KNOBS.get(sketch_name)
    if not knobs:
        return list(recs[:n])
    firsts, rest, seen = [], [], set()
    for r in recs:
        shape = tuple(r.decisions.get(k) for k in knobs)
        (rest if shape in seen else firsts).append(r)
        seen.add(shape)
    return (firsts + rest)[:n]


def dominates(a: dict[str, int], b: dict[str, int]) -> bool:
    """True if every extent of ``a`` is ≥ the same extent of ``b`` (same dimension names)."""
    return a.keys() == b.keys() and all(a[k] >= b[k] for k in a)


def log_distance(a: dict[str, int], b: dict[str, int]) -> float:
    """Σ |log₂(aᵢ / bᵢ)| over the shared dimensions (inf when the dimension names differ)."""
    if a.keys() != b.keys():
        return math.inf
    return sum(abs(math.log2(max(a[k], 1) / max(b[k], 1))) for k in a)


def transfer_extents(sketch_name: str, w: Workload) -> dict[str, int]:
    """The extents the sketch's tile knobs refer to: the GEMM view for ``img2col_tiling``."""
    if sketch_name == "img2col_tiling" and isinstance(w, ConvWorkload) and w.extents.get("N") == 1:
        return w.gemm_view().extents
    return w.extents


def _opt_cost(o, want) -> float:
    if isinstance(want, bool) or isinstance(o, bool) or not isinstance(want, (int, float)) \
            or not isinstance(o, (int, float)):
        return 0.0 if o == want else 1.0
    return abs(math.log2(max(o, 0.5)) - math.log2(max(want, 0.5)))


def nearest_valid(sketch: Sketch, want: dict, max_pops: int = 4000) -> dict | None:
    """The valid decision set nearest to ``want`` (Σ of per-knob log₂ distances), or None.

    ``want`` may hold values that are not options (a scaled tile of 96 lies between 64 and 128).
    Best-first search over the per-knob option rankings: the first valid set popped is the nearest.
    """
    ranked = []
    for k in sketch.knobs:
        if k.name not in want:
            return None
        ranked.append(sorted(((_opt_cost(o, want[k.name]), o) for o in k.options), key=lambda x: x[0]))
    start = (0,) * len(ranked)
    heap = [(sum(r[0][0] for r in ranked), start)]
    seen = {start}
    for _ in range(max_pops):
        if not heap:
            return None
        cost, idx = heapq.heappop(heap)
        d = {k.name: ranked[i][j][1] for i, (k, j) in enumerate(zip(sketch.knobs, idx))}
        if sketch.validate(d) is None:
            return d
        for i in range(len(idx)):
            if idx[i] + 1 < len(ranked[i]):
                nxt = idx[:i] + (idx[i] + 1,) + idx[i + 1:]
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (cost - ranked[i][idx[i]][0] + ranked[i][idx[i] + 1][0], nxt))
    return None


def scaled_tiles(d: dict, src: dict[str, int], dst: dict[str, int]) -> dict:
    """``d`` with its outer tiles (:data:`OUTER_TILES`) scaled by ``dst[dim] / src[dim]``."""
    out = dict(d)
    for name, v in d.items():
        if not name.startswith(OUTER_TILES) or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        dim = name.split("_", 1)[1].upper()
        if dim in src and dim in dst and src[dim] > 0:
            out[name] = v * dst[dim] / src[dim]
    return out


def _adapt(sketch: Sketch, d: dict) -> dict | None:
    """A donor's decisions fitted to this sketch as they are (nearest valid options)."""
    return nearest_valid(sketch, d)


def _key(d: dict) -> tuple:
    return tuple(sorted(d.items()))


def _spread_knobs(order: list[int], cands: list[dict], best: dict, measured: list[dict]) -> list[int]:
    """``order`` (indices into ``cands``, best first) re-sorted so that changes of the knobs least
    varied around ``best`` so far come first (ties keep ``order``): a coordinate sweep.

    A candidate's count is the largest, over the knobs it changes relative to ``best``, of how many
    measured schedules changed that knob. Without it the cost model kept proposing changes of the
    same one or two knobs: on BERT's 768x768 matmul (CPU-time run, 2026-11-26) the best schedule
    was a one-knob (vec_m) neighbour of a transferred one, tried only at trial 24 after fifteen
    dist / vec_k / vec_n changes."""
    count: dict[str, int] = {}
    for d in measured:
        for k in best:
            if k in d and d[k] != best[k]:
                count[k] = count.get(k, 0) + 1
    rank = {i: r for r, i in enumerate(order)}

    def used(i: int) -> int:
        return max((count.get(k, 0) for k in best if cands[i].get(k) != best[k]), default=0)

    return sorted(order, key=lambda i: (used(i), rank[i]))


#: ``ReuseStrategy(donor_pool=…)``: where a donor's transferred schedules come from.
DONOR_POOLS = ("best", "early", "retimed")
#: ``donor_pool="early"``: a donor's pool ends at its first record within this fraction of its best.
EARLY_LEVEL = 0.95


@register
class ReuseStrategy:
    """Transfer schedules from similar tuned workloads, then search their neighbourhood.

    Args:
        db: the tuning database holding the donors' records.
        target: target name the donors were measured on.
        k: schedules taken per donor.
        relation: ``"similar"`` (any same-kind donor, nearest first) or ``"dominance"`` (ETO's rule).
        max_donors: donors used per workload (nearest first).
        cost_model: rank candidates with a GBT model (True) or keep the transfer order (False).
        retime: re-time the donor's top-``retime`` records side by side and take its top-``k`` by the
            re-timed medians (0 or ≤ ``k``: take the top-``k`` by the search measurements).
        retimed: a dict shared between instances (workloads of one run) holding each donor's
            re-timing, so a donor is re-timed (and charged) once.
        rounds: interleaved rounds of the re-timing.
        db_target: the target string the donors' records are stored under (default ``target``;
            an evaluator's ``db_target`` when trials are timed by CPU time).
        threads, cpu_time: the re-timing's threads and clock (match the trials').
        anchor: a workload without a donor starts from :data:`ANCHOR_FAMILY` and is searched by
            the pruned neighbourhood search (``"family"``), or falls back to evolutionary search.
        anchor_weight: in a multi-workload tune (:func:`~mlir_opt.ops.tuner.tune_workloads`), an
            anchor's share of the budget is its weight times this (:meth:`anchor_keys`; default 1: a
            2x anchor budget measured worse, docs/op-level.md).
        first_neighbours: the first batch after transfer mixes the transferred schedules with their
            one-knob neighbours, ranked by the cost model (False: transferred schedules only).
        donor_pool: ``"best"`` (a donor's best records overall), ``"early"`` (its best records up to
            the first within 95 % of its best) or ``"retimed"`` (up to the first within 95 % of its
            best by re-timed medians; needs ``retime`` > ``k``, else ``"early"``); see the module doc.
        transfer: ``"top"`` (default): a donor's ``k`` best records overall; ``"shape"``: its best of
            each register-tile shape first (:func:`by_shape`; the re-timed pool too), so a recipient
            whose best tile differs from the donor's still gets one of its own shape — not better in an
            A/B on ResNet-50 convs 17-23 (docs/op-level.md), hence not the default.
        vector_lanes: fp32 lanes the anchor family's register tiles are sized to (default: this
            machine's, as IREE compiles for ``host``; :func:`anchor_family`).
        family_prior: a workload with donors also measures the anchor family in its first batches,
            after the first transferred schedules (see the module doc); False: transferred schedules
            and their neighbourhood only (before the fourteenth session).

    After :meth:`transferred`, ``anchors`` holds the keys searched as anchors, ``donors[key]`` lists the donors of workload ``key`` and
    ``used[donor]`` the donor's records (``(sketch, decisions)``) reuse relied on: its transferred
    schedules; the cost model saw only the donor records measured up to the last of them.
    """

    name = "reuse"

    def __init__(self, db=None, target: str = "llvm-cpu", k: int = 3, relation: str = "similar",
                 max_donors: int = 2, cost_model: bool = True, seed: int = 0, retime: int = 6,
                 retimed: dict | None = None, rounds: int = 7, db_target: str | None = None,
                 threads: int | None = None, cpu_time: bool = False, anchor: str = "family",
                 first_neighbours: bool = True, anchor_weight: float = 1.0, donor_pool: str = "best",
                 vector_lanes: int | None = None, transfer: str = "top", family_prior: bool = True):
        if transfer not in TRANSFERS:
            raise ValueError(f"transfer must be one of {', '.join(TRANSFERS)}, not {transfer!r}")
        self.transfer, self.family_prior = transfer, family_prior
        self._prior: dict[str, list[dict]] = {}
        if relation not in ("similar", "dominance"):
            raise ValueError(f"relation must be 'similar' or 'dominance', not {relation!r}")
        if donor_pool not in DONOR_POOLS:
            raise ValueError(f"donor_pool must be one of {', '.join(DONOR_POOLS)}, not {donor_pool!r}")
        self.donor_pool = donor_pool
        if anchor not in ("family", "evolutionary"):
            raise ValueError(f"anchor must be 'family' or 'evolutionary', not {anchor!r}")
        self.anchor, self.first_neighbours, self.anchor_weight = anchor, first_neighbours, anchor_weight
        self.anchors: set[str] = set()
        self.db, self.target, self.k, self.relation, self.max_donors = db, target, k, relation, max_donors
        self.fallback = EvolutionaryStrategy(seed=seed)
        self.model = GBTCostModel(seed=seed) if cost_model else None
        self.donors: dict[str, list[str]] = {}
        self.used: dict[str, list[tuple[str, dict]]] = {}
        self._fed: set = set()
        self._seeds: dict[str, list[dict]] = {}
        self.retime, self.rounds = retime, rounds
        self.retimed: dict[str, dict] = retimed if retimed is not None else {}
        self.retime_cost: dict[str, int] = {}
        self.db_target = db_target or target
        self.threads, self.cpu_time = threads, cpu_time
        self.vector_lanes = vector_lanes

    def _donor_top(self, key: str, dw: Workload, sketch_name: str) -> list:
        """The donor's ``k`` best records: by re-timed medians when ``retime`` > ``k`` (see class doc).

        Returns the records relied on first (all the re-timed ones) and the chosen top-``k``."""
        shape = self.transfer == "shape"
        widen = 4 if shape else 1  # per-shape picks draw from a wider pool of the donor's records
        if self.donor_pool == "retimed" and self.retime > self.k and not shape:
            return self._retimed_pool_top(key, dw, sketch_name)
        if self.retime <= self.k:
            top = self._donor_pool(key, sketch_name, self.k * widen)
            top = by_shape(top, sketch_name, self.k) if shape else top
            return top, top
        pool = self._donor_pool(key, sketch_name, self.retime * widen)
        pool = by_shape(pool, sketch_name, self.retime) if shape else pool
        if len(pool) <= 1:
            return pool, pool
        ms = self._retimed_ms(key, dw, sketch_name, pool)
        ranked = sorted(pool, key=lambda r: (ms.get(r.id, math.inf), r.median_ms))
        return pool, (by_shape(ranked, sketch_name, self.k) if shape else ranked[: self.k])

    def _retimed_pool_top(self, key: str, dw: Workload, sketch_name: str) -> tuple[list, list]:
        """``donor_pool="retimed"``: the early pool, its end found by re-timing (see the module doc).

        The donor's ``retime`` fastest records of ``sketch_name`` by search time (overall), and its
        fastest record of any other sketch (IREE's default, data tiling: the fixed trials), are
        re-timed side by side; the pool ends at the first of them, in trial order, within
        :data:`EARLY_LEVEL` of the fastest re-timed median — the donor's own convergence point. The
        ``k`` transferred are the pool's re-timed records of ``sketch_name`` by re-timed median, then
        its other records by search time; the pool is empty when the donor converged at a record of
        another sketch before any of ``sketch_name`` (the donor then gives nothing, but stays charged
        for the re-timing) — decided without re-timing when that record's search time is already
        within :data:`EARLY_LEVEL` of the fastest search time of ``sketch_name``. Relied on: the
        transferred and the re-timed records inside the pool; the re-timed ones after it only located
        its end (charged as re-timing trials, ``retime_cost``)."""
        recs = self._usable(key)
        mine = [r for r in recs if r.sketch == sketch_name]
        if not mine:
            return [], []
        cand = sorted(mine, key=lambda r: (r.median_ms, r.id))[: self.retime]
        other = min((r for r in recs if r.sketch != sketch_name), key=lambda r: (r.median_ms, r.id), default=None)
        if other is not None and other.id < min(r.id for r in mine) and \
                other.median_ms <= cand[0].median_ms / EARLY_LEVEL:
            return [], []  # converged at a fixed trial by its search times already: no re-timing needed
        timed_recs = cand + ([other] if other is not None else [])
        if len(timed_recs) <= 1:
            return cand, cand
        ms = self._retimed_ms(key, dw, sketch_name, timed_recs)
        timed = [r for r in timed_recs if r.id in ms]
        if not any(r.sketch == sketch_name for r in timed):  # the re-timing failed: the early pool
            pool = self._donor_pool_early(mine, self.k)
            return pool, pool
        fastest = min(ms[r.id] for r in timed)
        end = min(r.id for r in timed if ms[r.id] <= fastest / EARLY_LEVEL)
        pool = [r for r in mine if r.id <= end]
        ranked = sorted(pool, key=lambda r: (ms.get(r.id, math.inf), r.median_ms, r.id))
        top = ranked[: self.k]
        relied = [r for r in timed if r.id <= end and r.sketch == sketch_name] + [r for r in top if r.id not in ms]
        return relied, top

    def _retimed_ms(self, key: str, dw: Workload, sketch_name: str, recs: list) -> dict[int, float]:
        """``{record id: re-timed median}`` of the donor's ``recs``, re-timed once per donor and sketch
        (shared through ``retimed``; the first re-timing charges ``len(recs)`` to ``retime_cost``)."""
        tag = f"{key}|{sketch_name}"
        if tag not in self.retimed:
            self.retimed[tag] = {"ms": self._retime(dw, recs), "n": len(recs)}
            self.retime_cost[key] = self.retime_cost.get(key, 0) + len(recs)
        return {int(i): t for i, t in self.retimed[tag]["ms"].items()}  # JSON round trips make keys str

    def _usable(self, key: str) -> list:
        """The donor's correct, plainly timed records, oldest first."""
        return [r for r in self.db.records(key, self.db_target) if r.ok and r.timing == "plain"
                and r.median_ms is not None]

    @staticmethod
    def _donor_pool_early(recs: list, m: int) -> list:
        best = min(r.median_ms for r in recs)
        cut = next(i for i, r in enumerate(recs) if r.median_ms <= best / EARLY_LEVEL)
        return sorted(recs[: cut + 1], key=lambda r: (r.median_ms, r.id))[:m]

    def _donor_pool(self, key: str, sketch_name: str, m: int) -> list:
        """The donor's ``m`` fastest correct records of ``sketch_name``: overall (``donor_pool="best"``)
        or among those up to its first record within :data:`EARLY_LEVEL` of its best (``"early"``)."""
        if self.donor_pool == "best":
            return self.db.top_k(key, self.db_target, m, sketch=sketch_name)
        recs = [r for r in self._usable(key) if r.sketch == sketch_name]
        return self._donor_pool_early(recs, m) if recs else []

    def _retime(self, dw: Workload, recs: list) -> dict[int, float]:
        """Rebuild ``recs`` and time them interleaved; ``{record id: median ms}`` (a failure: absent)."""
        import tempfile
        from pathlib import Path

        from ...backend import benchmark_interleaved, default_threads
        from ..confirm import workload_inputs
        from ..evaluate import build_schedule
        from ..schedule import Schedule

        with tempfile.TemporaryDirectory(prefix="mlir_opt_reuse_") as tmp:
            vmfbs = {}
            for r in recs:
                b = build_schedule(Schedule(dw, r.sketch, r.decisions, self.target), Path(tmp) / str(r.id),
                                   self.target)
                if b.ok:
                    vmfbs[r.id] = b.vmfb
            if not vmfbs:
                return {}
            try:
                t = benchmark_interleaved(vmfbs, workload_inputs(dw, 0), target=self.target, rounds=self.rounds,
                                          threads=self.threads or default_threads(), cpu_time=self.cpu_time)
            except Exception:  # a donor that cannot be re-run keeps its search figures
                return {}
        return {i: x.median_ms for i, x in t.items()}

    # -- donors and transfer ---------------------------------------------------------------------

    def _candidates(self, sketch: Sketch) -> list[tuple[float, str, Workload]]:
        w = sketch.workload
        me = transfer_extents(sketch.name, w)
        gemm = sketch.name == "img2col_tiling"
        out = []
        for key, kind, info in self.db.workloads():
            if key == w.key or kind != w.kind or tuple(info.get("types", ())) != tuple(w.types):
                continue
            same_stride = list(info.get("strides", [1, 1])) == list(getattr(w, "strides", (1, 1)))
            if self.relation == "dominance" and not same_stride:
                continue  # ETO: a different stride is a different operator
            try:
                dw = workload_from_info(info)
                ext = transfer_extents(sketch.name, dw)
            except Exception:
                continue
            if ext.keys() != me.keys():
                continue
            dom = dominates(ext, me) or dominates(me, ext)
            if self.relation == "dominance" and not dom:
                continue
            # rank: log distance; dominance and (outside the GEMM view) the same stride break ties
            rank = log_distance(ext, me) + (0.0 if dom else 0.25) + (0.0 if same_stride or gemm else 1.0)
            out.append((rank, key, dw))
        out.sort(key=lambda x: (x[0], x[1]))
        return out

    def has_donor(self, sketch: Sketch) -> bool:
        """Whether ``sketch.workload`` has a donor candidate in the database now (else: an anchor).
        Does not re-time or transfer anything."""
        if self.db is None:
            return False
        for _, key, _ in self._candidates(sketch):
            if self.db.top_k(key, self.db_target, 1, sketch=sketch.name):
                return True
        return False

    def anchor_keys(self, items: list[tuple[str, Sketch]]) -> list[str]:
        """The keys of ``items`` (``(key, sketch)`` in search order) that will be searched as anchors:
        no donor in the database now and no earlier item that could be one (same op and element
        types, same sketch, same extent names). :func:`~mlir_opt.ops.tuner.tune_workloads`
        multiplies their share of the budget by ``anchor_weight``."""
        out, groups = [], set()
        for key, sk in items:
            w = sk.workload
            g = (w.kind, tuple(w.types), sk.name, tuple(sorted(transfer_extents(sk.name, w))))
            if g not in groups and not self.has_donor(sk):
                out.append(key)
            groups.add(g)
        return out

    def _feed(self, w: Workload, d: dict, t: float | None) -> None:
        tag = (w.key, _key(d))
        if self.model is None or t is None or tag in self._fed:
            return
        self._fed.add(tag)
        self.model.update([w], [d], [t])

    def transferred(self, sketch: Sketch) -> list[dict]:
        """Adapted schedules from the donors of ``sketch.workload``, in the order to measure them."""
        w = sketch.workload
        if self.db is None:
            self.donors[w.key] = []
            return []
        me = transfer_extents(sketch.name, w)
        cands: list[tuple[int, int, int, dict]] = []  # (donor index, donor rank, variant, decisions)
        donors, consulted = [], []
        for rank, key, dw in self._candidates(sketch):
            if len(donors) >= self.max_donors:
                break
            relied, top = self._donor_top(key, dw, sketch.name)
            if not top:
                if f"{key}|{sketch.name}" in self.retimed and key not in consulted:
                    consulted.append(key)  # re-timed for this workload, nothing to transfer: still charged
                continue
            src = transfer_extents(sketch.name, dw)
            got = []
            for r, rec in enumerate(top):
                for v, want in enumerate((rec.decisions, scaled_tiles(rec.decisions, src, me))):
                    d = nearest_valid(sketch, want)
                    if d is not None:
                        got.append((len(donors), r, v, d))
            if not got:
                continue
            cands += got
            self.used.setdefault(key, [])
            for rec in relied:
                if (rec.sketch, rec.decisions) not in self.used[key]:
                    self.used[key].append((rec.sketch, rec.decisions))
            # the cost model learns from the donor's records up to the last one relied on
            last = max(rec.id for rec in relied)
            for rec in self.db.records(key, self.db_target):
                if rec.id <= last and rec.ok and rec.sketch == sketch.name:
                    self._feed(dw, rec.decisions, rec.median_ms)
            donors.append(key)
        self.donors[w.key] = donors + consulted
        cands.sort(key=lambda c: (c[0], c[1], c[2]))
        out, seen = [], set()
        for *_, d in cands:
            if _key(d) not in seen:
                seen.add(_key(d))
                out.append(d)
        if len(out) > 2 and self.model is not None and self.model.trained:
            # the nearest donor's best as is stays first (ETO's direct reuse); the rest by the model
            scores = self.model.predict([w] * (len(out) - 1), out[1:])
            out = out[:1] + [out[1 + i] for i in sorted(range(len(out) - 1), key=lambda i: scores[i])]
        return out

    # -- proposals ------------------------------------------------------------------------------

    def _neighbours(self, sketch: Sketch, bases: list[dict]) -> list[dict]:
        out = []
        for b in bases:
            for k in sketch.knobs:
                for o in k.options:
                    if o != b[k.name]:
                        d = dict(b, **{k.name: o})
                        if sketch.validate(d) is None:
                            out.append(d)
        return out

    def propose(self, sketch: Sketch, history: History, n: int, rng: random.Random) -> list[dict]:
        w = sketch.workload
        if w.key not in self._seeds:
            seeds = self.transferred(sketch)
            if not seeds and self.anchor == "family":
                seeds = anchor_seeds(sketch, self.vector_lanes)
                if seeds:
                    self.anchors.add(w.key)
            elif seeds and self.family_prior:
                have = {_key(d) for d in seeds}
                self._prior[w.key] = [d for d in anchor_seeds(sketch, self.vector_lanes) if _key(d) not in have]
            self._seeds[w.key] = seeds
        seeds = self._seeds[w.key]
        if not seeds:
            return self.fallback.propose(sketch, history, n, rng)
        for d, t in history:
            self._feed(w, d, t)
        seen = {_key(d) for d, _ in history}
        # the first batch: the transferred (or anchor-family) schedules; an anchor's family members
        # that did not fit the first batch come first in the next ones (a hand-picked prior, measured
        # in full), while transferred schedules past the first batch compete with the neighbourhood
        picked = [d for d in seeds if _key(d) not in seen][:n] \
            if not history or w.key in self.anchors else []
        if picked and self.first_neighbours and w.key not in self.anchors and len(picked) > 1:
            return self._first_batch(sketch, seeds, n)
        # family members left over from the first batch (family_prior) come first
        picked += [d for d in self._prior.get(w.key, ()) if _key(d) not in seen][:n - len(picked)]
        if len(picked) == n:
            return picked
        ok = sorted([(t, d) for d, t in history if t is not None], key=lambda x: x[0])
        bases = [d for _, d in ok[:2]] or picked[:1] or seeds[:1]
        # then the neighbourhood of the best measured, competing with the transferred rest
        pool = self._neighbours(sketch, bases) + seeds
        top3 = [d for _, d in ok[:3]]
        for _ in range(4 * len(top3)):
            if len(top3) >= 2:
                a, b = rng.sample(top3, 2)
                c = {k: (a[k] if rng.random() < 0.5 else b[k]) for k in a}
                if sketch.validate(c) is None:
                    pool.append(c)
        taken = seen | {_key(d) for d in picked}
        uniq = []
        for d in pool:
            if _key(d) not in taken:
                taken.add(_key(d))
                uniq.append(d)
        need = n - len(picked)
        if not uniq:  # neighbourhood exhausted: widen by random mutation of the best
            return picked + unseen(sketch, list(history) + [(d, None) for d in picked], need, rng,
                                   lambda: sketch.mutate(bases[0], rng))
        if self.model is not None and self.model.trained:
            scores = self.model.predict([w] * len(uniq), uniq)
            order = sorted(range(len(uniq)), key=lambda i: scores[i])
        else:
            order = list(range(len(uniq)))
            rng.shuffle(order)
        order = _spread_knobs(order, uniq, bases[0], [d for d, _ in history])
        n_explore = 1 if need >= 3 and len(order) > need else 0
        chosen = order[: need - n_explore]
        chosen += rng.sample(order[need - n_explore:], n_explore)
        return picked + [uniq[i] for i in chosen]

    def _first_batch(self, sketch: Sketch, seeds: list[dict], n: int) -> list[dict]:
        """The first batch after transfer: the first ``ceil(n / 2)`` transferred schedules, then the
        family prior (``family_prior``; members that do not fit lead the next batch), then the other
        transferred ones and the one-knob neighbours of the first ones, by the cost model (without a
        trained model: transferred first, then neighbours in knob order)."""
        w = sketch.workload
        nt = (n + 1) // 2
        head = seeds[:nt]
        taken = {_key(d) for d in head}
        for d in self._prior.get(w.key, ()):  # the family prior next (the rest in the next batch)
            if len(head) < n and _key(d) not in taken:
                taken.add(_key(d))
                head.append(d)
        pool = []
        for d in seeds[nt:] + self._neighbours(sketch, seeds[:nt]):
            if _key(d) not in taken:
                taken.add(_key(d))
                pool.append(d)
        need = n - len(head)
        if not pool or need <= 0:
            return head
        if self.model is not None and self.model.trained:
            scores = self.model.predict([w] * len(pool), pool)
            pool = [pool[i] for i in sorted(range(len(pool)), key=lambda i: scores[i])]
        return head + pool[:need]

    # -- ordering across workloads --------------------------------------------------------------

    @staticmethod
    def order(items: list[tuple[str, Workload, float]]) -> list[str]:
        """The order in which to search ``(key, workload, weight)`` items: by weight (the share of
        the model's time), heaviest first, so the workloads that matter most get a full search and
        the later, lighter ones find them as donors."""
        return [k for k, _, _ in sorted(items, key=lambda x: (-x[2], x[0]))]
