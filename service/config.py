"""Service settings: ``MATCHER_`` environment variables or a ``.env`` file (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service reads from its environment, with working defaults."""

    model_config = SettingsConfigDict(env_prefix="MATCHER_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///var/matcher.db",
        description="SQLAlchemy URL; postgresql+psycopg://user@host/db for PostgreSQL",
    )
    index_dir: Path = Field(Path("var/service-index"), description="derived vector index folder")
    cache_dir: Path = Field(Path("var/cache"), description="embedding cache folder")
    seed_catalogue: Path | None = Field(
        Path("data/scenarios.yaml"), description="catalogue loaded into an empty database"
    )
    seed_companies: Path | None = Field(
        Path("data/companies.jsonl"), description="profiles loaded into an empty database"
    )
    encoder: str = Field(
        "use", description="engine encoder for a new index (use, e5, e5-nano, use+e5)"
    )
    max_body_bytes: int = Field(1_000_000, ge=1024, description="largest JSON request body")
    max_upload_bytes: int = Field(
        50_000_000, ge=1024, description="largest uploaded file (catalogue, CSV/XLSX import)"
    )
    max_import_rows: int = Field(100_000, ge=1, description="most rows in one bulk import")
    max_top_k: int = Field(200, ge=1, le=10_000, description="largest page of matches")
    table_rows: int = Field(
        200,
        ge=1,
        le=10_000,
        description="ranked firms a scenario page's table sorts and pages through",
    )
    max_export_rows: int = Field(
        1000, ge=1, le=100_000, description="most rows one export holds (the filtered ranking)"
    )
    stale_days: int = Field(
        14,
        ge=1,
        le=3650,
        description="a pair whose stage has not changed for this many days is flagged stale",
    )
    save_delay_s: float = Field(
        2.0, ge=0, description="seconds after a write before the index is saved to disk"
    )
    batch_dir: Path = Field(Path("var/batch"), description="nightly runs, indexes, snapshots")
    models_dir: Path = Field(Path("models/ltr"), description="learned rankers, one per version")
    batch_top_n: int = Field(50, ge=1, le=10_000, description="firms kept per scenario")
    batch_top_m: int = Field(5, ge=1, le=1000, description="scenarios kept per firm")
    batch_block_size: int = Field(2000, ge=1, description="firms per block of the nightly job")
    batch_max_scenarios_per_firm: int | None = Field(
        None, ge=1, description="cap on how many scenarios' top N one firm may hold"
    )
    batch_fault: str | None = Field(
        None, description="tests only: 'stage:point' where a nightly run stops and waits"
    )
    redis_url: str | None = Field(
        None,
        description="Redis for rate limits shared by every service process (redis://host:6379/0);"
        " unset: each process counts its own",
    )
    redis_prefix: str = Field(
        "matcher", description="Redis key prefix: one per deployment sharing a Redis server"
    )
    rate_limit: int = Field(
        1200, ge=1, le=1_000_000, description="requests per minute per API key (keys may differ)"
    )
    heavy_per_key: int = Field(
        2,
        ge=1,
        le=1000,
        description="heavy requests (exports, imports, catalogue uploads, large searches) one "
        "API key may have in progress at once; more get 429 with Retry-After",
    )
    heavy_total: int = Field(
        8, ge=1, le=10_000, description="heavy requests in progress at once, all keys together"
    )
    heavy_results: int = Field(
        100,
        ge=1,
        description="a search or ranking asking for more results than this (top_k × page) "
        "counts as heavy",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="origins allowed by CORS (closed when empty)"
    )
    session_hours: float = Field(
        8.0, gt=0, le=24 * 30, description="how long a web UI sign-in lasts"
    )
    cookie_secure: bool = Field(
        True,
        description="mark the UI session cookie Secure (HTTPS only; browsers accept it on "
        "http://localhost). Set false only for a plain-HTTP intranet you trust",
    )

    @field_validator("encoder")
    @classmethod
    def _known_encoder(cls, v: str) -> str:
        """An unknown encoder fails at start, naming the choices (not at the first encode)."""
        from matcher.config import EncoderConfig
        from matcher.errors import ConfigError

        try:
            EncoderConfig(name=v)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return v

    @field_validator("seed_catalogue", "seed_companies", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if v in ("", "none", "None") else v

    @property
    def state_file(self) -> Path:
        """Which data version the saved index reflects (written after each save)."""
        return self.index_dir.with_name(self.index_dir.name + ".state.json")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
