"""The Ray executor runs the same job in many blocks on an actor pool and gets the same
snapshot as the local executor."""

from __future__ import annotations

import pytest

from matcher.batch import BatchConfig, BatchInput, create_executor, run_nightly

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_ray_and_local_give_the_same_snapshot(
    local_ray, tmp_path, small_catalogue, small_companies
):
    cfg = BatchConfig(top_n=5, top_m=2, block_size=1, encode_block=200, candidates=12)
    data = BatchInput(list(small_catalogue.opportunities), list(small_companies))
    # cold caches on both sides, so the encode stage has work in blocks too
    local = run_nightly(data, tmp_path / "local", tmp_path / "lm", tmp_path / "lc", cfg)
    executor = create_executor("ray")
    try:
        assert executor.num_workers == 2
        distributed = run_nightly(
            data, tmp_path / "ray", tmp_path / "rm", tmp_path / "rc", cfg, executor=executor
        )
    finally:
        executor.close()
    assert ray.is_initialized()  # the executor leaves a Ray it did not start running
    assert distributed.content_hash == local.content_hash
    assert distributed.stages["rerank"]["blocks"] == len(small_companies) >= 8
    assert distributed.stages["encode"]["blocks"] >= 8
    assert distributed.stages["encode"]["encoded"] == local.stages["encode"]["encoded"] > 0


def test_unknown_executor_is_named():
    with pytest.raises(ValueError, match="local, ray"):
        create_executor("spark")
