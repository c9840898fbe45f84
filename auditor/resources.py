"""Where the shipped control catalog and report templates are, installed or in a checkout."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def _data_dir(package: str, checkout_name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)
    return _CHECKOUT / checkout_name


def controls_dir() -> Path:
    """The directory of the shipped control files (``controls/`` in a checkout)."""
    return _data_dir("auditor._controls", "controls")


def templates_dir() -> Path:
    """The directory of the shipped report templates (``report_templates/`` in a checkout)."""
    return _data_dir("auditor._templates", "report_templates")
