"""Uploads that must not corrupt data or exhaust the server: CSV encodings detected, not
guessed (a Shift-JIS file is refused, not stored as mojibake); XLSX and YAML bombs refused
promptly with a small answer; heavy requests bounded per key by how many run at once."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import zipfile
from collections.abc import Iterable

import pytest

from service import imports
from service.errors import Invalid

from ..conftest import ROOT
from .test_scenarios import ok

SMALL_BODY = 2_000  # bytes: a refusal names the problem, it does not echo the upload


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def _upload(data: bytes, name: str = "firms.csv") -> dict:
    return {"file": (name, io.BytesIO(data), "application/octet-stream")}


# Chinese Excel exports are often a header and a few rows: too little text for a frequency
# guess alone (charset-normalizer reads the header below as Korean).
HEADER = ["企业名称", "企业简介", "统一社会信用代码", "城市", "联系人", "电话"]
ROWS = [
    ["晋江鞋业有限公司", "运动鞋研发与生产", "", "晋江", "张三", "13812345678"],
    ["福建安溪茶业有限公司", "乌龙茶种植加工与出口", "", "安溪", "李四", "0595-12345678"],
    ["厦门鑫源智能科技有限公司", "工业机器人系统集成，视觉质检。", "", "厦门", "王五", ""],
]
SMALL_GB18030 = [
    _csv([["企业名称", "企业简介"]]),
    _csv([["名称", "简介"], ["甲公司", "做鞋"]]),
    *(_csv([HEADER, *ROWS[:n]]) for n in (1, 2, 3)),
    # a traditional header, English rows: read as Korean it is all hangul, but rare ones
    _csv(
        [
            ["企業名稱", "企業簡介", "城市"],
            ["Fuzhou Stellarvista Veterinary Co., Ltd.", "Since 2017", ""],
        ]
    ),
]
TRADITIONAL = _csv(
    [
        ["企業名稱", "企業簡介", "城市"],
        ["晉江精密機械股份有限公司", "數控機床與自動化產線。", "晉江"],
    ]
)
SHIFT_JIS = _csv([["name", "description"], ["東京テスト株式会社", "ソフトウェア開発"]])


@pytest.mark.parametrize("text", SMALL_GB18030)
def test_small_gb18030_files_decode_exactly(text):
    assert imports.decode(text.encode("gb18030")) == text


@pytest.mark.parametrize(
    "text,encoding",
    [
        (TRADITIONAL, "big5"),
        (TRADITIONAL, "utf-8"),
        (TRADITIONAL, "gb18030"),
        (TRADITIONAL, "utf-16"),
    ],
)
def test_traditional_chinese_decodes_in_each_accepted_encoding(text, encoding):
    assert imports.decode(text.encode(encoding)) == text


def test_bundled_firms_in_one_row_files_decode_exactly():
    """A header and one firm of the bundled data, in GB18030 and (converted) Big5."""
    import opencc

    to_traditional = opencc.OpenCC("s2t")
    lines = (ROOT / "data" / "companies.jsonl").read_text("utf-8").splitlines()[:80]
    for line in lines:
        firm = json.loads(line)
        text = _csv(
            [["企业名称", "企业简介", "城市"], [firm["name"], firm["description"][:40], ""]]
        )
        assert imports.decode(text.encode("gb18030")) == text, firm["id"]
        traditional = to_traditional.convert(text)
        try:
            data = traditional.encode("big5")
        except UnicodeEncodeError:
            continue  # a character Big5 lacks
        assert imports.decode(data) == traditional, firm["id"]


@pytest.mark.parametrize(
    "text,encoding,named",
    [
        (SHIFT_JIS, "cp932", "Shift-JIS"),
        (SHIFT_JIS, "euc_jp", "EUC-JP"),
        (_csv([["회사명", "설명"], ["삼성전자", "반도체"]]), "euc_kr", "EUC-KR"),
        (
            _csv([["name", "description"], ["Müller GmbH", "Straßenbau und Brücken"]]),
            "cp1252",
            "",
        ),
        (
            _csv([["name", "description"], ["Тест", "Разработка программ"]]),
            "cp1251",
            "",
        ),  # even letter counts: valid GB18030
    ],
)
def test_other_encodings_are_refused_naming_what_is_accepted(text, encoding, named):
    """Today Shift-JIS bytes decode under GB18030 ("搶嫗僥僗僩姅幃夛幮"); now they are refused."""
    with pytest.raises(Invalid) as caught:
        imports.decode(text.encode(encoding))
    message = caught.value.message
    assert named in message, message
    for accepted in ("UTF-8", "UTF-16", "GB18030", "Big5"):
        assert accepted in message


def test_a_shift_jis_import_stores_nothing(client, keys):
    h = keys.header("admin")
    before = ok(client.get("/companies?limit=1", headers=h))["count"]
    r = client.post("/companies/import", files=_upload(SHIFT_JIS.encode("cp932")), headers=h)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["field"] == "file"
    assert "Shift-JIS" in r.json()["detail"]["message"]
    assert ok(client.get("/companies?limit=1", headers=h))["count"] == before
    assert ok(client.get("/companies?q=搶嫗", headers=h))["count"] == 0


def test_a_small_gb18030_export_imports_with_its_names(client, keys):
    h = keys.header("admin")
    rows = [HEADER, ["泉州鑫达纺织有限公司", "化纤面料织造", "", "泉州", "陈六", "0595-22345678"]]
    report = ok(
        client.post("/companies/import", files=_upload(_csv(rows).encode("gb18030")), headers=h)
    )
    assert report["imported"] == 1, report
    firm = ok(client.get(f"/companies/{report['data'][0]['company_id']}", headers=h))
    assert firm["name"] == "泉州鑫达纺织有限公司" and firm["contact"]["phone"] == "0595-22345678"


# ------------------------------------------------------------------ XLSX bombs
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"
SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
PARTS = {
    "[Content_Types].xml": f'<Types xmlns="{PKG}/content-types">'
    f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{SML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SML}.worksheet+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SML}.sharedStrings+xml"/>'
    "</Types>",
    "_rels/.rels": f'<Relationships xmlns="{PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>",
    "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>",
}
STRINGS = ["企业名称", "企业简介", "泉州手工建表测试有限公司", "鞋服面料"]


def _cells(row: int, values: Iterable[int]) -> str:
    return "".join(
        f'<c r="{col}{row}" t="s"><v>{v}</v></c>' for col, v in zip("ABCD", values, strict=False)
    )


def _workbook(
    sheet: Iterable[bytes] | None = None,
    strings: Iterable[bytes] | None = None,
    stored: bool = False,
    pad: int = 0,
) -> bytes:
    """An XLSX as Excel writes it (shared strings), the sheet and string table streamed in
    chunks so a large one is never in memory; ``pad`` bytes of random data stored."""
    if sheet is None:
        sheet = [
            f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{_cells(1, [0, 1])}</row>'
            f'<row r="2">{_cells(2, [2, 3])}</row></sheetData></worksheet>'.encode()
        ]
    if strings is None:
        strings = [
            (
                f'<sst xmlns="{MAIN}">'
                + "".join(f"<si><t>{s}</t></si>" for s in STRINGS)
                + "</sst>"
            ).encode()
        ]
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in PARTS.items():
            zf.writestr(name, text)
        for name, chunks in (
            ("xl/worksheets/sheet1.xml", sheet),
            ("xl/sharedStrings.xml", strings),
        ):
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            with zf.open(info, "w", force_zip64=True) as f:
                for chunk in chunks:
                    f.write(chunk)
        if pad:
            zf.writestr(zipfile.ZipInfo("xl/media/pad.bin"), os.urandom(pad), zipfile.ZIP_STORED)
    return buf.getvalue()


def _refused_small(client, keys, data: bytes) -> str:
    r = client.post(
        "/companies/import", files=_upload(data, "bomb.xlsx"), headers=keys.header("admin")
    )
    assert r.status_code == 422, r.text[:500]
    assert len(r.content) < SMALL_BODY
    assert r.json()["detail"]["field"] == "file"
    return r.json()["detail"]["message"]


def test_the_hand_built_workbook_imports(client, keys):
    """The control for the bombs below: the same builder, sane content, imports."""
    report = ok(
        client.post(
            "/companies/import", files=_upload(_workbook(), "ok.xlsx"), headers=keys.header("admin")
        )
    )
    assert report["imported"] == 1, report


def test_a_huge_shared_string_of_zeros_is_refused_by_its_ratio(client, keys):
    """45 MB of "0" in one shared string, 45 KB deflated: under the old 50 MB floor, so it
    was unpacked; now refused by its compression ratio before openpyxl reads it."""
    chunk = b"0" * (1 << 20)
    strings = [
        f'<sst xmlns="{MAIN}"><si><t>企业名称</t></si><si><t>企业简介</t></si><si><t>'.encode(),
        *(chunk for _ in range(45)),
        b"</t></si><si><t>x</t></si></sst>",
    ]
    data = _workbook(strings=strings)
    assert len(data) < 200_000
    message = _refused_small(client, keys, data)
    assert "sharedStrings.xml" in message and "zip bomb" in message, message


@pytest.mark.parametrize("stored", [True, False])
def test_a_row_of_a_million_empty_cells_is_refused(client, keys, stored):
    """Stored, the entry has no ratio to refuse; the row's cell count is checked before
    openpyxl builds the row (it built all 1.3 M cells, 1.1 GB, to keep two)."""
    head = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{_cells(1, [0, 1])}'.encode()
    sheet = [head, *(b"<c/>" * 100_000 for _ in range(10)), b"</row></sheetData></worksheet>"]
    message = _refused_small(client, keys, _workbook(sheet=sheet, stored=stored))
    assert ("1000 cells" if stored else "expands") in message, message


def test_a_padded_upload_buys_no_larger_allowance(client, keys):
    """1 MB of stored random bytes made the old allowance 200 × 1 MB; the sheet's 120 MB
    are now over the fixed cap whatever the upload's size."""
    filler = b'<row><c t="n"><v>0</v></c></row>' * 32_768  # 1 MB
    sheet = [
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{_cells(1, [0, 1])}</row>'.encode(),
        *(filler for _ in range(120)),
        b"</sheetData></worksheet>",
    ]
    data = _workbook(sheet=sheet, pad=1_000_000)
    assert len(data) < 3_000_000
    message = _refused_small(client, keys, data)
    assert "unpacks to" in message and str(imports.XLSX_MAX_UNPACKED) in message, message


def test_only_the_headers_columns_are_read_and_the_header_is_capped(client, keys):
    h = keys.header("admin")
    far = '<c r="GZ2" t="inlineStr"><is><t>ignored</t></is></c>'  # column 208
    sheet = [
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{_cells(1, [0, 1])}</row>'
        f'<row r="2">{_cells(2, [2, 3])}{far}</row></sheetData></worksheet>'.encode()
    ]
    report = ok(
        client.post("/companies/import", files=_upload(_workbook(sheet=sheet), "x.xlsx"), headers=h)
    )
    assert report["unchanged"] + report["imported"] + report["updated"] == 1, report
    wide = "".join(
        f'<c r="{_col(i)}1" t="inlineStr"><is><t>h{i}</t></is></c>' for i in range(1, 260)
    )
    sheet = [
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{wide}</row></sheetData></worksheet>'.encode()
    ]
    message = _refused_small(client, keys, _workbook(sheet=sheet))
    assert "more than 200 columns" in message


def _col(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# ------------------------------------------------------------------ YAML bombs
def billion_laughs(depth: int = 6) -> str:
    """A catalogue of under 1 KB whose nested aliases stand for 9**depth strings, where a
    schema error prints them (composites must be a list)."""
    lines = ["version: 1", "zone: 测试", "composites:"]
    lines.append('  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]')
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, depth + 1)]
    lines.append(f"opportunities: [*a{depth}]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_catalogue_is_refused_with_a_small_answer(client, keys):
    text = billion_laughs()
    assert len(text) < 1024
    h = keys.header("admin")
    r = client.post("/scenarios/upload", files=_upload(text.encode(), "cat.yaml"), headers=h)
    assert r.status_code == 422
    assert len(r.content) < SMALL_BODY  # it was 802 MB
    assert "aliases" in r.json()["detail"]["message"]
    assert ok(client.get("/scenarios", headers=h))["opportunities"] == 3  # catalogue kept


def test_a_schema_error_does_not_echo_a_large_value(client, keys):
    doc = {"version": 1, "zone": "z", "composites": ["x" * 500_000], "opportunities": []}
    r = client.post(
        "/scenarios/upload",
        files=_upload(json.dumps(doc).encode(), "cat.json"),
        headers=keys.header("admin"),
    )
    assert r.status_code == 422
    assert len(r.content) < SMALL_BODY
    assert "composites/0" in r.json()["detail"]["message"]
    assert "is not of type 'object'" in r.json()["detail"]["message"]


# ------------------------------------------------------------------ heavy requests in flight
@pytest.fixture
def capped(tmp_path, cache_dir):
    """An app allowing one heavy request per key and two in all, with its keys."""
    from fastapi.testclient import TestClient

    from service.app import create_app

    from .conftest import make_keys, make_settings

    settings = make_settings(
        f"sqlite:///{tmp_path / 'm.db'}", tmp_path, cache_dir, heavy_per_key=1, heavy_total=2
    )
    with TestClient(create_app(settings)) as client:
        yield client, make_keys(client.app)


def test_heavy_requests_are_capped_per_key_and_in_all(capped, monkeypatch):
    client, keys = capped
    entered, release = threading.Semaphore(0), threading.Event()
    real = imports.read_table

    def held(*args, **kwargs):
        entered.release()
        assert release.wait(60), "the test did not release the import"
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "read_table", held)
    data = _csv([["企业名称", "企业简介"], ["在途测试有限公司", "并发上限测试。"]]).encode()
    results: dict[str, int] = {}

    def post(role: str) -> None:
        r = client.post("/companies/import", files=_upload(data), headers=keys.header(role))
        results[role] = r.status_code

    threads = [threading.Thread(target=post, args=(role,)) for role in ("admin", "recruiter")]
    try:
        threads[0].start()
        assert entered.acquire(timeout=60)
        admin = keys.header("admin")
        over = client.post("/companies/import", files=_upload(data), headers=admin)
        assert over.status_code == 429
        assert over.headers["Retry-After"] == "5"
        assert "already has 1 heavy request " in over.json()["detail"]["message"]
        assert client.get("/scenarios/S1/matches.csv", headers=admin).status_code == 429
        big = {"text": "储能", "top_k": 150}
        assert client.post("/search", json=big, headers=admin).status_code == 429
        assert client.post("/search", json={**big, "top_k": 20}, headers=admin).status_code == 200
        assert client.get("/scenarios", headers=admin).status_code == 200  # light: not counted
        threads[1].start()  # the recruiter's own slot; the second of two in all
        assert entered.acquire(timeout=60)
        from service import auth
        from service.db import transaction

        with transaction(client.app.state.sessions) as s:
            _, third = auth.create_key(s, "recruiter", None)
        busy = client.get(
            "/scenarios/S1/matches.xlsx", headers={"Authorization": f"Bearer {third}"}
        )
        assert (
            busy.status_code == 429
            and "the service is running 2" in busy.json()["detail"]["message"]
        )
    finally:
        release.set()
        for t in threads:
            t.join(60)
    assert results == {"admin": 200, "recruiter": 200}
    assert client.app.state.in_flight.running() == 0  # slots given back
    assert client.get("/scenarios/S1/matches.csv", headers=keys.header("admin")).status_code == 200


@pytest.mark.parametrize("pad", [1499, 1500, 1501, 1531])
def test_the_cell_count_is_exact_across_read_chunks(pad):
    """The scan reads 1 MB at a time; a tag cut by a chunk's end is counted once."""
    for n, refused in ((imports.XLSX_MAX_ROW_CELLS, False), (imports.XLSX_MAX_ROW_CELLS + 1, True)):
        sheet = "<row>" + f'<c r="A1">{"y" * pad}</c>' * n + "</row>"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("sheet.xml", sheet)
        with zipfile.ZipFile(buf) as zf:
            if refused:
                with pytest.raises(Invalid, match="more than 1000 cells"):
                    imports._count_tags(zf, "sheet.xml", 10**9)
            else:
                imports._count_tags(zf, "sheet.xml", 10**9)


def test_a_sheet_of_many_empty_rows_is_refused_by_its_size_for_the_row_limit():
    """A part may hold 30 rows, cells and shared strings per row allowed (at least 100,000):
    openpyxl parses every element, empty or not, before the row limit is reached."""
    rows = b"<row/>" * 150_000
    sheet = [
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{_cells(1, [0, 1])}</row>'.encode(),
        rows,
        b"</sheetData></worksheet>",
    ]
    with pytest.raises(Invalid, match="more than 100000 rows, cells and shared strings"):
        imports.read_table(_workbook(sheet=sheet, stored=True), "x.xlsx", 100)


def test_a_corrupt_deflate_stream_is_a_422_not_a_crash():
    """The scan reads every XML part first: zlib's error is an unreadable file too."""
    data = bytearray(_workbook())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 2, start + info.compress_size - 2):
        data[k] ^= 0x5A
    with pytest.raises(Invalid, match="not a readable XLSX"):
        imports.read_table(bytes(data), "x.xlsx", 100)
