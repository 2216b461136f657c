"""Bulk loading of the translation into egglog (the fast path of :mod:`.eqsat`).

egglog 13 compiles every top-level action (and every variable of a rule) on its own, and the cost
of each grows with the e-graph and the program: sending the translation as ~8000 commands (one
``let`` per value plus its facts) took 35 s on Inception-v3 (small), 99 % of the search, and
wrapping the commands into one rule was no faster (its type inference is super-linear in the
rule's variables).

This module sends the same facts as tables instead. The translation's commands are flattened into
rows of all-``i64`` relations, one per constructor / fact / function (``L_<name>``), each term
named by an integer id; the rows are written to tab-separated files and read with egglog's
``input`` command; one small rule per table then builds the terms from the rows, with a
constructor ``VN_<sort>(id)`` standing for the term of each id. Running that ruleset once gives
the same e-graph (restricted to the term language) as running the commands one by one: the same
e-nodes in the same e-classes, the same facts and function values. The loading relations and the
``VN_*`` nodes are deleted afterwards, so the serialized e-graph has no extra nodes.

:func:`bulk_program` returns ``None`` for a command it does not know; :mod:`.eqsat` then falls back
to sending the commands.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

__all__ = ["parse_schema", "bulk_program"]

_TOKEN = re.compile(r'\(|\)|[^\s()]+')


def _parse(text: str) -> list:
    """The s-expressions of ``text`` as nested lists of str."""
    stack: list[list] = [[]]
    for tok in _TOKEN.findall(text):
        if tok == "(":
            stack.append([])
        elif tok == ")":
            if len(stack) == 1:
                raise ValueError("unbalanced ')'")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok)
    if len(stack) != 1:
        raise ValueError("unbalanced '('")
    return stack[0]


def parse_schema(schema: str) -> dict[str, tuple[str, list[str], str]]:
    """``name -> (kind, argument sorts, output sort)`` of every declaration in ``schema``;
    ``kind`` is ``constructor``, ``relation`` or ``function`` (a fresh dict; parsed once per
    schema text)."""
    return dict(_parse_schema(schema))


@functools.lru_cache(maxsize=8)
def _parse_schema(schema: str) -> dict[str, tuple[str, list[str], str]]:
    out = {}
    for d in _parse(schema):
        if not isinstance(d, list) or not d:
            continue
        if d[0] == "constructor":
            out[d[1]] = ("constructor", list(d[2]), d[3])
        elif d[0] == "relation":
            out[d[1]] = ("relation", list(d[2]), "Unit")
        elif d[0] == "function":
            out[d[1]] = ("function", list(d[2]), d[3])
    return out


_PRIM = ("i64",)


class _Unsupported(Exception):
    pass


def bulk_program(schema: dict, lines: list[str], fact_dir: Path, *, ruleset: str = "load_") -> str | None:
    """The egglog program that loads ``lines`` (the translation's commands) through tables whose
    rows are written to ``fact_dir``; ``None`` when a command is not of a known form (``let`` of a
    term, ``union``, ``set`` of a function, a relation fact)."""
    try:
        return _bulk(schema, lines, Path(fact_dir), ruleset)
    except (_Unsupported, ValueError, KeyError, IndexError):
        return None


def _bulk(schema: dict, lines: list[str], fact_dir: Path, ruleset: str) -> str:
    names: dict[str, tuple[int, str]] = {}  # let name -> (term id, sort)
    ids: dict[tuple, int] = {}  # (ctor, args) -> term id (hash-consed: one row per distinct term)
    rows: dict[str, list[tuple]] = {}  # table -> rows
    sig: dict[str, tuple[str, list[str], str]] = {}  # table -> (what, argument sorts, output sort)

    def term(x) -> tuple[int, str]:
        """The id and sort of term ``x`` (rows added for new sub-terms)."""
        if isinstance(x, str):
            if x in names:
                return names[x]
            raise _Unsupported(x)
        if not x or not isinstance(x[0], str):
            raise _Unsupported(str(x))
        kind, sorts, out = schema[x[0]]
        if kind != "constructor" or out in _PRIM:
            raise _Unsupported(x[0])
        args = tuple(_arg(a, s) for a, s in zip(x[1:], sorts, strict=True))
        key = (x[0], args)
        if key not in ids:
            ids[key] = len(ids)
            tab = f"L_{x[0]}"
            sig[tab] = ("ctor", sorts, out)
            rows.setdefault(tab, []).append((ids[key], *args))
        return ids[key], out

    def _arg(a, s: str) -> int:
        if s in _PRIM:
            if not isinstance(a, str):
                raise _Unsupported(str(a))
            return int(a)
        i, srt = term(a)
        if srt != s:
            raise _Unsupported(f"sort {srt} != {s}")
        return i

    for cmd in _parse("\n".join(lines)):
        if not isinstance(cmd, list) or not cmd or not isinstance(cmd[0], str):
            raise _Unsupported(str(cmd))
        head = cmd[0]
        if head == "let":
            if len(cmd) != 3 or cmd[1] in names:
                raise _Unsupported("let")
            names[cmd[1]] = term(cmd[2])
        elif head == "union":
            (a, sa), (b, sb) = term(cmd[1]), term(cmd[2])
            if sa != sb:
                raise _Unsupported("union of sorts")
            tab = f"L__union_{sa}"
            sig[tab] = ("union", [sa, sa], "Unit")
            rows.setdefault(tab, []).append((a, b))
        elif head == "set":
            call, val = cmd[1], cmd[2]
            kind, sorts, out = schema[call[0]]
            if kind != "function" or out not in _PRIM:
                raise _Unsupported(call[0])
            tab = f"L__set_{call[0]}"
            sig[tab] = ("set", sorts, out)
            rows.setdefault(tab, []).append((*(_arg(a, s) for a, s in zip(call[1:], sorts, strict=True)),
                                             int(val)))
        elif head in schema and schema[head][0] == "relation":
            sorts = schema[head][1]
            tab = f"L__rel_{head}"
            sig[tab] = ("rel", sorts, "Unit")
            rows.setdefault(tab, []).append(tuple(_arg(a, s) for a, s in zip(cmd[1:], sorts, strict=True)))
        else:
            raise _Unsupported(head)

    used_sorts = sorted({s for w, sorts, out in sig.values() for s in [*sorts, out] if s not in _PRIM and s != "Unit"})
    prog = [f"(constructor VN_{s} (i64) {s})" for s in used_sorts]
    prog.append(f"(ruleset {ruleset})")
    var = [f"a{j}" for j in range(16)]

    def ref(j: int, s: str) -> str:
        return var[j] if s in _PRIM else f"(VN_{s} {var[j]})"

    clean = []
    for tab in sorted(rows):
        what, sorts, out = sig[tab]
        path = fact_dir / f"{tab}.tsv"
        path.write_text("".join("\t".join(map(str, r)) + "\n" for r in rows[tab]))
        ncol = len(rows[tab][0])
        if ncol > len(var):
            raise _Unsupported("too many columns")
        cols = " ".join(var[:ncol])
        prog.append(f"(relation {tab} ({' '.join(['i64'] * ncol)}))")
        prog.append(f'(input {tab} "{path}")')
        pat = f"({tab} {cols})"
        if what == "ctor":
            body = " ".join(ref(j + 1, s) for j, s in enumerate(sorts))
            name = tab[2:]
            act = f"(union (VN_{out} a0) ({name}{' ' + body if body else ''}))"
        elif what == "union":
            act = f"(union {ref(0, sorts[0])} {ref(1, sorts[1])})"
        elif what == "set":
            args = " ".join(ref(j, s) for j, s in enumerate(sorts))
            act = f"(set ({tab[len('L__set_'):]} {args}) {var[len(sorts)]})"
        else:
            args = " ".join(ref(j, s) for j, s in enumerate(sorts))
            act = f"({tab[len('L__rel_'):]} {args})"
        prog.append(f"(rule ({pat}) ({act}) :ruleset {ruleset})")
        clean.append((tab, pat))
    prog.append(f"(run {ruleset} 1)")
    # drop the loading rows and the VN_* stand-ins (their e-classes keep the terms)
    prog.append(f"(ruleset {ruleset}clean)")
    for tab, pat in clean:
        prog.append(f"(rule ({pat}) ((delete {pat})) :ruleset {ruleset}clean)")
    for s in used_sorts:
        prog.append(f"(rule ((= x (VN_{s} i))) ((delete (VN_{s} i))) :ruleset {ruleset}clean)")
    prog.append(f"(run {ruleset}clean 1)")
    return "\n".join(prog)
