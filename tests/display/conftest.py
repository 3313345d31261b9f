"""Fixtures the voice tests share: the default voice pack, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice.default_pack import ensure_default_pack
from voice.pack import VoicePack, load_pack


@pytest.fixture(scope="session")
def default_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default pack, built once per test session."""
    return ensure_default_pack(tmp_path_factory.getbasetemp() / "voice-default")


@pytest.fixture
def pack(default_dir: Path) -> VoicePack:
    return load_pack(default_dir)
