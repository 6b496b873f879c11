"""The service side of the ``matcher`` command: ``serve``, ``keys``, ``reindex``."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Settings

logger = logging.getLogger(__name__)


def _settings(args: argparse.Namespace) -> Settings:
    from .config import Settings

    overrides = {}
    if getattr(args, "database_url", None):
        overrides["database_url"] = args.database_url
    return Settings(**overrides)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from matcher.errors import MatcherError

    from .app import create_app
    from .db import make_db, migrate, session_factory
    from .index import IndexHolder

    logging.getLogger().setLevel(logging.INFO)
    settings = _settings(args)
    db = make_db(settings.database_url)
    try:  # fail here, with one clear line, rather than inside the server's start-up
        migrate(db)
        IndexHolder(settings, session_factory(db)).seed_if_empty()
    except MatcherError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    return 0


def keys(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from . import auth
    from .db import make_db, migrate, session_factory, transaction
    from .errors import ServiceError
    from .models import ApiKeyRow

    settings = _settings(args)
    db = make_db(settings.database_url)
    try:
        migrate(db)
        sessions = session_factory(db)
        if args.keys_command == "create":
            with transaction(sessions) as s:
                row, key = auth.create_key(
                    s, args.role, args.company_id, args.name, "cli", args.rate_per_min
                )
                key_id = row.id
            print(key)
            print(f"(key id {key_id}, role {args.role}; shown once, store it now)", file=sys.stderr)
        elif args.keys_command == "list":
            with sessions() as s:
                for r in s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)):
                    state = f"revoked {r.revoked_at:%Y-%m-%d}" if r.revoked_at else "active"
                    rate = f"{r.rate_per_min}/min" if r.rate_per_min else "default rate"
                    print(
                        f"{r.id:>4}  {r.prefix}…  {r.role:<9} {r.company_id or '-':<16} "
                        f"{rate:<12} {state:<16} {r.name or '-'}"
                    )
        elif args.keys_command == "revoke":
            with transaction(sessions) as s:
                auth.revoke_key(s, args.key_id, "cli")
            print(f"revoked key {args.key_id}")
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    return 0


def reindex(args: argparse.Namespace) -> int:
    """Rebuild the index from the database (the service does this itself when it must)."""
    import shutil

    from .db import make_db, migrate, session_factory
    from .index import IndexHolder

    logging.getLogger().setLevel(logging.INFO)
    settings = _settings(args)
    db = make_db(settings.database_url)
    try:
        migrate(db)
        holder = IndexHolder(settings, session_factory(db))
        holder.seed_if_empty()
        if args.full:
            shutil.rmtree(settings.index_dir, ignore_errors=True)
            settings.state_file.unlink(missing_ok=True)
        how = holder.sync()
        engine = holder.engine
        n_c = len(engine.companies_) if engine else 0
        n_s = len(engine.scenarios_) if engine else 0
        print(f"index {how}: {n_c} companies, {n_s} scenarios in {settings.index_dir}")
    finally:
        db.dispose()
    return 0


def nightly(args: argparse.Namespace) -> int:
    """Run or resume the nightly job with progress bars per stage and a summary at the end."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TimeElapsedColumn,
    )

    from matcher.errors import MatcherError

    from . import nightly as job
    from .db import make_db, migrate, session_factory
    from .errors import ServiceError
    from .index import IndexHolder

    settings = _settings(args)
    console = Console(stderr=True)
    db = make_db(settings.database_url)
    try:
        migrate(db)
        sessions = session_factory(db)
        IndexHolder(settings, sessions).seed_if_empty()
        row_id = job.start_row(sessions, args.executor, "cli")
        bars = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done, total=total)

        with bars:
            row = job.run(settings, sessions, row_id, args.executor, args.ray_address, progress)
    except (MatcherError, ServiceError) as exc:
        message = exc.message if isinstance(exc, ServiceError) else str(exc)
        print(f"error: {message}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    _print_summary(row)
    return 0


def _print_summary(row: object) -> None:
    stages = getattr(row, "stages", None) or {}
    diff = getattr(row, "diff", None) or {}
    print(f"nightly run {getattr(row, 'run_id', '?')}: {getattr(row, 'status', '?')}")
    for name, st in stages.items():
        facts = ", ".join(
            f"{k} {v}"
            for k, v in st.items()
            if k not in ("status", "seconds", "finished_at", "content_hash")
            and not isinstance(v, (dict, list))
        )
        print(f"  {name:<8} {st.get('seconds', 0):>8.1f} s  {facts}")
    if diff.get("first_run"):
        print("  diff: first run, nothing to compare with")
        return
    print(
        f"  diff against {diff.get('previous')}: {diff.get('entered', 0)} entered, "
        f"{diff.get('left', 0)} left the top N"
    )
    for sid, d in list((diff.get("scenarios") or {}).items())[:10]:
        ins = ", ".join(
            f"{e['company_id']} ({e['why']}, {e['part']} {e['delta']:+.3f})"
            if e.get("part")
            else f"{e['company_id']} ({e['why']})"
            for e in d["entered"][:3]
        )
        outs = ", ".join(e["company_id"] for e in d["left"][:3])
        print(f"  {sid}: + {ins or '-'}  − {outs or '-'}")


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sp = sub.add_parser("serve", help="run the API service (FastAPI + uvicorn)")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8000)
    sp.add_argument("--database-url", help="overrides MATCHER_DATABASE_URL")
    sp.set_defaults(func=serve)

    sp = sub.add_parser("keys", help="create, list or revoke API keys")
    ks = sp.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    c = ks.add_parser("create", help="print a new key once")
    c.add_argument("--role", required=True, choices=["admin", "recruiter", "company"])
    c.add_argument("--company-id", help="the firm a company key speaks for")
    c.add_argument("--name", help="who holds the key (a note)")
    c.add_argument(
        "--rate-per-min", type=int, help="requests per minute (default: MATCHER_RATE_LIMIT)"
    )
    c.add_argument("--database-url")
    c = ks.add_parser("list", help="list keys (never the keys themselves)")
    c.add_argument("--database-url")
    c = ks.add_parser("revoke", help="revoke a key by id")
    c.add_argument("key_id", type=int)
    c.add_argument("--database-url")
    sp.set_defaults(func=keys)

    sp = sub.add_parser("nightly", help="re-encode, re-learn and re-rank everything (resumable)")
    sp.add_argument("--executor", choices=["local", "ray"], default="local")
    sp.add_argument("--ray-address", help="an existing Ray cluster (default: start a local one)")
    sp.add_argument("--database-url")
    sp.set_defaults(func=nightly)

    sp = sub.add_parser("reindex", help="rebuild or repair the service's index from the database")
    sp.add_argument("--full", action="store_true", help="discard the saved index first")
    sp.add_argument("--database-url")
    sp.set_defaults(func=reindex)
