"""``matcher``: a thin command line over the engine.

Every bad input ends in one line on stderr that names the problem and the fix, exit code 2,
and no half-written output.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .methods import METHODS
from .types import CHAIN_POSITIONS, CONSTRAINT_MODES, FUSION_SCALES, INDEX_BACKENDS

EXIT_BAD_INPUT = 2
DEFAULT_SCENARIOS = "data/scenarios.yaml"
DEFAULT_COMPANIES = "data/companies.jsonl"
DEFAULT_LABELS = "data/eval/labels.csv"
DEFAULT_INDEX = "var/index"
DEFAULT_CACHE = "var/cache"


def _offline() -> None:
    """No hub at run time: make any library that would try one fail fast instead of hanging."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def _console(stderr: bool = False):  # type: ignore[no-untyped-def]
    """A rich console; piped output gets 140 columns (rich says 80) so tables stay legible."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 140
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar per encoding stage, on stderr."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_console(stderr=True),
        transient=False,
    ) as bar:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"encoding {stage}", total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from .config import EncoderConfig, EngineConfig, IndexConfig, with_overrides

    cfg = EngineConfig()
    enc = getattr(args, "encoder", None)
    if enc:
        cfg = replace(
            cfg, encoder=EncoderConfig(name=enc, model_path=getattr(args, "model_path", None))
        )
    backend = getattr(args, "index_backend", None)
    if backend:
        cfg = replace(cfg, index=IndexConfig(backend=backend))
    mode = getattr(args, "constraints", None)
    if mode:
        cfg = replace(cfg, constraints=replace(cfg.constraints, mode=mode))
    scale = getattr(args, "fusion_scale", None)
    if scale:
        cfg = replace(cfg, fusion=replace(cfg.fusion, scale=scale))
    overrides = getattr(args, "config", None)
    if overrides:
        cfg = with_overrides(cfg, _json_setting(overrides))
    return cfg


def _json_setting(value: str) -> dict:  # type: ignore[type-arg]
    """``--config``: a JSON object, inline or in a file."""
    from .errors import DataError

    text = value
    if not value.lstrip().startswith("{"):
        path = Path(value)
        if not path.is_file():
            raise DataError(f"--config {value!r}: neither a JSON object nor a file")
        text = path.read_text("utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"--config: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise DataError("--config must be a JSON object of EngineConfig settings")
    return data


def _build(args: argparse.Namespace, show_progress: bool = True):  # type: ignore[no-untyped-def]
    from .catalogue import load_catalogue, load_companies
    from .engine import Engine

    catalogue = load_catalogue(args.scenarios)
    companies = load_companies(args.companies)
    engine = Engine(_config(args), cache_dir=args.cache_dir)
    with _progress(show_progress and sys.stderr.isatty()) as prog:
        engine.fit(catalogue.opportunities, companies, progress=prog)
    return catalogue, engine


def _load_or_build(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .engine import Engine

    index = Path(args.index_dir)
    if (index / "manifest.json").exists():
        return Engine.load(index, cache_dir=args.cache_dir)
    _, engine = _build(args)
    engine.save(index)
    return engine


def _atomic_text(path: Path, lines: Iterator[str]) -> None:
    """Write ``lines`` to ``path`` atomically (streamed, UTF-8)."""
    from .folders import atomic_write

    atomic_write(path, lambda f: f.writelines(line.encode("utf-8") for line in lines))


def _match_json(m: Any) -> dict[str, Any]:
    d = m.to_dict()
    d["explanation"]["industry"] = {
        k: v for k, v in d["explanation"]["industry"].items() if v is not None
    }
    return d


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------------- commands
def cmd_run(args: argparse.Namespace) -> int:
    """The main job: build the index from data/ and show the best firms per opportunity."""
    from rich.table import Table

    t0 = time.perf_counter()
    catalogue, engine = _build(args)
    engine.save(args.index_dir)
    built = time.perf_counter() - t0
    console = _console()
    console.print(
        f"[bold]{catalogue.zone}[/]: {len(catalogue.composites)} composite scenarios, "
        f"{len(catalogue.opportunities)} opportunities, {len(engine.companies)} firms "
        f"(index built in {built:.1f} s → {args.index_dir})"
    )
    for comp in catalogue.composites:
        for s in catalogue.children(comp.id):
            title = f"{s.id} {s.title_zh} · {s.title_en} [{comp.title_zh}]"
            if not s.is_open:
                console.print(f"\n[bold]{title}[/]\n  [dim]closed: not matched[/]")
                continue
            table = Table(title=title, title_justify="left", expand=True)
            table.add_column("#", justify="right", min_width=2, no_wrap=True)
            table.add_column("firm", ratio=2, overflow="ellipsis", no_wrap=True)
            table.add_column("score", justify="right", min_width=5, no_wrap=True)
            table.add_column("why", ratio=5, overflow="ellipsis", no_wrap=True)
            for m in engine.match_scenario(s.id, top_k=args.top_k):
                table.add_row(str(m.rank), m.company_name, f"{m.score:.3f}", m.explanation.summary)
            console.print(table)
    console.print(f"[dim]done in {time.perf_counter() - t0:.1f} s[/]")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    _, engine = _build(args)
    path = engine.save(args.index_dir)
    n = len(engine.companies)
    print(
        f"indexed {len(engine.scenarios)} scenarios and {n} firms into {path} "
        f"in {time.perf_counter() - t0:.1f} s (encoder {engine.encoder.name})"
    )
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    from .constraints import Filters

    engine = _load_or_build(args)
    filters = Filters(
        industry_prefix=args.industry,
        city=args.city,
        min_capital_wan=args.min_capital,
        chain_position=args.chain,
    )
    matches = engine.match_scenario(args.scenario_id, top_k=args.top_k, filters=filters)
    if args.city and args.city.strip():
        _print_city_note(args.city, to_stderr=args.json)
    if args.json:
        print(json.dumps([_match_json(m) for m in matches], ensure_ascii=False, indent=1))
        return 0
    _print_matches(matches, f"{args.scenario_id}: firms", lambda m: m.company_name)
    return 0


def _print_city_note(city: str, to_stderr: bool) -> None:
    """Say how ``--city`` was read: ``city: Fuzhou matched 福州市 (福建省) and 抚州市 (江西省)``."""
    from .places import resolve

    place = resolve(city)
    note = f"city: {place.describe()}"
    if place.ambiguous:
        note += " (ambiguous: firms in any of them are listed)"
    print(note, file=sys.stderr if to_stderr else sys.stdout)


def cmd_suggest(args: argparse.Namespace) -> int:
    from .catalogue import company_from_dict, read_text
    from .errors import DataError

    text = read_text(args.profile)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{args.profile}: malformed JSON at line {exc.lineno} ({exc.msg})") from exc
    if not isinstance(doc, dict):
        raise DataError(f"{args.profile}: expected one JSON object (a company profile)")
    from .catalogue import _validate

    doc.setdefault("id", "new-profile")
    _validate(doc, "company.schema.json", str(args.profile))
    company = company_from_dict(doc)
    engine = _load_or_build(args)
    matches = engine.suggest(company, top_k=args.top_k)
    if args.json:
        print(json.dumps([_match_json(m) for m in matches], ensure_ascii=False, indent=1))
        return 0
    _print_matches(
        matches, f"{company.name}: scenarios", lambda m: f"{m.scenario_id} {m.scenario_title}"
    )
    return 0


def _print_matches(matches: Sequence[Any], title: str, label: Callable[[Any], str]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("match", max_width=40)
    table.add_column("score", justify="right")
    table.add_column("parts")
    table.add_column("why", max_width=80)
    for m in matches:
        parts = " ".join(f"{k[:3]}={v:.2f}" for k, v in m.parts.items())
        table.add_row(str(m.rank), label(m), f"{m.score:.3f}", parts, m.explanation.summary)
    _console().print(table)


def cmd_rank(args: argparse.Namespace) -> int:
    """Stateless: rank any company CSV against any scenario JSONL, write JSONL."""
    from .catalogue import load_companies, load_scenarios_jsonl
    from .engine import Engine
    from .errors import DataError
    from .evaluate import random_run
    from .methods import method_config

    if args.top_k < 1:
        raise DataError("--top-k must be at least 1")
    out = Path(args.output)
    if out.exists() and out.is_dir():
        raise DataError(f"{out}: is a folder; give a file name for --output")
    companies = load_companies(
        args.companies, id_col=args.id_col, text_col=args.text_col, name_col=args.name_col
    )
    scenarios = load_scenarios_jsonl(args.scenarios)
    t0 = time.perf_counter()
    if args.method == "random":
        full = random_run([s.id for s in scenarios], [c.id for c in companies], args.seed)
        run = {sid: ids[: args.top_k] for sid, ids in full.items()}
        lines = (
            json.dumps(
                {
                    "scenario_id": sid,
                    "matches": [
                        {
                            "company_id": cid,
                            "score": 1.0 / (r + 1),
                            "explanation": "random baseline",
                        }
                        for r, cid in enumerate(ids)
                    ],
                },
                ensure_ascii=False,
            )
            + "\n"
            for sid, ids in run.items()
        )
        _atomic_text(out, lines)
        print(
            f"ranked {len(scenarios)} scenarios × {len(companies)} firms (random) → {out}",
            file=sys.stderr,
        )
        return 0
    if args.method == "plain":
        return _rank_plain(args, scenarios, companies, out, t0)
    cfg = method_config(_config(args), args.method, exact=args.exact)
    engine = Engine(cfg, cache_dir=args.cache_dir)
    with _progress(sys.stderr.isatty()) as prog:
        engine.fit(scenarios, companies, progress=prog)
    results = []
    for s in scenarios:
        matches = engine.match_scenario_object(s, top_k=args.top_k)
        results.append(
            {
                "scenario_id": s.id,
                "matches": [
                    {
                        "company_id": m.company_id,
                        "name": m.company_name,
                        "score": round(m.score, 6),
                        "parts": {k: round(v, 4) for k, v in m.parts.items()},
                        "explanation": m.explanation.summary,
                        "duplicates": list(m.duplicates),
                    }
                    for m in matches
                ],
            }
        )
    _atomic_text(out, (json.dumps(r, ensure_ascii=False) + "\n" for r in results))
    print(
        f"ranked {len(scenarios)} scenarios × {len(companies)} firms ({args.method}, "
        f"{cfg.encoder.name}) in {time.perf_counter() - t0:.1f} s → {out}",
        file=sys.stderr,
    )
    return 0


def _rank_plain(
    args: argparse.Namespace,
    scenarios: Sequence[Any],
    companies: Sequence[Any],
    out: Path,
    t0: float,
) -> int:
    """``rank --method plain``: encoder cosine of the raw texts (matcher.plain), same JSONL."""
    from .plain import plain_encoder, plain_rank

    enc = _config(args).encoder
    ranked = plain_rank(scenarios, companies, plain_encoder(enc, args.cache_dir), args.top_k)
    explanation = f"plain cosine of the raw texts ({enc.name})"
    lines = (
        json.dumps(
            {
                "scenario_id": sid,
                "matches": [
                    {
                        "company_id": companies[i].id,
                        "name": companies[i].name,
                        "score": round(score, 6),
                        "parts": {"plain": round(score, 4)},
                        "explanation": explanation,
                        "duplicates": [],
                    }
                    for i, score in matches
                ],
            },
            ensure_ascii=False,
        )
        + "\n"
        for sid, matches in ranked.items()
    )
    _atomic_text(out, lines)
    print(
        f"ranked {len(scenarios)} scenarios × {len(companies)} firms (plain, {enc.name}) "
        f"in {time.perf_counter() - t0:.1f} s → {out}",
        file=sys.stderr,
    )
    return 0


def _labelled(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Labels, catalogue and companies for ``evaluate`` and ``tune``."""
    from .catalogue import load_catalogue, load_companies
    from .evaluate import load_qrels_csv

    return (
        load_qrels_csv(args.labels),
        load_catalogue(args.scenarios),
        load_companies(args.companies),
    )


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_run, ndcg_at_k
    from .evaluation import rank_methods

    qrels, catalogue, companies = _labelled(args)
    results = rank_methods(
        catalogue.opportunities,
        companies,
        qrels,
        _config(args),
        args.methods.split(","),
        cache_dir=args.cache_dir,
        seed=args.seed,
    )
    rows = {}
    for name, run in results.items():
        m = evaluate_run(run, qrels)
        # nDCG@50 too: the sample set saturates at depth 10 (TF-IDF alone is near 1.0 there)
        deep = [ndcg_at_k(run.get(q, []), g, 50) for q, g in qrels.items() if q in run]
        rows[name] = {**vars(m), "ndcg_at_50": sum(deep) / len(deep) if deep else 0.0}
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    from rich.table import Table

    first = next(iter(rows.values()))
    table = Table(title=f"{args.labels}: {first['queries']} labelled scenarios")
    for col in ("method", "nDCG@10", "nDCG@50", "Recall@50", "MRR"):
        table.add_column(col, justify="right" if col != "method" else "left")
    for name, r in rows.items():
        table.add_row(
            name,
            *(f"{r[k]:.3f}" for k in ("ndcg_at_10", "ndcg_at_50", "recall_at_50", "mrr")),
        )
    _console().print(table)
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from .tune import tune_weights, write_card

    qrels, catalogue, companies = _labelled(args)
    result = tune_weights(
        catalogue.opportunities,
        companies,
        qrels,
        _config(args),
        folds=args.folds,
        step=args.step,
        cache_dir=args.cache_dir,
        seed=args.seed,
        cutoff=args.cutoff,
    )
    write_card(result, Path(args.out))
    print(json.dumps(result.summary(), indent=1, ensure_ascii=False))
    return 0


# ---------------------------------------------------------------------------- parser
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="matcher",
        description="Match a development zone's investment scenarios with company profiles.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def data_args(sp: argparse.ArgumentParser, index: bool = True) -> None:
        sp.add_argument("--scenarios", default=DEFAULT_SCENARIOS, help="catalogue YAML/JSON")
        sp.add_argument("--companies", default=DEFAULT_COMPANIES, help="profiles .jsonl or .csv")
        if index:
            sp.add_argument("--index-dir", default=DEFAULT_INDEX, help="index folder")
        sp.add_argument("--cache-dir", default=DEFAULT_CACHE, help="embedding cache folder")
        sp.add_argument(
            "--encoder", help="use (default), e5, e5-st, e5-nano, st, or a combination like use+e5"
        )
        sp.add_argument("--model-path", help="local sentence-transformers folder for --encoder st")

    sp = sub.add_parser("run", help="main job: index data/ and show the top firms per opportunity")
    data_args(sp)
    sp.add_argument("--top-k", type=_positive_int, default=5)
    sp.add_argument("--constraints", choices=CONSTRAINT_MODES)
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("index", help="build the index folder from a catalogue and profiles")
    data_args(sp)
    sp.add_argument("--index-backend", choices=INDEX_BACKENDS)
    sp.set_defaults(func=cmd_index)

    sp = sub.add_parser("match", help="rank firms for one scenario")
    sp.add_argument("scenario_id")
    data_args(sp)
    sp.add_argument("--top-k", type=_positive_int, default=10)
    sp.add_argument("--json", action="store_true", help="print Match records as JSON")
    sp.add_argument("--industry", help="filter: GB/T 4754 code prefix, e.g. 38")
    sp.add_argument(
        "--city", help="filter: a place and what lies in it (晋江, 晉江市, Jinjiang, 泉州, 福建)"
    )
    sp.add_argument("--min-capital", type=float, help="filter: registered capital ≥ (万元)")
    sp.add_argument("--chain", choices=CHAIN_POSITIONS)
    sp.set_defaults(func=cmd_match)

    sp = sub.add_parser("suggest", help="rank scenarios for one company profile (JSON file)")
    sp.add_argument("profile", help="a JSON file with one company profile")
    data_args(sp)
    sp.add_argument("--top-k", type=_positive_int, default=5)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_suggest)

    sp = sub.add_parser("rank", help="stateless: rank a company CSV against a scenario JSONL")
    sp.add_argument("--companies", required=True, help="CSV (or JSONL) of companies")
    sp.add_argument("--scenarios", required=True, help="JSONL: id, title, description per line")
    sp.add_argument("--output", required=True, help="output JSONL, one line per scenario")
    sp.add_argument("--top-k", type=_positive_int, default=20)
    sp.add_argument("--id-col", default="id")
    sp.add_argument("--text-col", default="description")
    sp.add_argument("--name-col", default="name")
    sp.add_argument(
        "--method",
        choices=METHODS,
        default="fusion",
        help="plain: encoder cosine of the raw texts, bypassing the engine (a baseline)",
    )
    sp.add_argument(
        "--fusion-scale",
        choices=FUSION_SCALES,
        help="how dense and lexical scores are scaled (FusionConfig.scale; default floor)",
    )
    sp.add_argument(
        "--encoder", help="use (default), e5, e5-st, e5-nano, st, or a combination like use+e5"
    )
    sp.add_argument("--model-path")
    sp.add_argument("--exact", action="store_true", help="score every firm, not only candidates")
    sp.add_argument(
        "--config",
        help="EngineConfig settings to change, a JSON object or a file holding one, e.g. "
        '\'{"scenario_focus": 1.5, "fusion": {"weights": {"dense": 0.6, "lexical": 0.4}}}\'',
    )
    sp.add_argument("--cache-dir", default=DEFAULT_CACHE)
    sp.add_argument("--seed", type=int, default=0, help="seed of the random method")
    sp.set_defaults(func=cmd_rank)

    sp = sub.add_parser(
        "evaluate", help="nDCG@10, Recall@50, MRR on a labelled set, with baselines"
    )
    data_args(sp, index=False)
    sp.add_argument("--labels", default=DEFAULT_LABELS)
    sp.add_argument("--methods", default="random,lexical,dense,fusion")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_evaluate)

    sp = sub.add_parser("tune", help="choose fusion weights by cross-validation on labels")
    data_args(sp, index=False)
    sp.add_argument("--labels", default=DEFAULT_LABELS)
    sp.add_argument("--folds", type=_positive_int, default=5)
    sp.add_argument("--step", type=_fraction, default=0.05)
    sp.add_argument("--cutoff", type=_positive_int, default=50, help="optimise nDCG at this depth")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--out", default="models/fusion")
    sp.set_defaults(func=cmd_tune)

    _service_commands(sub)
    return p


def _service_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``serve``, ``keys`` and ``reindex`` live in the service package (imported lazily)."""
    try:
        from service.cli import add_commands
    except ImportError as exc:  # the engine installed without the service's dependencies
        logging.getLogger(__name__).debug("service commands unavailable: %s", exc)
        return
    add_commands(sub)


def main(argv: Sequence[str] | None = None) -> int:
    _offline()
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    from .errors import MatcherError

    try:
        return int(args.func(args))
    except MatcherError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:
        if type(exc).__name__ == "ValidationError" and callable(getattr(exc, "errors", None)):
            # the service's settings (pydantic): one line per bad setting, named as set
            for err in exc.errors():  # type: ignore[attr-defined]
                field = "_".join(str(p) for p in err.get("loc", ())).upper()
                msg = str(err.get("msg", "")).removeprefix("Value error, ")
                print(f"error: setting MATCHER_{field}: {msg}", file=sys.stderr)
            return EXIT_BAD_INPUT
        logging.getLogger("matcher.cli").debug("details", exc_info=True)
        print(f"error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, KeyError) as exc:
        # Bad files, paths or values that surfaced below the loaders: still one line, exit 2.
        logging.getLogger("matcher.cli").debug("details", exc_info=True)
        what = exc.__class__.__name__
        print(f"error: {what}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
