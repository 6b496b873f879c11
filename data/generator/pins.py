"""The library version the committed sample data was generated with, and its check.

pypinyin's readings end up in the output (brand names and e-mail handles of some firms, the
pinyin artefacts in traditional-script profiles), so another pypinyin version may write other
bytes. The project itself accepts any ``pypinyin>=0.51`` (the engine only builds place aliases
with it); the generator requires exactly this version. This module imports nothing at load
time, so tests can read the pin without importing the generator.
"""

from __future__ import annotations

PYPINYIN = "0.55.0"


def check_pypinyin() -> None:
    """Stop with a clear message unless the installed pypinyin is the pinned one."""
    import pypinyin

    if pypinyin.__version__ != PYPINYIN:
        raise SystemExit(
            f"pypinyin {pypinyin.__version__} is installed, but the committed sample data was "
            f"generated with pypinyin {PYPINYIN}, and its readings are part of the output. "
            f"Install the pinned version first: .venv/bin/pip install 'pypinyin=={PYPINYIN}' "
            "(or pip install -e '.[gen]')."
        )
