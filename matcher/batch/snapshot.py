"""Snapshots of a full re-ranking and the diff between two of them.

A snapshot is a folder: ``scenarios.jsonl`` (per open scenario, its top N ``Match`` records with
explanations, then a reserve of the next N with score parts only), ``companies.jsonl`` (per firm,
its top M scenarios with score and parts) and ``manifest.json`` (run id, counts, content hash).
The content hash covers the two JSONL files only, so two runs over unchanged data can be
compared byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["write_snapshot", "read_snapshot", "diff_snapshots"]


def _lines(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode(
        "utf-8"
    )


def write_snapshot(
    folder: Path,
    scenarios: Sequence[Mapping[str, Any]],
    companies: Sequence[Mapping[str, Any]],
    meta: Mapping[str, Any],
) -> str:
    """Write the snapshot files; returns the content hash."""
    folder.mkdir(parents=True, exist_ok=True)
    s_bytes = _lines(scenarios)
    c_bytes = _lines(companies)
    (folder / "scenarios.jsonl").write_bytes(s_bytes)
    (folder / "companies.jsonl").write_bytes(c_bytes)
    digest = hashlib.sha256(s_bytes + b"\0" + c_bytes).hexdigest()
    manifest = {**meta, "content_hash": digest}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return digest


def read_snapshot(folder: Path) -> dict[str, Any]:
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    scen = [json.loads(x) for x in (folder / "scenarios.jsonl").read_text("utf-8").splitlines()]
    return {"manifest": manifest, "scenarios": {r["scenario_id"]: r for r in scen}}


def _contrib(entry: Mapping[str, Any] | None) -> dict[str, float]:
    return dict(entry.get("contributions", {})) if entry else {}


def _moved_most(new: Mapping[str, float], old: Mapping[str, float], up: bool) -> tuple[str, float]:
    keys = sorted(set(new) | set(old))
    if not keys:
        return "", 0.0
    deltas = {k: float(new.get(k, 0.0)) - float(old.get(k, 0.0)) for k in keys}
    part = (max if up else min)(keys, key=lambda k: (deltas[k], k))
    return part, round(deltas[part], 4)


def diff_snapshots(
    previous: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    known_before: set[str] | None = None,
) -> dict[str, Any]:
    """Per scenario: firms that entered or left the top N, with the score part that moved each
    most (against its own earlier parts when known, else against the firm at the cut-off)."""
    if previous is None:
        return {"first_run": True, "scenarios": {}, "entered": 0, "left": 0}
    out: dict[str, Any] = {}
    n_in = n_out = 0
    for sid in sorted(set(previous["scenarios"]) | set(current["scenarios"])):
        old = previous["scenarios"].get(sid, {"matches": [], "reserve": []})
        new = current["scenarios"].get(sid, {"matches": [], "reserve": []})
        old_top = {m["company_id"]: m for m in old["matches"]}
        new_top = {m["company_id"]: m for m in new["matches"]}
        old_all = {**{m["company_id"]: m for m in old.get("reserve", [])}, **old_top}
        new_all = {**{m["company_id"]: m for m in new.get("reserve", [])}, **new_top}
        old_cut = old["matches"][-1] if old["matches"] else None
        new_cut = new["matches"][-1] if new["matches"] else None
        entered, left = [], []
        for cid in [m["company_id"] for m in new["matches"] if m["company_id"] not in old_top]:
            if cid in old_all:
                part, delta = _moved_most(_contrib(new_top[cid]), _contrib(old_all[cid]), True)
                why = "rose"
            elif known_before is not None and cid not in known_before:
                part, delta, why = "", 0.0, "new profile"
            else:
                part, delta = _moved_most(_contrib(new_top[cid]), _contrib(old_cut), True)
                why = "beat the previous cut-off"
            entered.append(
                {
                    "company_id": cid,
                    "rank": new_top[cid]["rank"],
                    "name": new_top[cid].get("company_name", ""),
                    "why": why,
                    "part": part,
                    "delta": delta,
                }
            )
        for cid in [m["company_id"] for m in old["matches"] if m["company_id"] not in new_top]:
            if cid in new_all:
                part, delta = _moved_most(_contrib(new_all[cid]), _contrib(old_top[cid]), False)
                why = "fell"
            elif sid not in current["scenarios"]:
                part, delta, why = "", 0.0, "scenario no longer ranked"
            else:
                part, delta = _moved_most(_contrib(new_cut), _contrib(old_top[cid]), False)
                why = "fell below the cut-off or left the data"
            left.append(
                {
                    "company_id": cid,
                    "name": old_top[cid].get("company_name", ""),
                    "why": why,
                    "part": part,
                    "delta": delta,
                }
            )
        if entered or left:
            out[sid] = {"entered": entered, "left": left}
            n_in += len(entered)
            n_out += len(left)
    return {"first_run": False, "scenarios": out, "entered": n_in, "left": n_out}
