"""Shrink a bundle for the trip to the GPU host: files that repeat long byte runs of a reference file
(a merged model's parameter archive and its modules' inline weights repeat the original's archive) are
stored as copies from the reference plus literal bytes, and restored on the host (Python stdlib only, so
the script travels inside the bundle).

    python benchmarks/bundle_delta.py --pack BUNDLE REF FILE [FILE ...]   # FILE -> FILE.delta (FILE removed)
    python3 BUNDLE/bundle_delta.py --unpack BUNDLE                       # every *.delta back, sha256 checked

Paths are relative to BUNDLE. Matching: REF is cut into 64 KiB blocks, each block is looked up in the file
(``bytes.find``), every hit is extended byte by byte both ways; the rest of the file is kept as literals.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import struct
import sys
from pathlib import Path

__all__ = ["pack", "unpack", "main"]

BLOCK = 64 * 1024
MAGIC = b"MLIROPTDELTA1\n"


def _matches(t: bytes, r: bytes) -> list[tuple[int, int, int]]:
    """Non-overlapping (target offset, reference offset, length) runs of ``t`` found in ``r``."""
    runs: list[tuple[int, int, int]] = []
    for ro in range(0, len(r) - BLOCK + 1, BLOCK):
        to = t.find(r[ro:ro + BLOCK])
        if to < 0 or any(a <= to < a + n for a, _, n in runs):
            continue
        a, b = to, ro
        while a > 0 and b > 0 and t[a - 1] == r[b - 1] and not any(x <= a - 1 < x + n for x, _, n in runs):
            a, b = a - 1, b - 1
        end = to + BLOCK
        rend = ro + BLOCK
        while end < len(t) and rend < len(r) and t[end] == r[rend]:
            end, rend = end + 1, rend + 1
        runs.append((a, b, end - a))
    runs.sort()
    out: list[tuple[int, int, int]] = []
    for a, b, n in runs:  # clip overlaps left by the backward extension
        if out and a < out[-1][0] + out[-1][2]:
            cut = out[-1][0] + out[-1][2] - a
            a, b, n = a + cut, b + cut, n - cut
        if n > 0:
            out.append((a, b, n))
    return out


def pack(bundle: Path, ref: str, name: str) -> tuple[int, int]:
    """Replace ``bundle/name`` by ``name.delta`` against ``bundle/ref``; (old size, new size)."""
    t = (bundle / name).read_bytes()
    r = (bundle / ref).read_bytes()
    ops, lit, pos = [], bytearray(), 0
    for a, b, n in _matches(t, r):
        if a > pos:
            ops.append(["lit", len(lit), a - pos])
            lit += t[pos:a]
        ops.append(["ref", b, n])
        pos = a + n
    if pos < len(t):
        ops.append(["lit", len(lit), len(t) - pos])
        lit += t[pos:]
    head = json.dumps({"ref": ref, "size": len(t), "sha256": hashlib.sha256(t).hexdigest(), "ops": ops}).encode()
    data = MAGIC + struct.pack("<Q", len(head)) + head + bytes(lit)
    if _restore(data, bundle) != t:
        raise SystemExit(f"bundle_delta: {name}: the delta does not restore the file")
    (bundle / (name + ".delta")).write_bytes(data)
    (bundle / name).unlink()
    return len(t), len(data)


def _restore(data: bytes, bundle: Path) -> bytes:
    if not data.startswith(MAGIC):
        raise SystemExit("bundle_delta: not a delta file")
    (n,) = struct.unpack("<Q", data[len(MAGIC):len(MAGIC) + 8])
    start = len(MAGIC) + 8
    head = json.loads(data[start:start + n])
    lit = memoryview(data)[start + n:]
    r = (bundle / head["ref"]).read_bytes()
    out = bytearray()
    for kind, off, length in head["ops"]:
        out += (lit[off:off + length] if kind == "lit" else r[off:off + length])
    out = bytes(out)
    if len(out) != head["size"] or hashlib.sha256(out).hexdigest() != head["sha256"]:
        raise SystemExit("bundle_delta: restored file does not match its recorded sha256")
    return out


def unpack(bundle: Path) -> list[str]:
    """Restore every ``*.delta`` under ``bundle`` (sha256 checked); the restored paths."""
    done = []
    for p in sorted(bundle.rglob("*.delta")):
        p.with_name(p.name[:-len(".delta")]).write_bytes(_restore(p.read_bytes(), bundle))
        p.unlink()
        done.append(str(p)[:-len(".delta")])
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pack", nargs="+", metavar=("BUNDLE", "REF FILE"))
    ap.add_argument("--unpack", metavar="BUNDLE")
    a = ap.parse_args(argv)
    if a.unpack:
        for p in unpack(Path(a.unpack)):
            print("restored", p)
        return 0
    if not a.pack or len(a.pack) < 3:
        ap.error("--pack BUNDLE REF FILE [FILE ...]")
    bundle, ref, files = Path(a.pack[0]), a.pack[1], a.pack[2:]
    for f in files:
        old, new = pack(bundle, ref, f)
        print(f"{f}: {old / 2**20:.1f} MiB -> {new / 2**20:.2f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
