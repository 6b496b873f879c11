"""Erasing deleted firms from the batch folder: run inputs, snapshots, diffs and index versions.

A deletion must reach every copy the nightly job keeps. What history needs (a snapshot's
ranked list, a diff's "left the top N") keeps a tombstone instead of the firm: its id becomes
``Tombstone.id``, its name ``Tombstone.label`` (``已删除企业 #12``), and only rank, score and
the reason of a move stay; everything else about the firm goes:

- ``runs/<run>/input``: its profile line, feedback and controls are dropped; ``encode/`` and
  ``rerank/`` (intermediate vectors and per-block scores, which the cache and the snapshot
  already hold) are removed from finished runs; an unfinished run starts over on resume;
- ``runs/<run>/diff.json`` and ``snapshots/<run>/``: tombstones (the firm's own rows of a
  snapshot go); the snapshot's content hash is recomputed;
- ``index/versions``: the live version is loaded, erased (:meth:`Engine.erase_companies`) and
  saved again; older versions, which nothing reads, are removed;
- ``encoded.json``: its text hash is dropped.

The caller holds the batch lock (no run writes meanwhile) or names the running run in
``skip``; that run drops the firms itself before it publishes.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..folders import atomic_write, replace_folder
from .snapshot import write_snapshot

logger = logging.getLogger(__name__)

# what a tombstone keeps of a ranked entry: its place and the reason it moved, not the firm
KEEP = frozenset({"rank", "score", "scenario_id", "why", "part", "delta", "pinned"})
NAMES = ("company_name", "name")


@dataclass(frozen=True)
class Tombstone:
    """What stands for an erased firm in history."""

    id: str
    label: str

    @classmethod
    def numbered(cls, n: int) -> Tombstone:
        return cls(f"deleted-{n}", f"已删除企业 #{n}")


def redact(value: Any, erased: Mapping[str, Tombstone]) -> Any:
    """``value`` (JSON-like) with every entry about an erased firm replaced by its tombstone
    and every erased id in a list of ids replaced by the tombstone's id."""
    if isinstance(value, dict):
        cid = value.get("company_id")
        if isinstance(cid, str) and cid in erased:
            t = erased[cid]
            out = {k: v for k, v in value.items() if k in KEEP}
            out["company_id"] = t.id
            for k in NAMES:
                if k in value:
                    out[k] = t.label
            out["erased"] = True
            return out
        return {k: redact(v, erased) for k, v in value.items()}
    if isinstance(value, list):
        return [
            erased[v].id if isinstance(v, str) and v in erased else redact(v, erased) for v in value
        ]
    return value


@dataclass
class EraseReport:
    runs: int = 0
    snapshots: int = 0
    index_versions_erased: int = 0
    index_versions_removed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def erase_from_batch(
    work: str | Path,
    erased: Mapping[str, Tombstone],
    cache_dir: str | Path | None = None,
    skip: Collection[str] = (),
) -> EraseReport:
    """Remove the firms ``erased`` names from the batch folder ``work`` (see the module
    docstring); runs named in ``skip`` (one in progress) are left to drop them themselves."""
    work = Path(work)
    report = EraseReport()
    if not erased or not work.exists():
        return report
    for run_dir in _dirs(work / "runs"):
        if run_dir.name not in skip and _erase_run(run_dir, erased):
            report.runs += 1
    for snap in _dirs(work / "snapshots"):
        if snap.name not in skip and _erase_snapshot(snap, erased):
            report.snapshots += 1
    erased_v, removed_v = _erase_index_versions(work / "index", erased, cache_dir, skip)
    report.index_versions_erased, report.index_versions_removed = erased_v, removed_v
    encoded = work / "encoded.json"
    data = _read(encoded)
    if isinstance(data, dict) and set(erased) & set(data.get("companies", {})):
        data["companies"] = {k: v for k, v in data["companies"].items() if k not in erased}
        _write(encoded, data)
    logger.info("erased %d firms from the batch folder: %s", len(erased), report.as_dict())
    return report


def erase_snapshot_folder(snap: Path, erased: Mapping[str, Tombstone]) -> bool:
    """Tombstones in one snapshot folder (a run's own, before it is published)."""
    return _erase_snapshot(snap, erased)


def _dirs(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        for d in sorted(folder.iterdir()):
            if d.is_dir() and not d.name.endswith((".tmp", ".old")):
                yield d


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _write(path: Path, data: Any) -> None:
    atomic_write(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def drop_from_input(run_dir: Path, erased: Mapping[str, Tombstone]) -> bool:
    """Drop the erased firms' profiles, feedback and controls from a run's captured input."""
    changed = False
    inp = run_dir / "input"
    companies = inp / "companies.jsonl"
    if companies.exists():
        lines = [x for x in companies.read_text("utf-8").splitlines() if x.strip()]
        kept = [x for x in lines if json.loads(x).get("id") not in erased]
        if len(kept) != len(lines):
            atomic_write(companies, "".join(x + "\n" for x in kept).encode("utf-8"))
            changed = True
    feedback = _read(inp / "feedback.json")
    if isinstance(feedback, list):
        kept_fb = [e for e in feedback if not (len(e) > 1 and e[1] in erased)]
        if len(kept_fb) != len(feedback):
            _write(inp / "feedback.json", kept_fb)
            changed = True
    controls = _read(inp / "controls.json")
    if isinstance(controls, dict):
        clean = {
            sid: {
                k: [i for i in v if i not in erased] if isinstance(v, list) else v
                for k, v in c.items()
            }
            for sid, c in controls.items()
            if isinstance(c, dict)
        }
        if clean != controls:
            _write(inp / "controls.json", clean)
            changed = True
    return changed


def _erase_run(run_dir: Path, erased: Mapping[str, Tombstone]) -> bool:
    changed = drop_from_input(run_dir, erased)
    diff = _read(run_dir / "diff.json")
    if diff is not None and (clean_diff := redact(diff, erased)) != diff:
        _write(run_dir / "diff.json", clean_diff)
        changed = True
    if not changed:
        return False
    state = _read(run_dir / "state.json") or {}
    if state.get("status") == "done":
        for stage_dir in ("encode", "rerank"):
            shutil.rmtree(run_dir / stage_dir, ignore_errors=True)
    else:  # an interrupted run: its stage outputs were made from the old input
        for stage_dir in ("encode", "rerank"):
            shutil.rmtree(run_dir / stage_dir, ignore_errors=True)
        state["stages"], state["stage"] = {}, None
        _write(run_dir / "state.json", state)
    return True


def _erase_snapshot(snap: Path, erased: Mapping[str, Tombstone]) -> bool:
    scen_file, comp_file = snap / "scenarios.jsonl", snap / "companies.jsonl"
    if not scen_file.exists():
        return False
    scen = [json.loads(x) for x in scen_file.read_text("utf-8").splitlines() if x.strip()]
    comp = (
        [json.loads(x) for x in comp_file.read_text("utf-8").splitlines() if x.strip()]
        if comp_file.exists()
        else []
    )
    new_scen = [redact(r, erased) for r in scen]
    new_comp = [r for r in comp if r.get("company_id") not in erased]
    if new_scen == scen and len(new_comp) == len(comp):
        return False
    meta = {k: v for k, v in (_read(snap / "manifest.json") or {}).items() if k != "content_hash"}
    meta["erased_firms"] = int(meta.get("erased_firms", 0)) + len(comp) - len(new_comp)

    def write(tmp: Path) -> None:
        write_snapshot(tmp, new_scen, new_comp, meta)

    replace_folder(snap, write)
    return True


def _erase_index_versions(
    index: Path,
    erased: Mapping[str, Tombstone],
    cache_dir: str | Path | None,
    skip: Collection[str],
) -> tuple[int, int]:
    from ..engine import Engine

    versions = index / "versions"
    if not versions.is_dir():
        return 0, 0
    pointer = _read(index / "CURRENT.json")
    live = str(pointer.get("version")) if isinstance(pointer, dict) else None
    n_erased = n_removed = 0
    for folder in _dirs(versions):
        if folder.name in skip:
            continue
        if folder.name != live:
            shutil.rmtree(folder, ignore_errors=True)
            n_removed += 1
            continue
        if not _holds_any(folder / "companies.jsonl", erased):
            continue
        engine = Engine.load(folder, cache_dir=cache_dir)
        engine.erase_companies(list(erased))
        engine.save(folder)
        n_erased += 1
    return n_erased, n_removed


def _holds_any(companies: Path, erased: Mapping[str, Tombstone]) -> bool:
    """Whether an index folder's firm list names any erased firm."""
    if not companies.exists():
        return False
    with open(companies, encoding="utf-8") as f:
        for line in f:
            if line.strip() and json.loads(line)["company"]["id"] in erased:
                return True
    return False
