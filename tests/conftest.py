"""Shared fixtures: one real USE encoder and one embedding cache for the whole session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--schemathesis-examples",
        type=int,
        default=50,
        help="valid requests generated per API operation (invalid: half); docs/reliability.md "
        "gives the longer run",
    )


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session")
def small_catalogue():
    from matcher.catalogue import load_catalogue

    return load_catalogue(FIXTURES / "catalogue_small.yaml")


@pytest.fixture(scope="session")
def small_companies():
    from matcher.catalogue import load_companies

    return load_companies(FIXTURES / "companies.jsonl")


@pytest.fixture(scope="session")
def small_engine(small_catalogue, small_companies, cache_dir):
    """The real USE model over the tiny fixture set, fitted once per session."""
    from matcher.engine import Engine

    return Engine(cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies)


@pytest.fixture(scope="session")
def data_catalogue():
    from matcher.catalogue import load_catalogue

    return load_catalogue(ROOT / "data" / "scenarios.yaml")


@pytest.fixture(scope="session")
def data_companies():
    from matcher.catalogue import load_companies

    return load_companies(ROOT / "data" / "companies.jsonl")


@pytest.fixture(scope="session")
def data_engine(data_catalogue, data_companies, cache_dir):
    """The engine over the bundled sample data (about 560 firms), fitted once per session."""
    from matcher.engine import Engine

    return Engine(cache_dir=cache_dir).fit(data_catalogue.opportunities, data_companies)
