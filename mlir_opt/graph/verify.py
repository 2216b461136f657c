"""Numerical verification of rewrite rules before use (TASO-style fingerprinting on real IREE).

Each rule ships small test graphs (:attr:`Rule.examples`, several shapes, fp32). For each, the rule
is applied wherever it matches; original and rewritten modules are compiled with IREE
(:func:`mlir_opt.backend.compile_module`), run on two sets of random normal inputs
(:meth:`Model.random_inputs`) and compared with :func:`mlir_opt.backend.compare_outputs`
(tolerance 1e-4; 1e-2 for examples computing in fp16, whose worst error is reported
separately). A rule that does not match its own examples, fails to compile, or differs is
disabled, and the reason is logged on ``mlir_opt.graph``.

Results are cached on disk (``$MLIR_OPT_CACHE_DIR``, default ``~/.cache/mlir_opt``) keyed by the
rule's name, the source of its module, the text of its examples and the IREE compiler version, so a search pays for
verification once per rule change or compiler upgrade.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import MlirOptError
from .rules import Rule, get_rules
from .rules.base import F16_TOLERANCE

__all__ = ["RuleReport", "verify_rule", "verify_rules", "verified_rules", "TOLERANCE"]

log = logging.getLogger("mlir_opt.graph")

TOLERANCE = 1e-4


@dataclass
class RuleReport:
    """How one rule was verified: the shapes tested, the worst relative error, pass/fail and why."""

    rule: str
    family: str
    shapes: list[str] = field(default_factory=list)
    max_rel_error: float = 0.0
    max_rel_error_f16: float | None = None
    ok: bool = False
    reason: str = ""
    seconds: float = 0.0
    cached: bool = False

    @property
    def status(self) -> str:
        return "ok" if self.ok else "DISABLED"

    def to_dict(self) -> dict:
        return asdict(self)


def _cache_path() -> Path:
    return Path(os.environ.get("MLIR_OPT_CACHE_DIR", Path.home() / ".cache" / "mlir_opt")) / "rule_verification.json"


def _key(rule: Rule, examples) -> str:
    from ..backend import compiler_version

    h = hashlib.sha1(rule.name.encode())
    try:  # the rule's code: a changed rewrite must be verified again
        h.update(inspect.getsource(sys.modules[rule.apply.__module__]).encode())
    except (OSError, TypeError, KeyError):
        pass
    for ex in examples:
        h.update(ex.mlir.encode())
    h.update(compiler_version().encode())
    h.update(str(TOLERANCE).encode())
    return h.hexdigest()


def verify_rule(rule: Rule, *, target: str = "llvm-cpu", tol: float = TOLERANCE) -> RuleReport:
    """Verify one rule on its examples with IREE (no cache)."""
    from ..backend import Runner, compare_outputs, compile_module
    from ..importers.mlir import load_mlir
    from . import apply_rules

    rep = RuleReport(rule.name, rule.family)
    t0 = time.perf_counter()
    examples = rule.examples()
    if not examples:
        rep.reason = "no test graphs"
        return rep
    try:
        with tempfile.TemporaryDirectory(prefix="mlir_opt_verify_") as tmp:
            for k, ex in enumerate(examples):
                rep.shapes.append(ex.label)
                src = Path(tmp) / f"ex{k}.mlir"
                src.write_text(ex.mlir)
                model = load_mlir(src, name=f"{rule.name}-{k}")
                res = apply_rules(model, [rule.name], max_steps=20)
                if not res.applied:
                    rep.reason = f"did not match its test graph '{ex.label}'"
                    return rep
                vm = {}
                for tag, m in (("orig", model), ("new", res.model)):
                    out = compile_module(m.bytecode(), target, output=Path(tmp) / f"{k}-{tag}.vmfb",
                                         raise_on_error=False)
                    if not out.ok:
                        rep.reason = f"'{ex.label}' ({tag}) does not compile: {out.error}"
                        return rep
                    vm[tag] = Runner(out.vmfb, model.entry, target)
                f16 = ex.dtype != "f32"
                for seed in (0, 1):
                    inputs = model.random_inputs(seed)
                    check = compare_outputs(vm["new"](inputs), vm["orig"](inputs), F16_TOLERANCE if f16 else tol)
                    if f16:
                        rep.max_rel_error_f16 = max(rep.max_rel_error_f16 or 0.0, check.max_error)
                    else:
                        rep.max_rel_error = max(rep.max_rel_error, check.max_error)
                    if not check.ok:
                        rep.reason = f"'{ex.label}' differs: {check.describe()}"
                        return rep
        rep.ok = True
    except MlirOptError as err:
        rep.reason = f"error: {err}"
    finally:
        rep.seconds = time.perf_counter() - t0
    return rep


def verify_rules(names=None, *, use_cache: bool = True, target: str = "llvm-cpu") -> list[RuleReport]:
    """Verify the named rules (all for None); failing rules are logged as disabled.

    Args:
        names: rule names (see :data:`mlir_opt.graph.rules.RULES`).
        use_cache: reuse results from the on-disk cache (same rule examples and compiler version).
        target: IREE target to verify on.
    Returns:
        One :class:`RuleReport` per rule, in order.
    """
    path = _cache_path()
    cache = {}
    if path.exists():  # loaded even without use_cache, so that writing back keeps other rules' entries
        try:
            cache = json.loads(path.read_text())
        except (OSError, ValueError):
            cache = {}
    reports = []
    for rule in get_rules(names):
        key = f"{target}:{_key(rule, rule.examples())}"
        if use_cache and key in cache:
            rep = RuleReport(**{**cache[key], "cached": True})
        else:
            rep = verify_rule(rule, target=target)
            cache[key] = {**rep.to_dict(), "cached": False}
        if not rep.ok:
            log.warning("rule %s disabled: %s", rule.name, rep.reason)
        reports.append(rep)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache, indent=1))
        tmp.replace(path)
    except OSError as err:  # a read-only home must not stop a search
        log.warning("cannot write rule verification cache %s: %s", path, err)
    return reports


def verified_rules(names=None, *, target: str = "llvm-cpu") -> list[Rule]:
    """The rules (all for None) that pass verification (cached)."""
    ok = {r.rule for r in verify_rules(names, target=target) if r.ok}
    return [r for r in get_rules(names) if r.name in ok]
