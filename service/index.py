"""The engine kept in step with the database.

The database is the source of truth; the vector index is derived. At start the saved index is
loaded and checked against the database's ``data_version``: equal means current; otherwise it
is repaired by difference (only changed texts are re-encoded, thanks to the embedding cache),
or rebuilt when missing, unreadable or made with another encoder. Writes run one at a time:
commit to the database, then update the engine under a writers' lock, so readers never see a
half-updated index; the index is saved to disk shortly after, atomically, with the version it
reflects.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from matcher.catalogue import load_catalogue, load_companies
from matcher.config import EncoderConfig, EngineConfig
from matcher.engine import Engine
from matcher.errors import ConfigError, MatcherError
from matcher.folders import atomic_write, recover_folder
from matcher.types import Company, Scenario

from . import store
from .config import Settings
from .db import checkpoint, transaction
from .errors import Conflict, Unavailable
from .rwlock import RWLock

logger = logging.getLogger(__name__)
R = TypeVar("R")
SAVE_RETRY_S = 30.0
ERASE_RETRY_S = 30.0  # pending erasures are retried this often (a nightly run held them)


@dataclass
class Change:
    """What a committed write changed in the indexed data."""

    companies: list[Company] = field(default_factory=list)
    removed_companies: list[str] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    removed_scenarios: list[str] = field(default_factory=list)
    # removed_companies are erased (a deletion), not replaced; these cache keys go too
    erase: bool = False
    forget_keys: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.companies or self.removed_companies or self.scenarios or self.removed_scenarios
        )


class IndexHolder:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.engine: Engine | None = None
        self.version = 0
        self._rw = RWLock()
        self._writes = threading.RLock()
        self._save_lock = threading.Lock()
        self._save_wanted = threading.Event()
        self._stop = threading.Event()
        self._saver: threading.Thread | None = None
        self._saved_version = -1
        self.save_error: str | None = None  # why the last save failed, until one succeeds
        self._last_save_try = 0.0
        self._batch_seen: str | None = None
        self._model_seen: str | None = None
        self._erase_wanted = threading.Event()
        self._eraser: threading.Thread | None = None
        self._erase_lock = threading.Lock()
        self._wal_owed = False  # an erasure's WAL truncation is still to do (readers held it)
        self.erase_error: str | None = None

    # ---------------------------------------------------------------- start and stop
    def start(self) -> None:
        self.seed_if_empty()
        self.sync()
        self._batch_seen = _pointer(self.settings.batch_dir / "index")
        self.load_model()
        self._saver = threading.Thread(target=self._save_loop, name="index-saver", daemon=True)
        self._saver.start()
        self._eraser = threading.Thread(target=self._erase_loop, name="eraser", daemon=True)
        self._eraser.start()
        self._erase_wanted.set()  # erasures a stop or crash left unfinished

    def stop(self) -> None:
        self._stop.set()
        self._save_wanted.set()
        self._erase_wanted.set()
        if self._saver is not None:
            self._saver.join(timeout=60)
        if self._eraser is not None:
            self._eraser.join(timeout=60)
        self.save()

    def seed_if_empty(self) -> None:
        st = self.settings
        with transaction(self.sessions) as s:
            if not store.is_empty(s):
                return
            for what, path in (("catalogue", st.seed_catalogue), ("companies", st.seed_companies)):
                if path is not None and not Path(path).exists():
                    raise ConfigError(
                        f"the database is empty and the seed {what} file {path} is missing: run "
                        f"from the project folder, or set MATCHER_SEED_{what.upper()} to a file "
                        "(or to an empty value to start empty)"
                    )
            catalogue = load_catalogue(st.seed_catalogue) if st.seed_catalogue else None
            companies = load_companies(st.seed_companies) if st.seed_companies else []
            n_s, n_c = store.seed(s, catalogue, companies)
            if n_s or n_c:
                store.bump_version(s)
            logger.info("seeded the empty database: %d scenarios, %d companies", n_s, n_c)

    def _config(self) -> EngineConfig:
        return EngineConfig(encoder=EncoderConfig(name=self.settings.encoder))

    def _db_fingerprint(self) -> str:
        url = make_url(self.settings.database_url).render_as_string(hide_password=True)
        return hashlib.sha256(url.encode()).hexdigest()[:16]

    def _read_state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.settings.state_file.read_text("utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def sync(self) -> str:
        """Load, repair or rebuild the index so that it matches the database; say which."""
        with self._writes, self._rw.write():
            return self._sync()

    def _sync(self) -> str:
        st = self.settings
        with self.sessions() as s:
            version = store.data_version(s)
        state = self._read_state()
        for what in recover_folder(st.index_dir):  # a save killed half-way
            logger.warning("index folder: %s", what)
        engine: Engine | None = None
        if (st.index_dir / "manifest.json").exists():
            try:
                engine = Engine.load(st.index_dir, cache_dir=st.cache_dir)
                if engine.config.encoder.name != st.encoder:
                    logger.info(
                        "index made with encoder %s; rebuilding with %s",
                        engine.config.encoder.name,
                        st.encoder,
                    )
                    engine = None
            except (MatcherError, OSError, ValueError, KeyError) as exc:
                logger.warning("saved index unreadable (%s); rebuilding it", exc)
                engine = None
        how = "loaded"
        current = engine is not None and (
            state.get("version") == version and state.get("database") == self._db_fingerprint()
        )
        if current and engine is not None:
            # equal counters are not enough: rows committed without a version bump (a write
            # that failed half-way on an older release) must still reach the index
            with self.sessions() as s:
                same_ids = set(store.company_ids(s)) == set(engine.companies_) and {
                    sc.id for sc in store.live_scenarios(s)
                } == set(engine.scenarios_)
            if not same_ids:
                logger.warning("the saved index holds other firms than the database; repairing")
                current = False
        if not current:  # a registry's million profiles are read only when they are needed
            with self.sessions() as s:
                version = store.data_version(s)
                scenarios = store.live_scenarios(s)
                companies = store.all_companies(s)
        if engine is not None and not current:
            n = _repair(engine, scenarios, companies)
            how = f"repaired ({n} changes)"
        elif engine is None:
            if not companies or not scenarios:
                self.engine, self.version = None, version
                logger.warning(
                    "no index: the database has %d scenarios and %d companies",
                    len(scenarios),
                    len(companies),
                )
                return "empty"
            t0 = time.perf_counter()
            logger.info(
                "building the index: %d companies, %d scenarios", len(companies), len(scenarios)
            )
            engine = Engine(self._config(), cache_dir=st.cache_dir).fit(
                scenarios, companies, progress=_log_progress()
            )
            how = f"built in {time.perf_counter() - t0:.1f} s"
        self.engine, self.version = engine, version
        if how != "loaded":
            self._save_locked()
        else:
            self._saved_version = version
        logger.info(
            "index %s: %d companies, %d scenarios, data version %d",
            how,
            len(engine.companies_),
            len(engine.scenarios_),
            version,
        )
        return how

    def adopt(self, engine: Engine) -> None:
        """Serve and save ``engine`` as the index of the database as it is now: an index built
        elsewhere (a registry's vectors computed by another process, a benchmark). Its firms and
        scenarios must be exactly the database's, and its encoder the configured one."""
        if engine.config.encoder.name != self.settings.encoder:
            raise ConfigError(
                f"the index was built with encoder {engine.config.encoder.name!r}, the service "
                f"uses {self.settings.encoder!r}"
            )
        with self._writes, self._rw.write():
            with self.sessions() as s:
                version = store.data_version(s)
                firms = set(store.company_ids(s))
                scenarios = {sc.id for sc in store.live_scenarios(s)}
            if firms != set(engine.companies_) or scenarios != set(engine.scenarios_):
                raise ConfigError(
                    "the index holds other firms or scenarios than the database "
                    f"({len(engine.companies_)} firms and {len(engine.scenarios_)} scenarios "
                    f"against {len(firms)} and {len(scenarios)})"
                )
            self.engine, self.version, self._saved_version = engine, version, -1
            self._save_locked()
        logger.info("adopted an index of %d firms, data version %d", len(firms), version)

    # ---------------------------------------------------------------- reads and writes
    @contextmanager
    def reading(self) -> Iterator[Engine]:
        with self._rw.read():
            if self.engine is None:
                raise Unavailable(
                    "the index is empty: add scenarios and company profiles first", None
                )
            yield self.engine

    def prepare(self, companies: Sequence[Company]) -> None:
        """Encode new profiles before taking any lock (the vectors land in the cache)."""
        engine = self.engine
        if engine is not None and companies:
            engine.prepare_companies(companies)

    def write(self, fn: Callable[[Session], tuple[R, Change]]) -> R:
        """Run ``fn`` in one transaction, commit, then apply its change to the engine."""
        with self._writes:
            with transaction(self.sessions) as s:
                result, change = fn(s)
                version = store.bump_version(s) if change else None
            if change and version is not None:
                self._apply(change, version)
        return result

    def _apply(self, change: Change, version: int) -> None:
        if self.engine is None:
            self.sync()
            return
        self.engine.prepare_companies(change.companies)
        with self._rw.write():
            engine = self.engine
            try:
                if change.removed_companies and change.erase:
                    engine.erase_companies(change.removed_companies)
                    engine.encoder.cache.forget(engine.encoder.fingerprint, change.forget_keys)
                elif change.removed_companies:
                    engine.remove_companies(change.removed_companies)
                if change.companies:
                    engine.add_companies(change.companies)
                if change.removed_scenarios:
                    engine.remove_scenarios(change.removed_scenarios)
                if change.scenarios:
                    engine.upsert_scenarios(change.scenarios)
                self.version = version
            except Exception:
                logger.exception("index update failed; repairing the index from the database")
                self._sync()
        self._save_wanted.set()

    # ---------------------------------------------------------------- erasure
    def erase_soon(self) -> None:
        """Wake the eraser: a deletion committed, its traces outside the database go next."""
        self._erase_wanted.set()

    def _erase_loop(self) -> None:
        while not self._stop.is_set():
            self._erase_wanted.wait(timeout=ERASE_RETRY_S)
            if self._stop.is_set():
                return
            self._erase_wanted.clear()
            try:
                self.finish_erasures()
            except Exception as exc:  # retried; /health shows it meanwhile
                self.erase_error = f"{exc.__class__.__name__}: {exc}"
                logger.exception("finishing erasures failed; retrying in %.0f s", ERASE_RETRY_S)

    def text_keys(self, companies: Sequence[Company]) -> list[str]:
        """The embedding-cache keys of these profiles' texts (none without an index)."""
        engine = self.engine
        return engine.text_keys(companies) if engine is not None else []

    def pending_erasures(self) -> int:
        with self.sessions() as s:
            return len(store.pending_erasures(s))

    def finish_erasures(self) -> int:
        """Remove what pending deletions left outside the database: the firms' traces in the
        batch folder (unless a nightly run holds it: that run removes them before it
        finishes), the live index's unused rows and terms (saved at once), the embedding
        cache's entries (tombstoned, then compacted) and SQLite's write-ahead log. Returns
        the number of erasures finished."""
        from matcher.batch.erase import erase_from_batch

        from .nightly import exclusive

        with self._erase_lock:
            with self.sessions() as s:
                rows = store.pending_erasures(s)
                if not rows:
                    self.erase_error = None
                    if self._wal_owed:
                        self._truncate_wal()
                    return 0
                erased = store.tombstones(s, [r.company_id for r in rows])
                pending = [
                    (r.id, r.company_id, r.batch_done_at, list(r.cache_keys or ())) for r in rows
                ]
            batch_ids = [rid for rid, _, batch_done, _ in pending if batch_done is None]
            if batch_ids:
                try:
                    with exclusive(self.settings.batch_dir):
                        erase_from_batch(self.settings.batch_dir, erased, self.settings.cache_dir)
                    with transaction(self.sessions) as s:
                        store.mark_erasures(s, batch_ids, batch=True)
                    batch_ids = []
                except Conflict:
                    logger.info("a nightly run holds the batch folder; it erases the firms itself")
            with self._writes:
                engine = self.engine
                if engine is not None:
                    with self._rw.write():
                        engine.erase_companies([cid for _, cid, _, _ in pending])
                    cache = engine.encoder.cache
                    cache.forget(
                        engine.encoder.fingerprint, [k for *_, keys in pending for k in keys]
                    )
                    cache.compact()
                    with self._save_lock:
                        self._saved_version = -1
                    self.save()
                    if self.save_error is not None:
                        raise OSError(self.save_error)
            checkpoint(self.sessions)
            done = [rid for rid, *_ in pending if rid not in batch_ids]
            with transaction(self.sessions) as s:
                store.mark_erasures(s, done, batch=False)
            self._truncate_wal()
            self.erase_error = None
            logger.info(
                "erasures finished: %d (%d wait for a nightly run)", len(done), len(batch_ids)
            )
            return len(done)

    def _truncate_wal(self, tries: int = 10) -> None:
        """Empty SQLite's write-ahead log of erased pages: a few short tries (each holds
        writers back for at most ``CHECKPOINT_WAIT_MS``), then again on the eraser's next
        round while readers keep an older snapshot open."""
        for i in range(tries):
            if checkpoint(self.sessions):
                self._wal_owed = False
                return
            if i + 1 < tries:
                time.sleep(0.2)
        self._wal_owed = True
        logger.info("readers hold the write-ahead log; truncating it on the next round")

    # ---------------------------------------------------------------- saving
    def _save_loop(self) -> None:
        while not self._stop.is_set():
            wanted = self._save_wanted.wait(timeout=5.0)
            if self._stop.is_set():
                return
            try:
                self.check_batch()
            except Exception:
                logger.exception("switching to the nightly index failed; still serving the old")
            retry = (
                self.save_error is not None
                and time.monotonic() - self._last_save_try >= SAVE_RETRY_S
            )
            if not wanted and not retry:
                continue
            if self._stop.wait(self.settings.save_delay_s):
                return  # stop() saves
            self._save_wanted.clear()
            try:
                self.save()
            except Exception:  # keep serving from memory; the next start repairs from the DB
                logger.exception("saving the index failed; it will be repaired at next start")

    # ---------------------------------------------------------------- nightly switch
    def load_model(self) -> None:
        """Use the adopted learned ranker (``models_dir/CURRENT.json``), if any."""
        from matcher.ltr import LearnedRanker

        version = _pointer(self.settings.models_dir)
        if version == self._model_seen:
            return
        ranker = None
        if version is not None:
            try:
                ranker = LearnedRanker.load(self.settings.models_dir / version)
            except MatcherError as exc:
                logger.warning(
                    "learned ranker %s unreadable (%s); ranking without it", version, exc
                )
        with self._rw.write():
            if self.engine is not None:
                self.engine.ranker = ranker
        self._model_seen = version
        logger.info("learned ranker: %s", version or "none")

    def check_batch(self) -> bool:
        """Switch to a newer nightly index, brought up to the database's current state first;
        readers keep the old index until the swap. Returns whether it switched."""
        version = _pointer(self.settings.batch_dir / "index")
        if version is None or version == self._batch_seen:
            self.load_model()
            return False
        folder = self.settings.batch_dir / "index" / "versions" / version
        new = Engine.load(folder, cache_dir=self.settings.cache_dir)
        if new.config.encoder.name != self.settings.encoder:
            self._batch_seen = version
            return False
        with self._writes:
            with self.sessions() as s:
                db_version = store.data_version(s)
                scenarios = store.live_scenarios(s)
                companies = store.all_companies(s)
            _repair(new, scenarios, companies)  # writes since the run began
            new.ranker = self.engine.ranker if self.engine is not None else None
            with self._rw.write():
                self.engine, self.version = new, db_version
                self._saved_version = -1
            self._batch_seen = version
        self._model_seen = None
        self.load_model()
        self._save_wanted.set()
        logger.info("switched to the nightly index %s", version)
        return True

    def save(self) -> None:
        with self._rw.read():
            self._save_locked()

    def _save_locked(self) -> None:
        """Save the index and the version it reflects. A disk error (full, unwritable) keeps
        the previous saved copy whole and the index serving from memory: it is reported in
        ``save_error`` (and ``GET /health``) and the save is tried again."""
        with self._save_lock:
            engine, version = self.engine, self.version
            if engine is None or version == self._saved_version:
                return
            self._last_save_try = time.monotonic()
            try:
                engine.save(self.settings.index_dir)
                _write_json(
                    self.settings.state_file,
                    {"version": version, "database": self._db_fingerprint()},
                )
            except OSError as exc:
                self.save_error = (
                    f"saving the index to {self.settings.index_dir} failed "
                    f"({exc.strerror or exc}); serving data version {version} from memory, the "
                    f"saved copy is version {max(self._saved_version, 0)}; retried every "
                    f"{SAVE_RETRY_S:.0f} s and after each write, repaired from the database at "
                    "the next start"
                )
                logger.error("%s", self.save_error)
                return
            self._saved_version = version
            if self.save_error is not None:
                logger.info("the index is saved again (data version %d)", version)
            self.save_error = None

    @property
    def saved_version(self) -> int:
        return max(self._saved_version, 0)


def _pointer(folder: Path) -> str | None:
    """The version a ``CURRENT.json`` in ``folder`` names, if that version exists."""
    try:
        data = json.loads((folder / "CURRENT.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    if not version:
        return None
    version = str(version)
    if (folder / version).exists() or (folder / "versions" / version).exists():
        return version
    return None


def _log_progress() -> Callable[[str, int, int], None]:
    """Log each stage of a long build at about every 20%, so a first start is not silent."""
    last: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        step = (5 * done) // max(total, 1)
        if last.get(stage) != step:
            last[stage] = step
            logger.info("building the index: %s %d/%d", stage, done, total)

    return progress


def _repair(engine: Engine, scenarios: list[Scenario], companies: list[Company]) -> int:
    """Bring a loaded engine to the database's content; returns the number of changes."""
    have_c = {c.id: c for c in engine.companies}
    want_c = {c.id for c in companies}
    changed_c = [
        c for c in companies if c.id not in have_c or have_c[c.id].to_dict() != c.to_dict()
    ]
    removed_c = [i for i in have_c if i not in want_c]
    have_s = {s.id: s for s in engine.scenarios}
    want_s = {s.id for s in scenarios}
    changed_s = [s for s in scenarios if s.id not in have_s or have_s[s.id] != s]
    removed_s = [i for i in have_s if i not in want_s]
    if removed_c:
        engine.remove_companies(removed_c)
    if changed_c:
        engine.add_companies(changed_c)
    if removed_s:
        engine.remove_scenarios(removed_s)
    if changed_s:
        engine.upsert_scenarios(changed_s)
    return len(changed_c) + len(removed_c) + len(changed_s) + len(removed_s)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(data))
