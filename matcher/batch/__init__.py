"""The nightly batch: incremental encoding, index rebuild, learning to rank, full re-ranking,
snapshots and diffs; run locally or on Ray through the same code path."""

from .executor import EXECUTORS, Executor, create_executor
from .job import STAGES, BatchConfig, BatchInput, BatchResult, current_pointer, run_nightly
from .snapshot import diff_snapshots, read_snapshot

__all__ = [
    "EXECUTORS",
    "STAGES",
    "BatchConfig",
    "BatchInput",
    "BatchResult",
    "Executor",
    "create_executor",
    "current_pointer",
    "diff_snapshots",
    "read_snapshot",
    "run_nightly",
]
