"""The YAML loader of the files a user writes (controls, waivers, category rules).

PyYAML's safe loader reads an unquoted ``2026-13-45`` or ``2026-01-01T00:00:00+25:00`` as a
timestamp and then fails to build it with a bare ``ValueError``, which says neither file nor
line. Here such a value is a :class:`yaml.YAMLError` at its line, like any other mistake.
"""

from __future__ import annotations

from typing import Any

import yaml

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class DefinitionLoader(_Base):  # type: ignore[misc,valid-type]
    """The safe loader; a date or time it cannot build is a :class:`ConstructorError`."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as err:
        why = "a UTC offset must be under 24 hours" if "offset" in str(err) else str(err)
        raise yaml.constructor.ConstructorError(
            None, None, f"not a valid date or time: {node.value!r} ({why})", node.start_mark
        ) from None


DefinitionLoader.add_constructor(_TIMESTAMP, _timestamp)


def load_definition(text: str) -> Any:
    """The one document of ``text``; raises :class:`yaml.YAMLError` for any mistake in it."""
    try:
        return yaml.load(text, Loader=DefinitionLoader)
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None
