"""Sentence encoders behind one protocol, chosen by name (``use``, ``e5``, ``st``, ``use+e5``)."""

from __future__ import annotations

from .base import Encoder, Role, l2_normalise
from .cache import CachingEncoder, EmbeddingCache, text_key

__all__ = [
    "Encoder",
    "Role",
    "CachingEncoder",
    "EmbeddingCache",
    "create_encoder",
    "l2_normalise",
    "text_key",
    "ENCODERS",
]

ENCODERS = ("use", "e5", "st")


def _single(name: str, model_path: str | None, num_threads: int) -> Encoder:
    if name == "use":
        from .use import UseEncoder

        return UseEncoder(num_threads=num_threads)
    if name == "e5":
        from .e5 import E5Encoder

        return E5Encoder(num_threads=num_threads)
    if name == "st":
        from .st import SentenceTransformerEncoder

        return SentenceTransformerEncoder(model_path, num_threads=num_threads)
    raise ValueError(
        f"unknown encoder {name!r}; choose one of {list(ENCODERS)} or join them with '+'"
    )


def create_encoder(name: str, model_path: str | None = None, num_threads: int = 2) -> Encoder:
    """Build the encoder called ``name``; ``a+b`` combines several."""
    names = [n.strip() for n in name.split("+") if n.strip()]
    if not names:
        raise ValueError(f"empty encoder name; choose one of {list(ENCODERS)}")
    if len(names) == 1:
        return _single(names[0], model_path, num_threads)
    from .combined import CombinedEncoder

    return CombinedEncoder([_single(n, model_path, num_threads) for n in names])
