"""The Ray executor: blocks run in parallel on a pool of actors, each building its worker once
(so every actor loads the encoder or the index a single time, not once per block).

``address`` names an existing cluster (``ray://host:10001`` or ``host:6379``); without it an
already initialised Ray is used, or a local one is started (and shut down by :meth:`close`).
On a real cluster every node must reach the batch folder (index versions, run folder) at the
same path, e.g. a shared file system.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .executor import BlockProgress


class _Indexed:
    """Actor body: one worker per actor; returns results tagged with their block index."""

    def __init__(self, worker_cls: type, init_args: tuple[Any, ...]) -> None:
        self.worker = worker_cls(*init_args)

    def run(self, item: tuple[int, Any]) -> tuple[int, Any]:
        index, block = item
        return index, self.worker(block)


class RayExecutor:
    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        num_workers: int | None = None,
    ) -> None:
        try:
            import ray
        except ImportError as exc:  # the optional extra
            raise ImportError(
                "the Ray executor needs the ray package: pip install 'scenario-matcher[ray]'"
            ) from exc
        self._ray = ray
        self._owned = False
        if not ray.is_initialized():
            ray.init(
                address=address,
                num_cpus=num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
            self._owned = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.num_workers = max(1, num_workers or cpus)

    def map(
        self,
        worker_cls: type,
        init_args: tuple[Any, ...],
        blocks: Sequence[Any],
        progress: BlockProgress | None = None,
    ) -> Iterator[tuple[int, Any]]:
        if not blocks:
            return
        from ray.util import ActorPool

        actor = self._ray.remote(num_cpus=1)(_Indexed)
        n = min(self.num_workers, len(blocks))
        pool = ActorPool([actor.remote(worker_cls, init_args) for _ in range(n)])
        for item in enumerate(blocks):
            pool.submit(lambda a, v: a.run.remote(v), item)
        done = 0
        while pool.has_next():
            index, result = pool.get_next_unordered()
            done += 1
            yield index, result
            if progress is not None:
                progress(done, len(blocks))

    def close(self) -> None:
        if self._owned and self._ray.is_initialized():
            self._ray.shutdown()
            self._owned = False
