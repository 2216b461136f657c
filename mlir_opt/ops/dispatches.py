"""The dispatches IREE forms from a module, their root ops and workloads, and their cost share.

IREE (not mlir_opt) decides how ops fuse into dispatches, so dispatches are read from IREE itself:
``iree-compile --compile-to=executable-sources --iree-hal-dump-executable-sources-to=DIR`` gives
one source per dispatch (its root op as IREE will configure it, e.g. a unit-batch
``linalg.batch_matmul``), and the host program says how often each dispatch runs per call. A
tuning spec matches root ops in exactly that form, so workloads are keyed on it.

Per-dispatch time: ``--iree-hal-dump-executable-benchmarks-to`` gives a standalone benchmark module
per dispatch; each is compiled and timed with iree-benchmark-module.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import ir as _ir
from ..backend.compile import compile_module, iree_tool
from ..backend.targets import Target, get_target
from ..errors import MlirOptError
from ..model import Model

__all__ = ["Workload", "ConvWorkload", "MatmulLikeWorkload", "MATMUL_LIKE_MAPS", "contraction_workload", "epilogue_kind",
           "Dispatch", "list_dispatches", "profile_dispatches", "CONTRACTIONS",
           "CONVOLUTIONS", "workload_from_info", "model_convolutions"]

#: Root ops the operator-level search tunes today, with their dimension names.
CONTRACTIONS = {"linalg.matmul": ("M", "N", "K"), "linalg.batch_matmul": ("B", "M", "N", "K")}
#: Their standard indexing maps (no transposed operands), as printed by MLIR.
_STANDARD_MAPS = {
    "linalg.matmul": "[affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, "
                     "affine_map<(d0, d1, d2) -> (d0, d1)>]",
    "linalg.batch_matmul": "[affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, "
                           "affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, "
                           "affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>]",
}
#: The ``linalg.generic`` contraction IREE names ``matmul_like`` that the Q/K/V merge emits (its stacked-generic
#: form, benchmarks/qkv_merge.py): one LHS ``MxK`` shared by a stack of ``B`` RHS matrices ``BxKxN``, result
#: ``BxMxN``; loops (B, M, N, K) in the batch_matmul order, the LHS map omitting the stack dim.
MATMUL_LIKE_MAPS = _ir.MATMUL_LIKE_MAPS
#: Convolutions the operator-level search tunes, with their loop (dimension) names.
CONVOLUTIONS = {"linalg.conv_2d_nhwc_hwcf": ("N", "OH", "OW", "OC", "KH", "KW", "IC"),
                "linalg.conv_2d_nchw_fchw": ("N", "OH", "OW", "OC", "KH", "KW", "IC")}
_ELEM = {"f32": "f32", "f16": "f16", "bf16": "bf16", "i8": "i8", "i32": "i32"}


def _shape_elem(type_str: str) -> tuple[tuple[int, ...], str]:
    m = re.fullmatch(r"tensor<((?:\d+x)*)(\w+)>", type_str.strip())
    if not m:
        raise ValueError(f"not a static tensor type: {type_str}")
    dims = tuple(int(d) for d in m.group(1).split("x") if d)
    return dims, m.group(2)


@dataclass(frozen=True)
class Workload:
    """A tunable root op: op name, named loop extents and element types.

    ``key`` is stable across models and runs: e.g. ``batch_matmul_1x64x256x256_f32xf32xf32``.
    """

    op: str
    dims: tuple[tuple[str, int], ...]
    types: tuple[str, str, str]
    operand_types: tuple[str, str, str]

    @property
    def kind(self) -> str:
        return self.op.split(".", 1)[1]

    @property
    def extents(self) -> dict[str, int]:
        return dict(self.dims)

    @property
    def key(self) -> str:
        return f"{self.kind}_{'x'.join(str(v) for _, v in self.dims)}_{'x'.join(self.types)}"

    @property
    def flops(self) -> int:
        return 2 * int(np.prod([v for _, v in self.dims]))

    @classmethod
    def from_types(cls, op: str, lhs: str, rhs: str, out: str) -> "Workload":
        """Extents from operand types (standard maps: lhs [B]xMxK, rhs [B]xKxN, out [B]xMxN)."""
        (ls, le), (rs, re_), (_, oe) = _shape_elem(lhs), _shape_elem(rhs), _shape_elem(out)
        if op == "linalg.generic" and len(ls) == 2 and len(rs) == 3:
            dims = (("B", rs[0]), ("M", ls[0]), ("N", rs[2]), ("K", ls[1]))
            return MatmulLikeWorkload(op, dims, (le, re_, oe), (lhs, rhs, out))
        if op == "linalg.matmul" and len(ls) == 2:
            dims = (("M", ls[0]), ("N", rs[1]), ("K", ls[1]))
        elif op == "linalg.batch_matmul" and len(ls) == 3:
            dims = (("B", ls[0]), ("M", ls[1]), ("N", rs[2]), ("K", ls[2]))
        else:
            raise ValueError(f"unsupported contraction {op} {lhs} {rhs}")
        return cls(op, dims, (le, re_, oe), (lhs, rhs, out))

    @classmethod
    def from_key(cls, key: str) -> "Workload":
        """Parse a key such as ``matmul_64x128x32_f32xf32xf32`` (M, N, K) back into a workload.

        Convolution keys (``conv2d_nhwc_hwcf_1x56x56x64x3x3x64_s1_f32``) give a :class:`ConvWorkload`.
        """
        if key.startswith("conv2d_"):
            return ConvWorkload.from_key(key)
        m = re.fullmatch(r"(matmul|batch_matmul|matmul_like)_((?:\d+x)*\d+)_(\w+)x(\w+)x(\w+)", key)
        if not m:
            raise MlirOptError(f"not a workload key: {key!r} (e.g. matmul_64x128x32_f32xf32xf32)")
        op, ext, lt, rt, ot = m.groups()
        if op == "matmul_like":
            vals = [int(v) for v in ext.split("x")]
            if len(vals) != 4:
                raise MlirOptError(f"{key}: matmul_like needs 4 extents (BxMxNxK)")
            b, mm, n, k = vals
            return cls.from_types("linalg.generic", f"tensor<{mm}x{k}x{lt}>", f"tensor<{b}x{k}x{n}x{rt}>",
                                  f"tensor<{b}x{mm}x{n}x{ot}>")
        vals = [int(v) for v in ext.split("x")]
        names = CONTRACTIONS["linalg." + op]
        if len(vals) != len(names):
            raise MlirOptError(f"{key}: {op} needs {len(names)} extents ({'x'.join(names)})")
        e = dict(zip(names, vals))
        b = f"{e['B']}x" if "B" in e else ""
        return cls.from_types("linalg." + op, f"tensor<{b}{e['M']}x{e['K']}x{lt}>",
                              f"tensor<{b}{e['K']}x{e['N']}x{rt}>", f"tensor<{b}{e['M']}x{e['N']}x{ot}>")

    def single_op_module(self, compilation_info: str | None = None) -> str:
        """A module whose ``main`` runs just this op on its two inputs (zero-filled output).

        ``compilation_info`` (attribute text) is attached to the op when given: the form IREE 3.13
        honours on GPU targets, where tuning specs are not applied.
        """
        lhs, rhs, out = self.operand_types
        attr = f" {{compilation_info = {compilation_info}}}" if compilation_info else ""
        zero = "0" if self.types[2].startswith("i") else "0.0"
        return (f"func.func @main(%lhs: {lhs}, %rhs: {rhs}) -> {out} {{\n"
                f"  %zero = arith.constant {zero} : {self.types[2]}\n"
                f"  %empty = tensor.empty() : {out}\n"
                f"  %init = linalg.fill ins(%zero : {self.types[2]}) outs(%empty : {out}) -> {out}\n"
                f"  %r = {self.op}{attr} ins(%lhs, %rhs : {lhs}, {rhs}) outs(%init : {out}) -> {out}\n"
                f"  return %r : {out}\n}}\n")

    def reference(self, inputs: list[np.ndarray]) -> np.ndarray:
        """The op's result in float64 numpy (the candidates' numerical reference)."""
        a, b = (np.asarray(x, dtype=np.float64) for x in inputs)
        return a @ b

    def to_dict(self) -> dict:
        return {"op": self.op, "dims": dict(self.dims), "types": list(self.types),
                "operand_types": list(self.operand_types)}

    @property
    def contraction_dims(self) -> tuple[list[int], list[int], list[int], list[int]]:
        """(batch, m, n, k) extents as ``transform.iree.match.contraction`` reports them for this op."""
        e = self.extents
        return ([e["B"]] if "B" in e else []), [e["M"]], [e["N"]], [e["K"]]


@dataclass(frozen=True)
class MatmulLikeWorkload(Workload):
    """The ``linalg.generic`` contraction ``C[b, m, n] += A[m, k] * B[b, k, n]`` (:data:`MATMUL_LIKE_MAPS`):
    one LHS shared by a stack of RHS matrices, as the Q/K/V merge writes it; IREE names its dispatch
    ``matmul_like``. Loops and extents are batch_matmul's (B, M, N, K); key ``matmul_like_BxMxNxK_types``."""

    @property
    def kind(self) -> str:
        return "matmul_like"

    @property
    def contraction_dims(self) -> tuple[list[int], list[int], list[int], list[int]]:
        # the stack dim is not in the LHS, so IREE's contraction inference counts it as an N dim
        e = self.extents
        return [], [e["M"]], [e["B"], e["N"]], [e["K"]]

    def single_op_module(self, compilation_info: str | None = None) -> str:
        lhs, rhs, out = self.operand_types
        attr = f", compilation_info = {compilation_info}" if compilation_info else ""
        et = self.types[2]
        zero = "0" if et.startswith("i") else "0.0"
        body = _ir.matmul_like_generic("%r", "%lhs", "%rhs", "%init", (lhs, rhs, out), tuple(self.types), attrs=attr)
        return (f"func.func @main(%lhs: {lhs}, %rhs: {rhs}) -> {out} {{\n"
                f"  %zero = arith.constant {zero} : {et}\n"
                f"  %empty = tensor.empty() : {out}\n"
                f"  %init = linalg.fill ins(%zero : {et}) outs(%empty : {out}) -> {out}\n"
                f"{body}\n"
                f"  return %r : {out}\n}}\n")


_CONV_LAYOUTS = {"nhwc_hwcf": "linalg.conv_2d_nhwc_hwcf", "nchw_fchw": "linalg.conv_2d_nchw_fchw"}


@dataclass(frozen=True)
class ConvWorkload(Workload):
    """A 2-D convolution root op (``linalg.conv_2d_nhwc_hwcf`` / ``linalg.conv_2d_nchw_fchw``).

    ``dims`` are its loops N, OH, OW, OC, KH, KW, IC; the key names the *input* extents instead
    (N×H×W×C of the already padded input, then KH×KW×F of the filter), the stride, the dilation
    when it is not 1, and the element type(s): ``conv2d_nhwc_hwcf_1x58x58x64x3x3x64_s1_f32``.
    """

    strides: tuple[int, int] = (1, 1)
    dilations: tuple[int, int] = (1, 1)

    @property
    def layout(self) -> str:
        return self.op.split("conv_2d_", 1)[1]

    @property
    def kind(self) -> str:
        return f"conv2d_{self.layout}"

    @property
    def input_extents(self) -> tuple[int, int, int, int]:
        """N, H, W, C of the input operand."""
        shape, _ = _shape_elem(self.operand_types[0])
        if self.layout == "nchw_fchw":
            return shape[0], shape[2], shape[3], shape[1]
        return tuple(shape)  # type: ignore[return-value]

    @property
    def key(self) -> str:
        n, h, w, c = self.input_extents
        e = self.extents
        sh, sw = self.strides
        st = f"s{sh}" if sh == sw else f"s{sh}x{sw}"
        dl = "" if self.dilations == (1, 1) else "_d" + (f"{self.dilations[0]}" if len(set(self.dilations)) == 1
                                                         else "x".join(map(str, self.dilations)))
        ty = self.types[0] if len(set(self.types)) == 1 else "x".join(self.types)
        return f"{self.kind}_{n}x{h}x{w}x{c}x{e['KH']}x{e['KW']}x{e['OC']}_{st}{dl}_{ty}"

    @classmethod
    def from_conv_types(cls, op: str, inp: str, filt: str, out: str, strides=(1, 1),
                        dilations=(1, 1)) -> "ConvWorkload":
        """Loops from the operand types of a conv op (input, filter, output)."""
        (xs, xe), (fs, fe), (os_, oe) = _shape_elem(inp), _shape_elem(filt), _shape_elem(out)
        if op not in CONVOLUTIONS or len(xs) != 4 or len(fs) != 4 or len(os_) != 4:
            raise ValueError(f"unsupported convolution {op} {inp} {filt} {out}")
        if op == "linalg.conv_2d_nhwc_hwcf":
            n, oh, ow, oc = os_
            kh, kw, ic, _ = fs
        else:
            n, oc, oh, ow = os_
            _, ic, kh, kw = fs
        dims = tuple(zip(CONVOLUTIONS[op], (n, oh, ow, oc, kh, kw, ic)))
        return cls(op, dims, (xe, fe, oe), (inp, filt, out), tuple(strides), tuple(dilations))

    @classmethod
    def from_key(cls, key: str) -> "ConvWorkload":
        """Parse ``conv2d_<layout>_NxHxWxCxKHxKWxF_s<stride>[_d<dilation>]_<type>``."""
        m = re.fullmatch(r"conv2d_(nhwc_hwcf|nchw_fchw)_(\d+)x(\d+)x(\d+)x(\d+)x(\d+)x(\d+)x(\d+)"
                         r"_s(\d+)(?:x(\d+))?(?:_d(\d+)(?:x(\d+))?)?_(\w+)", key)
        if not m:
            raise MlirOptError(f"not a convolution workload key: {key!r} "
                               "(e.g. conv2d_nhwc_hwcf_1x58x58x64x3x3x64_s1_f32)")
        layout = m.group(1)
        n, h, w, c, kh, kw, f = (int(m.group(i)) for i in range(2, 9))
        sh = int(m.group(9))
        sw = int(m.group(10) or sh)
        dh = int(m.group(11) or 1)
        dw = int(m.group(12) or dh)
        types = m.group(13).split("x")
        if len(types) == 1:
            types = types * 3
        if len(types) != 3 or any(t not in _ELEM for t in types):
            raise MlirOptError(f"{key}: element types must be one type or three (input x filter x output)")
        oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
        if oh < 1 or ow < 1:
            raise MlirOptError(f"{key}: the filter does not fit the input")
        xt, ft, ot = types
        if layout == "nhwc_hwcf":
            shapes = ((n, h, w, c), (kh, kw, c, f), (n, oh, ow, f))
        else:
            shapes = ((n, c, h, w), (f, c, kh, kw), (n, f, oh, ow))
        tt = lambda s, t: f"tensor<{'x'.join(map(str, s))}x{t}>"  # noqa: E731
        return cls.from_conv_types(_CONV_LAYOUTS[layout], tt(shapes[0], xt), tt(shapes[1], ft), tt(shapes[2], ot),
                                   (sh, sw), (dh, dw))

    def gemm_view(self) -> Workload:
        """The matmul IREE's img2col pre-pass makes of this conv (unit batch only).

        NHWC: (OH·OW × KH·KW·IC) @ (KH·KW·IC × OC); NCHW: filter (OC × IC·KH·KW) @ (… × OH·OW).
        """
        e = self.extents
        if e["N"] != 1:
            raise ValueError(f"{self.key}: img2col gives a batched generic, not linalg.matmul, for N > 1")
        k = e["KH"] * e["KW"] * e["IC"]
        mn = (e["OH"] * e["OW"], e["OC"]) if self.layout == "nhwc_hwcf" else (e["OC"], e["OH"] * e["OW"])
        t = self.types
        return Workload.from_types("linalg.matmul", f"tensor<{mn[0]}x{k}x{t[0]}>", f"tensor<{k}x{mn[1]}x{t[1]}>",
                                   f"tensor<{mn[0]}x{mn[1]}x{t[2]}>")

    def dispatch_extents(self) -> str:
        """The extents IREE writes in this conv's dispatch name (e.g. ``conv_14x14x16x3x3x8``)."""
        e = self.extents
        order = ("OH", "OW", "OC", "KH", "KW", "IC") if self.layout == "nhwc_hwcf" else \
            ("OC", "OH", "OW", "IC", "KH", "KW")
        vals = ([e["N"]] if e["N"] != 1 else []) + [e[k] for k in order]
        return "x".join(map(str, vals))

    def single_op_module(self, compilation_info: str | None = None) -> str:
        """A module whose ``main`` runs just this convolution on (input, filter)."""
        inp, filt, out = self.operand_types
        attr = f"compilation_info = {compilation_info}, " if compilation_info else ""
        zero = "0" if self.types[2].startswith("i") else "0.0"
        s, d = self.strides, self.dilations
        return (f"func.func @main(%input: {inp}, %filter: {filt}) -> {out} {{\n"
                f"  %zero = arith.constant {zero} : {self.types[2]}\n"
                f"  %empty = tensor.empty() : {out}\n"
                f"  %init = linalg.fill ins(%zero : {self.types[2]}) outs(%empty : {out}) -> {out}\n"
                f"  %r = {self.op} {{{attr}dilations = dense<[{d[0]}, {d[1]}]> : tensor<2xi64>, "
                f"strides = dense<[{s[0]}, {s[1]}]> : tensor<2xi64>}}\n"
                f"       ins(%input, %filter : {inp}, {filt}) outs(%init : {out}) -> {out}\n"
                f"  return %r : {out}\n}}\n")

    def reference(self, inputs: list[np.ndarray]) -> np.ndarray:
        """The convolution in float64 numpy (a sum of KH·KW strided slices times filter taps)."""
        x, f = (np.asarray(a, dtype=np.float64) for a in inputs)
        e = self.extents
        (sh, sw), (dh, dw) = self.strides, self.dilations
        oh, ow = e["OH"], e["OW"]
        nhwc = self.layout == "nhwc_hwcf"
        if not nhwc:  # to NHWC / HWCF
            x, f = x.transpose(0, 2, 3, 1), f.transpose(2, 3, 1, 0)
        out = np.zeros((e["N"], oh, ow, e["OC"]), dtype=np.float64)
        for kh in range(e["KH"]):
            for kw in range(e["KW"]):
                patch = x[:, kh * dh: kh * dh + sh * (oh - 1) + 1: sh, kw * dw: kw * dw + sw * (ow - 1) + 1: sw, :]
                out += patch @ f[kh, kw]
        return out if nhwc else out.transpose(0, 3, 1, 2)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "strides": list(self.strides), "dilations": list(self.dilations)}


def workload_from_info(info: dict) -> Workload:
    """A workload back from its database ``info`` (:meth:`Workload.to_dict`)."""
    if info["op"] in CONVOLUTIONS:
        return ConvWorkload.from_conv_types(info["op"], *info["operand_types"], tuple(info.get("strides", (1, 1))),
                                            tuple(info.get("dilations", (1, 1))))
    return Workload.from_types(info["op"], *info["operand_types"])


def model_convolutions(module) -> list[ConvWorkload]:
    """The tunable convolutions of a module (before IREE), in order."""
    out = []
    for op in _ir.iter_ops(module):
        if op.name not in CONVOLUTIONS:
            continue
        try:
            st = tuple(int(v) for v in re.findall(r"-?\d+", str(op.attributes["strides"]).split(":")[0])) \
                if "strides" in op.attributes else (1, 1)
            dl = tuple(int(v) for v in re.findall(r"-?\d+", str(op.attributes["dilations"]).split(":")[0])) \
                if "dilations" in op.attributes else (1, 1)
            st = st * 2 if len(st) == 1 else st
            dl = dl * 2 if len(dl) == 1 else dl
            out.append(ConvWorkload.from_conv_types(op.name, *(str(v.type) for v in op.operands[:3]), st, dl))
        except (ValueError, KeyError):
            continue
    return out


@dataclass
class Dispatch:
    """One IREE dispatch: its name, root op, workload (if tunable) and invocations per call."""

    name: str
    root_op: str
    count: int
    workload: Workload | None = None
    time_ms: float | None = None
    info: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        m = re.match(r"\w+?_dispatch_\d+_([a-z]+(?:_[a-z]+)*?)_\d", self.name)
        return m.group(1) if m else self.root_op

    def to_dict(self) -> dict:
        return {"name": self.name, "root_op": self.root_op, "count": self.count,
                "workload": self.workload.key if self.workload else None, "time_ms": self.time_ms}


def _compile_to_sources(model: Model, tgt: Target, flags, tmp: Path) -> tuple[str, Path]:
    src_in = tmp / "model.mlirbc"
    src_in.write_bytes(model.bytecode())
    dump = tmp / "sources"
    out = tmp / "host.mlir"
    cmd = [iree_tool("iree-compile"), str(src_in), *tgt.flags, *flags, "--compile-to=executable-sources",
           f"--iree-hal-dump-executable-sources-to={dump}", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise MlirOptError(f"listing dispatches failed: {proc.stderr.strip().splitlines()[-1:]}")
    return out.read_text(), dump


def list_dispatches(model: Model, target: str | Target = "llvm-cpu", flags=()) -> list[Dispatch]:
    """The dispatches IREE forms for ``model`` (with ``flags``), in order of first appearance."""
    tgt = get_target(target)
    with tempfile.TemporaryDirectory(prefix="mlir_opt_dispatches_") as tmp:
        host, dump = _compile_to_sources(model, tgt, flags, Path(tmp))
        counts: dict[str, int] = {}
        for m in re.finditer(r"stream\.cmd\.dispatch @[\w.$-]+::@[\w.$-]+::@([\w.$-]+)", host):
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        result = []
        convs = model_convolutions(model.module)
        ctx = _ir.new_context()
        for src in sorted(dump.glob("*.mlir")):
            module = _ir.parse(src.read_text(), ctx, source_name=str(src))
            for fn in _ir.iter_ops(module):
                if fn.name != "func.func":
                    continue
                name = _ir.ir.StringAttr(fn.attributes["sym_name"]).value
                root, workload = _root_of(fn, matmul_like=tgt.name == "cuda")
                if workload is None and "_conv_" in name:
                    workload = next((c for c in convs if re.search(rf"_conv_{c.dispatch_extents()}_", name + "_")),
                                    None)
                info = {"epilogue": epilogue_kind(fn)} if workload is not None else {}
                result.append(Dispatch(name, root, counts.get(name, 0), workload, info=info))
    order = {n: i for i, n in enumerate(counts)}
    result.sort(key=lambda d: order.get(d.name, len(order)))
    return result


def contraction_workload(op, matmul_like: bool = True) -> Workload | None:
    """The workload of a tunable contraction op (named matmul / batch_matmul with standard maps, or
    the ``matmul_like`` generic of :data:`MATMUL_LIKE_MAPS` with a multiply-add body), else None."""
    if op.name in CONTRACTIONS:
        if not _standard_maps(op):
            return None
    elif not (matmul_like and op.name == "linalg.generic" and _is_matmul_like(op)):
        return None
    try:
        return Workload.from_types(op.name, *(str(v.type) for v in op.operands[:3]))
    except ValueError:
        return None


def epilogue_kind(fn) -> str:
    """What a contraction dispatch holds besides its contraction (and fill): ``none``; ``elementwise`` (one
    all-parallel ``linalg.generic`` over the contraction's result space that reads the result and writes its
    own through identity maps: a bias add, GELU, residual, scale); or ``other`` (a transposing consumer,
    several ops, ...). The GPU script strategies apply to ``none`` and ``elementwise`` dispatches."""
    ops = [op for op in _walk(fn) if op.name.startswith(("linalg.", "iree_linalg_ext."))
           and op.name not in ("linalg.yield", "linalg.fill", "linalg.index")]
    roots = [op for op in ops if op.name in CONTRACTIONS or (op.name == "linalg.generic" and _is_matmul_like(op))]
    if len(roots) != 1:
        return "other"
    rest = [op for op in ops if op is not roots[0] and op != roots[0]]
    if not rest:
        return "none"
    if len(rest) != 1 or rest[0].name != "linalg.generic":
        return "other"
    epi, res = rest[0], roots[0].results[0]
    rank = len(_shape_elem(str(res.type))[0])
    iters = str(epi.attributes["iterator_types"])
    if iters.count("parallel") != rank or "reduction" in iters:
        return "other"
    maps = _ir.ir.ArrayAttr(epi.attributes["indexing_maps"])
    ident = str(_ir.ir.AffineMapAttr.get(_ir.ir.AffineMap.get_identity(rank, context=fn.context)))
    n_in = len(epi.operands) - len(epi.results)
    uses = [i for i, v in enumerate(epi.operands[:n_in]) if v == res]
    if not uses or any(str(maps[i]) != ident for i in uses) or str(maps[len(maps) - 1]) != ident:
        return "other"
    if len(epi.results) != 1 or str(epi.results[0].type) != str(res.type):
        return "other"
    return "elementwise"


def _is_matmul_like(op) -> bool:
    if "indexing_maps" not in op.attributes or str(op.attributes["indexing_maps"]) != MATMUL_LIKE_MAPS:
        return False
    if len(op.operands) != 3:
        return False
    body = [o.operation.name for o in op.regions[0].blocks[0].operations]
    return body in (["arith.mulf", "arith.addf", "linalg.yield"], ["arith.muli", "arith.addi", "linalg.yield"])


def _root_of(fn, matmul_like: bool = False) -> tuple[str, Workload | None]:
    linalg_ops = [op for op in _walk(fn) if op.name.startswith(("linalg.", "iree_linalg_ext."))
                  and op.name not in ("linalg.yield", "linalg.fill", "linalg.index")]
    for op in linalg_ops:
        if op.name in CONTRACTIONS and _standard_maps(op):
            types = [str(v.type) for v in op.operands]
            try:
                return op.name, Workload.from_types(op.name, types[0], types[1], types[2])
            except ValueError:
                return op.name, None
    if matmul_like:  # GPU targets: the Q/K/V merge's stacked generic (sketches in ops/space.py)
        for op in linalg_ops:
            if (w := contraction_workload(op)) is not None:
                return op.name, w
    for op in linalg_ops:
        if op.name.startswith("linalg.conv") or op.name in CONTRACTIONS:
            return op.name, None
    return (linalg_ops[-1].name if linalg_ops else "none"), None


def _standard_maps(op) -> bool:
    if "indexing_maps" not in op.attributes:
        return True
    return str(op.attributes["indexing_maps"]) == _STANDARD_MAPS[op.name]


def _walk(op):
    for region in op.regions:
        for block in region:
            for child in block:
                yield child.operation
                yield from _walk(child.operation)


def profile_dispatches(model: Model, target: str | Target = "llvm-cpu", flags=(), *, reps: int = 5,
                       threads: int | None = None) -> list[Dispatch]:
    """:func:`list_dispatches` plus each dispatch's median time (ms per invocation).

    Compiles IREE's dumped per-dispatch benchmark modules and times each with
    iree-benchmark-module; a dispatch that cannot be timed keeps ``time_ms=None``.
    """
    tgt = get_target(target)
    # IREE's dumped per-dispatch benchmark modules lose the resource blobs of ``dense_resource``
    # constants inlined into a dispatch ("resource does not exist"): inline them first
    model = model.clone()
    _ir.materialize_resources(model.module)
    dispatches = list_dispatches(model, tgt, flags)
    with tempfile.TemporaryDirectory(prefix="mlir_opt_profile_") as tmp:
        tmp = Path(tmp)
        (tmp / "model.mlirbc").write_bytes(model.bytecode())
        bench_dir = tmp / "bench"
        res = compile_module(tmp / "model.mlirbc", tgt, output=tmp / "m.vmfb",
                             flags=[*flags, f"--iree-hal-dump-executable-benchmarks-to={bench_dir}"],
                             raise_on_error=False)
        if not res.ok:
            raise MlirOptError(f"profiling dispatches failed: {res.error}")
        by_name = {d.name: d for d in dispatches}
        for f in sorted(bench_dir.glob("*_benchmark.mlir")):
            text = f.read_text()
            m = re.search(r"util\.func public @(\w+)\(", text)
            disp = next((d for n, d in by_name.items() if m and m.group(1).endswith("_" + n)), None)
            if disp is None:
                continue
            vmfb = tmp / (f.stem + ".vmfb")
            if not compile_module(f, tgt, output=vmfb, raise_on_error=False).ok:
                continue
            cmd = [iree_tool("iree-benchmark-module"), f"--module={vmfb}", f"--function={m.group(1)}",
                   *tgt.runtime_flags(threads), f"--benchmark_repetitions={reps}",
                   "--benchmark_min_time=0.02s", "--benchmark_format=json"]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                continue
            import json

            data = json.loads(proc.stdout)
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
            times = [b["real_time"] * scale[b["time_unit"]] for b in data["benchmarks"]
                     if b.get("run_type") == "iteration"]
            if times:
                disp.time_ms = float(np.median(times))
    return dispatches
