"""Bulk company import from CSV or XLSX: rows validated one by one, with a per-row report.

CSV may be UTF-8 (with or without BOM), UTF-16 or UTF-32 with a BOM (Excel's "Unicode text"),
GB18030 (what Chinese Excel saves) or Big5 (traditional Chinese); any other encoding
(Shift-JIS, EUC-KR, Windows-1252, ...) is refused, not stored as mojibake. Comma-, tab- or
semicolon-separated. Headers may be the field names or their Chinese labels (simplified or
traditional). XLSX files are checked before openpyxl opens them (entry count, a fixed cap on
the uncompressed size, each entry's ratio, cells per row and per part), so a zip bomb is
refused rather than expanded; only the header's columns are read.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from .errors import Invalid
from .profiles import CLEAR_TOKENS

ALIASES = {
    "企业id": "id",
    "编号": "id",
    "企业名称": "name",
    "名称": "name",
    "公司名称": "name",
    "企业简介": "description",
    "简介": "description",
    "主营业务": "description",
    "统一社会信用代码": "credit_code",
    "信用代码": "credit_code",
    "主要产品": "products",
    "产品": "products",
    "行业代码": "industry_codes",
    "城市": "city",
    "所在城市": "city",
    "成立年份": "founded",
    "注册资本(万元)": "registered_capital_wan",
    "注册资本（万元）": "registered_capital_wan",
    "员工人数": "employees",
    "资质": "certifications",
    "资质认证": "certifications",
    "是否上市": "listed",
    "意向投资(亿元)": "intended_investment_yi",
    "意向投资（亿元）": "intended_investment_yi",
    "需求面积(平方米)": "space_needed_m2",
    "需求面积（平方米）": "space_needed_m2",
    "产业链位置": "chain_position",
    "联系人": "contact_name",
    "电话": "contact_phone",
    "邮箱": "contact_email",
}
FIELDS = {
    "id",
    "name",
    "description",
    "credit_code",
    "products",
    "industry_codes",
    "city",
    "founded",
    "registered_capital_wan",
    "employees",
    "certifications",
    "listed",
    "intended_investment_yi",
    "space_needed_m2",
    "chain_position",
    "contact_name",
    "contact_phone",
    "contact_email",
}
LISTS = ("products", "industry_codes", "certifications")
INTS = ("founded", "employees")
FLOATS = ("registered_capital_wan", "intended_investment_yi", "space_needed_m2")
XLSX_MAX_ENTRIES = 10_000
# Limits that hold whatever the upload's size (a padded upload must not buy a larger
# allowance): what the workbook unpacks to, how much one entry may expand (real sheets
# deflate 10-20×; zeros deflate 1000×), what the parts openpyxl parses besides the sheet
# (styles, workbook) may hold, and how many cells are parsed.
XLSX_MAX_UNPACKED = 100_000_000
XLSX_MAX_RATIO = 100  # per entry of more than XLSX_RATIO_FROM bytes
XLSX_RATIO_FROM = 1_000_000
XLSX_MAX_PART = 10_000_000  # an XML part other than worksheets and shared strings
XLSX_MAX_COLUMNS = 200  # header width read; cells right of the header are not read
XLSX_MAX_ROW_CELLS = 1_000  # cells one row of the sheet may hold, empty ones included
XLSX_CELLS_PER_ROW = 30  # cells (and shared strings) a part may hold: this × rows allowed
XLSX_MAX_ROW_INDEX = 1_048_576  # Excel's last row


def _column(header: str) -> str | None:
    from matcher.normalise import to_simplified

    h = to_simplified((header or "").strip().lstrip("\ufeff"))  # 企業名稱 is 企业名称
    key = h.lower()
    if key in FIELDS:
        return key
    return ALIASES.get(h) or ALIASES.get(key)


_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


ACCEPTED_ENCODINGS = (
    "UTF-8 (with or without BOM), UTF-16 or UTF-32 with a byte-order mark, GB18030 (GBK) or Big5"
)
# what charset-normalizer weighs a file against: the accepted encodings and those a file that
# decodes under GB18030 or Big5 as mojibake is likely to be in (Japanese, Korean, Western and
# Cyrillic Excel exports)
_DETECT = [
    "gb18030",
    "big5",
    "shift_jis",
    "cp932",
    "euc_jp",
    "euc_kr",
    "cp949",
    "cp1252",
    "latin_1",
    "cp1250",
    "cp1251",
    "koi8_r",
    "iso8859_15",
]
_CHINESE = {"gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030"}
_CHINESE |= {"big5": "big5", "cp950": "big5", "big5hkscs": "big5"}
_NAMES = {
    "shift_jis": "Shift-JIS (Japanese)",
    "cp932": "Shift-JIS (Japanese)",
    "euc_jp": "EUC-JP (Japanese)",
    "euc_kr": "EUC-KR (Korean)",
    "cp949": "EUC-KR (Korean)",
    "cp1252": "a European single-byte encoding (Windows-1252, Latin-1)",
    "latin_1": "a European single-byte encoding (Windows-1252, Latin-1)",
    "iso8859_15": "a European single-byte encoding (Windows-1252, Latin-1)",
    "cp1250": "a European single-byte encoding (Windows-1250, Latin-2)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "koi8_r": "KOI8-R (Cyrillic)",
}
_SAMPLE = 20_000  # characters of a decoded file that the plausibility checks look at


def _big5_common(ch: str) -> bool:
    """In Big5's symbols or its 5,401 常用字 (frequently used characters)."""
    try:
        code = ch.encode("big5")
    except UnicodeEncodeError:
        return False
    return len(code) == 2 and 0xA140 <= int.from_bytes(code) <= 0xC67E


def _gb2312(ch: str) -> bool:
    """In GB2312: its 6,763 hanzi and the punctuation, full-width and kana rows."""
    try:
        return len(ch.encode("gb2312")) == 2
    except UnicodeEncodeError:
        return False


def _common_chinese_share(text: str, encoding: str) -> float:
    """Share of the non-ASCII characters of ``text`` (as decoded from ``encoding``) that are
    common Chinese: for Big5 its symbols and 常用字; for GB18030 the GB2312 set or those
    (traditional text saved as GB18030). Real Chinese text scores near 1; Shift-JIS read
    as GB18030 lands in GBK's extension rows (0.2-0.65 on Japanese firm names), Latin-1
    mostly outside both."""
    chars = [ch for ch in text[:_SAMPLE] if ord(ch) > 0x7F]
    if not chars:
        return 0.0
    if encoding == "big5":
        common = sum(_big5_common(ch) for ch in chars)
    else:
        common = sum(_gb2312(ch) or _big5_common(ch) for ch in chars)
    return common / len(chars)


def _ks_x_1001(ch: str) -> bool:
    """One of the 2,350 hangul syllables Korean text is written in (EUC-KR); CP949 adds
    8,822 rare ones, where GBK's traditional and rare hanzi land when read as Korean."""
    try:
        return len(ch.encode("euc_kr")) == 2  # Python writes the others as 8-byte sequences
    except UnicodeEncodeError:
        return False


def _plainly(best: Any) -> bool:
    """Whether charset-normalizer's non-Chinese reading ``best`` reads as its language:
    Korean is mostly common hangul, Japanese has kana (a Chinese file read as either gives
    hanja, rare hangul or half-width katakana instead); a Western or Cyrillic reading has a
    language it recognises (a Russian word of an even letter count is also valid GB18030,
    of common hanzi)."""
    encoding = best.encoding
    chars = [ch for ch in str(best)[:_SAMPLE] if ord(ch) > 0x7F and not ch.isspace()]
    if not chars:
        return False
    if encoding in ("euc_kr", "cp949"):  # hangul, of the 2,350 KS X 1001 syllables
        return sum(0xAC00 <= ord(ch) <= 0xD7A3 and _ks_x_1001(ch) for ch in chars) >= 0.9 * len(
            chars
        )
    if encoding in ("shift_jis", "cp932", "euc_jp"):
        return sum(0x3041 <= ord(ch) <= 0x30FF for ch in chars) >= 0.1 * len(chars)
    return bool(best.coherence > 0.1)


def _refuse(why: str) -> Invalid:
    return Invalid(
        f"file: {why}; accepted: {ACCEPTED_ENCODINGS}; save it as UTF-8 CSV "
        "(Excel: 另存为 → CSV UTF-8)",
        "file",
    )


def decode(data: bytes) -> str:
    """Text of a CSV upload in one of the accepted encodings, else :class:`Invalid`.

    By its byte-order mark, else UTF-8, else GB18030 or Big5 when the bytes are that:
    Shift-JIS, EUC-KR and many Latin-1 files also decode under GB18030 or Big5, as mojibake
    ("搶嫗僥僗僩姅幃夛幮"), so charset-normalizer weighs the file against a wider set
    (``_DETECT``). Its guess is unsure on a few short rows (a header and one firm can look
    Korean), so a Chinese reading made of common characters (``_common_chinese_share``) wins
    unless the other reading is plainly its own language (``_plainly``).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise Invalid(
                    f"file: starts with a {encoding.upper()} byte-order mark but is not "
                    f"{encoding.upper()} (byte {exc.start})",
                    "file",
                ) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_error = exc.start
    decoded = {}
    for encoding in ("gb18030", "big5"):
        try:
            decoded[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=_DETECT).best()
    guess = best.encoding if best is not None else None
    shares = {e: _common_chinese_share(t, e) for e, t in decoded.items()}
    chinese = _CHINESE.get(guess or "")
    if chinese in decoded and shares[chinese] >= 0.8:  # not mostly rare characters
        return decoded[chinese]
    plain = {e: v for e, v in shares.items() if v >= 0.95}
    if plain and not (best is not None and _plainly(best)):
        return decoded[max(plain, key=lambda e: (plain[e], e == "gb18030"))]
    seen = f"it looks like {_NAMES.get(guess or '', guess)}" if guess else "no known encoding"
    raise _refuse(f"not UTF-8 (byte {first_error}), and {seen}")


def _delimiter(text: str) -> str:
    """Comma, unless the header line holds more tabs or semicolons than commas."""
    head = text.split("\n", 1)[0]
    return max(",\t;", key=lambda d: (head.count(d), d == ","))


def read_table(data: bytes, filename: str, max_rows: int) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a CSV or XLSX upload (by content, then by name)."""
    if not data.strip():
        raise Invalid("file: the upload is empty", "file")
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data, max_rows)
    text = decode(data)
    csv.field_size_limit(1_000_000)
    try:
        table = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    except csv.Error as exc:
        raise Invalid(f"file: not a readable CSV ({exc})", "file") from exc
    table = [r for r in table if any(c.strip() for c in r)]
    if not table:
        raise Invalid("file: no header row", "file")
    if len(table) - 1 > max_rows:
        raise Invalid(f"file: {len(table) - 1} rows; the limit is {max_rows} per import", "file")
    return table[0], table[1:]


def _refuse_xlsx(why: str) -> Invalid:
    return Invalid(f"file: {why}; refused (looks like a zip bomb)", "file")


def _check_zip(zf: zipfile.ZipFile) -> None:
    """Refuse a workbook by its directory, before anything is unpacked: entry count, total
    size, each entry's compression ratio, the size of the XML parts parsed whole. The sizes
    are the directory's; ``zipfile`` never reads past a declared size (and checks the CRC)."""
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    if len(infos) > XLSX_MAX_ENTRIES or total > XLSX_MAX_UNPACKED:
        raise _refuse_xlsx(
            f"the XLSX unpacks to {total} bytes in {len(infos)} entries (at most "
            f"{XLSX_MAX_UNPACKED} bytes in {XLSX_MAX_ENTRIES})"
        )
    for i in infos:
        name = i.filename.lower()
        if i.file_size > XLSX_RATIO_FROM and i.file_size > XLSX_MAX_RATIO * max(i.compress_size, 1):
            raise _refuse_xlsx(
                f"entry {i.filename[:100]!r} expands {i.file_size // max(i.compress_size, 1)}× "
                f"to {i.file_size} bytes (at most {XLSX_MAX_RATIO}×)"
            )
        parsed_whole = name.endswith((".xml", ".rels")) and not (
            name.startswith("xl/worksheets/") or name.endswith("sharedstrings.xml")
        )
        if parsed_whole and i.file_size > XLSX_MAX_PART:
            raise _refuse_xlsx(
                f"entry {i.filename[:100]!r} is {i.file_size} bytes (at most {XLSX_MAX_PART})"
            )


# an element's start tag, with any namespace prefix: ``<c r="A1">``, ``<x:row>``, ``<si>``
_TAGS = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,40}:)?(row|c|si)(?=[\s/>])")


def _count_tags(zf: zipfile.ZipFile, name: str, most: int) -> None:
    """Count cells per row, and rows, cells and shared strings in all (at most ``most``) in a
    part, streaming its XML through a regular expression at C speed; refuse past the limits.
    openpyxl builds every cell of a row before it drops the columns it was not asked for
    (1 GB for a row of a million empty cells), and parses a whole sheet that lacks a
    ``<dimension>`` as it opens the workbook."""
    cells = row_cells = rows = 0
    tail = b""
    with zf.open(name) as f:
        while True:
            chunk = f.read(1 << 20)
            buf = tail + chunk
            cut = max(len(buf) - 64, 0) if chunk else len(buf)  # a tag is under 64 bytes
            for m in _TAGS.finditer(buf):
                if m.start() >= cut:  # seen whole with the next chunk
                    break
                tag = m.group(1)
                cells += 1
                if tag == b"row":
                    rows += 1
                    row_cells = 0
                elif tag == b"c":
                    row_cells += 1
                    if row_cells > XLSX_MAX_ROW_CELLS:
                        raise Invalid(
                            f"file: row {rows} of {name[:100]} holds more than "
                            f"{XLSX_MAX_ROW_CELLS} cells, empty ones included; delete the "
                            "columns right of the table",
                            "file",
                        )
                if cells > most:
                    raise Invalid(
                        f"file: {name[:100]} holds more than {most} rows, cells and shared "
                        "strings; split the file",
                        "file",
                    )
            if not chunk:
                return
            tail = buf[cut:]


def _read_xlsx(data: bytes, max_rows: int) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the first sheet. Only the header's columns are read (at most
    ``XLSX_MAX_COLUMNS``); the zip directory and every XML part (sheets, shared strings)
    are checked first (``_check_zip``, ``_count_tags``), so a bomb is refused before
    openpyxl expands it."""
    most = max(100_000, (max_rows + 1) * XLSX_CELLS_PER_ROW)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        _check_zip(zf)
        for info in zf.infolist():
            if info.filename.lower().endswith(".xml"):
                _count_tags(zf, info.filename, most)
    except Invalid:
        raise
    except Exception as exc:  # zipfile raises zlib.error, NotImplementedError, ... as well
        raise Invalid(
            f"file: not a readable XLSX ({exc.__class__.__name__}: {str(exc)[:200]})", "file"
        ) from exc
    import warnings

    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        table: list[list[Any]] = []
        width = XLSX_MAX_COLUMNS
        for row in ws.iter_rows(
            values_only=True, max_col=XLSX_MAX_COLUMNS + 1, max_row=XLSX_MAX_ROW_INDEX
        ):
            if not table:
                filled = [i for i, v in enumerate(row) if v not in (None, "")]
                if not filled:
                    continue
                if filled[-1] >= XLSX_MAX_COLUMNS:
                    raise Invalid(
                        f"file: the header has more than {XLSX_MAX_COLUMNS} columns; "
                        "keep the columns to import",
                        "file",
                    )
                width = filled[-1] + 1
            cells = row[:width]
            if any(v not in (None, "") for v in cells):
                table.append(["" if v is None else v for v in cells])
            if len(table) - 1 > max_rows:
                raise Invalid(f"file: more than {max_rows} rows; the limit per import", "file")
        wb.close()
    except Invalid:
        raise
    except Exception as exc:  # openpyxl raises many types for broken files
        raise Invalid(
            f"file: not a readable XLSX ({exc.__class__.__name__}: {str(exc)[:200]})", "file"
        ) from exc
    if not table:
        raise Invalid("file: the first sheet is empty", "file")
    return [str(h) for h in table[0]], table[1:]


def records(
    header: list[str], rows: list[list[Any]]
) -> Iterator[tuple[int, dict[str, Any], str | None]]:
    """(row number as in the file, field dict, problem) per data row.

    Only the cells that say something become fields: an empty cell (or a column the file
    lacks) is left out, so an existing firm keeps that field; the cell ``(清空)`` (or
    ``(clear)``: ``service.profiles.CLEAR_TOKENS``) becomes ``None``, which clears it. A
    file needs name and description columns to add firms, or an id or credit-code column to
    update registered ones.
    """
    cols = [_column(h) for h in header]
    if not (("name" in cols and "description" in cols) or "id" in cols or "credit_code" in cols):
        raise Invalid(
            "file: the header needs name and description columns (or 企业名称 and 企业简介), "
            f"or an id or credit-code column to update registered firms; it has "
            f"{[h for h in header if h]}",
            "file",
        )
    for n, row in enumerate(rows, start=2):
        if len(row) > len(cols) and any(str(v).strip() for v in row[len(cols) :]):
            yield n, {}, "more cells than the header has columns; check quoting"
            continue
        rec: dict[str, Any] = {}
        contact: dict[str, str] = {}
        problem = None
        for col, value in zip(cols, row, strict=False):
            if col is None:
                continue
            if isinstance(value, str):
                value = value.strip()
            if value in ("", None):
                continue
            if isinstance(value, str) and value.lower() in CLEAR_TOKENS:
                if col.startswith("contact_"):
                    contact[col[8:]] = ""
                else:
                    rec[col] = None
                continue
            if col.startswith("contact_"):
                contact[col[8:]] = str(value)
            elif col in LISTS:
                rec[col] = [
                    x.strip()
                    for x in str(value)
                    .replace("；", ";")
                    .replace("、", ";")
                    .replace(",", ";")
                    .split(";")
                    if x.strip()
                ]
            elif col in INTS or col in FLOATS:
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    problem = f"{col}: {value!r} is not a number"
                    break
                if col in INTS:
                    if number != int(number):
                        problem = f"{col}: {value!r} is not a whole number"
                        break
                    rec[col] = int(number)
                else:
                    rec[col] = number
            elif col == "listed":
                rec[col] = str(value).strip().lower() in ("1", "true", "yes", "是", "y")
            else:
                rec[col] = str(value)
        if contact:
            rec["contact"] = contact
        yield n, rec, problem
