"""Realistic synthetic company profiles at any scale, from the bundled sample's distribution.

Each synthetic firm takes one of the 572 sample profiles as its pattern and varies what varies
between real firms of one kind: the trade name, the city, every figure (capacity, staff,
years, money), the order of its sentences and which of them it mentions. Texts stay in the
sample's mix of simplified, traditional and English, so encoding cost and similarity structure
match the real data; no two profiles are identical. Deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_NUM = re.compile(r"\d+(?:\.\d+)?")
_SPLIT = re.compile(r"(?<=[。；！？.!?])\s*")
TRADE = "恒信澜拓鑫源华泰宏达瑞丰凯盛博远中科嘉禾天成永安同创致远汇通融创东方南方海峡闽南鲲鹏星辰"
CITIES = [
    "晋江市",
    "泉州市",
    "厦门市",
    "福州市",
    "上海市",
    "深圳市",
    "杭州市",
    "苏州市",
    "广州市",
    "宁波市",
    "莆田市",
    "漳州市",
    "南京市",
    "成都市",
    "武汉市",
    "北京市",
]
CITY_WEIGHTS = [18, 12, 7, 4, 6, 6, 5, 5, 4, 4, 3, 3, 3, 3, 3, 4]


def _vary_number(m: re.Match[str], rng: random.Random) -> str:
    text = m.group(0)
    if len(text) == 4 and text.isdigit() and text.startswith(("19", "20")):  # a year
        return str(min(2025, max(1985, int(text) + rng.randint(-6, 6))))
    value = float(text) * rng.uniform(0.5, 1.8)
    return f"{value:.1f}" if "." in text else str(max(1, round(value)))


def synthesize(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    rows = [
        json.loads(line)
        for line in (ROOT / "data" / "companies.jsonl").read_text("utf-8").splitlines()
    ]
    rng = random.Random(seed)
    for i in range(n):
        base = dict(rows[i % len(rows)])
        sentences = [s for s in _SPLIT.split(base["description"]) if s.strip()]
        if len(sentences) > 3:
            head, rest = sentences[:1], sentences[1:]
            rng.shuffle(rest)
            sentences = head + rest[: max(2, len(rest) - rng.randint(0, 2))]
        desc = "".join(sentences) if not base["description"].isascii() else " ".join(sentences)
        desc = _NUM.sub(lambda m: _vary_number(m, rng), desc)
        trade = "".join(rng.sample(TRADE, 2))
        name = (
            re.sub(
                r"^(.{2,3}?)(市)?(.{2})",
                lambda m, trade=trade: m.group(1) + (m.group(2) or "") + trade,
                base["name"],
                count=1,
            )
            if not base["name"].isascii()
            else (f"{trade} {base['name']}")
        )
        city = (
            rng.choices(CITIES, CITY_WEIGHTS)[0] if not base["name"].isascii() else base.get("city")
        )
        cap = base.get("registered_capital_wan")
        yield {
            **base,
            "id": f"B{i:07d}",
            "name": name,
            "description": desc,
            "city": city,
            "credit_code": None,
            "contact": None,
            "registered_capital_wan": round(cap * rng.uniform(0.3, 3.0), 1) if cap else cap,
        }
