"""Throw-away SSH keys and ``auditor verify`` run in-process, for the signing tests."""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

from auditor.cli import run


def keygen(path: Path, passphrase: str = "") -> Path:
    """A new ed25519 key at ``path`` (``path.pub`` beside it), named after the file."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", path.name, "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return path


def verify(*args: object) -> tuple[int, str, str]:
    """``auditor verify ARGS``: its exit code, stdout and stderr (never a traceback)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(["verify", *(str(a) for a in args)])
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue(), err.getvalue()
