"""The frameworks controls map to, as data: ``controls/frameworks.yaml`` and the
``frameworks.yaml`` of each user control directory, in turn.

Each file is a mapping of a framework's name (``[a-z0-9][a-z0-9-]*``, the name control files,
``--framework`` and the config use) to its label (the edition it refers to). The shipped file
comes first, in its own order; a user directory adds frameworks after it, or relabels one it
names again. Every error is one line naming the file and the key, raised as a
:class:`~auditor.errors.DefinitionError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import yaml

from auditor.errors import DefinitionError
from auditor.evaluation.checks.params import describe
from auditor.evaluation.yamlload import load_definition
from auditor.resources import controls_dir

FILE = "frameworks.yaml"  # its name in the shipped catalog and in a user control directory
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def known_frameworks(dirs: Sequence[Path] = ()) -> Mapping[str, str]:
    """Every framework's name → label: the shipped ones, then those each of ``dirs`` adds."""
    known: dict[str, str] = dict(read_frameworks(controls_dir() / FILE))
    for directory in dirs:
        path = directory / FILE
        if path.is_file():
            known.update(read_frameworks(path))
    return known


def framework_order(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` in the pack's order: the shipped frameworks in the shipped file's order, then
    any other (added by a user directory) by name."""
    names = set(names)
    shipped = tuple(known_frameworks())
    return (*(n for n in shipped if n in names), *sorted(names.difference(shipped)))


def read_frameworks(path: Path) -> dict[str, str]:
    """The frameworks of one ``frameworks.yaml``; a :class:`DefinitionError` naming the file
    (and the key) when it cannot be read or is not a mapping of names to labels."""
    try:
        data = load_definition(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise DefinitionError(f"{path}: cannot read: {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "syntax error"
        raise DefinitionError(f"{path}: invalid YAML{where}: {problem}") from None
    if not isinstance(data, Mapping) or not data:
        raise DefinitionError(
            f"{path}: expected a non-empty mapping of framework names to labels, "
            f"got {describe(data)}"
        )
    out: dict[str, str] = {}
    for name, label in data.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise DefinitionError(
                f"{path}: {name}: a framework's name is lower-case letters, digits and '-'"
            )
        if not isinstance(label, str) or not label.strip():
            raise DefinitionError(f"{path}: {name}: expected a label (text), got {describe(label)}")
        out[name] = label.strip()
    return out
