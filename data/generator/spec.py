"""A compact way to write archetypes: lists as '、'-separated (zh) or ';'-separated (en) strings.

The archetypes themselves are in ``tables/`` (one entry per :func:`A` / :func:`L` call);
:func:`load_specs` reads them.
"""

from __future__ import annotations

from typing import Any

from tableio import load


def _zh(s: str) -> list[str]:
    return [x.strip() for x in s.split("、") if x.strip()] if s else []


def _alt(s: str) -> list[str]:
    return [x.strip() for x in s.split("|") if x.strip()] if s else []


def _en(s: str) -> list[str]:
    return [x.strip() for x in s.split(";") if x.strip()] if s else []


def A(
    sc: str | None,
    key: str,
    *,
    ind: str,
    kind: str,
    biz: str,
    prod: str,
    cust: str,
    tech: str = "",
    feat: str = "",
    cap: str = "",
    plan: str = "",
    codes: str = "",
    pos: str | None = None,
    scale: str = "s m",
    certs: str = "",
    sib: str = "",
    space: tuple[int, int] | None = None,
    cities: str = "",
    short: str = "",
    big: bool = False,
    role: str = "core",
    zero: str = "",
    en: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One archetype. ``role``: core (grade 2), partial (grade 1), near_miss, distractor.

    ``zero``: for near misses, extra scenarios (besides ``sc``) whose keywords the firm shares.
    """
    spec: dict[str, Any] = {
        "sc": sc,
        "key": key,
        "role": role,
        "ind": _alt(ind),
        "kind": _alt(kind),
        "biz": _alt(biz),
        "prod": _zh(prod),
        "tech": _zh(tech),
        "feat": _zh(feat),
        "cust": _zh(cust),
        "cap": _alt(cap),
        "plan": _alt(plan),
        "codes": codes.split(),
        "pos": pos,
        "scale": scale.split(),
        "certs": certs.split(),
        "sib": sib.split(),
        "space": space,
        "cities": cities.split(),
        "short": _alt(short),
        "big": big,
        "zero": zero.split(),
        "en": None,
    }
    if en:
        spec["en"] = {
            "ind": _en(en["ind"]),
            "kind": _en(en["kind"]),
            "biz": _en(en["biz"]),
            "prod": _en(en["prod"]),
            "tech": _en(en.get("tech", "")),
            "cust": _en(en["cust"]),
            "cap": _alt(en.get("cap", "")),
            "plan": _alt(en.get("plan", "")),
            "foreign": en.get("foreign", []),
        }
    return spec


def L(
    sc: str,
    key: str,
    *,
    ind: str,
    kind: str,
    intro: str,
    extra: str,
    prod: str,
    cust: str,
    plan: str,
    codes: str,
    pos: str | None,
    ban: str,
    scale: str = "xs s",
    certs: str = "",
    space: tuple[int, int] | None = None,
    sib: str = "",
) -> dict[str, Any]:
    """A firm described in everyday words (hard case b): ``intro``/``extra`` are hand written.

    ``ban`` lists words (beyond the scenario's keywords) the rendered profile must not contain.
    """
    return {
        "sc": sc,
        "key": key,
        "role": "lay",
        "ind": _alt(ind),
        "kind": _alt(kind),
        "intro": _alt(intro),
        "extra": _alt(extra),
        "prod": _zh(prod),
        "cust": _zh(cust),
        "plan": _alt(plan),
        "codes": codes.split(),
        "pos": pos,
        "ban": _zh(ban),
        "scale": scale.split(),
        "certs": certs.split(),
        "space": space,
        "sib": sib.split(),
        "cities": [],
        "short": [],
        "big": False,
        "zero": [],
        "en": None,
        "tech": [],
        "feat": [],
        "cap": [],
        "biz": [],
    }


# The canonical certification names (the order the generator lists them in a profile).
CANON_CERTS: tuple[str, ...] = tuple(load("spec")["canon_certs"])


def load_specs(table: str, group: str) -> list[dict[str, Any]]:
    """The archetypes of ``group`` in ``tables/<table>.json``, in file order.

    Each entry holds the arguments of one :func:`A` call (:func:`L` for the ``lay`` group),
    in the compact notation above; ``space`` and the ``foreign`` (name, city) pairs become
    tuples again.
    """
    make = L if group == "lay" else A
    out = []
    for entry in load(table)[group]:
        kw = dict(entry)
        if kw.get("space") is not None:
            kw["space"] = tuple(kw["space"])
        if kw.get("en") and "foreign" in kw["en"]:
            kw["en"] = {**kw["en"], "foreign": [tuple(f) for f in kw["en"]["foreign"]]}
        out.append(make(**kw))
    return out
