#!/usr/bin/env python3
"""Sub-bundle of a screened bundle, for more passes of the leaders (stdlib only: runs on the GPU host).

Usage::

    python3 bundle_subset.py BUNDLE NEW_DIR KEEP p1.json [p2.json ...]

NEW_DIR gets a manifest with BUNDLE's first entry (the incumbent), the KEEP other entries with the lowest
median of their per-pass medians (entries that were not ``ok`` in every pass are dropped) and every peer
entry; its modules and runner are links into BUNDLE.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

__all__ = ["main"]


def main(argv: list[str]) -> None:
    """Write NEW_DIR (see the module docstring) and print the kept ids with their medians."""
    src, dst, keep = Path(argv[0]).resolve(), Path(argv[1]), int(argv[2])
    runs = [json.loads(Path(p).read_text()) for p in argv[3:]]
    man = json.loads((src / "manifest.json").read_text())
    med = {}
    for e in man["entries"][1:]:
        rs = [next((r for r in run["results"] if r["id"] == e["id"]), {}) for run in runs]
        if not e.get("peer") and all(r.get("status") == "ok" for r in rs):
            med[e["id"]] = statistics.median(r["median_ms"] for r in rs)
    best = sorted(med, key=med.get)[:keep]
    man["entries"] = [e for e in man["entries"] if e is man["entries"][0] or e["id"] in best or e.get("peer")]
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "manifest.json").write_text(json.dumps(man, indent=1))
    for name in ("modules", "runner.py", "names.json"):
        if (src / name).exists() and not (dst / name).exists():
            os.symlink(src / name, dst / name)
    print("kept:", [man["entries"][0]["id"]] + [f"{b} {med[b]:.4f}" for b in best])


if __name__ == "__main__":
    main(sys.argv[1:])
