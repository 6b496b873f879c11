"""Filterable firm fields as columns, so a recruiter's filter is vectorised, not a Python loop.

Rows are the engine's integer firm ids. A filter over a million firms is a handful of numpy
comparisons (milliseconds) instead of a million calls of
:func:`~matcher.constraints.passes_filters` (about a second); the result is the same set, which
the tests check against that function.

A firm's city is stored as a code of the form it was written in; each form knows the
divisions it belongs to (:func:`matcher.places.resolve`: itself and its ancestors), so a city
filter is one lookup table over the forms, indexed by every row's code: ``晋江``, ``晉江市``
and ``Jinjiang`` pass the same firms, and ``泉州`` passes them too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .constraints import Filters
from .places import resolve
from .types import Company

__all__ = ["FilterColumns"]

_MAX_CERT_BITS = 64
_FEW_FORMS = 6


class FilterColumns:
    """Growable per-firm arrays for every field :class:`~matcher.constraints.Filters` tests."""

    def __init__(self) -> None:
        self._size = 0
        self.alive = np.zeros(0, dtype=bool)
        self._city = np.zeros(0, dtype=np.int32)
        self._chain = np.zeros(0, dtype=np.int32)
        self._capital = np.zeros(0, dtype=np.float64)
        self._space = np.zeros(0, dtype=np.float64)
        self._has_space = np.zeros(0, dtype=bool)
        self._cert_bits = np.zeros(0, dtype=np.uint64)
        self._city_codes: dict[str, int] = {}  # the city as written (stripped) → its form code
        self._place_forms: dict[str, set[int]] = {}  # division or unknown-place id → form codes
        self._forms_placed = 0  # forms resolved into _place_forms (on the first city filter)
        self._chain_codes: dict[str, int] = {}
        self._cert_bit: dict[str, int] = {}
        self._cert_rows: dict[str, set[int]] = {}  # certificates beyond the 64 bits
        self._code_rows: dict[str, set[int]] = {}
        self._row_codes: dict[int, tuple[str, ...]] = {}
        self._row_certs: dict[int, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return int(self.alive[: self._size].sum())

    @property
    def size(self) -> int:
        """One more than the highest row ever set (the length of :meth:`mask`)."""
        return self._size

    def _grow(self, row: int) -> None:
        if row < len(self.alive):
            self._size = max(self._size, row + 1)
            return
        cap = max(1024, 2 * len(self.alive), row + 1)
        for name in ("alive", "_city", "_chain", "_capital", "_space", "_has_space", "_cert_bits"):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)
        self._size = row + 1

    def put(self, row: int, company: Company, codes: Sequence[str]) -> None:
        """Store (or replace) the firm at ``row``; ``codes`` are its (possibly inferred) codes."""
        if row in self._row_codes:
            self.drop(row)
        self._grow(row)
        self.alive[row] = True
        self._city[row] = self._city_code(company.city)
        chain = company.chain_position
        if chain is None:
            self._chain[row] = -1
        else:
            self._chain[row] = self._chain_codes.setdefault(chain, len(self._chain_codes))
        self._capital[row] = company.registered_capital_wan or 0
        space = company.space_needed_m2
        self._has_space[row] = space is not None
        self._space[row] = math.nan if space is None else space
        bits = 0
        certs = tuple(dict.fromkeys(company.certifications))
        for cert in certs:
            bit = self._cert_bit.get(cert)
            if bit is None and len(self._cert_bit) < _MAX_CERT_BITS:
                bit = self._cert_bit[cert] = len(self._cert_bit)
            if bit is None:
                self._cert_rows.setdefault(cert, set()).add(row)
            else:
                bits |= 1 << bit
        self._cert_bits[row] = np.uint64(bits)
        self._row_certs[row] = certs
        self._row_codes[row] = tuple(codes)
        for code in set(codes):
            self._code_rows.setdefault(code, set()).add(row)

    def _city_code(self, city: str | None) -> int:
        written = (city or "").strip()
        code = self._city_codes.get(written)
        if code is None:
            code = self._city_codes[written] = len(self._city_codes)
        return code

    def _place_new_forms(self) -> None:
        # resolved when a city filter first needs them, so a process that never filters by
        # city never loads the division table
        forms = list(self._city_codes.items())[self._forms_placed :]
        for written, code in forms:
            if written:
                for member in resolve(written).members:
                    self._place_forms.setdefault(member, set()).add(code)
        self._forms_placed += len(forms)

    def _city_mask(self, city: str) -> np.ndarray:
        if self._forms_placed < len(self._city_codes):
            self._place_new_forms()
        forms: set[int] = set()
        for member in resolve(city).required:
            forms |= self._place_forms.get(member, set())
        codes = self._city[: self._size]
        if len(forms) <= _FEW_FORMS:  # a few comparisons beat a gather (1M rows: 0.3 vs 2.5 ms)
            mask = np.zeros(self._size, dtype=bool)
            for form in forms:
                mask |= codes == form
            return mask
        lut = np.zeros(len(self._city_codes), dtype=bool)
        lut[np.fromiter(forms, dtype=np.int64, count=len(forms))] = True
        return np.take(lut, codes)

    def drop(self, row: int) -> None:
        """Forget the firm at ``row`` (no-op when absent)."""
        codes = self._row_codes.pop(row, None)
        if codes is None:
            return
        self.alive[row] = False
        for code in set(codes):
            rows = self._code_rows.get(code)
            if rows is not None:
                rows.discard(row)
                if not rows:
                    del self._code_rows[code]
        for cert in self._row_certs.pop(row, ()):
            rows = self._cert_rows.get(cert)
            if rows is not None:
                rows.discard(row)

    def _rows_mask(self, rows: set[int]) -> np.ndarray:
        mask = np.zeros(self._size, dtype=bool)
        if rows:
            mask[np.fromiter(rows, dtype=np.int64, count=len(rows))] = True
        return mask

    def mask(self, f: Filters) -> np.ndarray:
        """Boolean mask over rows: alive and passing every filter in ``f``."""
        n = self._size
        m = self.alive[:n].copy()
        if f.industry_prefix:
            rows: set[int] = set()
            for code, members in self._code_rows.items():
                if code.startswith(f.industry_prefix):
                    rows |= members
            m &= self._rows_mask(rows)
        if f.city and f.city.strip():
            m &= self._city_mask(f.city)
        if f.min_capital_wan is not None:
            m &= ~(self._capital[:n] < f.min_capital_wan)
        if f.space_min_m2 is not None:
            m &= self._has_space[:n] & ~(self._space[:n] < f.space_min_m2)
        if f.space_max_m2 is not None:
            m &= self._has_space[:n] & ~(self._space[:n] > f.space_max_m2)
        if f.chain_position:
            chain = self._chain_codes.get(f.chain_position)
            m &= self._chain[:n] == (-2 if chain is None else chain)
        for cert in dict.fromkeys(f.certifications):
            bit = self._cert_bit.get(cert)
            if bit is None:
                m &= self._rows_mask(self._cert_rows.get(cert, set()))
            else:
                m &= (self._cert_bits[:n] & np.uint64(1 << bit)) != 0
        return m
