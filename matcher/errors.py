"""Domain errors. Each message names the problem and, where there is one, the fix."""

from __future__ import annotations

__all__ = [
    "MatcherError",
    "DataError",
    "NotFittedError",
    "UnknownIdError",
    "ScenarioClosedError",
    "ConfigError",
]


class MatcherError(Exception):
    """Base class of every error the engine raises on purpose."""


class DataError(MatcherError, ValueError):
    """Input data is malformed: a missing column, a bad line, duplicate ids, a schema violation."""


class ConfigError(MatcherError, ValueError):
    """A setting has a value the engine does not know."""


class NotFittedError(MatcherError, RuntimeError):
    """The engine was used before ``fit`` or ``load``."""


class UnknownIdError(MatcherError, KeyError):
    """A scenario or company id is not in the engine."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class ScenarioClosedError(MatcherError):
    """The scenario is closed, so it is no longer matched."""
