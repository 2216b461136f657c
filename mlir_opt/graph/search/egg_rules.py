"""The egglog term language of the graph level and the egglog counterparts of the MLIR rules.

:mod:`.eqsat` translates a model's entry function into terms of the sort ``T`` (one tensor value
each) declared in :data:`SCHEMA`, saturates them with the rewrites of :data:`EGG_RULES` and
extracts the cheapest equivalent graph. The term language (``i64`` literals are indices into
tables the translation keeps on the Python side):

=====================  ==================================================================
``(Arg i)``            the entry function's argument ``i``
``(Leaf v)``           a weight-only value (constant or subgraph of constants), value id ``v``
``(Op i k args)``      result ``k`` of the original op ``i``, taken as opaque; ``args`` (a
                       ``TCons``/``TNil`` list) are all values it reads, so any graph round-trips
``(MM kind x w s)``    ``linalg.matmul`` (kind 0) / ``batch_matmul`` (1) of ``x`` by a constant
                       ``w``, accumulator ``linalg.fill`` of the scalar leaf ``s``
``(BiasAdd x b)``      elementwise ``x + b`` with a constant vector ``b`` along the last dim
``(Conv a x w b)``     2-D conv (nchw/nhwc) with attribute set ``a``, constant filter ``w`` and a
                       constant accumulator ``b`` that is constant per output channel
``(Aff i kind x c)``   the original elementwise op ``i``: ``x ∘ c`` with a per-channel constant
                       ``c`` (kind 0: a shift x+c / x-c; kind 1: a scaling x·c, x/c, c-x)
``(Tr x p)``           ``linalg.transpose`` with permutation number ``p``
``(Slice x o n)``      ``tensor.extract_slice`` of ``n`` elements at offset ``o`` of the last dim
``(CCat a b)``         constant: ``a`` and ``b`` concatenated along the last dim
``(CAff i b)``         constant: per-channel vector of ``b`` mapped through the link of op ``i``
``(CScaleW i w)``      constant: filter ``w`` scaled per output channel by the link of op ``i``
``(CTr c p)``          constant: ``c`` transposed
``(MMTA/MMTB k x y s)`` contraction reading ``x`` / ``y`` transposed (last two dims)
``(Add i a b)``        the original elementwise op ``i``: ``a + b`` of non-constant tensors
``(Pad x p)``          static zero ``tensor.pad`` with pad spec ``p``
``(SliceD x d o n)``   ``tensor.extract_slice`` of ``n`` elements at offset ``o`` of dim ``d``
``(Cat k l)``          ``tensor.concat dim(k)`` of the list ``l`` (``CCons k x l`` / ``CNil``)
``(Ew f x)``           unary elementwise generic with body class ``f``
``(Rs i x s)``         the original reshape op ``i`` of ``x`` to shape id ``s``
``(CCatF a u v)``      constant: filters concatenated along the output channels of layout ``a``
``(CCatB a u v)``      constant: per-channel accumulators concatenated (1-D)
``(CPadK a w t)``      constant: filter ``w`` zero-padded to filter shape ``t``
``(CAdd a b)``         constant: ``a + b`` (weights or fill scalars)
``(CMM k a b)``        constant: ``a · b``
``(SB x s t)``         elementwise ``x · s + t`` with constants ``s``, ``t`` (broadcast to ``x``)
``(CK j)``             constant: scale or shift ``j`` of one elementwise link (a table entry)
``(CMul a b)``         constant: ``a · b`` elementwise (broadcast)
``(CFma a b c)``       constant: ``a · b + c`` elementwise (broadcast)
``(Col x s)``          ``tensor.collapse_shape [[0,1,2],[3]]`` of ``x`` to shape id ``s``
``(Exp x s)``          ``tensor.expand_shape [[0,1,2],[3]]`` of ``x`` to shape id ``s``
``(CMat w)``           constant: a 1x1 NHWC filter ``[1,1,C,F]`` as the matrix ``[C,F]``
``(CVec b)``           constant: the per-channel vector of an NHWC conv accumulator
``(CZero)``            constant: the f32 scalar 0 (when the graph has no zero scalar of its own)
=====================  ==================================================================

Constants (``Leaf`` and ``C*``) are realized with numpy at the end; shapes are guarded by the
analysis functions ``ncols`` (last dim), ``lead`` (code of the other dims) and ``wid`` (largest
leaf id; with the ``NextW`` facts it makes merges build each run of a group once), filled by
the ``analysis`` ruleset, and by the translation's preconditions (a ``Conv``/``MM`` term exists
only where the MLIR rule's preconditions on that op hold).

Adding the counterpart of a new MLIR rule: write its rewrites in egglog text with
``:ruleset {ruleset}`` and ``:name``, and register ``EggRule(name, ruleset, text, makes)`` under
the MLIR rule's name with :func:`register` (``makes``: the constructors a realized application
creates, for the applied-rewrites list). If it needs a new operator, add a constructor to
:data:`SCHEMA` and teach :mod:`.eqsat` to translate, cost and realize it (see docs/eqsat.md).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EggRule", "EGG_RULES", "SCHEMA", "ANALYSIS", "register", "CONST_CTORS", "CTORS"]

SCHEMA = """
(sort T)
(sort TL)
(sort CL)
(constructor TNil () TL)
(constructor TCons (T TL) TL)
(constructor Arg (i64) T)
(constructor Leaf (i64) T)
(constructor Op (i64 i64 TL) T)
(constructor MM (i64 T T T) T)
(constructor BiasAdd (T T) T)
(constructor Conv (i64 T T T) T)
(constructor Aff (i64 i64 T T) T)
(constructor Tr (T i64) T)
(constructor Slice (T i64 i64) T)
(constructor CCat (T T) T)
(constructor CAff (i64 T) T)
(constructor CScaleW (i64 T) T)
(constructor CTr (T i64) T)
(constructor Pad (T i64) T)
(constructor SliceD (T i64 i64 i64) T)
(constructor CCatF (i64 T T) T)
(constructor CCatB (i64 T T) T)
(constructor CPadK (i64 T i64) T)
(constructor Add (i64 T T) T)
(constructor MMTA (i64 T T T) T)
(constructor MMTB (i64 T T T) T)
(constructor CAdd (T T) T)
(constructor CMM (i64 T T) T)
(constructor CNil () CL)
(constructor CCons (i64 T CL) CL)
(constructor Cat (i64 CL) T)
(constructor Ew (i64 T) T)
(constructor Rs (i64 T i64) T)
(constructor SB (T T T) T)
(constructor CK (i64) T)
(constructor CMul (T T) T)
(constructor CFma (T T T) T)
(constructor Col (T i64) T)
(constructor Exp (T i64) T)
(constructor CMat (T) T)
(constructor CVec (T) T)
(constructor CZero () T)
(relation C1 (T T T T T i64 i64 i64))
(relation C1B (T T T T T i64 i64 i64))
(relation IsConst (T))
(function ncols (T) i64 :merge old)
(function lead (T) i64 :merge old)
(function wid (T) i64 :merge (max old new))
(function pcomp (i64 i64) i64 :merge old)
(relation PId (i64))
(relation Val (T i64))
(relation NextW (i64 i64))
(function fsh (T) i64 :merge old)
(function nout (T) i64 :merge old)
(function chax (i64) i64 :merge old)
(relation Single (T))
(relation PadPlus (i64 i64 i64 i64))
(relation PZero (i64))
(relation Dil1 (i64))
(relation Nchw32 (i64))
(relation ZeroS (T))
(relation SwapLast (i64))
(relation MergeOK (T))
(function dimsz (T i64) i64 :merge old)
(function shp (T) i64 :merge old)
"""

#: Constructors of constant expressions (realized with numpy, free in the cost model).
CONST_CTORS = ("Leaf", "CCat", "CAff", "CScaleW", "CTr", "CCatF", "CCatB", "CPadK", "CAdd", "CMM", "CK", "CMul", "CFma", "CMat", "CVec",
               "CZero")
#: Every constructor of the sorts T and TL.
CTORS = ("TNil", "TCons", "Arg", "Leaf", "Op", "MM", "BiasAdd", "Conv", "Aff", "Tr", "Slice", "Pad", "SliceD", "Add", "MMTA", "MMTB", "CNil", "CCons", "Cat", "Ew", "Rs",
         "SB", "Col", "Exp", *CONST_CTORS[1:])

#: Analysis rules, run to saturation before every iteration of the rewrite rulesets.
ANALYSIS = """
(ruleset analysis)
(rule ((= w (Leaf i))) ((IsConst w)) :ruleset analysis)
(rule ((= w (CCat a c)) (IsConst a) (IsConst c) (= na (ncols a)) (= nc (ncols c)) (= ic (wid c)) (= l (lead a)))
      ((IsConst w) (set (ncols w) (+ na nc)) (set (wid w) ic) (set (lead w) l)) :ruleset analysis)
(rule ((= w (CAff i b)) (IsConst b)) ((IsConst w)) :ruleset analysis)
(rule ((= w (CScaleW i b)) (IsConst b)) ((IsConst w)) :ruleset analysis)
(rule ((= w (CTr b p)) (IsConst b)) ((IsConst w)) :ruleset analysis)
(rule ((= y (Slice (Slice x o1 n1) o2 n2))) ((union y (Slice x (+ o1 o2) n2))) :ruleset analysis :name "slice-slice")
(rule ((= y (SliceD (SliceD x d o1 n1) d o2 n2))) ((union y (SliceD x d (+ o1 o2) n2))) :ruleset analysis
      :name "sliced-sliced")
(rule ((= w (CCatF a u v)) (IsConst u) (IsConst v) (= s (fsh u)) (= n1 (nout u)) (= n2 (nout v)) (= i (wid v)))
      ((IsConst w) (set (fsh w) s) (set (nout w) (+ n1 n2)) (set (wid w) i)) :ruleset analysis)
(rule ((= w (CCatB a u v)) (IsConst u) (IsConst v)) ((IsConst w)) :ruleset analysis)
(rule ((= w (CPadK a v t)) (IsConst v) (= n (nout v)) (= i (wid v)))
      ((IsConst w) (set (fsh w) t) (set (nout w) n) (set (wid w) i)) :ruleset analysis)
(rule ((= w (CPadK a v t)) (Single v)) ((Single w)) :ruleset analysis)
(rule ((= w (CPadK a (CCatF a u v) t))) ((union w (CCatF a (CPadK a u t) (CPadK a v t)))) :ruleset analysis
      :name "padk-of-concat")
(rule ((= w (CScaleW k v)) (IsConst v) (= s (fsh v)) (= n (nout v)) (= i (wid v)))
      ((set (fsh w) s) (set (nout w) n) (set (wid w) i)) :ruleset analysis)
(rule ((= w (CScaleW k v)) (Single v)) ((Single w)) :ruleset analysis)
(rule ((= w (CAdd u v)) (IsConst u) (IsConst v)) ((IsConst w)) :ruleset analysis)
(rule ((= w (CAdd u v)) (IsConst u) (IsConst v) (= l (lead u)) (= n (ncols u))) ((set (lead w) l) (set (ncols w) n))
      :ruleset analysis)
(rule ((= w (CMM k u v)) (IsConst u) (IsConst v)) ((IsConst w)) :ruleset analysis)
(rule ((= w (CMM k u v)) (IsConst u) (IsConst v) (= l (lead u)) (= n (ncols v))) ((set (lead w) l) (set (ncols w) n))
      :ruleset analysis)
(rule ((= m (MM k u v s)) (IsConst u) (IsConst v) (ZeroS s)) ((union m (CMM k u v))) :ruleset analysis
      :name "const-matmul")
(rule ((= m (CMat w)) (IsConst w)) ((IsConst m)) :ruleset analysis)
(rule ((= z (CZero))) ((IsConst z) (ZeroS z)) :ruleset analysis)
"""


@dataclass(frozen=True)
class EggRule:
    """The egglog counterpart of the MLIR rule ``name``.

    Attributes:
        name: the MLIR rule's name (see :data:`mlir_opt.graph.rules.RULES`).
        ruleset: egglog ruleset it belongs to (one per rule family).
        text: egglog rules; ``{ruleset}`` is replaced by the ruleset name.
        makes: constructors whose realization as a new op counts as one application.
    """

    name: str
    ruleset: str
    text: str
    makes: tuple[str, ...] = ()

    def program(self) -> str:
        return self.text.replace("{ruleset}", self.ruleset)


EGG_RULES: dict[str, EggRule] = {}


def register(rule: EggRule) -> EggRule:
    """Add (or replace) the egglog counterpart of an MLIR rule."""
    EGG_RULES[rule.name] = rule
    return rule


# Horizontal merging (merge.py): two contractions of the same LHS by constants become one on the
# concatenated constants + slices. The right member is always the single leaf that follows the
# left one's last leaf in its group (``NextW``, from the translation), so only runs of a group
# are built, each once: O(n²) merged nodes for n parallel contractions instead of 2ⁿ subsets.
register(EggRule("merge-parallel-matmuls", "merge", """
(rule ((= a (MM k x w s)) (= c (MM k x w2 s)) (= w2 (Leaf j)) (IsConst w) (= iw (wid w)) (NextW iw j)
       (= l (lead w)) (= l (lead w2)) (= n1 (ncols w)) (= n2 (ncols w2)))
      ((let big (MM k x (CCat w w2) s))
       (union a (Slice big 0 n1)) (union c (Slice big n1 n2)))
      :ruleset {ruleset} :name "merge-parallel-matmuls")
(rule ((= a (BiasAdd m b1)) (= m (MM k x w s)) (= c (BiasAdd m2 b2)) (= m2 (MM k x w2 s)) (= w2 (Leaf j))
       (= b2 (Leaf jb)) (IsConst w) (IsConst b1) (= iw (wid w)) (NextW iw j)
       (= l (lead w)) (= l (lead w2)) (= n1 (ncols w)) (= n2 (ncols w2)))
      ((let big (BiasAdd (MM k x (CCat w w2) s) (CCat b1 b2)))
       (union a (Slice big 0 n1)) (union c (Slice big n1 n2)))
      :ruleset {ruleset} :name "merge-parallel-matmuls+bias")
""", ("MM",)))

# Folding (fold.py): a per-channel affine elementwise op after a convolution folds into its
# filter (scalings) and accumulator (shifts) — one link at a time, so chains fold step by step.
register(EggRule("fold-batchnorm-into-conv", "fold", """
(rule ((= y (Aff i 0 x c)) (= x (Conv a xin w b)) (Nchw32 a))
      ((union y (Conv a xin w (CAff i b)))) :ruleset {ruleset} :name "fold-bn-shift")
(rule ((= y (Aff i 1 x c)) (= x (Conv a xin w b)) (Nchw32 a))
      ((union y (Conv a xin (CScaleW i w) (CAff i b)))) :ruleset {ruleset} :name "fold-bn-scale")
""", ("Conv",)))

register(EggRule("fold-constant-transpose", "fold", """
(rule ((= y (Tr c p)) (IsConst c)) ((union y (CTr c p))) :ruleset {ruleset} :name "fold-constant-transpose")
""", ("CTr",)))

# Layout (layout.py): transpose of a transpose is the input (identity) or one transpose.
# ``pcomp``/``PId`` are facts the translation adds for the permutations of the graph.
register(EggRule("transpose-transpose", "layout", """
(rule ((= y (Tr t p2)) (= t (Tr x p1)) (= q (pcomp p1 p2)) (PId q))
      ((union y x)) :ruleset {ruleset} :name "transpose-transpose-id")
(rule ((= y (Tr t p2)) (= t (Tr x p1)) (= q (pcomp p1 p2)))
      ((union y (Tr x q))) :ruleset {ruleset} :name "transpose-transpose")
""", ("Tr",)))

# Convolutions (conv.py). Horizontal merging: two convolutions with the same attributes (op/layout,
# strides, dilations, element type: literal ``a``) reading the same input class — equal zero pads of
# one value are one ``Pad`` term by hash-consing — with filters of equal shape but the output
# channels (``fsh``) become one on the concatenated filters/accumulators, sliced along the result's
# channel axis (``chax a``). As for matmuls, the right member is one original filter (``Single``:
# a leaf, possibly enlarged or scaled) that follows the left member's last filter in its group
# (``NextW``), so only runs are built. Only convs at the end of their batch-norm chain (``MergeOK``,
# from the translation) merge, else every mix of partly folded variants would be built.
register(EggRule("merge-parallel-convs", "merge", """
(rule ((= y1 (Conv a p w1 b1)) (= y2 (Conv a p w2 b2)) (MergeOK y1) (MergeOK y2) (Single w2) (= j (wid w2))
       (= i (wid w1)) (NextW i j) (= s (fsh w1)) (= s (fsh w2)) (= n1 (nout w1)) (= n2 (nout w2)) (= c (chax a)))
      ((let big (Conv a p (CCatF a w1 w2) (CCatB a b1 b2)))
       (MergeOK big) (set (dimsz big c) (+ n1 n2))
       (union y1 (SliceD big c 0 n1)) (union y2 (SliceD big c n1 n2)))
      :ruleset {ruleset} :name "merge-parallel-convs")
""", ("CCatF",)))

# Kernel enlargement (TASO): a dilation-1 convolution whose sibling on the same source reads it
# padded by δ more per side and has a kernel larger by 2δ gets its filter zero-padded (``CPadK``) and
# reads the sibling's pad. ``PadPlus i j s t`` (from the translation): pad spec ``j`` is spec ``i`` + δ
# on the spatial dims where filter shape ``t`` is shape ``s`` + 2δ; ``PZero`` is the spec "no pad".
register(EggRule("enlarge-conv-kernel", "merge", """
(rule ((= y (Conv a (Pad x i) w b)) (= y2 (Conv a (Pad x j) w2 b2)) (Dil1 a) (= s (fsh w)) (= t (fsh w2))
       (PadPlus i j s t))
      ((union y (Conv a (Pad x j) (CPadK a w t) b))) :ruleset {ruleset} :name "enlarge-conv-kernel")
(rule ((= y (Conv a x w b)) (= y2 (Conv a (Pad x j) w2 b2)) (Dil1 a) (= s (fsh w)) (= t (fsh w2))
       (PZero z) (PadPlus z j s t))
      ((union y (Conv a (Pad x j) (CPadK a w t) b))) :ruleset {ruleset} :name "enlarge-conv-kernel-unpadded")
""", ("CPadK",)))

# Algebra (algebra.py). Distributivity: a sum of two contractions of the same LHS by constants is
# one contraction by the summed constants (accumulator fills summed too).
register(EggRule("distribute-matmul", "algebra", """
(rule ((= y (Add i m1 m2)) (= m1 (MM k x w1 s1)) (= m2 (MM k x w2 s2)) (IsConst w1) (IsConst w2) (IsConst s1)
       (IsConst s2) (= l (lead w1)) (= l (lead w2)) (= n (ncols w1)) (= n (ncols w2)))
      ((union y (MM k x (CAdd w1 w2) (CAdd s1 s2)))) :ruleset {ruleset} :name "distribute-matmul")
""", ("CAdd",)))

# Associativity of zero-accumulator contractions, both ways; a product of two constants is a
# constant (``const-matmul`` in the analysis), so (x·W1)·W2 = x·(W1·W2) costs one contraction.
register(EggRule("matmul-reassociate", "algebra", """
(rule ((= y (MM k t c s)) (= t (MM k a b s)) (ZeroS s))
      ((union y (MM k a (MM k b c s) s))) :ruleset {ruleset} :name "matmul-reassociate-right")
(rule ((= y (MM k a t s)) (= t (MM k b c s)) (ZeroS s))
      ((union y (MM k (MM k a b s) c s))) :ruleset {ruleset} :name "matmul-reassociate-left")
""", ("CMM",)))

# A contraction reading a transpose of its operand's last two dims reads the transpose's input
# through transposed indexing maps (``MMTA``/``MMTB``).
register(EggRule("transpose-into-matmul", "layout", """
(rule ((= y (MM k x t s)) (= t (Tr b p)) (SwapLast p)) ((union y (MMTB k x b s)))
      :ruleset {ruleset} :name "transpose-into-matmul-b")
(rule ((= y (MM k t x s)) (= t (Tr a p)) (SwapLast p)) ((union y (MMTA k a x s)))
      :ruleset {ruleset} :name "transpose-into-matmul-a")
""", ("MMTA", "MMTB")))

# Concats (concat.py). ``(Cat k l)`` is ``tensor.concat dim(k)`` of the list ``l`` (``CCons k``/``CNil``:
# the axis is part of every cell, so a list rewritten for one axis is never another concat's list).
# ``dimsz x d`` (size of ``x`` along ``d``) comes from the translation (concat operands, sliced
# values) and from the conv merge (the merged result's channels).
register(EggRule("concat-of-slices", "concat", """
(rule ((= l (CCons k (SliceD x k o1 n1) (CCons k (SliceD x k o2 n2) r))) (= o2 (+ o1 n1)))
      ((union l (CCons k (SliceD x k o1 (+ n1 n2)) r))) :ruleset {ruleset} :name "concat-of-slices")
(rule ((= y (Cat k (CCons k a (CNil))))) ((union y a)) :ruleset {ruleset} :name "concat-of-one")
(rule ((= y (SliceD x d 0 n)) (= n (dimsz x d))) ((union y x)) :ruleset {ruleset} :name "full-slice")
""", ()))

register(EggRule("slice-of-concat", "concat", """
(rule ((= y (SliceD c k o n)) (= c (Cat k (CCons k a r))) (= sa (dimsz a k)) (<= (+ o n) sa))
      ((union y (SliceD a k o n))) :ruleset {ruleset} :name "slice-of-concat-head")
(rule ((= y (SliceD c k o n)) (= c (Cat k (CCons k a r))) (= sa (dimsz a k)) (>= o sa) (= st (dimsz c k)))
      ((let rest (Cat k r)) (set (dimsz rest k) (- st sa)) (union y (SliceD rest k (- o sa) n)))
      :ruleset {ruleset} :name "slice-of-concat-tail")
(rule ((= y (Cat k (CCons k a (CNil))))) ((union y a)) :ruleset {ruleset} :name "concat-of-one-soc")
(rule ((= y (SliceD (SliceD x d1 o1 n1) d2 o2 n2)) (!= d1 d2))
      ((union y (SliceD (SliceD x d2 o2 n2) d1 o1 n1))) :ruleset {ruleset} :name "slice-commute")
(rule ((= y (SliceD x d 0 n)) (= n (dimsz x d))) ((union y x)) :ruleset {ruleset} :name "full-slice-soc")
""", ()))

# Two neighbouring operands that are the same unary elementwise op (``Ew f``: body class ``f``) are
# one application of it to their concat: pairwise, so a run of n operands builds O(n²) nodes. The
# same fact for one slice: an elementwise op of a slice is a slice of the op on the source (so a
# ReLU after each branch of a merged conv can run once on the merged result, fused into it).
register(EggRule("concat-of-elementwise", "concat", """
(rule ((= l (CCons k (Ew f a) (CCons k (Ew f b) r))))
      ((let inner (Cat k (CCons k a (CCons k b (CNil)))))
       (union l (CCons k (Ew f inner) r))) :ruleset {ruleset} :name "concat-of-elementwise")
(rule ((= y (Cat k (CCons k a (CNil))))) ((union y a)) :ruleset {ruleset} :name "concat-of-one-coe")
(rule ((= l (CCons k (Cat k (CCons k a (CCons k b (CNil)))) r)))
      ((union l (CCons k a (CCons k b r)))) :ruleset {ruleset} :name "concat-flatten")
(rule ((= y (Ew f (SliceD x d o n)))) ((union y (SliceD (Ew f x) d o n))) :ruleset {ruleset}
      :name "elementwise-of-slice")
""", ("Ew",)))

# ``(Rs i x s)``: the original reshape op ``i`` (expand/collapse) of ``x`` to shape id ``s``; a
# reshape back to the shape of the first one's input is that input (``shp``: from the translation).
register(EggRule("reshape-reshape", "layout", """
(rule ((= y (Rs i t b)) (= t (Rs j x a)) (= b (shp x))) ((union y x)) :ruleset {ruleset} :name "reshape-reshape")
""", ()))

# Chained scale/bias (algebra.py's fold-chained-scale-bias): every elementwise op that combines its
# running input with one weight-only tensor by + - × ÷ also gets the form ``(SB x s t)`` = x·s + t
# (the translation adds it, with ``s``/``t`` as ``CK`` table constants at their smallest broadcast
# shape); two such steps compose into one: (x·s1 + t1)·s2 + t2 = x·(s1·s2) + (t1·s2 + t2).
register(EggRule("fold-chained-scale-bias", "fold", """
(rule ((= y (SB z s2 t2)) (= s2 (CK i)) (= t2 (CK j)) (= z (SB x s1 t1)))
      ((union y (SB x (CMul s1 s2) (CFma t1 s2 t2)))) :ruleset {ruleset} :name "fold-chained-scale-bias")
""", ("SB",)))

# 1x1 convolution as a matmul (conv.py's conv1x1-to-matmul), NHWC only: the translation states
# ``(C1 y x w b z sx sy sp)`` for every 1x1, stride-1, dilation-1 f32 NHWC conv ``y`` of ``x`` with
# constant filter ``w`` and accumulator ``b`` (``C1B`` when ``b`` is not zero), ``z`` a zero scalar,
# ``sx``/``sy``/``sp`` the shape ids of ``x`` collapsed to [N·H·W, C], of ``y`` and of [N·H·W, F].
# Alone the matmul form costs the same as the conv (plus two views), so it is extracted only where
# it enables another rewrite: a reshape next to it cancels (a pointwise ``nn.Linear`` reading the
# conv's result, or a second 1x1 conv), and then e.g. ``matmul-reassociate`` folds two weights into
# one. NCHW (``W·X``, a constant LHS) has no ``MM`` form.
register(EggRule("conv1x1-to-matmul", "algebra", """
(rule ((C1 y x w b z sx sy sp))
      ((let m (MM 0 (Col x sx) (CMat w) z)) (set (shp m) sp) (union y (Exp m sy)))
      :ruleset {ruleset} :name "conv1x1-to-matmul")
(rule ((C1B y x w b z sx sy sp))
      ((let m (BiasAdd (MM 0 (Col x sx) (CMat w) z) (CVec b))) (set (shp m) sp) (union y (Exp m sy)))
      :ruleset {ruleset} :name "conv1x1-to-matmul+bias")
(rule ((= y (Rs i t s)) (= t (Exp m a)) (= s (shp m))) ((union y m)) :ruleset {ruleset} :name "reshape-of-expand")
(rule ((= y (Col t s)) (= t (Rs i m a)) (= s (shp m))) ((union y m)) :ruleset {ruleset} :name "collapse-of-reshape")
(rule ((= y (Col t s)) (= t (Exp m a)) (= s (shp m))) ((union y m)) :ruleset {ruleset} :name "collapse-of-expand")
""", ("CMat",)))
