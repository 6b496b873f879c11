"""The in-process executor: one worker, blocks in order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .executor import BlockProgress


class LocalExecutor:
    name = "local"

    def map(
        self,
        worker_cls: type,
        init_args: tuple[Any, ...],
        blocks: Sequence[Any],
        progress: BlockProgress | None = None,
    ) -> Iterator[tuple[int, Any]]:
        if not blocks:
            return
        worker = worker_cls(*init_args)
        for i, block in enumerate(blocks):
            yield i, worker(block)
            if progress is not None:
                progress(i + 1, len(blocks))

    def close(self) -> None:
        pass
