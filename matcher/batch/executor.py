"""Executors run a worker over blocks of work: locally, or on a distributed engine (Ray).

A worker is a class built once per worker process from picklable arguments (so an expensive
model loads once per worker, not once per block) and called once per block. Every executor
yields ``(block index, result)`` pairs; the job puts them in block order, so the result does not
depend on which executor ran it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

__all__ = ["Executor", "create_executor", "EXECUTORS"]

BlockProgress = Callable[[int, int], None]


class Executor(Protocol):
    name: str

    def map(
        self,
        worker_cls: type,
        init_args: tuple[Any, ...],
        blocks: Sequence[Any],
        progress: BlockProgress | None = None,
    ) -> Iterator[tuple[int, Any]]: ...

    def close(self) -> None: ...


EXECUTORS = ("local", "ray")


def create_executor(name: str, **options: Any) -> Executor:
    """``local`` (this process) or ``ray`` (``address=`` an existing cluster, or a local one)."""
    if name == "local":
        from .local import LocalExecutor

        return LocalExecutor()
    if name == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(**options)
    raise ValueError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
