"""What the graph searches share: one-step expansion of a graph by every rule match, and the setup.

``Expander.expand(model, view)`` yields every new neighbour graph (one rewrite applied), skipping
rewrites that fail (logged, counted) and graphs already seen (structural hash): the deduplication
that lets sequences reaching the same graph in different orders be explored once.

Each neighbour's :class:`GraphView` is built incrementally from its parent's (the ops a rewrite did
not touch keep their local hash keys), and records which ops survived (``view.origin``), so that
:class:`Family` can tell which rewrites of a child are independent of the rewrite that made it
(the pruning of redundant sequences of :mod:`.ocggs`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Iterator

from ...errors import MlirOptError
from ...model import Model
from ..cost import CostModel
from ... import ir as _ir
from ..view import GraphView, ViewMemo, op_address, record_erasures
from .matching import MatchState, match_all

__all__ = ["Candidate", "Step", "Expander", "clone_module", "Family", "setup", "LazyVerifier", "VerifiedRules"]

log = logging.getLogger("mlir_opt.graph")


@dataclass(frozen=True)
class Step:
    """The rewrite that made a candidate from its parent: the match's position in the parent's
    enumeration of matches (:meth:`Expander.matches`), the rule and the matched ops (parent indices)."""

    index: int
    rule: str
    ops: tuple[int, ...]


@dataclass
class Candidate:
    """A graph reached by the rewrite sequence ``seq``; ``cost`` from the cost model."""

    model: Model
    view: GraphView
    cost: float
    seq: list[str] = field(default_factory=list)
    step: Step | None = None
    matches: list | None = field(default=None, repr=False)  # (rule, Match) pairs, once enumerated
    #: incremental matching: this graph's per-anchor match state, and its parent's until matched
    mstate: "MatchState | None" = field(default=None, repr=False)
    pstate: "MatchState | None" = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return self.view.structural_hash()

    def match_key(self, rule_name: str, ops: tuple[int, ...]) -> tuple:
        """A key of a match that is the same in every copy of this graph (node hashes, not indices)."""
        return (rule_name, tuple(self.view.node_hash(i) for i in ops))


def clone_module(module: "_ir.ir.Module") -> "_ir.ir.Module":
    """A deep copy of ``module`` made in memory (``Operation.clone`` of each top-level op into a new
    module with the same attributes), in the same context: the same ops in the same order, and
    attributes (weights included) shared as uniqued attributes instead of serialized to bytecode
    and parsed back, which is what :meth:`Model.clone` does."""
    ir = _ir.ir
    with module.context, ir.Location.unknown():
        new = ir.Module.create()
        attrs = module.operation.attributes
        for na in attrs:
            name = na if isinstance(na, str) else na.name
            new.operation.attributes[name] = attrs[name]
        ip = ir.InsertionPoint(new.body)
        for op in module.body.operations:
            op.operation.clone(ip)
    return new


#: the switches a sequence search hands to its :class:`Expander`; each changes speed, never the result
SPEED_SWITCHES = ("incremental", "incremental_match", "incremental_cost", "fast_clone")


class Expander:
    """Applies rules to clones of a graph and costs the results; counts what it did."""

    def __init__(self, rules, cost: CostModel):
        self.rules, self.cost = rules, cost
        self.seen: set[str] = set()
        self.explored = 0
        self.skipped: list[str] = []
        self.memo = ViewMemo()  # constant values, digests and FLOPs shared by every graph of the search
        self.incremental = True  # views of children reuse their parent's per-op local keys
        self.track = False  # views of children record which ops survived (view.origin) even if not incremental
        #: re-match only the anchors a rewrite may have changed (:mod:`.matching`); exact, speed only
        self.incremental_match = False
        self.match_reused = self.match_rerun = 0
        #: children take over their parent's node hashes where the input cone is unchanged, and the
        #: roofline memoizes each op's dispatch FLOPs/bytes by node hash; exact, speed only
        self.incremental_cost = False
        #: clone candidates in memory (:func:`clone_module`) instead of a bytecode round trip
        self.fast_clone = False
        self.hashes_inherited = 0
        #: ``time.perf_counter()`` after which no rewrite is started or costed (None: no limit)
        self.deadline: float | None = None
        #: most graphs to explore (None: no limit); ``expand`` stops yielding once reached
        self.max_graphs: int | None = None
        #: why an expansion stopped early (``time_limit``, ``graph_limit``), else None
        self.stopped: str | None = None

    def configure(self, search, *, track: bool = False) -> "Expander":
        """Take the :data:`SPEED_SWITCHES` from ``search`` (a greedy/backtrack/ocggs search object);
        ``track``: children's views record which ops survived (pruning needs it)."""
        for name in SPEED_SWITCHES:
            setattr(self, name, getattr(search, name))
        self.track = track
        return self

    def limit(self, *, time_limit_s: float | None, t0: float, max_graphs: int | None = None) -> None:
        """Bound every later expansion: no rewrite is started or costed after ``t0 + time_limit_s``
        (setup and verification time count, as ``t0`` is the search's start), and no graph is
        yielded beyond ``max_graphs``. A lazily verifying rule list is bounded the same way."""
        self.deadline = None if time_limit_s is None else t0 + time_limit_s
        self.max_graphs = max_graphs
        lazy = getattr(self.rules, "verifier", None)
        if lazy is not None:
            lazy.deadline = self.deadline

    def out_of_limits(self) -> bool:
        """Whether the time or graph limit is reached (records which in ``stopped``)."""
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            self.stopped = "time_limit"
        elif self.max_graphs is not None and self.explored >= self.max_graphs:
            self.stopped = "graph_limit"
        else:
            return False
        return True

    def start(self, model: Model) -> Candidate:
        if self.incremental_cost and self.memo is not None and self.memo.dispatch is None:
            self.memo.dispatch = {}
            self.memo.local = {}
        view = GraphView(model, memo=self.memo)
        self.seen.add(view.structural_hash())
        self.explored += 1
        return Candidate(model, view, self.cost(model, view), [])

    def matches(self, cand: Candidate) -> list:
        """Every ``(rule, match)`` on ``cand``, rules in order (enumerated once per candidate)."""
        if cand.matches is None:
            if self.incremental_match and (self.incremental or self.track):  # needs view.origin
                cand.matches, cand.mstate = match_all(self.rules, cand.view, cand.pstate)
                cand.pstate = None
                self.match_reused += cand.mstate.stats["reused"]
                self.match_rerun += cand.mstate.stats["rerun"]
            else:
                cand.matches = [(rule, m) for rule in self.rules for m in rule.match(cand.view)]
        return cand.matches

    def expand(self, cand: Candidate, *, dedupe: bool = True, skip=None) -> Iterator[Candidate]:
        """Every graph one rewrite away from ``cand`` (new ones only, unless ``dedupe`` is off).

        ``skip(index, rule, match)``, when given, is asked before each rewrite is applied; a true
        answer skips it (the pruning of redundant sequences)."""
        for idx, (rule, m) in enumerate(self.matches(cand)):
            if self.out_of_limits():
                return
            if skip is not None and skip(idx, rule, m):
                continue
            new = cand.model.clone(clone_module(cand.model.module) if self.fast_clone else None)
            try:
                if self.incremental or self.track:  # op j of the clone is op j of cand until the rewrite
                    pre = [op_address(op.operation) for op in _ir.entry_block(new.module, new.entry).operations]
                    with record_erasures() as erased:
                        rule.apply(new.module, m)
                else:
                    rule.apply(new.module, m)
                new.verify()
            except MlirOptError as err:
                self.skipped.append(f"{rule.name}: {err}")
                log.info("skipped %s at %s: %s", rule.name, m.ops, err)
                continue
            if self.incremental or self.track:
                view = GraphView(new, memo=self.memo, parent=cand.view, pre=pre, erased=erased,
                                 reuse=self.incremental)
                view.inherit_hashes = self.incremental_cost and self.incremental
            else:
                view = GraphView(new, memo=self.memo)
            h = view.structural_hash()
            if dedupe and h in self.seen:
                continue
            if self.out_of_limits():  # the rewrite ran past the limit: do not cost its graph
                return
            self.seen.add(h)
            self.explored += 1
            self.hashes_inherited += view.hashes_inherited
            child = Candidate(new, view, self.cost(new, view), cand.seq + [rule.name],
                              step=Step(idx, rule.name, tuple(m.ops)))
            if self.incremental_match and (self.incremental or self.track):
                child.pstate = cand.mstate  # view.origin maps the child's ops to cand's
            view.release_parent()
            yield child

    def stats(self, t0: float, t_verify: float) -> dict:
        lazy = getattr(self.rules, "verifier", None)
        if lazy is not None:
            t_verify += lazy.seconds
        st = {"graphs_explored": self.explored, "seconds": round(time.perf_counter() - t0, 3),
              "verify_seconds": round(t_verify, 3), "cost_unit": self.cost.unit,
              "rules": [r.name for r in self.rules], "cost_cache_hits": self.cost.hits}
        if lazy is not None:
            st["rules_verified"] = sorted(n for n, ok in lazy.ok.items() if ok)
            if any(not ok for ok in lazy.ok.values()):
                st["rules_disabled"] = sorted(n for n, ok in lazy.ok.items() if not ok)
        if hasattr(self.cost, "stats"):
            st.update(self.cost.stats())
        if self.incremental_match:
            st["match_anchors_reused"], st["match_anchors_rerun"] = self.match_reused, self.match_rerun
        if self.incremental_cost:
            st["hashes_inherited"] = self.hashes_inherited
        if self.stopped:
            st["stop_reason"] = self.stopped
        if self.skipped:
            st["skipped"] = self.skipped[:20]
        return st


class Family:
    """The children of one graph, for pruning sequences that differ only in the order of
    independent rewrites (OCGGS's pruning of redundant sequences).

    Matches *i* and *j* of the parent are *independent* when neither changes an op the other owns
    (the ops a rewrite owns are its matched ops and the ops it erased; it changes those and the
    surviving ops whose operands it rewires), and each is still a match, on the same surviving
    ops, of the child the other made.
    Then *i* then *j* and *j* then *i* reach the same graph, and only the order with the smaller
    enumeration index first is explored: in the child made by match *i*, an old match *j* of the
    parent is skipped when ``j < i``, *j*'s child is explored too, and the two are independent.
    Matches on ops the rewrite created or changed are always explored. With ``expanded`` (a set
    the caller fills with the indices of the children it has expanded), *j*'s child must already
    have been expanded — then the skipped graph was already built from it, and skipping changes
    nothing but the time (how :mod:`.backtrack` uses it).
    """

    def __init__(self, parent: Candidate, children: list[Candidate], matches: list, enumerate_matches,
                 *, expanded: set[int] | None = None):
        self.parent = parent
        self.expanded = expanded  # if given, only children in it count as explored (backtracking)
        self.index = {(rule.name, tuple(m.ops)): k for k, (rule, m) in enumerate(matches)}
        self.kids = {c.step.index: c for c in children}
        self._enumerate = enumerate_matches
        self._core: dict[int, set[int]] = {}
        self._old: dict[int, set[tuple]] = {}

    def core(self, i: int) -> tuple[set[int], set[int]]:
        """Parent ops changed by match ``i``: those it owns (matched or erased) and the surviving
        ops whose operands it rewired."""
        core = self._core.get(i)
        if core is not None:
            return core
        child = self.kids[i]
        pv, cv = self.parent.view, child.view
        origin = cv.origin
        erased = set(range(len(pv.ops))) - set(origin.values())
        own = set(child.step.ops) | erased
        touched: set[int] = set()
        for e in erased:
            for r in pv.ops[e].results:
                touched.update(pv._users.get(r, ()))
        for k, op in enumerate(cv.ops):
            if k not in origin:
                for r in op.results:  # survivors that now read a value of a new op
                    touched.update(origin[u] for u in cv._users.get(r, ()) if u in origin)
        self._core[i] = core = (own, touched - own)
        return core

    def old(self, i: int) -> set[tuple]:
        """Matches of child ``i`` on surviving ops, as ``(rule, parent op indices)``."""
        old = self._old.get(i)
        if old is None:
            child = self.kids[i]
            origin = child.view.origin
            old = set()
            for rule, m in self._enumerate(child):
                mapped = tuple(origin.get(k, -1) for k in m.ops)
                if -1 not in mapped:
                    old.add((rule.name, mapped))
            self._old[i] = old
        return old

    def redundant(self, child: Candidate, rule_name: str, ops: tuple[int, ...]) -> bool:
        """Whether applying match ``ops`` of ``rule_name`` to ``child`` (a member of this family)
        repeats a sequence explored in another order."""
        origin = child.view.origin
        mapped = tuple(origin.get(k, -1) for k in ops)
        if -1 in mapped:
            return False  # touches an op the rewrite created or changed
        j = self.index.get((rule_name, mapped))
        i = child.step.index
        if j is None or j >= i or j not in self.kids or (self.expanded is not None and j not in self.expanded):
            return False
        (own_i, touch_i), (own_j, touch_j) = self.core(i), self.core(j)
        if own_i & own_j or own_i & touch_j or touch_i & own_j:
            return False  # both rewire the same op's *different* operands: still independent
        return (child.step.rule, child.step.ops) in self.old(j)


class LazyVerifier:
    """Verifies a rule (:func:`verify_rules`, cached on disk) the first time it matches a graph.

    With 15 rules, verifying all of them up front costs ~90 IREE compiles on a cold cache; a
    search only needs the rules that ever match its graphs. A rule that fails verification
    matches nothing (and is listed under ``rules_disabled`` in the search statistics).
    """

    def __init__(self, target: str):
        self.target = target
        self.ok: dict[str, bool] = {}
        self.seconds = 0.0
        self.deadline: float | None = None  # no verification is started after it (the rule matches nothing)

    def wrap(self, rule):
        import dataclasses

        def match(view):
            found = rule.match(view)
            if found and rule.name not in self.ok:
                from ..verify import verify_rules

                if self.deadline is not None and time.perf_counter() >= self.deadline:
                    return []  # out of time: not verified, so not used (and not marked as failed)

                t0 = time.perf_counter()
                self.ok[rule.name] = verify_rules([rule.name], target=self.target)[0].ok
                self.seconds += time.perf_counter() - t0
            return found if not found or self.ok[rule.name] else []

        return dataclasses.replace(rule, match=match)


class VerifiedRules(list):
    """A list of rules that are verified lazily by ``verifier`` (a :class:`LazyVerifier`)."""

    verifier: LazyVerifier


def setup(rule_names, cost: CostModel | None, verify: bool, target: str):
    """Rules (verified on first match when ``verify``), the cost model, and the seconds spent so far.

    Verification time spent later (lazily) is added to ``verify_seconds`` by :meth:`Expander.stats`.
    """
    from ..rules import get_rules

    t0 = time.perf_counter()
    rules = get_rules(rule_names)
    if rule_names is None:
        rules = [r for r in rules if r.in_search]  # opt-in rules only when named
    if verify:
        # a rewrite's numerics do not depend on the target: GPU targets verify on this machine's CPU
        # (the GPU host's runner checks the final modules against a float64 reference again)
        lazy = LazyVerifier(target if target == "llvm-cpu" else "llvm-cpu")
        rules = VerifiedRules(lazy.wrap(r) for r in rules)
        rules.verifier = lazy
    return rules, cost or CostModel(target=target), time.perf_counter() - t0
