"""Read the generator's data tables (``tables/<name>.json``).

The archetypes, phrase pools and lookups are data, kept out of the code so they can be edited
and reviewed as such. JSON keeps list and key order, which the seeded draws depend on; the
modules that read a table turn lists back into the tuples and sets they had as literals.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TABLES = Path(__file__).resolve().parent / "tables"


def load(name: str) -> dict[str, Any]:
    """The parsed ``tables/<name>.json`` (a fresh copy on each call)."""
    data: dict[str, Any] = json.loads((TABLES / f"{name}.json").read_text(encoding="utf-8"))
    return data
