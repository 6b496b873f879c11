import json
import os
import re
import subprocess
import sys

from matcher.explain import build_explanation, matched_terms, split_sentences
from matcher.normalise import normalise
from matcher.reasons import industry_line, render, summary
from matcher.types import IndustryRelation, Reason


def test_split_sentences_is_verbatim_and_joins_fragments():
    text = "公司成立于2016年。主营储能！好。We build BMS. And PCS units?"
    sents = split_sentences(text)
    assert all(s in text for s in sents)
    assert "好。" not in sents  # a two-character fragment joins its neighbour
    assert any("We build BMS." in s for s in sents)


def test_matched_terms_keywords_first_in_profile_wording():
    scen = normalise("寻求储能变流器与微电网能量管理企业")
    profile = "我們生產儲能變流器(PCS)，並提(tí)供微電網能量管理平臺。"
    terms = matched_terms(scen, ["储能变流器", "微电网"], profile)
    assert terms[:2] == ["儲能變流器", "微電網"]
    for t in terms:
        assert t in profile.replace("(tí)", "")
        assert normalise(t) in scen


def test_generic_words_are_not_evidence():
    scen = normalise("欢迎相关企业提供技术服务")
    terms = matched_terms(scen, [], "本公司提供技术服务，欢迎合作。")
    assert terms == []


def test_informative_filter_is_applied():
    scen = normalise("储能电站建设")
    assert matched_terms(scen, [], "已建成储能电站", is_informative=lambda t: False) == []
    assert matched_terms(scen, [], "已建成储能电站", is_informative=lambda t: True) == ["储能电站"]


def test_summary_lists_terms_industry_evidence_and_why_not():
    rel = IndustryRelation("group", "3843", "3841", "铅蓄电池制造", inferred=True)
    space = Reason("space_exceeds", {"need": 30000.0, "offered": 20000.0})
    ex = build_explanation(["储能"], "我們做(zuò)儲能。", rel, [space], False)
    assert "匹配：储能" in ex.summary and "同中类 3843" in ex.summary
    assert (
        "推断" in ex.summary
        and "⚠ 所需用地/厂房 30,000 m² 超过场景可提供的 20,000 m²" in ex.summary
    )
    assert "(zuò)" not in ex.summary and ex.evidence == "我們做(zuò)儲能。"
    assert ex.reasons == (space,) and ex.why_not == (render(space, "zh"),)


def test_reasons_and_summaries_render_per_language():
    """Failed conditions are codes with numbers in the Match; every reader gets them in their
    language, while matched terms and evidence stay as the texts have them."""
    rel = IndustryRelation("class", "3841", "3841", "锂离子电池制造")
    money = Reason("investment_below", {"invest": 0.63, "minimum": 2.0})
    ex = build_explanation(["储能变流器"], "主营储能变流器。", rel, [money], False, demand=["PCS"])
    assert render(money, "zh") == "拟投资 0.63 亿元，低于场景要求的最低 2 亿元"
    assert render(money, "en") == (
        "intends to invest 0.63 × 100M CNY, below the scenario's minimum of 2"
    )
    assert summary(ex, "en") == (  # only the texts' own words stay Chinese
        "Sought: PCS; Matched: 储能变流器; same class 3841 锂离子电池制造; "
        "Evidence: “主营储能变流器。”; ⚠ intends to invest 0.63 × 100M CNY, below the "
        "scenario's minimum of 2"
    )
    assert summary(ex, "zh") == ex.summary
    inferred = IndustryRelation("none", "5184", None, "计算机批发", inferred=True)
    assert industry_line(inferred, "en") == (
        "no direct industry link (firm 5184 计算机批发) [code inferred from the text]"
    )
    assert (
        industry_line(inferred, "zh")
        == "行业无直接关联（企业 5184 计算机批发）［行业代码由文本推断］"
    )


def test_shared_substrings_are_cut_at_whole_words():
    scen = normalise("寻求梯次利用等核心技术与绿色纤维")
    terms = matched_terms(scen, [], "公司掌握梯次利用等核心技术，生产再生色纤维。")
    assert "梯次利用" in terms
    assert not any(t.startswith("等") or t.endswith("等") for t in terms)
    assert "色纤维" not in terms


def test_words_from_runs_equal_cutting_the_whole_text(data_companies):
    """jieba cuts each run on its own, so cutting only the runs a term touches changes nothing."""
    import jieba

    from matcher.explain import _CJK_RUN, _words_in, lower_keep_length

    checked = 0
    for c in list(data_companies)[:150]:
        text = lower_keep_length(normalise(c.text()))
        whole = [(s, e) for _, s, e in jieba.tokenize(text)]
        for m in _CJK_RUN.finditer(text):
            for start, end in ((m.start(), m.end()), (m.start() + 1, m.end() - 1)):
                exp = [w for w in whole if w[0] >= start and w[1] <= end]
                assert _words_in(text, start, end) == exp, (c.id, text[start:end])
                checked += 1
    assert checked > 1000


def test_common_substrings_are_the_longest_at_each_position():
    from matcher.explain import _common_cjk

    def brute(a, b):
        found = []
        for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}", b):
            i = 0
            while i < len(run) - 1:
                best = max((j for j in range(i + 2, len(run) + 1) if run[i:j] in a), default=0)
                if best:
                    found.append(run[i:best])
                i = best or i + 1
        return found

    a = "新能源汽车动力电池梯次利用与储能系统集成，智能制造"
    for b in [
        "动力电池回收与梯次利用，储能电站",
        "汽车零部件智能制造工厂",
        "无关文字",
        "能源汽车动力",
    ]:
        assert _common_cjk(a, b) == brute(a, b)
    assert _common_cjk(a, "动力电池回收") == ["动力电池"]


_TERMS_SCRIPT = """
import json
from matcher.explain import matched_terms
from matcher.normalise import normalise
scen = normalise("征集储能电站、光伏组件、氢能装备、风电叶片、智能电网、锂电材料企业")
profile = "本公司生产光伏组件、锂电材料和风电叶片，并建设储能电站、智能电网与氢能装备。"
print(json.dumps(matched_terms(scen, [], profile)))
"""


def test_matched_terms_do_not_depend_on_the_hash_seed():
    # Six shared terms of one length: their order came from iterating a set, which each
    # process orders by its own hash seed. Now: longest first, then by the term.
    outs = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        r = subprocess.run(
            [sys.executable, "-c", _TERMS_SCRIPT], env=env, capture_output=True, text=True
        )
        assert r.returncode == 0, r.stderr
        outs.append(json.loads(r.stdout))
    expected = sorted(["储能电站", "光伏组件", "氢能装备", "风电叶片", "智能电网", "锂电材料"])
    assert outs == [expected] * 3
