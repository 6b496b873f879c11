"""Loading and validating scenario catalogues and company files.

Catalogue files (YAML or JSON) follow ``scenarios.schema.json``; company JSONL lines follow
``company.schema.json`` (both ship in ``matcher/resources``, the one copy).
Company CSV and scenario JSONL are the light formats of ``matcher rank``. Every problem is a
:class:`~matcher.errors.DataError` naming the file, the line or field, and the fix.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import DataError
from .types import Company, Composite, Scenario

__all__ = [
    "Catalogue",
    "load_catalogue",
    "parse_catalogue",
    "load_companies",
    "load_companies_jsonl",
    "load_companies_csv",
    "load_scenarios_jsonl",
    "company_from_dict",
    "scenario_from_dict",
    "read_text",
]


@dataclass(frozen=True)
class Catalogue:
    zone: str
    composites: tuple[Composite, ...]
    opportunities: tuple[Scenario, ...]

    def children(self, composite_id: str) -> list[Scenario]:
        return [s for s in self.opportunities if s.parent_id == composite_id]


@lru_cache(maxsize=4)
def _schema(name: str) -> dict[str, Any]:
    return json.loads(resources.files("matcher.resources").joinpath(name).read_text("utf-8"))


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a UTF-8 file (BOM allowed) or raise a DataError that says what is wrong."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: file not found")
    if p.is_dir():
        raise DataError(f"{p}: is a folder, expected a file")
    raw = p.read_bytes()
    if not raw.strip():
        raise DataError(f"{p}: file is empty")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{p}: not UTF-8 (byte {exc.start}); re-save it as UTF-8 "
            "(e.g. `iconv -f GB18030 -t UTF-8 in > out`)"
        ) from exc


MAX_MESSAGE = 300  # characters of a parser's or schema error's text kept in a DataError
_MAX_ERRORS = 100  # schema errors collected before the first (in document order) is reported


def _short(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to about ``limit`` characters, its start and end kept: jsonschema's
    messages print the offending value (which may be a whole section of the file) before
    what is wrong with it ("… is not of type 'object'")."""
    if len(text) <= limit:
        return text
    head, tail = limit * 2 // 3, limit // 3
    return f"{text[:head]} …[{len(text) - head - tail} characters]… {text[-tail:]}"


def _validate(doc: Any, schema_name: str, where: str) -> None:
    import itertools

    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema(schema_name))
    found = list(itertools.islice(validator.iter_errors(doc), _MAX_ERRORS))
    errors = sorted(found, key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        e = errors[0]
        loc = _short("/".join(str(p) for p in e.absolute_path) or "(top level)", 100)
        n = len(errors) - 1
        more = f" (+{n}{'+' if len(found) == _MAX_ERRORS else ''} more)" if n else ""
        raise DataError(f"{where}: {loc}: {_short(e.message)}{more}")


YAML_MAX_NODES = 1_000_000  # nodes a catalogue may stand for once its aliases are expanded
YAML_MAX_EXPANSION = 10  # ... and at most this many times the nodes it writes out


def _yaml_load(text: str) -> Any:
    """YAML with its aliases bounded: a few aliases nested in each other ("billion laughs")
    make a 1 KB file stand for gigabytes once validated or printed, so the composed node
    graph is sized as if expanded before anything is built. Aliases as ``yaml.safe_dump``
    writes them for shared values stay well inside the bounds; a recursive one is refused."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(root: Any) -> None:
    """Refuse a node graph that stands for more than ``YAML_MAX_NODES`` nodes, or more than
    ``YAML_MAX_EXPANSION`` times the nodes written (a scalar weighs one per 100 characters);
    sizes are summed once per distinct node, so this is linear in the file."""
    import yaml

    def children(n: Any) -> list[Any]:
        if isinstance(n, yaml.SequenceNode):
            return list(n.value)
        if isinstance(n, yaml.MappingNode):
            return [x for pair in n.value for x in pair]
        return []

    def weight(n: Any) -> int:
        return 1 + len(n.value) // 100 if isinstance(n, yaml.ScalarNode) else 1

    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    written = 0
    while stack:
        n, done = stack.pop()
        k = id(n)
        if done:
            on_path.discard(k)
            size = weight(n) + sum(sizes[id(c)] for c in children(n))
            if size > YAML_MAX_NODES:
                raise DataError(
                    f"line {n.start_mark.line + 1}: YAML aliases (*name) make this value stand "
                    f"for more than {YAML_MAX_NODES} values once expanded; write the values "
                    "out, with fewer aliases"
                )
            sizes[k] = size
            written += weight(n)
            continue
        if k in sizes:
            continue
        on_path.add(k)
        stack.append((n, True))
        for c in children(n):
            if id(c) in on_path:
                raise DataError(
                    f"line {c.start_mark.line + 1}: a YAML alias refers to a value that holds "
                    "it (a recursive structure); write the values out"
                )
            if id(c) not in sizes:
                stack.append((c, False))
    total = sizes[id(root)]
    if total > max(YAML_MAX_EXPANSION * written, 10_000):
        raise DataError(
            f"YAML aliases (*name) expand the {written} values written into {total}, more "
            f"than {YAML_MAX_EXPANSION}×; write the values out, with fewer aliases"
        )


def _tuple(v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        return tuple(
            x.strip() for x in v.replace("；", ";").replace("、", ";").split(";") if x.strip()
        )
    return tuple(str(x) for x in v)


def scenario_from_dict(d: Mapping[str, Any]) -> Scenario:
    names = {f.name for f in fields(Scenario)}
    kw = {k: v for k, v in d.items() if k in names}
    for k in ("keywords", "industry_codes", "preferred_certifications"):
        if k in kw:
            kw[k] = _tuple(kw[k])
    if "published" in kw and kw["published"] is not None:
        kw["published"] = str(kw["published"])
    return Scenario(**kw)


def company_from_dict(d: Mapping[str, Any]) -> Company:
    names = {f.name for f in fields(Company)}
    kw = {k: v for k, v in d.items() if k in names}
    for k in ("products", "industry_codes", "certifications"):
        if k in kw:
            kw[k] = _tuple(kw[k])
    return Company(**kw)


def load_catalogue(path: str | os.PathLike[str]) -> Catalogue:
    """Load and validate a catalogue (YAML or JSON); all-or-nothing."""
    p = Path(path)
    return parse_catalogue(read_text(path), str(p), yaml=p.suffix.lower() in (".yaml", ".yml"))


def parse_catalogue(text: str, where: str = "catalogue", yaml: bool = True) -> Catalogue:
    """Parse and validate catalogue text (YAML, a superset of JSON, or strict JSON)."""
    p = where
    try:
        doc = _yaml_load(text) if yaml else json.loads(text)
    except DataError as exc:
        raise DataError(f"{p}: {exc}") from exc
    except Exception as exc:  # yaml and json raise different types; report either plainly
        raise DataError(
            f"{p}: cannot parse ({exc.__class__.__name__}: {_short(str(exc))})"
        ) from exc
    if isinstance(doc, dict):
        for o in doc.get("opportunities") or []:
            if isinstance(o, dict) and isinstance(o.get("published"), (_dt.date, _dt.datetime)):
                o["published"] = o["published"].isoformat()[:10]
    _validate(doc, "scenarios.schema.json", p)
    composites = tuple(Composite(**c) for c in doc["composites"])
    comp_ids = [c.id for c in composites]
    _unique(comp_ids, f"{p}: composite")
    opps = tuple(scenario_from_dict(o) for o in doc["opportunities"])
    _unique([o.id for o in opps] + comp_ids, f"{p}: scenario")
    known = set(comp_ids)
    from .industry import industry_table

    table = industry_table()
    for o in opps:
        if o.parent_id not in known:
            raise DataError(
                f"{p}: opportunity {o.id}: parent_id {_short(o.parent_id or '', 80)!r} is not a "
                f"composite id ({', '.join(comp_ids[:5])}...)"
            )
        bad = [c for c in o.industry_codes if not table.is_known(c)]
        if bad:
            raise DataError(
                f"{p}: opportunity {o.id}: unknown GB/T 4754-2017 code(s) {bad[:10]}; "
                "use 2-4 digit codes from the standard"
            )
    return Catalogue(zone=doc["zone"], composites=composites, opportunities=opps)


def _unique(ids: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise DataError(f"{what} id {i!r} appears twice; ids must be unique")
        seen.add(i)


def load_companies_jsonl(path: str | os.PathLike[str]) -> list[Company]:
    """Company profiles, one JSON object per line, each validated against the schema."""
    text = read_text(path)
    out: list[Company] = []
    seen: dict[str, int] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path}: line {line_no}: malformed JSON ({exc.msg}); fix or remove it"
            ) from exc
        _validate(doc, "company.schema.json", f"{path}: line {line_no}")
        if doc["id"] in seen:
            raise DataError(
                f"{path}: line {line_no}: duplicate id {doc['id']!r} "
                f"(first on line {seen[doc['id']]})"
            )
        seen[doc["id"]] = line_no
        out.append(company_from_dict(doc))
    if not out:
        raise DataError(f"{path}: no company profiles found")
    return out


_NUMERIC = {
    "registered_capital_wan": float,
    "intended_investment_yi": float,
    "space_needed_m2": float,
    "founded": int,
    "employees": int,
}


def load_companies_csv(
    path: str | os.PathLike[str],
    id_col: str = "id",
    text_col: str = "description",
    name_col: str = "name",
) -> list[Company]:
    """Companies from CSV (``id``, ``name``, ``description`` by default); known extras are used."""
    text = read_text(path)
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    reader = csv.DictReader(io.StringIO(text))
    try:
        rows = list(enumerate(reader, start=2))
    except csv.Error as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from exc
    header = reader.fieldnames or []
    missing = [c for c in (id_col, text_col) if c not in header]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {missing}; the header has {header}. "
            "Map yours with --id-col/--text-col/--name-col"
        )
    known = {f.name for f in fields(Company)} - {"id", "name", "description", "contact"}
    out: list[Company] = []
    seen: dict[str, int] = {}
    for line_no, row in rows:
        if None in row:
            raise DataError(
                f"{path}: line {line_no}: more fields than the header has; check quoting"
            )
        cid = (row.get(id_col) or "").strip()
        if not cid:
            raise DataError(f"{path}: line {line_no}: empty {id_col!r}")
        if cid in seen:
            raise DataError(
                f"{path}: line {line_no}: duplicate id {cid!r} (first on line {seen[cid]})"
            )
        seen[cid] = line_no
        desc = (row.get(text_col) or "").strip()
        name = (row.get(name_col) or "").strip() if name_col in header else ""
        if not desc and not name:
            raise DataError(f"{path}: line {line_no}: company {cid!r} has no text in {text_col!r}")
        extra: dict[str, Any] = {}
        for col in sorted(known & set(header)):
            value = (row.get(col) or "").strip()
            if not value:
                continue
            if col in _NUMERIC:
                try:
                    number = float(value)
                except ValueError as exc:
                    raise DataError(
                        f"{path}: line {line_no}: {col} {value!r} is not a number"
                    ) from exc
                if not math.isfinite(number) or number < 0:
                    raise DataError(
                        f"{path}: line {line_no}: {col} {value!r} must be a finite number ≥ 0"
                    )
                extra[col] = _NUMERIC[col](number)
            elif col == "listed":
                extra[col] = value.lower() in ("1", "true", "yes", "是")
            elif col in ("products", "industry_codes", "certifications"):
                extra[col] = _tuple(value)
            else:
                extra[col] = value
        out.append(Company(id=cid, name=name or cid, description=desc or name, **extra))
    if not out:
        raise DataError(f"{path}: no rows after the header")
    return out


def load_companies(path: str | os.PathLike[str], **csv_options: str) -> list[Company]:
    """By extension: ``.jsonl`` profiles or ``.csv`` rows."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return load_companies_csv(path, **csv_options)
    if suffix in (".jsonl", ".ndjson"):
        return load_companies_jsonl(path)
    raise DataError(f"{path}: unknown company file type {suffix!r}; use .csv or .jsonl")


_SCENARIO_NUMBERS = ("value_yi", "space_offered_m2", "investment_min_yi")
_SCENARIO_LISTS = ("keywords", "industry_codes", "preferred_certifications")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0


def load_scenarios_jsonl(path: str | os.PathLike[str]) -> list[Scenario]:
    """Scenarios for ``matcher rank``: ``id``, ``title``, ``description`` per line.

    One of title and description may be empty (real lists often give no headline), not both.
    """
    text = read_text(path)
    out: list[Scenario] = []
    seen: dict[str, int] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path}: line {line_no}: malformed JSON ({exc.msg}); fix or remove it"
            ) from exc
        if not isinstance(doc, dict):
            raise DataError(f"{path}: line {line_no}: expected a JSON object")
        missing = [k for k in ("id", "title", "description") if k not in doc]
        if "id" in doc and not str(doc["id"] or "").strip():
            missing.append("id")
        if not missing and not any(str(doc[k] or "").strip() for k in ("title", "description")):
            missing = ["title", "description"]  # one of them may be empty, not both
        if missing:
            raise DataError(f"{path}: line {line_no}: missing or empty field(s) {missing}")
        bad = [k for k in ("title", "description") if not isinstance(doc[k], str)]
        bad += [k for k in _SCENARIO_NUMBERS if doc.get(k) is not None and not _is_number(doc[k])]
        bad += [
            k for k in _SCENARIO_LISTS if doc.get(k) is not None and not isinstance(doc[k], list)
        ]
        if bad:
            raise DataError(f"{path}: line {line_no}: wrong type for field(s) {bad}")
        sid = str(doc["id"])
        if sid in seen:
            raise DataError(
                f"{path}: line {line_no}: duplicate id {sid!r} (first on line {seen[sid]})"
            )
        seen[sid] = line_no
        data = dict(doc)
        data["id"] = sid
        data.setdefault("title_zh", data.pop("title"))
        data.setdefault("description_zh", data.pop("description"))
        try:
            out.append(scenario_from_dict(data))
        except TypeError as exc:
            raise DataError(f"{path}: line {line_no}: {exc}") from exc
    if not out:
        raise DataError(f"{path}: no scenarios found")
    return out
