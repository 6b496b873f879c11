"""scenario-matcher: match a zone's investment scenarios with company profiles, with reasons."""

from .catalogue import Catalogue, load_catalogue, load_companies, load_scenarios_jsonl
from .config import (
    ConstraintConfig,
    EncoderConfig,
    EngineConfig,
    FusionConfig,
    IndexConfig,
    LexicalConfig,
)
from .constraints import Controls, Filters
from .engine import Engine
from .errors import (
    ConfigError,
    DataError,
    MatcherError,
    NotFittedError,
    ScenarioClosedError,
    UnknownIdError,
)
from .types import Company, Composite, Explanation, IndustryRelation, Match, Scenario

__all__ = [
    "Catalogue",
    "Company",
    "Composite",
    "ConfigError",
    "ConstraintConfig",
    "DataError",
    "EncoderConfig",
    "Engine",
    "EngineConfig",
    "Explanation",
    "Controls",
    "Filters",
    "FusionConfig",
    "IndexConfig",
    "IndustryRelation",
    "LexicalConfig",
    "Match",
    "MatcherError",
    "NotFittedError",
    "Scenario",
    "ScenarioClosedError",
    "UnknownIdError",
    "load_catalogue",
    "load_companies",
    "load_scenarios_jsonl",
]
