import pytest

from matcher.normalise import detect_language, normalise, normalise_with_map, strip_pinyin

SEED_RAW = (
    "今年來(lái),晉江經(jīng)濟(jì)開發(fā)區(qū)按照泉州、晉江兩級(jí)部署,"
    "瞄準(zhǔn)構(gòu)建“優(yōu)勢(shì)產(chǎn)業(yè)+高新產(chǎn)業(yè)培育"
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("來(lái)", "來"),
        ("開(kāi)發(fā)區(qū)", "開發區"),
        ("中(zhong)国", "中国"),  # toneless syllable
        ("來(lai2)", "來"),  # tone digit
        ("綠(lǜ)色", "綠色"),  # ü with tone mark
        ("開（kāi）發", "開發"),  # full-width parentheses
    ],
)
def test_strip_pinyin_removes_readings(raw, expected):
    assert strip_pinyin(raw) == expected


@pytest.mark.parametrize(
    "kept",
    [
        "人工智能(AI)",
        "永佳智能装备(一期、二期)",
        "基站(5G)",
        "Acme (Pty) Ltd",
        "(ai) at the start",  # not right after a CJK character
        "芯片(SiC)",  # not lowercase
        "材料(xyzq)",  # not a pinyin syllable
        "(一期)",
    ],
)
def test_strip_pinyin_keeps_other_parentheses(kept):
    assert strip_pinyin(kept) == kept


def test_seed_line_becomes_plain_simplified():
    assert (
        normalise(SEED_RAW)
        == "今年来,晋江经济开发区按照泉州、晋江两级部署,瞄准构建“优势产业+高新产业培育"
    )


def test_width_whitespace_and_zero_width_are_unified():
    assert normalise("ＡＢＣ　１２３\u200b  储能\n\n系统 ") == "ABC 123 储能 系统"


def test_normalise_is_idempotent_on_mixed_text():
    for text in [
        SEED_RAW,
        "人工智能(AI) 與 (5G)",
        "Helio GmbH — storage",
        "開(kāi)發(fā)區(qū)（一期）",
    ]:
        once = normalise(text)
        assert normalise(once) == once


def test_map_points_back_to_source_characters():
    raw = "我們為鞋(xié)廠提供"
    norm, src = normalise_with_map(raw)
    assert norm == "我们为鞋厂提供"
    assert len(src) == len(norm)
    assert [raw[i] for i in src] == list("我們為鞋廠提供")


def test_detect_language_counts_as_the_per_character_definition(data_companies):
    """The regex scan counts CJK ideographs (every range, astral planes too) and ASCII letters
    exactly as testing each character does."""
    from matcher.normalise import is_cjk

    def by_character(text: str) -> str:
        cjk = sum(1 for c in text if is_cjk(c))
        latin = sum(1 for c in text if c.isascii() and c.isalpha())
        if cjk == 0 and latin == 0:
            return "zh"
        return "zh" if cjk * 3 >= latin else "en"

    edge = ["", "123 !?", "𠀀𠀁 abcdef", "㐀 abc", "豈 abcd", "ＡＢＣ 中", "ÀÉÎ 中文", "abc\u9fff"]
    texts = edge + [c.description or c.name for c in data_companies]
    assert [detect_language(t) for t in texts] == [by_character(t) for t in texts]
    assert detect_language("𠀀𠀁 abcdef") == "zh" and detect_language("ÀÉÎ 中文") == "zh"


def test_detect_language():
    assert detect_language("专注工商业储能系统集成") == "zh"
    assert detect_language("We build battery storage systems") == "en"
    assert detect_language("储能 BMS PCS EMS 系统") == "zh"


def _reference_with_map(text):
    """The definition, character by character: fold, drop pinyin, collapse spaces, simplify."""
    import unicodedata

    from matcher.normalise import _pinyin_spans, to_simplified

    zero_width = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
    folded = [
        (f, i)
        for i, ch in enumerate(text)
        for f in unicodedata.normalize("NFKC", ch).translate(zero_width)
    ]
    spans = _pinyin_spans("".join(f for f, _ in folded))
    drop = {j for s, e in spans for j in range(s, e)}
    folded = [fc for j, fc in enumerate(folded) if j not in drop]
    chars, src, prev_space = [], [], True
    for ch, i in folded:
        if ch.isspace():
            if prev_space:
                continue
            ch, prev_space = " ", True
        else:
            prev_space = False
        chars.append(ch)
        src.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        src.pop()
    joined = "".join(chars)
    simplified = to_simplified(joined)
    if len(simplified) != len(joined):
        simplified = "".join(to_simplified(c) or c for c in joined)
    return simplified, src


def test_fast_normalise_agrees_with_the_character_by_character_definition(data_companies):
    import random

    rng = random.Random(7)
    alphabet = [
        *"ab Z9 来(lái)開(kāi)發(fā)（lai）中國\t\n\r　，ＡＢ１㎡²ﬁ①\u200b\u00ad",
        "e\u0301",
    ]
    texts = [c.text() for c in data_companies]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    for t in texts:
        got, src = normalise_with_map(t)
        exp, exp_src = _reference_with_map(t)
        assert got == exp, repr(t)
        if len(got) == len(exp_src):
            assert src == exp_src, repr(t)
