"""Incremental rule matching: after a rewrite, re-match only the anchors whose reads it changed.

A child graph is its parent with one rewrite applied, so most rule matches of the parent are still
matches of the child. Reusing one is exact only if the matcher's answer for its anchor depends on
nothing the rewrite changed, and several matchers read unbounded parts of the graph (batch-norm and
scale/bias chains, the weight-only cone behind ``const_value``). So the answer is not assumed
local: it is *recorded*. A rule with ``locality="anchor"`` (:class:`~mlir_opt.graph.rules.Rule`)
is run over the anchors to (re-)match (:meth:`GraphView.scan` restricted to them, switching the
recorder at each anchor; each :class:`~mlir_opt.graph.rules.Match` created in an anchor's
iteration is attributed to it) while the view records what the matcher read for each anchor:

* ``ops``: the anchor and every op it reached through ``producer``/``users`` (their names,
  attributes, bodies and operand lists), and the ops whose *users* it read (``users``/``num_uses``);
* ``args``: function arguments whose users it read;
* ``consts``: values it asked ``const_value``/``is_constant`` about, with the value's structural key
  (the Merkle hash of its whole input cone, which determines the answer — the same key the search's
  constant memo uses) and whether it was constant.

In the child (:func:`dirty`), an op of the parent is *dirty* when the rewrite erased it, changed
its operand list (values compared through the clone's op mapping, ``view.origin``), or changed the
users of one of its results (an op reading it was created, erased or rewired); an argument is dirty
when its users changed. Surviving ops keep their names, attributes and bodies (rewrites change
existing ops only through their operands; see :class:`GraphView`). A parent anchor whose recorded
ops and arguments are all clean, and whose constant reads have the same key in the child (or were
and still are non-constant), gets exactly the parent's answer: its matches are taken over (op
indices mapped to the child). Every other anchor — new ops, dirty ones, those with a changed read
— is matched again. Rules with ``locality="global"`` (groupings across anchors: the merge rules,
``enlarge-conv-kernel``, ``to-nhwc``) are matched on the whole graph every time.

Matches come out in the from-scratch order (rules in order; a rule's matches by anchor, in block
order), so the searches make the same choices. ``tests/test_graph_incremental_match.py`` checks,
over every candidate of several searches, that the incremental matches equal from-scratch ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..view import GraphView

__all__ = ["MatchState", "Recorder", "match_all", "dirty"]


@dataclass
class Recorder:
    """What a matcher read while deciding one anchor (see the module docs)."""

    ops: set[int] = field(default_factory=set)
    args: set[int] = field(default_factory=set)
    consts: list = field(default_factory=list)  # (value ref, value, was constant)


@dataclass
class Entry:
    """One anchor's answer and reads, in the view's op indices; consts as (ref, key, was constant)."""

    matches: list
    ops: frozenset
    args: frozenset
    consts: tuple


@dataclass
class MatchState:
    """Per rule (by name), the non-trivial anchors of a graph: anchor index -> :class:`Entry`.

    An anchor that has no entry matched nothing and read only itself."""

    view: GraphView
    entries: dict[str, dict[int, Entry]]
    stats: dict = field(default_factory=dict)


def _entry(view: GraphView, i: int, found: list, rec: Recorder) -> Entry | None:
    if not found and len(rec.ops) == 1 and not rec.args and not rec.consts:
        return None
    consts = tuple((ref, None if ref is None else view._value_key(v), c) for ref, v, c in rec.consts)
    return Entry(list(found), frozenset(rec.ops), frozenset(rec.args), consts)


def _run_anchor(rule, view: GraphView, i: int) -> Entry | None:
    """Match ``rule`` at anchor ``i`` alone, recording its reads."""
    rec = Recorder(ops={i})
    view._scan, view._rec = (i,), rec
    try:
        found = rule.match(view)
    finally:
        view._scan, view._rec = None, None
    return _entry(view, i, found, rec)


def _run_anchors(rule, view: GraphView, anchors: list[int]) -> dict[int, Entry | None]:
    """Match ``rule`` at ``anchors`` (ascending) in one call of its matcher: :meth:`GraphView.scan`
    switches the recorder at each anchor, and each :class:`Match` is attributed to the anchor whose
    iteration created it. If the returned matches are not exactly those, in that order (a matcher
    that does not follow the ``locality="anchor"`` contract), every anchor is matched alone."""
    from ..rules import base

    per: list[tuple[int, Recorder, list]] = []

    def on_anchor(i):
        per.append((i, Recorder(ops={i}), []))
        view._rec = per[-1][1]
        base.MATCH_SINK[-1] = per[-1][2]

    base.MATCH_SINK.append([])  # matches created before the first anchor (none, for a local rule)
    view._scan, view._on_anchor = tuple(anchors), on_anchor
    try:
        found = rule.match(view)
    finally:
        view._scan, view._on_anchor, view._rec = None, None, None
        base.MATCH_SINK.pop()
    made = [m for _, _, ms in per for m in ms]
    if len(per) != len(anchors) or len(made) != len(found) or any(a is not b for a, b in zip(made, found)):
        return {i: _run_anchor(rule, view, i) for i in anchors}
    return {i: _entry(view, i, ms, rec) for i, rec, ms in per}


def dirty(parent: GraphView, child: GraphView) -> tuple[set[int], set[int]]:
    """Parent ops and function arguments (``("a", n)`` refs' ``n``) whose observable state the
    rewrite from ``parent`` to ``child`` changed: erased ops, ops with a changed operand list, ops
    and arguments with changed users. ``child.origin`` maps the child's surviving ops to the
    parent's."""
    origin = child.origin
    p_opnd, c_opnd = parent.operand_refs(), child.operand_refs()
    bad: set[int] = set(range(len(parent.ops))) - set(origin.values())
    bad_args: set[int] = set()

    def users_changed(refs):
        for ref in refs:
            if ref is None:
                continue
            if ref[0] == "a":
                bad_args.add(ref[1])
            elif isinstance(ref[0], int):
                bad.add(ref[0])

    for j in list(bad):  # erased: what they read lost a user
        users_changed(p_opnd[j])
    for k, refs in enumerate(c_opnd):
        mapped = tuple(None if r is None else r if r[0] == "a" else
                       ((origin[r[0]], r[1]) if r[0] in origin else ("n", r[0], r[1])) for r in refs)
        j = origin.get(k)
        if j is None:  # a new op: what it reads gained a user
            users_changed(mapped)
        elif mapped != p_opnd[j]:
            bad.add(j)
            users_changed(mapped)
            users_changed(p_opnd[j])
    return bad, bad_args


def _clean(e: Entry, child: GraphView, inv: dict[int, int], bad: set[int], bad_args: set[int]) -> bool:
    if not e.ops.isdisjoint(bad) or not e.args.isdisjoint(bad_args):
        return False
    for ref, key, was_const in e.consts:
        if ref is None:
            return False
        if ref[0] == "a":
            continue  # an argument is never constant
        k = inv.get(ref[0])
        if k is None:
            return False
        v = child.ops[k].results[ref[1]]
        if child._value_key(v) != key and (was_const or child.is_constant(v)):
            return False
    return True


def _remap(e: Entry, inv: dict[int, int]) -> Entry | None:
    try:
        ms = [type(m)(m.rule, m.entry, tuple(inv[o] for o in m.ops), m.note) for m in e.matches]
    except KeyError:  # a matched op the matcher did not read through the view: match it again
        return None
    consts = tuple((ref if ref is None or ref[0] == "a" else (inv[ref[0]], ref[1]), key, c) for ref, key, c in e.consts)
    return Entry(ms, frozenset(inv[o] for o in e.ops), e.args, consts)


def match_all(rules, view: GraphView, parent: MatchState | None = None) -> tuple[list, MatchState]:
    """Every ``(rule, match)`` of ``view``, rules in order, and the state its children reuse.

    With ``parent`` (the state of the graph ``view`` was rewritten from; ``view.origin`` must map the
    surviving ops), anchor-local rules re-match only the anchors the rewrite may have changed."""
    inv = None
    if parent is not None and view.origin:
        inv = {j: k for k, j in view.origin.items()}
        bad, bad_args = dirty(parent.view, view)
        redo_base = [k for k in range(len(view.ops)) if view.origin.get(k) is None or view.origin[k] in bad]
    out, entries = [], {}
    reused = rerun = 0
    for rule in rules:
        if rule.locality != "anchor":
            out.extend((rule, m) for m in rule.match(view))
            continue
        mine: dict[int, Entry] = {}
        if inv is None:
            anchors = range(len(view.ops))
        else:
            redo = set(redo_base)
            for j, e in parent.entries.get(rule.name, {}).items():
                k = inv.get(j)
                if k is None or k in redo:
                    continue
                new = _remap(e, inv) if _clean(e, view, inv, bad, bad_args) else None
                if new is not None:
                    mine[k] = new
                    reused += 1
                else:
                    redo.add(k)
            anchors = sorted(redo)
        rerun += len(anchors)
        for i, e in _run_anchors(rule, view, list(anchors)).items():
            if e is not None:
                mine[i] = e
        entries[rule.name] = mine
        for i in sorted(mine):
            out.extend((rule, m) for m in mine[i].matches)
    return out, MatchState(view, entries, {"reused": reused, "rerun": rerun})
