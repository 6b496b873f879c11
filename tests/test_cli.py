"""The command line, including every kind of bad input: one clear line, exit 2, nothing written."""

import csv
import json
import subprocess
import sys

import pytest

from matcher.cli import main

from .conftest import FIXTURES, ROOT


@pytest.fixture()
def company_csv(tmp_path, small_companies):
    path = tmp_path / "companies.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "description", "city"])
        for c in small_companies:
            w.writerow([c.id, c.name, c.description, c.city or ""])
    return path


@pytest.fixture()
def scenario_jsonl(tmp_path):
    path = tmp_path / "scenarios.jsonl"
    rows = [
        {
            "id": "Q1",
            "title": "工商业储能",
            "description": "寻求储能系统集成、储能变流器与微电网能量管理企业。",
        },
        {
            "id": "Q2",
            "title": "Machine vision inspection",
            "description": "Defect detection cameras for shoe and fabric production lines.",
        },
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def run_rank(tmp_path, companies, scenarios, *extra, cache_dir=None):
    out = tmp_path / "out.jsonl"
    args = [
        "rank",
        "--companies",
        str(companies),
        "--scenarios",
        str(scenarios),
        "--top-k",
        "3",
        "--output",
        str(out),
        *extra,
    ]
    if cache_dir:
        args += ["--cache-dir", str(cache_dir)]
    return main(args), out


def test_rank_writes_one_line_per_scenario_best_first(
    tmp_path, company_csv, scenario_jsonl, cache_dir
):
    code, out = run_rank(tmp_path, company_csv, scenario_jsonl, cache_dir=cache_dir)
    assert code == 0
    lines = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert [x["scenario_id"] for x in lines] == ["Q1", "Q2"]
    q1 = lines[0]["matches"]
    assert len(q1) == 3 and q1[0]["company_id"] in ("T01", "T05")
    assert [m["score"] for m in q1] == sorted((m["score"] for m in q1), reverse=True)
    assert all(isinstance(m["explanation"], str) and m["explanation"] for m in q1)
    assert lines[1]["matches"][0]["company_id"] == "T07"  # English query, Chinese profile


def test_rank_maps_other_column_names(tmp_path, cache_dir, scenario_jsonl):
    path = tmp_path / "other.csv"
    path.write_text(
        "code,firm,intro\nA1,储能公司,工商业储能系统集成与微电网\nA2,核桃厂,核桃炒货加工\n", "utf-8"
    )
    code, out = run_rank(
        tmp_path,
        path,
        scenario_jsonl,
        "--id-col",
        "code",
        "--text-col",
        "intro",
        "--name-col",
        "firm",
        cache_dir=cache_dir,
    )
    assert code == 0
    first = json.loads(out.read_text("utf-8").splitlines()[0])
    assert first["matches"][0]["company_id"] == "A1" and first["matches"][0]["name"] == "储能公司"


def test_rank_random_and_lexical_methods(tmp_path, company_csv, scenario_jsonl, cache_dir):
    for method in ("random", "lexical", "dense"):
        code, out = run_rank(
            tmp_path, company_csv, scenario_jsonl, "--method", method, cache_dir=cache_dir
        )
        assert code == 0
        assert len(out.read_text("utf-8").splitlines()) == 2


BAD_CSV = {
    "missing_column": ("id,name,text\n1,a,b\n", "missing column"),
    "empty": ("", "empty"),
    "duplicate_ids": ("id,name,description\n1,a,储能\n1,b,光伏\n", "duplicate id '1'"),
    "no_rows": ("id,name,description\n", "no rows"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_company_csv(case, tmp_path, scenario_jsonl, capsys):
    text, needle = BAD_CSV[case]
    path = tmp_path / "bad.csv"
    path.write_text(text, "utf-8")
    code, out = run_rank(tmp_path, path, scenario_jsonl)
    err = capsys.readouterr().err.strip()
    assert code == 2 and needle in err and len(err.splitlines()) == 1
    assert str(path) in err
    assert not out.exists()


def test_non_utf8_file(tmp_path, scenario_jsonl, capsys):
    path = tmp_path / "gbk.csv"
    path.write_bytes("id,name,description\n1,储能,储能系统\n".encode("gb18030"))
    code, out = run_rank(tmp_path, path, scenario_jsonl)
    err = capsys.readouterr().err
    assert code == 2 and "not UTF-8" in err and "iconv" in err and not out.exists()


def test_malformed_json_line_names_its_line(tmp_path, company_csv, capsys):
    path = tmp_path / "s.jsonl"
    path.write_text(
        '{"id": "a", "title": "t", "description": "d"}\n{"id": "b", "title": \n', "utf-8"
    )
    code, out = run_rank(tmp_path, company_csv, path)
    err = capsys.readouterr().err
    assert code == 2 and "line 2" in err and "malformed JSON" in err and not out.exists()


def test_scenario_missing_field_and_duplicates(tmp_path, company_csv, capsys):
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "a", "title": "t"}\n', "utf-8")
    assert run_rank(tmp_path, company_csv, path)[0] == 2
    assert "description" in capsys.readouterr().err
    path.write_text('{"id": "a", "title": "t", "description": "d"}\n' * 2, "utf-8")
    assert run_rank(tmp_path, company_csv, path)[0] == 2
    assert "duplicate id 'a'" in capsys.readouterr().err


def test_missing_file(tmp_path, company_csv, capsys):
    code, _ = run_rank(tmp_path, company_csv, tmp_path / "nope.jsonl")
    assert code == 2 and "file not found" in capsys.readouterr().err


def test_index_match_suggest_and_unknown_id(tmp_path, cache_dir, capsys):
    base = [
        "--scenarios",
        str(FIXTURES / "catalogue_small.yaml"),
        "--companies",
        str(FIXTURES / "companies.jsonl"),
        "--index-dir",
        str(tmp_path / "idx"),
        "--cache-dir",
        str(cache_dir),
    ]
    assert main(["index", *base]) == 0
    assert (tmp_path / "idx" / "manifest.json").exists()
    capsys.readouterr()
    assert main(["match", "S2", "--top-k", "2", "--json", *base]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got[0]["company_id"] == "T07" and got[0]["explanation"]["summary"]
    profile = tmp_path / "p.json"
    profile.write_text(
        json.dumps(
            {"name": "视觉公司", "description": "工业相机与缺陷检测算法，用于鞋面质检。"},
            ensure_ascii=False,
        ),
        "utf-8",
    )
    assert main(["suggest", str(profile), "--top-k", "1", "--json", *base]) == 0
    assert json.loads(capsys.readouterr().out)[0]["scenario_id"] == "S2"
    assert main(["match", "S99", *base]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario id 'S99'" in err and len(err.strip().splitlines()) == 1
    assert main(["match", "S3", *base]) == 2
    assert "closed" in capsys.readouterr().err
    profile.write_text('{"name": "x"', "utf-8")
    assert main(["suggest", str(profile), *base]) == 2
    assert "malformed JSON" in capsys.readouterr().err


def test_bad_catalogue_is_refused_whole(tmp_path, capsys):
    bad = tmp_path / "cat.yaml"
    text = (
        (FIXTURES / "catalogue_small.yaml")
        .read_text("utf-8")
        .replace('industry_codes: ["6513"]', 'industry_codes: ["9999"]')
    )
    bad.write_text(text, "utf-8")
    code = main(
        [
            "index",
            "--scenarios",
            str(bad),
            "--companies",
            str(FIXTURES / "companies.jsonl"),
            "--index-dir",
            str(tmp_path / "idx"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "9999" in err and not (tmp_path / "idx").exists()
    bad.write_text(text.replace("status: open", "status: maybe", 1), "utf-8")
    assert main(["index", "--scenarios", str(bad), "--index-dir", str(tmp_path / "idx")]) == 2
    assert "status" in capsys.readouterr().err


def test_console_script_runs_offline(tmp_path):
    exe = ROOT / ".venv" / "bin" / "matcher"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "matcher"]
    res = subprocess.run([*cmd, "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "rank" in res.stdout


def test_run_prints_top_firms_per_open_opportunity(tmp_path, cache_dir, capsys):
    code = main(
        [
            "run",
            "--scenarios",
            str(FIXTURES / "catalogue_small.yaml"),
            "--companies",
            str(FIXTURES / "companies.jsonl"),
            "--index-dir",
            str(tmp_path / "idx"),
            "--cache-dir",
            str(cache_dir),
            "--top-k",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and (tmp_path / "idx" / "manifest.json").exists()
    assert "S1 工商业储能电站与园区微电网" in out and "S2 工业视觉质检" in out
    assert "福建视觉智造科技有限公司" in out  # S2's best firm, with its reason
    assert "closed: not matched" in out  # S3
    assert "匹配：" in out
