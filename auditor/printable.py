"""Text from data made safe to show to a person, in a page or on a terminal."""

from __future__ import annotations

import re

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def visible(text: str) -> str:
    """Replace control, bidirectional and zero-width characters by ``⟨U+XXXX⟩``."""
    if text.isascii() and text.isprintable():
        return text  # the common case, decided in C: nothing to replace
    return _INVISIBLE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)
