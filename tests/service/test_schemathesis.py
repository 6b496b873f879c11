"""Property-based API testing: schemathesis generates requests from ``/openapi.json`` for every
operation, as every role, against a real server on loopback. No response may be a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from .conftest import live_server, make_keys, make_settings


@pytest.fixture(scope="module")
def live(db_url, tmp_path_factory, cache_dir):
    from service.app import create_app

    app = create_app(make_settings(db_url, tmp_path_factory.mktemp("live"), cache_dir))
    with live_server(app) as base:
        yield base, make_keys(app), app


def _run_operation(op, mode, examples: int, base: str, keys) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case) -> None:
        if case.path == "/keys/{key_id}" and case.method == "DELETE":
            case.path_parameters["key_id"] = 10_000_000  # keep the keys this test runs on
        for role in ("admin", "recruiter", "company", None):
            response = case.call(base_url=base, headers=keys.header(role), timeout=60)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} as {role}: {response.status_code} "
                f"{response.text[:300]}\n{case.as_curl_command()}"
            )

    run()


@pytest.mark.slow
def test_no_server_errors_for_any_operation_or_role(live, request):
    """``--schemathesis-examples`` valid (default 50) and half as many invalid requests per
    operation, each sent as every role and without a key."""
    examples = request.config.getoption("--schemathesis-examples")
    base, keys, _ = live
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    failures = []
    for op in operations:
        for mode, n in (
            (GenerationMode.POSITIVE, examples),
            (GenerationMode.NEGATIVE, examples // 2),
        ):
            try:
                _run_operation(op, mode, n, base, keys)
            except Unsatisfiable:
                # nothing to get wrong (e.g. GET /health has no parameters): no invalid request
                assert mode == GenerationMode.NEGATIVE, op.label
            except AssertionError as exc:
                failures.append(str(exc).splitlines()[0] + "\n" + str(exc)[-600:])
    assert not failures, "\n\n".join(failures)
