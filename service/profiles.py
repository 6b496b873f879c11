"""Profile changes: which fields a write carries, and how they merge into the stored profile.

One rule for every route that changes a firm (``POST /companies`` with a registered credit
code, ``PUT /companies/{id}``, a CSV/XLSX import row, the company portal): a field the write
does not carry stays as it is; a field it carries as ``None`` (JSON ``null``, the import token
:data:`CLEAR`, an emptied portal input) is cleared; any other value replaces the stored one.
Contact data merges the same way, field by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from matcher.catalogue import company_from_dict
from matcher.types import Company

# written in a CSV/XLSX cell, clears the field (an empty cell leaves it unchanged)
CLEAR = "(清空)"
CLEAR_TOKENS = frozenset({CLEAR, "（清空）", "(clear)"})
CONTACT_FIELDS = ("name", "phone", "email")
PROFILE_FIELDS = tuple(f.name for f in fields(Company) if f.name not in ("id", "contact"))
REQUIRED = ("name", "description")
_LISTS = ("products", "industry_codes", "certifications")


@dataclass(frozen=True)
class ProfilePatch:
    """The fields one write carries. ``profile``: field → new value, ``None`` clears it;
    ``contact``: contact field → new value, ``None`` or ``""`` clears it."""

    profile: Mapping[str, Any] = field(default_factory=dict)
    contact: Mapping[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.profile) - set(PROFILE_FIELDS)
        unknown |= {f"contact.{k}" for k in set(self.contact) - set(CONTACT_FIELDS)}
        if unknown:
            raise ValueError(f"unknown profile fields {sorted(unknown)}")

    @classmethod
    def of_company(cls, company: Company) -> ProfilePatch:
        """Every field of ``company`` (a full profile, as the seed data gives)."""
        profile = company.to_dict()
        profile.pop("id", None)
        profile.pop("contact", None)
        return cls(profile, {k: (company.contact or {}).get(k) for k in CONTACT_FIELDS})

    @property
    def credit_code(self) -> str | None:
        code = self.profile.get("credit_code")
        return str(code) if code else None

    @property
    def name(self) -> str | None:
        name = self.profile.get("name")
        return str(name) if name else None

    def missing_required(self) -> list[str]:
        """Required fields a new firm made from this patch would lack."""
        return [k for k in REQUIRED if not self.profile.get(k)]


def empty_profile() -> dict[str, Any]:
    """The stored form of a profile with every optional field unset."""
    return {k: ([] if k in _LISTS else None) for k in PROFILE_FIELDS}


@dataclass(frozen=True)
class Merged:
    profile: dict[str, Any]
    contact: dict[str, str] | None
    changed: tuple[str, ...]  # field names, contact fields as ``contact.email``


def merge(
    profile: Mapping[str, Any] | None, contact: Mapping[str, Any] | None, patch: ProfilePatch
) -> Merged:
    """The stored profile and contact after ``patch``, and which fields it changed."""
    old = {**empty_profile(), **(profile or {})}
    new = dict(old)
    for k, v in patch.profile.items():
        if v is None:
            new[k] = [] if k in _LISTS else None
        else:
            new[k] = list(v) if k in _LISTS else v
    # the stored form is what Company.to_dict gives (tuples as lists, floats as floats)
    new_company = company_from_dict({**new, "id": "_"}).to_dict()
    new_company.pop("id", None)
    new_company.pop("contact", None)
    changed = [k for k in PROFILE_FIELDS if new_company.get(k) != old.get(k)]
    old_contact = {k: str(v) for k, v in (contact or {}).items() if v}
    new_contact = dict(old_contact)
    for k, v in patch.contact.items():
        if v:
            new_contact[k] = v
        else:
            new_contact.pop(k, None)
    changed += [f"contact.{k}" for k in CONTACT_FIELDS if new_contact.get(k) != old_contact.get(k)]
    ordered = {k: new_contact[k] for k in CONTACT_FIELDS if k in new_contact}
    return Merged(new_company, ordered or None, tuple(changed))
