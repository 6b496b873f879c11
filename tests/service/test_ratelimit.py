"""Per-key rate limits: a token bucket per key; over the limit, 429 with Retry-After."""

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
