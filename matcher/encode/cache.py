"""Embedding cache keyed by model fingerprint, role and the hash of the normalised text.

Unchanged text is never encoded twice: not within a run (duplicates are encoded once) and not
across runs when a cache folder is given. The folder holds, per model, one ``.npy`` matrix and
one key list, plus segments: a save writes only the vectors added since the last one as a new
segment (a company submission to a registry must not rewrite gigabytes), and once there are
``MAX_SEGMENTS`` of them the table is written whole again and they go. Every file is written
to a temp name and renamed, keys after vectors, so a crash never leaves half an entry.

Erasure: :meth:`EmbeddingCache.forget` lists keys in a tombstone file (key hashes only) at
once, so no process reads or saves those vectors again, even one that loaded them before;
:meth:`EmbeddingCache.compact` then rewrites the table without them and removes the segments.
Tombstones are kept for ``TOMBSTONE_S`` (a week), so a process that was running when a key was
erased cannot write it back, and then dropped at the next forget or compaction.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from ..folders import atomic_write
from .base import Encoder, Role

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
MAX_SEGMENTS = 64
TOMBSTONE_S = 7 * 24 * 3600.0


def text_key(fingerprint: str, role: Role, text: str) -> str:
    return hashlib.sha1(f"{fingerprint}\0{role}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """In-memory map from text key to vector, optionally persisted in ``folder``."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder else None
        self._store: dict[str, dict[str, np.ndarray]] = {}
        self._dirty: set[str] = set()
        self._new: dict[str, list[str]] = {}  # keys put since the last save, per model
        self._lock = threading.RLock()  # saves, erasures and compactions, one at a time

    def _files(self, fingerprint: str) -> tuple[Path, Path]:
        """The key list and matrix of one model; the digest keeps similar names apart."""
        assert self.folder is not None
        safe = re.sub(r"[^A-Za-z0-9_+-]", "_", fingerprint)[:80]
        stem = f"{safe}-{hashlib.sha1(fingerprint.encode()).hexdigest()[:12]}"
        return self.folder / f"{stem}.keys.json", self.folder / f"{stem}.npy"

    def _segments(self, fingerprint: str) -> list[tuple[int, Path, Path]]:
        """(number, key list, matrix) of each segment on disk, oldest first."""
        keys_file, _ = self._files(fingerprint)
        stem = keys_file.name[: -len(".keys.json")]
        found = []
        for f in keys_file.parent.glob(f"{glob.escape(stem)}.*.keys.json"):
            number = f.name[len(stem) + 1 : -len(".keys.json")]
            if number.isdigit():
                found.append((int(number), f, f.with_name(f"{stem}.{number}.npy")))
        return sorted(found)

    def _table(self, fingerprint: str) -> dict[str, np.ndarray]:
        table = self._store.get(fingerprint)
        if table is None:
            table = {}
            if self.folder is not None and self.folder.exists():
                keys_file, vec_file = self._files(fingerprint)
                parts = [(keys_file, vec_file)]
                parts += [(k, v) for _, k, v in self._segments(fingerprint)]
                for keys_path, vecs_path in parts:
                    table.update(_read_part(keys_path, vecs_path))
                for key in self._tombstones(fingerprint):
                    table.pop(key, None)
            self._store[fingerprint] = table
        return table

    def _tombstone_file(self, fingerprint: str) -> Path:
        keys_file, _ = self._files(fingerprint)
        return keys_file.with_name(keys_file.name[: -len(".keys.json")] + ".erased.json")

    def _tombstones(self, fingerprint: str) -> dict[str, float]:
        """Erased key → when, as on disk now (another process may have added some)."""
        if self.folder is None:
            return {}
        try:
            data = json.loads(self._tombstone_file(fingerprint).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def forget(self, fingerprint: str, keys: Iterable[str]) -> int:
        """Erase ``keys``: gone from memory now, tombstoned on disk for every process; the
        vectors leave the files at :meth:`compact`. Returns how many this cache held."""
        keys = list(dict.fromkeys(keys))
        with self._lock:
            table = self._table(fingerprint)
            held = sum(table.pop(k, None) is not None for k in keys)
            if self.folder is not None:
                now = time.time()
                stones = {
                    k: t for k, t in self._tombstones(fingerprint).items() if now - t < TOMBSTONE_S
                }
                stones.update(dict.fromkeys(keys, now))
                self.folder.mkdir(parents=True, exist_ok=True)
                atomic_write(self._tombstone_file(fingerprint), json.dumps(stones))
            return held

    def compact(self) -> int:
        """Rewrite each model's table from what is on disk, without tombstoned keys, and
        remove its segments; returns the number of vectors written."""
        if self.folder is None or not self.folder.exists():
            return 0
        written = 0
        with self._lock:
            for stone in sorted(self.folder.glob("*.erased.json")):
                stem = stone.name[: -len(".erased.json")]
                keys_file = stone.with_name(stem + ".keys.json")
                vec_file = stone.with_name(stem + ".npy")
                fingerprint = next(
                    (fp for fp in self._store if self._files(fp)[0] == keys_file), None
                )
                segments = []
                for f in stone.parent.glob(f"{glob.escape(stem)}.*.keys.json"):
                    number = f.name[len(stem) + 1 : -len(".keys.json")]
                    if number.isdigit():
                        segments.append((f, f.with_name(f"{stem}.{number}.npy")))
                table = _read_part(keys_file, vec_file)
                for k, v in sorted(segments):
                    table.update(_read_part(k, v))
                try:
                    erased = set(json.loads(stone.read_text("utf-8")))
                except (OSError, ValueError):
                    erased = set()
                for key in erased:
                    table.pop(key, None)
                if table or vec_file.exists():
                    _write_part(keys_file, vec_file, list(table), table)
                for k, v in segments:
                    k.unlink(missing_ok=True)
                    v.unlink(missing_ok=True)
                if fingerprint is not None:
                    for key in erased:
                        self._store[fingerprint].pop(key, None)
                written += len(table)
        return written

    def get(self, fingerprint: str, key: str) -> np.ndarray | None:
        return self._table(fingerprint).get(key)

    def put(self, fingerprint: str, key: str, vector: np.ndarray) -> None:
        table = self._table(fingerprint)
        if key not in table:
            self._new.setdefault(fingerprint, []).append(key)
        table[key] = vector
        self._dirty.add(fingerprint)

    def __len__(self) -> int:
        return sum(len(t) for t in self._store.values())

    def save(self) -> None:
        """Write what changed: new vectors as a segment, or the whole table once segments
        pile up (temp file + rename, never half a file)."""
        if self.folder is None or not self._dirty:
            return
        with self._lock:
            self._save()

    def _save(self) -> None:
        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        for fingerprint in sorted(self._dirty):
            table = self._store[fingerprint]
            for key in self._tombstones(fingerprint):  # erased meanwhile, maybe elsewhere
                table.pop(key, None)
            new = [k for k in self._new.pop(fingerprint, []) if k in table]
            keys_file, vec_file = self._files(fingerprint)
            segments = self._segments(fingerprint)
            if not vec_file.exists() or len(segments) >= MAX_SEGMENTS or len(new) >= len(table):
                _write_part(keys_file, vec_file, list(table), table)
                for _, k, v in segments:
                    k.unlink(missing_ok=True)
                    v.unlink(missing_ok=True)
            elif new:
                number = segments[-1][0] + 1 if segments else 1
                stem = keys_file.name[: -len(".keys.json")]
                _write_part(
                    keys_file.with_name(f"{stem}.{number:06d}.keys.json"),
                    vec_file.with_name(f"{stem}.{number:06d}.npy"),
                    new,
                    table,
                )
        self._dirty.clear()


def _read_part(keys_file: Path, vec_file: Path) -> dict[str, np.ndarray]:
    """One key list and its matrix; nothing if either is missing or they disagree."""
    if not (keys_file.exists() and vec_file.exists()):
        return {}
    try:
        keys = json.loads(keys_file.read_text("utf-8"))
        vecs = np.load(vec_file, allow_pickle=False)
    except (OSError, ValueError) as exc:
        logger.warning("embedding cache %s unreadable (%s); ignoring it", vec_file, exc)
        return {}
    if len(keys) != len(vecs):
        logger.warning("embedding cache %s is inconsistent; ignoring it", vec_file)
        return {}
    return dict(zip(keys, vecs, strict=True))


def _write_part(
    keys_file: Path, vec_file: Path, keys: list[str], table: dict[str, np.ndarray]
) -> None:
    vecs = np.stack([table[k] for k in keys]) if keys else np.zeros((0, 0), np.float32)
    atomic_write(vec_file, lambda f: np.save(f, vecs))
    atomic_write(keys_file, json.dumps(keys))


class CachingEncoder:
    """Wraps an :class:`Encoder`: de-duplicates, consults the cache, encodes the rest in batches."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache | None = None, batch_size: int = 64):
        self.encoder = encoder
        self.cache = cache if cache is not None else EmbeddingCache()
        self.batch_size = max(1, batch_size)
        self.encoded = 0  # texts actually sent to the model, for tests and progress reports

    @property
    def name(self) -> str:
        return self.encoder.name

    @property
    def dim(self) -> int:
        return self.encoder.dim

    @property
    def fingerprint(self) -> str:
        return self.encoder.fingerprint

    def encode(
        self, texts: Sequence[str], role: Role = "passage", progress: Progress | None = None
    ) -> np.ndarray:
        fp = self.encoder.fingerprint
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, tuple[str, list[int]]] = {}
        for i, t in enumerate(texts):
            k = text_key(fp, role, t)
            hit = self.cache.get(fp, k)
            if hit is not None:
                out[i] = hit
            elif k in missing:
                missing[k][1].append(i)
            else:
                missing[k] = (t, [i])
        todo = list(missing.items())
        total = len(todo)
        for start in range(0, total, self.batch_size):
            chunk = todo[start : start + self.batch_size]
            vecs = np.asarray(self.encoder.encode([t for _, (t, _) in chunk], role), np.float32)
            for (k, (_, rows)), v in zip(chunk, vecs, strict=True):
                out[rows] = v
                self.cache.put(fp, k, v)
            self.encoded += len(chunk)
            if progress is not None:
                progress(min(start + len(chunk), total), total)
        return out
