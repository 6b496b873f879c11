"""How a scenario becomes a query: the text it is searched by, what it seeks, and its focus.

Every path that ranks for a scenario (a stored catalogue entry, a ``matcher rank`` input, a
free-text search; live queries, company suggestions, the nightly batch) builds its query here,
once, so they all rank on the same texts:

- ``body``: the normalised text the whole-scenario vector and the TF-IDF row are made of:
  the description and keywords; the title too only with ``title_in_body`` or when there is
  no description (a free-text search is all title). A headline that names who buys
  ("鞋服企业智能工厂改造场景") then no longer outweighs what the text says is sought.
- ``demand``: what the scenario seeks (:mod:`matcher.demand`), shown in explanations.
- ``focus``: the demand (and keywords), encoded alone and added to the body's vector with
  weight ``scenario_focus`` (and to its TF-IDF row with ``lexical_focus``); without a demand
  (extraction off or nothing found) the title and keywords, as before issue 18.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import EngineConfig
from .demand import Demand, DemandExtractor, create_extractor
from .normalise import normalise
from .types import Scenario

__all__ = ["QueryText", "QueryBuilder", "NO_DEMAND"]

NO_DEMAND = Demand("", "", None, ())


@dataclass(frozen=True)
class QueryText:
    """A scenario's query texts, normalised: see the module docstring."""

    body: str
    focus: str
    demand: Demand

    @property
    def matched_text(self) -> str:
        """The scenario side of matched terms: what is sought, or the body without a demand."""
        return normalise(self.demand.sought) if self.demand.found else self.body


class QueryBuilder:
    """Builds :class:`QueryText` for scenarios with one engine's settings."""

    def __init__(self, config: EngineConfig, extractor: DemandExtractor | None = None) -> None:
        self.config = config
        self.extractor = extractor if extractor is not None else create_extractor(config.demand)

    def build(self, s: Scenario) -> QueryText:
        keywords = [normalise(k).strip() for k in s.keywords if normalise(k).strip()]
        title, description = s.title_zh.strip(), s.description_zh.strip()
        parts = [title] if self.config.title_in_body or not description else []
        parts += [description, "、".join(keywords)]
        body = normalise("\n".join(p for p in parts if p))
        demand = (
            self.extractor.extract(title, description, keywords)
            if self.extractor is not None
            else NO_DEMAND
        )
        if demand.found:
            extra = [k for k in keywords if k not in demand.sought]
            focus = normalise(" ".join([demand.sought, *extra]))
        else:
            focus = normalise(" ".join([title, *keywords]))
        return QueryText(body=body, focus=focus.strip(), demand=demand)

    def texts(self, s: Scenario) -> list[str]:
        """The query-role texts this scenario encodes (body, and focus when it is used)."""
        q = self.build(s)
        out = [q.body]
        if self.config.scenario_focus > 0 and q.focus:
            out.append(q.focus)
        return out
