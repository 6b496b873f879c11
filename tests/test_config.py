"""Settings check themselves: an unknown name fails where it is written, naming the choices."""

from __future__ import annotations

from typing import get_args

import pytest

from matcher import types
from matcher.config import (
    ConstraintConfig,
    EncoderConfig,
    EngineConfig,
    FusionConfig,
    IndexConfig,
    LexicalConfig,
    config_from_dict,
)
from matcher.errors import ConfigError


@pytest.mark.parametrize(
    ("make", "choices"),
    [
        (lambda: FusionConfig(method="softmax"), types.FUSION_METHODS),
        (lambda: FusionConfig(scale="log"), types.FUSION_SCALES),
        (lambda: ConstraintConfig(mode="drop"), types.CONSTRAINT_MODES),
        (lambda: IndexConfig(backend="hnsw"), types.INDEX_BACKENDS),
        (lambda: LexicalConfig(backend="bm25"), types.LEXICAL_BACKENDS),
        (lambda: EncoderConfig(name="word2vec"), types.ENCODERS),
        (lambda: EncoderConfig(name="use+word2vec"), types.ENCODERS),
    ],
)
def test_each_sub_config_refuses_an_unknown_name_and_names_the_choices(make, choices):
    with pytest.raises(ConfigError) as err:
        make()
    assert all(c in str(err.value) for c in choices)


def test_unknown_weight_and_combined_encoders():
    with pytest.raises(ConfigError, match="known parts"):
        FusionConfig(weights={"dense": 1.0, "popularity": 0.5})
    assert EncoderConfig(name="use+e5").name == "use+e5"
    saved = EngineConfig(fusion=FusionConfig(method="rrf")).to_dict()
    assert config_from_dict(saved).fusion.method == "rrf"
    saved["constraints"]["mode"] = "drop"  # a hand-edited manifest fails on load too
    with pytest.raises(ConfigError, match="flag"):
        config_from_dict(saved)


def test_vocabularies_are_the_literal_aliases():
    assert types.SCORE_PARTS == get_args(types.ScorePart)
    assert types.CHAIN_POSITIONS == ("upstream", "midstream", "downstream", "service")
    assert types.FEEDBACK_STAGES[-1] == "rejected"
    assert set(types.QUERY_SCALED) < set(types.SCORE_PARTS)
    assert types.RESULT_PARTS == (*types.SCORE_PARTS, "learned")
    from matcher.ltr import STAGE_GRADES

    assert set(STAGE_GRADES) == set(types.FEEDBACK_STAGES)


def test_the_cli_exits_2_on_an_unknown_encoder(tmp_path, capsys):
    from matcher.cli import main

    companies = tmp_path / "c.csv"
    companies.write_text("id,name,description\nA,甲,储能\n", "utf-8")
    scenarios = tmp_path / "s.jsonl"
    scenarios.write_text('{"id": "Q1", "title": "储能", "description": "储能"}\n', "utf-8")
    code = main(
        ["rank", "--companies", str(companies), "--scenarios", str(scenarios),
         "--output", str(tmp_path / "out.jsonl"), "--encoder", "word2vec"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "word2vec" in err and "use" in err and "e5" in err


def test_the_service_refuses_an_unknown_encoder_at_start():
    from pydantic import ValidationError

    from service.config import Settings

    with pytest.raises(ValidationError, match="choose one of"):
        Settings(encoder="word2vec")
    assert Settings(encoder="use+e5").encoder == "use+e5"


def test_serve_with_an_unknown_encoder_exits_2_naming_the_setting(tmp_path):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "MATCHER_ENCODER": "word2vec",
        "MATCHER_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "matcher", "serve", "--port", "8199"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "MATCHER_ENCODER" in done.stderr and "choose one of" in done.stderr
