"""The load test's short form: ``bench/http_load.py`` against a real ``matcher serve`` process
on SQLite and PostgreSQL, four clients for a few seconds of mixed queries, searches,
submissions and feedback. No request may fail and every acknowledged write must be readable
afterwards. Speed is measured by the long form (``docs/reliability.md``), never asserted."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ..conftest import FIXTURES, ROOT


@pytest.mark.slow
def test_mixed_load_has_no_errors_and_loses_no_write(db_url, tmp_path, cache_dir):
    out = tmp_path / "load.json"
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "http_load.py"),
        "--clients",
        "4",
        "--seconds",
        "6",
        "--mix",
        "query=0.4,search=0.2,submit=0.2,feedback=0.2",
        "--database-url",
        db_url,
        "--catalogue",
        str(FIXTURES / "catalogue_small.yaml"),
        "--companies",
        str(FIXTURES / "companies.jsonl"),
        "--cache-dir",
        str(cache_dir),
        "--start-limit-s",
        "300",
        "--out",
        str(out),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text("utf-8"))
    assert result["errors"] == 0, result["error_samples"]
    assert result["lost_writes"] == []
    assert set(result["by_kind"]) == {"query", "search", "submit", "feedback"}, result
    written = result["acknowledged_writes"]
    assert written["companies"] == result["by_kind"]["submit"]["requests"] > 0
    assert written["feedback"] == result["by_kind"]["feedback"]["requests"] > 0
