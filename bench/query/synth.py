"""Vectors for a million synthetic profiles without encoding seven million texts.

Synthetic profiles (``bench/nightly/profiles.py``) vary one of 572 sample patterns: trade name,
city, figures, which sentences and in what order. :class:`PatternEncoder` therefore encodes
each distinct *canonical* piece for real (a sentence or the name line, with figures masked and
the trade-name characters dropped: a few thousand pieces in all) and gives a text the mean of
its pieces' real vectors plus Gaussian noise, renormalised. The noise scale is calibrated so a
synthetic sentence vector sits as far from its canonical piece as a real encoding of the varied
sentence does (``calibrate``); ``fidelity`` reports how close the synthetic vectors of a sample
come to the real model's. Scenario (query) texts are encoded for real.
"""

from __future__ import annotations

import re
import statistics
import zlib
from collections.abc import Sequence

import numpy as np

from bench.nightly.profiles import TRADE
from matcher.encode import Encoder, Role, l2_normalise
from matcher.explain import split_sentences

_NUM = re.compile(r"\d+(?:\.\d+)?")
_DROP = str.maketrans("", "", TRADE)
PREFIX = 16  # characters of a canonical piece that identify the sentence it starts with


def canonical(piece: str) -> str:
    return _NUM.sub("0", piece).translate(_DROP).strip()


def pieces(text: str) -> list[str]:
    out = []
    for line in text.split("\n"):
        for s in split_sentences(line) or [line]:
            c = canonical(s)
            if c:
                out.append(c)
    return out or [canonical(text) or text]


class PatternEncoder:
    name = "synthetic"

    def __init__(self, real: Encoder, sigma: float = 0.0) -> None:
        self.real = real
        self.dim = real.dim
        self.sigma = sigma
        self.fingerprint = f"synthetic({sigma:.3f}):{real.fingerprint}"
        self._base: dict[str, np.ndarray] = {}
        self._by_prefix: dict[str, np.ndarray] = {}
        self.real_encoded = 0

    def _learn(self, needed: Sequence[str]) -> None:
        """Real vectors for new pieces; a piece that starts like a known one (a known sentence
        joined with a shuffled neighbour) borrows that one's, so real encodings stay bounded by
        the patterns' sentences rather than growing with their combinations."""
        todo = []
        for p in dict.fromkeys(needed):
            if p in self._base:
                continue
            known = self._by_prefix.get(p[:PREFIX])
            if known is not None:
                self._base[p] = known
            else:
                todo.append(p)
        for lo in range(0, len(todo), 256):
            chunk = todo[lo : lo + 256]
            for p, v in zip(chunk, self.real.encode(chunk, "passage"), strict=True):
                self._base[p] = np.asarray(v, np.float32)
                self._by_prefix.setdefault(p[:PREFIX], self._base[p])
        self.real_encoded += len(todo)

    def composed(self, texts: Sequence[str]) -> np.ndarray:
        """The noiseless part: each text's mean canonical-piece vector, normalised."""
        split = [pieces(t) for t in texts]
        self._learn([p for ps in split for p in ps])
        out = np.empty((len(texts), self.dim), np.float32)
        for i, ps in enumerate(split):
            out[i] = np.mean([self._base[p] for p in ps], axis=0)
        return l2_normalise(out)

    def encode(self, texts: Sequence[str], role: Role = "passage") -> np.ndarray:
        if role == "query" or not len(texts):
            return self.real.encode(texts, role)
        out = self.composed(texts)
        if self.sigma > 0:
            rng = np.random.default_rng(zlib.crc32(texts[0].encode()) + len(texts))
            noise = rng.standard_normal(out.shape, dtype=np.float32)
            out += noise * np.float32(self.sigma / np.sqrt(self.dim))
        return l2_normalise(out)


def calibrate(real: Encoder, sentences: Sequence[str]) -> tuple[float, float]:
    """Noise scale giving synthetic sentences the real cosine to their canonical piece.

    A unit vector plus noise of norm ``s`` has cosine ``1/sqrt(1+s²)`` to it, so the median
    real cosine ``c`` gives ``s = sqrt(1/c² - 1)``. Returns ``(s, c)``.
    """
    enc = PatternEncoder(real)
    got = real.encode(list(sentences), "passage")
    comp = enc.composed(list(sentences))
    c = float(np.median(np.sum(got * comp, axis=1)))
    c = min(c, 0.9999)
    return float(np.sqrt(1 / c**2 - 1)), c


def fidelity(real: Encoder, synthetic: PatternEncoder, texts: Sequence[str]) -> dict[str, float]:
    """Median cosine of the synthetic vectors to the real model's, and how much the nearest-
    neighbour structure agrees (median cosine to the nearest other text, real vs synthetic)."""
    a = real.encode(list(texts), "passage")
    b = synthetic.encode(list(texts), "passage")
    nn_a = np.sort(a @ a.T, axis=1)[:, -2]
    nn_b = np.sort(b @ b.T, axis=1)[:, -2]
    return {
        "texts": len(texts),
        "cosine_to_real_median": round(float(np.median(np.sum(a * b, axis=1))), 4),
        "nearest_neighbour_cosine_real": round(float(statistics.median(nn_a)), 4),
        "nearest_neighbour_cosine_synthetic": round(float(statistics.median(nn_b)), 4),
    }
