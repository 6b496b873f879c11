"""Access limits: per-key rate limits (a token bucket per key; over it, 429 with Retry-After)
and CORS closed unless configured."""

from __future__ import annotations

import os
import secrets

import pytest

from service.ratelimit import RateLimiter, RedisRateLimiter

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


REDIS_URL = os.environ.get("MATCHER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_or_skip() -> None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except Exception as exc:  # noqa: BLE001 - any failure: no Redis here
        pytest.skip(f"no Redis at {REDIS_URL} ({exc.__class__.__name__}); shared limits untested")


def test_redis_limits_are_shared_by_every_limiter_on_it():
    """Two service processes = two limiters on one Redis: a key allowed 3 a minute gets its
    fourth request refused whichever of them it reaches."""
    _redis_or_skip()
    prefix = f"matcher-test-{secrets.token_hex(4)}"
    a, b = RedisRateLimiter(REDIS_URL, prefix), RedisRateLimiter(REDIS_URL, prefix)
    got = [a.take(7, 3), b.take(7, 3), a.take(7, 3), b.take(7, 3)]
    assert got[:3] == [0.0, 0.0, 0.0] and 1.0 <= got[3] <= 60.0
    assert a.take(8, 3) == 0.0  # another key has its own window
    assert a.state == b.state == "redis"
    alone = RateLimiter()  # without Redis each process would have allowed all four
    assert [alone.take(7, 3) for _ in range(2)] == [0.0, 0.0]


def test_redis_down_counts_per_process_and_says_so():
    now = [0.0]
    down = RedisRateLimiter("redis://127.0.0.1:1/0", timeout_s=0.1, clock=lambda: now[0])
    assert [down.take(1, 2) for _ in range(2)] == [0.0, 0.0]  # the process's own bucket
    assert down.take(1, 2) > 0  # which still limits
    assert down.state.startswith("process (redis unreachable: ")
    now[0] += 11  # tried again after the pause, still down
    down.take(2, 5)
    assert down.state.startswith("process (redis unreachable")


def test_two_apps_on_one_redis_share_a_keys_limit(db_url, tmp_path, cache_dir):
    _redis_or_skip()
    from fastapi.testclient import TestClient

    from service.app import create_app

    from .conftest import make_keys, make_settings

    prefix = f"matcher-test-{secrets.token_hex(4)}"
    apps = [
        create_app(
            make_settings(
                db_url, tmp_path / f"svc{i}", cache_dir, redis_url=REDIS_URL, redis_prefix=prefix
            )
        )
        for i in range(2)
    ]
    with TestClient(apps[0]) as one, TestClient(apps[1]) as two:
        keys = make_keys(one.app)
        assert ok(one.get("/health"))["rate_limits"] == "redis"
        made = ok(
            one.post(
                "/keys",
                json={"role": "recruiter", "name": "shared", "rate_per_min": 3},
                headers=keys.header("admin"),
            ),
            201,
        )
        slow = {"Authorization": f"Bearer {made['key']}"}
        codes = [c.get("/scenarios", headers=slow).status_code for c in (one, two, one, two)]
        assert codes == [200, 200, 200, 429]
        assert int(two.get("/scenarios", headers=slow).headers["retry-after"]) >= 1
