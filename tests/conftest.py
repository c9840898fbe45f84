from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gitrepo import GitRepo, clean_env


@pytest.fixture(autouse=True)
def _no_user_git_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test runs with no user or system Git configuration and no GIT_* variables."""
    home = tmp_path_factory.mktemp("home")
    for key, value in clean_env(home).items():
        monkeypatch.setenv(key, value)
    for key in list(os.environ):
        if key.startswith("GIT_") and key not in clean_env(home):
            monkeypatch.delenv(key)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")
