"""Access limits: per-key rate limits (a token bucket per key; over it, 429 with Retry-After)
and CORS closed unless configured."""

from __future__ import annotations

import pytest

from service.ratelimit import RateLimiter

from .test_scenarios import ok


def test_bucket_allows_a_burst_then_refills_at_the_rate():
    now = [100.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.take(1, 6) for _ in range(6)] == [0.0] * 6  # a minute's worth at once
    assert limiter.take(1, 6) == pytest.approx(10.0)  # one request per 10 s after that
    assert limiter.take(2, 6) == 0.0  # keys have their own buckets
    now[0] += 10.0
    assert limiter.take(1, 6) == 0.0
    assert limiter.take(1, 6) == pytest.approx(10.0)
    now[0] += 3600
    assert [limiter.take(1, 6) for _ in range(7)][-2:] == [0.0, pytest.approx(10.0)]  # capped


def test_a_key_over_its_limit_gets_429_and_others_do_not(client, keys):
    made = ok(
        client.post(
            "/keys",
            json={"role": "recruiter", "name": "slow", "rate_per_min": 3},
            headers=keys.header("admin"),
        ),
        201,
    )
    assert made["rate_per_min"] == 3
    slow = {"Authorization": f"Bearer {made['key']}"}
    codes = [client.get("/scenarios", headers=slow).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.get("/scenarios", headers=slow)
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 20
    assert "3 requests a minute" in r.json()["detail"]["message"]
    assert client.get("/scenarios", headers=keys.header("recruiter")).status_code == 200
    listed = ok(client.get("/keys", headers=keys.header("admin")))["data"]
    assert next(k for k in listed if k["id"] == made["id"])["rate_per_min"] == 3
    bad = client.post(
        "/keys", json={"role": "recruiter", "rate_per_min": 0}, headers=keys.header("admin")
    )
    assert bad.status_code == 422


@pytest.mark.parametrize("allowed", [[], ["https://zone.example"]])
def test_cors_is_closed_unless_an_origin_is_configured(allowed, tmp_path, cache_dir):
    """No CORS headers for any origin by default; with MATCHER_CORS_ORIGINS, only the listed
    origins get them (a preflight from another origin is not allowed)."""
    from fastapi.testclient import TestClient

    from service.app import create_app

    from .conftest import make_settings

    settings = make_settings(f"sqlite:///{tmp_path / 'm.db'}", tmp_path, cache_dir)
    settings = settings.model_copy(update={"cors_origins": allowed})
    with TestClient(create_app(settings)) as client:
        for origin in ("https://evil.example", "https://zone.example"):
            pre = client.options(
                "/scenarios",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Headers": "Authorization",
                },
            )
            got = client.get("/health", headers={"Origin": origin})
            ok_origin = origin in allowed
            assert (pre.headers.get("access-control-allow-origin") == origin) is ok_origin
            assert (got.headers.get("access-control-allow-origin") == origin) is ok_origin
            assert got.headers.get("access-control-allow-origin") in (None, origin)
