"""Seeding an empty database with many firms: multi-row inserts that store exactly what one
``save_company`` per firm would (rows, versions, audit records)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from matcher.catalogue import load_companies
from service import store
from service.db import make_db, migrate, session_factory, transaction
from service.models import AuditRow, CompanyRow, CompanyVersionRow

from ..conftest import FIXTURES, ROOT


def _seeded(url: str, companies, monkeypatch, chunk: int):
    monkeypatch.setattr(store, "SEED_CHUNK", chunk)
    db = make_db(url)
    migrate(db)
    sessions = session_factory(db)
    with transaction(sessions) as s:
        n = store.seed(s, None, companies)
    with sessions() as s:
        rows = {
            r.id: (r.name, r.credit_code, r.name_key, r.current_version)
            for r in s.scalars(select(CompanyRow))
        }
        versions = {
            v.company_id: (v.version, v.profile, v.contact, v.actor)
            for v in s.scalars(select(CompanyVersionRow))
        }
        audits = sorted(
            (a.actor, a.action, a.entity, a.entity_id, str(a.detail))
            for a in s.scalars(select(AuditRow))
        )
        current = store.all_companies(s)
    db.dispose()
    return n, rows, versions, audits, current


def test_bulk_seed_stores_what_one_save_per_firm_stores(db_url, tmp_path, monkeypatch):
    companies = load_companies(FIXTURES / "companies.jsonl")
    companies = [*companies, replace(companies[0], id="EXTRA", credit_code=None, contact=None)]
    bulk = _seeded(db_url, companies, monkeypatch, chunk=3)  # 3 per insert, several chunks
    one_by_one = _seeded(f"sqlite:///{tmp_path / 'ref.db'}", companies, monkeypatch, chunk=10**9)
    assert bulk[0] == (0, len(companies))
    assert bulk[1:] == one_by_one[1:]
    assert {c.id for c in bulk[4]} == {c.id for c in companies}


@pytest.mark.parametrize("clash", ["id", "credit_code"])
def test_a_seed_that_repeats_a_firm_goes_one_by_one(clash, tmp_path, monkeypatch):
    """Repeated ids or credit codes are updates, which only ``save_company`` handles."""
    companies = load_companies(ROOT / "data" / "companies.jsonl")[:12]
    coded = next(c for c in companies if c.credit_code)
    twin = companies[1] if clash == "id" else replace(coded, id="TWIN")
    n, rows, versions, _, _ = _seeded(
        f"sqlite:///{tmp_path / 'x.db'}", [*companies, twin], monkeypatch, chunk=3
    )
    assert n == (0, len(companies) + 1)
    assert len(rows) == len(companies)
