"""A dataflow view of a model's entry function: nodes are ops, edges are SSA values.

:class:`GraphView` indexes the top-level ops of the entry ``func.func`` in block order, records who
uses which value (including values captured inside ``linalg.generic`` bodies), evaluates
weight-only subgraphs with numpy (:meth:`GraphView.const_value`), and computes a structural hash
of every node and of the whole graph. The hash ignores SSA names and the order of independent ops
(a Merkle hash over operands), and includes op names, attributes, result types, nested regions and
a digest of constant contents, so searches can deduplicate graphs they have already seen.
"""

from __future__ import annotations

import ctypes
import hashlib
from contextlib import contextmanager
from typing import Iterable

import numpy as np

from .. import ir as _ir
from ..model import Model

__all__ = ["GraphView", "ViewMemo", "structural_hash", "record_erasures", "op_address"]

ir = _ir.ir

# Largest number of elements a weight-only subgraph may have to be evaluated with numpy.
MAX_CONST_ELEMENTS = 1 << 26


def _sha(parts: Iterable[str]) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(p.encode())
        h.update(b"\x00")
    return h.hexdigest()


def _attrs(op: ir.Operation) -> list[tuple[str, ir.Attribute]]:
    out = []
    for na in op.attributes:
        if isinstance(na, str):
            out.append((na, op.attributes[na]))
        else:
            out.append((na.name, na.attr))
    return sorted(out, key=lambda p: p[0])


class ViewMemo:
    """Caches shared by the views of one search (every candidate graph lives in one MLIR context).

    Every entry is exact, because its key determines its value:

    * ``attr_text``: the hash text of an attribute (a digest of a dense constant's contents), keyed by
      the attribute itself — attributes are uniqued in their context, so a weight cloned into a
      candidate graph is the same attribute and is digested once per search, not once per graph;
    * ``const_known`` / ``const_arrays``: whether a value is computable from constants alone (and its
      value when it has at most :data:`MEMO_CONST_ELEMENTS` elements), keyed by the value's
      structural key (the Merkle hash of its producer's input cone and the result number), so an
      unchanged weight-only subgraph is evaluated once per search;
    * ``flops`` / ``nbytes``: per-op FLOPs keyed by the op's node hash and per-type byte sizes, for
      the roofline cost model (:func:`mlir_opt.graph.cost.analyze`).
    """

    def __init__(self):
        self.attr_text: dict = {}
        self.const_known: dict[str, bool] = {}
        self.const_arrays: dict[str, np.ndarray] = {}
        self.flops: dict[str, float] = {}
        self.nbytes: dict = {}
        #: roofline: per node hash, whether the op is elementwise and a dispatch rooted at it's
        #: (FLOPs, bytes) before fusion — both depend only on the op's input cone (None: off)
        self.dispatch: dict | None = None
        #: per (kind, local key object, operand types): what :meth:`GraphView.by_local_key` computed
        #: (None: off; set with ``dispatch`` by ``incremental_cost``)
        self.local: dict | None = None


# Largest constant (elements) a ViewMemo keeps; bigger ones are only remembered as constant.
MEMO_CONST_ELEMENTS = 1 << 16


_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_name = ctypes.pythonapi.PyCapsule_GetName
_capsule_name.restype = ctypes.c_char_p
_capsule_name.argtypes = [ctypes.py_object]
_OP_CAPSULE: list[bytes] = []


def op_address(op: ir.Operation) -> int:
    """The address of the C++ op behind ``op`` (what ``==`` compares; ``hash(op)`` hashes the op's
    contents, which change when its operands are rewired)."""
    cap = op._CAPIPtr
    if not _OP_CAPSULE:
        _OP_CAPSULE.append(_capsule_name(cap))
    return _capsule_pointer(cap, _OP_CAPSULE[0])


@contextmanager
def record_erasures():
    """Collect the addresses (:func:`op_address`) of the ops erased through the Python bindings
    inside the ``with`` block.

    The bindings keep no table of live ops: two Python objects for one op compare by the op's
    address, and a new op may reuse the address of an erased one. A search that maps the ops of a
    rewritten clone to the ops of its parent by address (:class:`GraphView` ``parent``) uses this
    set to tell a surviving op from a new op at a reused address. Rules erase ops with
    ``Operation.erase`` (:func:`mlir_opt.ir.erase_dead`, :func:`mlir_opt.ir.copy_body`).
    """
    erased: set[int] = set()
    op_erase, view_erase = ir.Operation.erase, ir.OpView.erase

    def erase_op(self):
        erased.add(op_address(self))
        return op_erase(self)

    def erase_view(self):
        erased.add(op_address(self.operation))
        return view_erase(self)

    ir.Operation.erase, ir.OpView.erase = erase_op, erase_view
    try:
        yield erased
    finally:
        ir.Operation.erase, ir.OpView.erase = op_erase, view_erase


class GraphView:
    """Dataflow view of ``entry`` in ``module`` (or of a :class:`Model`).

    Incremental hashing: a view of a rewritten clone of another view's graph may be given that
    ``parent``, the addresses (:func:`op_address`) of the clone's ops taken right after cloning
    (``pre``: op *j* of the clone is op *j* of the parent) and the addresses of the ops the rewrite
    erased (``erased``, from :func:`record_erasures`). Ops of the clone that survived the rewrite (``origin``: index
    here -> index in the parent) then reuse the parent's per-op *local* keys (name, result types,
    attributes, nested-region structure) and skip walking their regions again; only the Merkle
    combination over operands is recomputed. Hashes are identical to a from-scratch view. This
    relies on rewrites changing existing ops only through their operands (``replace_all_uses_with``),
    which every rule does; ops whose regions capture outer values, and ops without operands or
    regions (constants: a clone renames ``dense_resource`` blobs), are always re-keyed. With
    ``reuse=False`` only ``origin`` is computed (every key from scratch).

    Attributes:
        ops: top-level ops of the function body, in block order (the terminator last).
        origin: index of a surviving op -> its index in ``parent`` (empty without a parent).
    """

    def __init__(self, module: "ir.Module | Model", entry: str | None = None, memo: ViewMemo | None = None, *,
                 parent: "GraphView | None" = None, pre: list[int] | None = None,
                 erased: set[int] | None = None, reuse: bool = True):
        self.memo = memo
        if isinstance(module, Model):
            entry = entry or module.entry
            module = module.module
        self.module = module
        self.entry = entry or "main"
        self.block = _ir.entry_block(module, self.entry)
        self.ops: list[ir.Operation] = [op.operation for op in self.block.operations]
        self.index = {op: i for i, op in enumerate(self.ops)}
        self._walks: dict[ir.Operation, list[ir.Operation]] = {}
        # per-op local key: (name/types/attribute parts, region key or None if it captures values)
        self._local: dict[int, tuple[list[str], str | None]] = {}
        self.origin: dict[int, int] = {}
        self._parent = parent if reuse else None
        if parent is not None and pre is not None and len(pre) == len(parent.ops):
            gone = erased or set()
            pos = {h: j for j, h in enumerate(pre) if h not in gone}
            for i, op in enumerate(self.ops):
                j = pos.get(op_address(op))
                if j is not None and parent.ops[j].name == op.name:
                    self.origin[i] = j
        # users of every value (``_users``) and the region ops that capture no outer value
        # (``_no_capture``) are computed on first use: a view that is only costed or matched
        # around a rewrite asks for the users of a few values (:meth:`users`, from the uses)
        self._users_all: "dict[ir.Value, list[int]] | None" = None
        self._captures: "dict[int, list[ir.Value]] | None" = None
        self._no_capture_set: set[int] | None = None
        self._users_of: dict = {}
        self._const: dict[ir.Value, np.ndarray | None] = {}
        self._hash: dict[int, str] = {}
        self._graph_hash: str | None = None
        #: anchors :meth:`scan` yields (None: every op), and the read recorder of the anchor being
        #: matched (None: not recording); both set only by :mod:`mlir_opt.graph.search.matching`
        self._scan: "tuple[int, ...] | None" = None
        self._on_anchor = None
        self._rec = None
        self._opnd: "list[tuple] | None" = None
        #: take over the parent's node hash of every op whose input cone the rewrite left alone
        #: (same local key, operands read from the same producers, themselves taken over); set by
        #: the searches (``incremental_cost``), needs ``parent`` with ``reuse``
        self.inherit_hashes = False
        self.hashes_inherited = 0

    def release_parent(self) -> None:
        """Forget the parent view (after hashing), so a chain of candidates does not keep every
        ancestor alive; local keys not computed yet are then computed from scratch."""
        self._no_capture  # noqa: B018 (taken from the parent while it is known)
        self._parent = None

    # -- structure ---------------------------------------------------------------------------

    @property
    def _no_capture(self) -> set[int]:
        """Indices of the region ops whose nested ops use no value from outside the op (taken from
        the parent view for an op that survived a rewrite; walked otherwise)."""
        if self._no_capture_set is None:
            parent = self._parent
            pnc = parent._no_capture if parent is not None else ()
            nc, caps = set(), {}
            for i, op in enumerate(self.ops):
                if not len(op.regions):
                    continue
                j = self.origin.get(i)
                if j is not None and j in pnc:
                    nc.add(i)
                    continue
                vals = self.all_operands(op)
                if len(vals) == len(op.operands):
                    nc.add(i)
                else:
                    caps[i] = vals
            self._no_capture_set, self._captures = nc, caps
        return self._no_capture_set

    @property
    def _users(self) -> "dict[ir.Value, list[int]]":
        """Value -> indices of the top-level ops that use it (directly or inside their regions), in
        block order; built over the whole graph on first use."""
        if self._users_all is None:
            self._no_capture  # noqa: B018 (fills _captures)
            caps = self._captures
            users: dict = {}
            for i, op in enumerate(self.ops):
                vals = caps.get(i) if caps else None
                for v in (op.operands if vals is None else vals):
                    lst = users.get(v)
                    if lst is None:
                        users[v] = [i]
                    elif lst[-1] != i:
                        lst.append(i)
            self._users_all = users
        return self._users_all

    def _user_indices(self, value: ir.Value) -> list[int]:
        """``_users[value]``, from ``value.uses`` when the whole map was not built (a value of a
        top-level op or an argument of the function; the map for any other value)."""
        if self._users_all is not None:
            return self._users_all.get(value, [])
        idx = self._users_of.get(value)
        if idx is not None:
            return idx
        if self.value_ref(value) is None:
            return self._users.get(value, [])
        found = set()
        index = self.index
        for use in value.uses:
            op = use.owner
            op = op.operation if hasattr(op, "operation") else op
            i = index.get(op)
            while i is None and op is not None:  # a use inside a region: the top-level op holding it
                op = op.parent
                if op is None:
                    break
                op = op.operation if hasattr(op, "operation") else op
                i = index.get(op)
            if i is not None:
                found.add(i)
        idx = self._users_of[value] = sorted(found)
        return idx

    def all_operands(self, op: ir.Operation) -> list[ir.Value]:
        """Operands of ``op`` plus values from outside it that its nested regions use."""
        vals = list(op.operands)
        if len(op.regions):
            inner = set()
            for sub in self._nested(op):
                for r in sub.results:
                    inner.add(r)
                for reg in sub.regions:
                    for blk in reg:
                        inner.update(blk.arguments)
            for reg in op.regions:
                for blk in reg:
                    inner.update(blk.arguments)
            for sub in self._nested(op):
                vals.extend(v for v in sub.operands if v not in inner)
        return vals

    def _nested(self, op: ir.Operation) -> list[ir.Operation]:
        """Ops nested in ``op``'s regions, pre-order (walked once per view: the view is read-only)."""
        lst = self._walks.get(op)
        if lst is None:
            lst = self._walks[op] = list(_ir._walk(op))
        return lst

    def scan(self):
        """``(index, op)`` of the anchors a rule's matcher should try: every op in block order,
        unless an incremental matcher restricted them (rules with ``locality="anchor"`` loop over
        this instead of ``enumerate(view.ops)``)."""
        if self._scan is None:
            return enumerate(self.ops)
        return self._scan_anchors()

    def _scan_anchors(self):
        hook = self._on_anchor
        for i in self._scan:
            if hook is not None:
                hook(i)  # matching: what is read from here on belongs to anchor i
            yield i, self.ops[i]

    def producer(self, value: ir.Value) -> ir.Operation | None:
        """The top-level op defining ``value`` (None for function arguments)."""
        if isinstance(value, ir.BlockArgument):
            return None
        owner = value.owner
        op = owner.operation if hasattr(owner, "operation") else owner
        if self._rec is not None:
            i = self.index.get(op)
            if i is not None:
                self._rec.ops.add(i)
        return op

    def users(self, value: ir.Value) -> list[ir.Operation]:
        """Top-level ops that use ``value`` (directly or inside their regions), in block order."""
        idx = self._user_indices(value)
        if self._rec is not None:
            self._record_value(value)
            self._rec.ops.update(idx)
        return [self.ops[i] for i in idx]

    def num_uses(self, value: ir.Value) -> int:
        """Number of uses of ``value`` (counting each operand slot)."""
        if self._rec is not None:
            self._record_value(value)
        return sum(1 for _ in value.uses)

    def value_ref(self, value: ir.Value):
        """``(producer index, result number)`` of a value defined by a top-level op, ``("a", n)``
        for argument ``n`` of the function, else None (a value defined inside a region)."""
        if isinstance(value, ir.BlockArgument):
            return ("a", value.arg_number) if value.owner == self.block else None
        owner = value.owner
        i = self.index.get(owner.operation if hasattr(owner, "operation") else owner)
        return None if i is None else (i, value.result_number)

    def _record_value(self, value: ir.Value) -> None:
        """Record (matching) that the users of ``value`` were read: its producer's or argument's."""
        ref = self.value_ref(value)
        if ref is None:
            return
        if ref[0] == "a":
            self._rec.args.add(ref[1])
        else:
            self._rec.ops.add(ref[0])

    def operand_refs(self) -> list[tuple]:
        """Per op, the :meth:`value_ref` of every value it reads (operands, then values its regions
        capture), computed once per view: what :mod:`mlir_opt.graph.search.matching` compares to
        find the ops whose operands or users a rewrite changed."""
        if self._opnd is None:
            refs = {a: ("a", n) for n, a in enumerate(self.block.arguments)}
            for i, op in enumerate(self.ops):
                for r, v in enumerate(op.results):
                    refs[v] = (i, r)
            self._no_capture  # noqa: B018 (fills _captures: region ops that capture outer values)
            caps, get = self._captures, refs.get
            out = []
            for i, op in enumerate(self.ops):
                vals = caps.get(i)
                out.append(tuple(map(get, op.operands if vals is None else vals)))
            self._opnd = out
        return self._opnd

    def find(self, name: str) -> list[ir.Operation]:
        """Top-level ops named ``name``, in block order."""
        return [op for op in self.ops if op.name == name]

    # -- constants ---------------------------------------------------------------------------

    def const_value(self, value: ir.Value) -> np.ndarray | None:
        """The value of ``value`` if it is computed from constants only (a weight-only subgraph)."""
        rec = self._rec
        if rec is not None:  # matching: one read of the value's whole input cone, not of its ops
            self._rec = None
            try:
                res = self.const_value(value)
            finally:
                self._rec = rec
            rec.consts.append((self.value_ref(value), value, res is not None))
            return res
        if value in self._const:
            return self._const[value]
        key = self._memo_key(value)
        if key is not None:
            if self.memo.const_known.get(key) is False:
                self._const[value] = None
                return None
            if key in self.memo.const_arrays:
                self._const[value] = self.memo.const_arrays[key]
                return self._const[value]
        self._const[value] = None  # guards cycles
        from .consteval import evaluate

        res = None
        op = self.producer(value)
        if op is not None:
            try:
                outs = evaluate(self, op)
            except (ValueError, KeyError, IndexError, TypeError, FloatingPointError):
                outs = None
            if outs is not None:
                res = outs[value.result_number] if hasattr(value, "result_number") else outs[0]
        self._const[value] = res
        if key is not None:
            self.memo.const_known[key] = res is not None
            if res is not None and res.size <= MEMO_CONST_ELEMENTS:
                res.flags.writeable = False  # shared between graphs
                self.memo.const_arrays[key] = res
        return res

    def is_constant(self, value: ir.Value) -> bool:
        """Whether ``value`` is computable from constants alone."""
        rec = self._rec
        if rec is not None:
            self._rec = None
            try:
                res = self.is_constant(value)
            finally:
                self._rec = rec
            rec.consts.append((self.value_ref(value), value, res))
            return res
        if value not in self._const:
            key = self._memo_key(value)
            if key is not None and key in self.memo.const_known:
                return self.memo.const_known[key]
        return self.const_value(value) is not None

    def _memo_key(self, value: ir.Value) -> str | None:
        if self.memo is None or isinstance(value, ir.BlockArgument):
            return None
        key = self._value_key(value)
        return None if key.startswith("?") else key

    # -- hashing -----------------------------------------------------------------------------

    def _value_key(self, v: ir.Value) -> str:
        if isinstance(v, ir.BlockArgument):
            return f"arg{v.arg_number}"
        op = self.producer(v)
        i = self.index.get(op)
        if i is None:
            return "?"
        return f"{self.node_hash(i)}#{ir.OpResult(v).result_number}"

    def _inherit(self) -> None:
        """Copy the parent's node hashes of the ops whose hash cannot have changed (exact).

        A node hash is the hash of the op's local key and its operands' keys (producer hash and
        result number, or argument number). A surviving op (same local key, see the class docs)
        whose operands — captured values of its regions included — are the same results of
        surviving producers whose hashes were taken over, or the same arguments, has the parent's
        hash. Block order is a topological order, so one pass decides every op."""
        parent = self._parent
        self.inherit_hashes = False  # once
        if parent is None or not self.origin or len(parent._hash) < len(parent.ops) - 1:
            return
        prefs, crefs, origin, phash = parent.operand_refs(), self.operand_refs(), self.origin, parent._hash
        clean = [False] * len(self.ops)
        n = 0
        for i in range(len(self.ops) - 1):  # not the terminator (not hashed)
            j = origin.get(i)
            if j is None or j not in phash:
                continue
            cr, pr = crefs[i], prefs[j]
            if not cr:  # no operands (constants): re-keyed, cheap (attribute texts are memoized)
                clean[i] = self.node_hash(i) == phash[j]
                continue
            if len(cr) != len(pr):
                continue
            for a, b in zip(cr, pr):
                if a is None or b is None:
                    break
                if a[0] == "a":
                    if a != b:
                        break
                elif not clean[a[0]] or origin[a[0]] != b[0] or a[1] != b[1]:
                    break
            else:
                clean[i] = True
                self._hash[i] = phash[j]
                n += 1
        self.hashes_inherited = n

    def node_hash(self, i: int) -> str:
        """Structural hash of the subgraph that ends at op ``i`` (its cone of inputs)."""
        if i in self._hash:
            return self._hash[i]
        if self.inherit_hashes:
            self._inherit()
            if i in self._hash:
                return self._hash[i]
        op = self.ops[i]
        head, region = self.local_key(i)
        parts = head + [self._value_key(v) for v in op.operands]
        if len(op.regions):
            parts.append(region if region is not None else self._region_key(op))
        self._hash[i] = _sha(parts)
        return self._hash[i]

    def local_key(self, i: int) -> tuple[list[str], str | None]:
        """The parts of op ``i``'s hash that do not depend on its operands: ``[name, result types,
        attributes...]`` and the key of its nested regions (None when they use values from outside
        the op, whose keys depend on the rest of the graph). Taken from the parent view for an op
        that survived a rewrite (see the class docs)."""
        loc = self._local.get(i)
        if loc is not None:
            return loc
        op = self.ops[i]
        j = self.origin.get(i)
        if j is not None and self._parent is not None and (len(op.operands) or len(op.regions)):
            # not for constants: cloning renames dense_resource blobs (their attribute changes),
            # and a constant's key is cheap anyway (attribute texts are memoized per search)
            loc = self._parent.local_key(j)  # the same object: what :meth:`by_local_key` keys on
        if loc is None:
            head = [op.name, ",".join(self._text(None, r.type) for r in op.results)]
            for na_name, na_attr in _attrs(op):
                head.append(self._attr_text(op, na_name, na_attr))
            region = None
            if len(op.regions):
                region, captures = self._region_key_captures(op)
                region = None if captures else region
            loc = (head, region)
        self._local[i] = loc
        return loc

    def by_local_key(self, i: int, kind: str, fn):
        """``fn(op)`` for op ``i``, memoized per search (``memo.local``) by its local key *object*
        and its operand types: for what depends only on the op's name, attributes, result and operand
        types and the ops of its body (its roofline FLOPs, whether it is elementwise). A surviving op
        shares its parent's local key object (see :meth:`local_key`), so an op downstream of a
        rewrite (a new node hash) is not analyzed again; the memo keeps the key alive, so its
        ``id`` is not reused. Without a memo, ``fn(op)``."""
        op = self.ops[i]
        if self.memo is None or self.memo.local is None:
            return fn(op)
        loc = self.local_key(i)
        key = (kind, id(loc), tuple(v.type for v in op.operands))
        hit = self.memo.local.get(key)
        if hit is None:
            hit = self.memo.local[key] = (loc, fn(op))
        return hit[1]

    def _text(self, name: str | None, obj) -> str:
        """``name=attr`` (or ``str(type)`` for ``name`` None), memoized per uniqued attribute/type."""
        if self.memo is None:
            return str(obj) if name is None else f"{name}={obj}"
        key = (name, obj)
        text = self.memo.attr_text.get(key)
        if text is None:
            text = self.memo.attr_text[key] = str(obj) if name is None else f"{name}={obj}"
        return text

    def _attr_text(self, op: ir.Operation, name: str, attr: ir.Attribute) -> str:
        is_value = op.name == "arith.constant" and name == "value"
        if self.memo is not None:
            key = (is_value, name, attr)
            text = self.memo.attr_text.get(key)
            if text is None:
                text = self.memo.attr_text[key] = self._attr_text_uncached(op, name, attr, is_value)
            return text
        return self._attr_text_uncached(op, name, attr, is_value)

    @staticmethod
    def _attr_text_uncached(op: ir.Operation, name: str, attr: ir.Attribute, is_value: bool) -> str:
        if is_value:
            arr = _ir.constant_array(op)
            if arr is not None and arr.ndim:
                return (f"value=digest:{arr.dtype}:{arr.shape}:"
                        + hashlib.sha1(np.ascontiguousarray(arr).tobytes()).hexdigest())
        return f"{name}={attr}"

    def _region_key(self, op: ir.Operation) -> str:
        """Key of ``op``'s nested regions (SSA-name independent; outer values by their keys)."""
        return self._region_key_captures(op)[0]

    def _region_key_captures(self, op: ir.Operation) -> tuple[str, bool]:
        """Key of ``op``'s nested regions, and whether they use values from outside ``op``."""
        local: dict[ir.Value, str] = {}
        captures = False
        parts = []
        for r_i, reg in enumerate(op.regions):
            for b_i, blk in enumerate(reg):
                for a_i, a in enumerate(blk.arguments):
                    local[a] = f"b{r_i}.{b_i}.{a_i}"
                    parts.append(f"{local[a]}:{a.type}")
        for n, sub in enumerate(self._nested(op)):
            for reg in sub.regions:
                for b_i, blk in enumerate(reg):
                    for a_i, a in enumerate(blk.arguments):
                        local[a] = f"n{n}b{b_i}.{a_i}"
            ops_keys = [local[v] if v in local else "o:" + self._outer_key(v) for v in sub.operands]
            captures = captures or any(k.startswith("o:") for k in ops_keys)
            attrs = [self._text(k, a) for k, a in _attrs(sub)]
            parts.append(f"{sub.name}({','.join(ops_keys)}){{{','.join(attrs)}}}->"
                         + ",".join(self._text(None, r.type) for r in sub.results))
            for k, r in enumerate(sub.results):
                local[r] = f"n{n}.{k}"
        return _sha(parts), captures

    def _outer_key(self, v: ir.Value) -> str:
        """``_value_key`` of a value a region captures. While a matcher is recorded (incremental
        matching), the key depends on ``v``'s whole input cone: it is recorded as a key read, so a
        match that compared region keys is reused only while the key is unchanged."""
        rec = self._rec
        if rec is None:
            return self._value_key(v)
        self._rec = None
        try:
            key = self._value_key(v)
        finally:
            self._rec = rec
        rec.consts.append((self.value_ref(v), v, True))  # True: any key change re-matches
        return key

    def structural_hash(self) -> str:
        """Hash of the whole function: independent of SSA names and of the order of independent ops."""
        if self._graph_hash is not None:
            return self._graph_hash
        ret = self.ops[-1]
        parts = sorted(self.node_hash(i) for i in range(len(self.ops) - 1))
        parts.append("return:" + ",".join(self._value_key(v) for v in ret.operands))
        parts.append(",".join(str(a.type) for a in self.block.arguments))
        self._graph_hash = _sha(parts)[:20]
        return self._graph_hash


def structural_hash(model: "Model | ir.Module", entry: str | None = None) -> str:
    """The structural hash of a model's entry function (see :class:`GraphView`)."""
    return GraphView(model, entry).structural_hash()
