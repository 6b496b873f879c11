"""The index folder: a :class:`~matcher.corpus.Corpus` written to disk and read back.

A folder holds ``manifest.json`` (format, versions, encoder, engine settings, counts), the firms
(``companies.jsonl``: profile, codes, sentences, where their rows are), the vector stores
(``doc_vectors.npy``, ``sent_vectors.npy``), the vector indexes (``doc_index/``,
``sent_index/``), the lexical model and rows (``lexical/``), the scenarios and their vectors,
the reference firms and the industry-code vectors. :func:`write` fills a new folder (the caller
makes it appear atomically, see :func:`matcher.folders.replace_folder`); :func:`read` checks the
format and fills an empty corpus.
"""

from __future__ import annotations

import datetime as _dt
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .config import EngineConfig, config_from_dict
from .corpus import ADD_STEP, CompanyState, Corpus, reference_sample
from .errors import DataError
from .index import create_index, load_index
from .industry import IndustryInferrer
from .lexical import load_lexical
from .lexical.rows import SparseRows
from .normalise import normalise

__all__ = ["write", "read", "read_manifest", "FORMAT_VERSION", "READS_FORMATS"]

# 2: firms keep their integer ids, vectors in the store's dtype, indexes saved as they are
FORMAT_VERSION = 2
READS_FORMATS = (1, 2)
# Share of unused store, lexical or id rows (left by removed or replaced firms) above which a
# save renumbers and rebuilds instead of writing the live structures as they are.
COMPACT_SHARE = 0.25


def _pkg_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def write(
    folder: Path,
    corpus: Corpus,
    config: EngineConfig,
    encoder_info: dict[str, Any],
    created_at: str | None,
) -> None:
    """Write the live stores, lexical rows and indexes as they are (ids and all), unless
    removed or replaced firms left more than ``COMPACT_SHARE`` of their rows unused: then
    renumber and rebuild the indexes. Saving as is keeps a million firms' save to writing
    files (no float32 copy, no second IVF training)."""
    ids = list(corpus.companies)
    live_sent = sum(len(cs.sentences) for cs in corpus.companies.values() if cs.sent_start >= 0)
    n_lex = corpus.lex.n_rows
    unused = max(
        _share(corpus.next_int - len(ids), corpus.next_int),
        _share(corpus.next_sent - live_sent, corpus.next_sent),
        _share(n_lex - len(ids), n_lex),
    )
    dim = int(encoder_info["dim"])
    compact = unused > COMPACT_SHARE
    if compact:
        rows = _write_compacted(folder, corpus, config, ids, dim)
    else:
        rows = [
            {
                "int": corpus.int_of[cid],
                "sent_start": corpus.companies[cid].sent_start,
                "lex_row": corpus.lex_rows[cid],
            }
            for cid in ids
        ]
        corpus.doc_store.save(folder / "doc_vectors.npy", corpus.next_int)
        corpus.sent_store.save(folder / "sent_vectors.npy", corpus.next_sent)
        (folder / "lexical").mkdir()
        sp.save_npz(folder / "lexical" / "company_rows.npz", corpus.lex.matrix(), compressed=False)
        corpus.doc_index.save(folder / "doc_index")
        corpus.sent_index.save(folder / "sent_index")
    with open(folder / "companies.jsonl", "w", encoding="utf-8") as f:
        for cid, where in zip(ids, rows, strict=True):
            cs = corpus.companies[cid]
            row = {
                "company": cs.company.to_dict(),
                "codes": list(cs.codes),
                "inferred": cs.inferred,
                "taxonomy": cs.taxonomy.hex(),
                "sentences": cs.sentences,
                **where,
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    sids = list(corpus.scenarios)
    (folder / "scenarios.json").write_text(
        json.dumps(
            [corpus.scenarios[i].scenario.to_dict() for i in sids], ensure_ascii=False, indent=1
        ),
        "utf-8",
    )
    np.save(
        folder / "scenario_vectors.npy",
        np.stack([corpus.scenarios[i].vector for i in sids])
        if sids
        else np.zeros((0, dim), np.float32),
    )
    corpus.lexical.save(folder / "lexical")
    (folder / "reference.json").write_text(json.dumps(corpus.reference, ensure_ascii=False))
    if corpus.inferrer is not None:
        np.save(folder / "industry_vectors.npy", corpus.inferrer.vectors)
        (folder / "industry_codes.json").write_text(json.dumps(corpus.inferrer.codes))
    manifest = {
        "format_version": FORMAT_VERSION,
        "created_at": created_at,
        "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": {
            "matcher": _pkg_version("scenario-matcher"),
            "numpy": np.__version__,
            "faiss": _pkg_version("faiss-cpu"),
            "scikit-learn": _pkg_version("scikit-learn"),
        },
        "encoder": encoder_info,
        "config": config.to_dict(),
        "counts": {"scenarios": len(sids), "companies": len(ids), "sentences": live_sent},
        "compacted": compact,
    }
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8"
    )


def _write_compacted(
    folder: Path, corpus: Corpus, config: EngineConfig, ids: list[str], dim: int
) -> list[dict[str, int]]:
    """Renumber the firms 0..n-1 and their sentences contiguously, and build fresh indexes
    from the stores (in steps, so no float32 copy of all the vectors exists at once)."""
    ints = np.array([corpus.int_of[i] for i in ids], dtype=np.int64)
    starts, counts = [], []
    for cid in ids:
        cs = corpus.companies[cid]
        n = len(cs.sentences) if cs.sent_start >= 0 else 0
        starts.append(cs.sent_start)
        counts.append(n)
    sent_rows = (
        np.concatenate([np.arange(s, s + n) for s, n in zip(starts, counts, strict=True) if n])
        if any(counts)
        else np.zeros(0, dtype=np.int64)
    ).astype(np.int64)
    doc = corpus.doc_store.take(ints)
    sent = corpus.sent_store.take(sent_rows)
    np.save(folder / "doc_vectors.npy", doc)
    np.save(folder / "sent_vectors.npy", sent)
    (folder / "lexical").mkdir()
    lex = corpus.lexical_rows(ids) if ids else corpus.lex.matrix()[:0]
    sp.save_npz(folder / "lexical" / "company_rows.npz", sp.csr_matrix(lex), compressed=False)
    for name, vecs in (("doc_index", doc), ("sent_index", sent)):
        index = create_index(config.index, dim)
        index.reserve(len(vecs))
        for lo in range(0, len(vecs), ADD_STEP):
            hi = min(lo + ADD_STEP, len(vecs))
            index.add(np.arange(lo, hi, dtype=np.int64), vecs[lo:hi].astype(np.float32))
        index.save(folder / name)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]) if ids else np.zeros(0)
    return [
        {"int": i, "sent_start": int(first[i]) if counts[i] else -1, "lex_row": i}
        for i in range(len(ids))
    ]


def read_manifest(folder: Path) -> tuple[dict[str, Any], EngineConfig]:
    """The folder's manifest and engine settings, after checking it is an index we read."""
    manifest_file = folder / "manifest.json"
    if not manifest_file.exists():
        raise DataError(f"{folder} is not an index folder (no manifest.json); run `matcher index`")
    manifest = json.loads(manifest_file.read_text("utf-8"))
    if manifest.get("format_version") not in READS_FORMATS:
        raise DataError(
            f"{folder} has index format {manifest.get('format_version')}, this matcher reads "
            f"{', '.join(map(str, READS_FORMATS))}; rebuild it with `matcher index`"
        )
    return manifest, config_from_dict(manifest["config"])


def read(folder: Path, corpus: Corpus) -> None:
    """Fill an empty corpus (made with the manifest's settings and dim) from ``folder``."""
    from .catalogue import company_from_dict, scenario_from_dict

    corpus.lexical = load_lexical(folder / "lexical")
    corpus.lex = SparseRows(sp.load_npz(folder / "lexical" / "company_rows.npz"))
    doc_vecs = np.load(folder / "doc_vectors.npy", allow_pickle=False)
    sent_vecs = np.load(folder / "sent_vectors.npy", allow_pickle=False)
    corpus.doc_index = load_index(folder / "doc_index")
    corpus.sent_index = load_index(folder / "sent_index")
    corpus.sent_owner = np.full(len(sent_vecs), -1, dtype=np.int64)
    offset = 0  # format 1: firms numbered by line, their sentences one after another
    untyped: list[str] = []  # saved before the taxonomy part: their distributions made below
    live_sent = 0
    bad = f"{folder}: the saved firms and vectors disagree; rebuild it with `matcher index`"
    with open(folder / "companies.jsonl", encoding="utf-8") as f:
        for row_no, line in enumerate(f):
            row = json.loads(line)
            company = company_from_dict(row["company"])
            n = len(row["sentences"])
            num = int(row.get("int", row_no))
            start = int(row.get("sent_start", offset if n else -1))
            if num >= len(doc_vecs) or (start >= 0 and start + n > len(sent_vecs)):
                raise DataError(bad)
            cs = CompanyState.of(
                company,
                normalise(company.text()),
                tuple(row["codes"]),
                bool(row["inferred"]),
                list(row["sentences"]),
                start,
                taxonomy=bytes.fromhex(row.get("taxonomy", "")),
            )
            if "taxonomy" not in row:
                untyped.append(company.id)
            corpus.companies[company.id] = cs
            corpus.lex_rows[company.id] = int(row.get("lex_row", row_no))
            corpus.int_of[company.id] = num
            corpus.id_of[num] = company.id
            if start >= 0:
                corpus.sent_owner[start : start + n] = num
                live_sent += n
            corpus.columns.put(num, company, cs.codes)
            offset += n
    if len(corpus.doc_index) != len(corpus.companies) or len(corpus.sent_index) != live_sent:
        raise DataError(f"{folder}: index and arrays disagree; rebuild it with `matcher index`")
    if corpus.lex_rows and max(corpus.lex_rows.values()) >= corpus.lex.n_rows:
        raise DataError(bad)
    corpus.doc_store.adopt(doc_vecs)
    corpus.sent_store.adopt(sent_vecs)
    corpus.next_int = len(doc_vecs)
    corpus.next_sent = len(sent_vecs)
    if (folder / "industry_vectors.npy").exists():
        corpus.inferrer = IndustryInferrer(
            json.loads((folder / "industry_codes.json").read_text()),
            np.load(folder / "industry_vectors.npy", allow_pickle=False),
            corpus.config.taxonomy_temperature,
        )
    else:
        corpus.inferrer = None
    for lo in range(0, len(untyped), 50_000):
        part = [corpus.companies[i] for i in untyped[lo : lo + 50_000]]
        vecs = corpus.doc_store.rows([corpus.int_of[cs.company.id] for cs in part])
        _, blobs = corpus.classify([cs.company for cs in part], vecs)
        for cs, blob in zip(part, blobs, strict=True):
            cs.taxonomy = blob
    scen = json.loads((folder / "scenarios.json").read_text("utf-8"))
    svecs = np.load(folder / "scenario_vectors.npy", allow_pickle=False)
    scenarios = [scenario_from_dict(d) for d in scen]
    queries = [corpus.queries.build(s) for s in scenarios]
    lex = corpus.query_rows(queries) if queries else None
    for i, s in enumerate(scenarios):
        corpus.scenarios[s.id] = corpus.scenario_state(s, queries[i], svecs[i], lex[i])  # type: ignore[index]
    corpus.regroup()
    reference = folder / "reference.json"
    corpus.set_reference(
        json.loads(reference.read_text("utf-8"))
        if reference.exists()  # indexes saved before the floor: sample the firms now
        else reference_sample(corpus.companies)
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
