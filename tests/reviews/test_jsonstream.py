from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditor.reviews import jsonstream
from auditor.reviews.jsonstream import read_object

# windows of a few characters put every token, number and escape across a window's edge
WINDOWS = [1, 2, 3, 7, 64, 1 << 20]

VALID = [
    '{"schema_version": 1, "forge": "github", "pulls": [{"pull": {"n": 1}}, {"pull": {}}]}',
    json.dumps(
        {
            "name": 'Diego Hernández ✓ \u2028 \\ " / \t',
            "numbers": [0, -1, 12345678901234567890, 1.5e-300, 3.25, True, False, None],
            "nested": {"a": [[], {}, [[[1]]], {"b": {"c": "d"}}]},
            "empty": [],
            "pulls": [{"x": i, "y": "v" * i} for i in range(30)],
        },
        indent=2,
        ensure_ascii=False,
    ),
    "{}",
    '  {  "a"  :  [  ]  ,  "b"  :  12345  }  \n',
    '{"a": 1, "a": [2, 3]}',  # a repeated key: the last one, as json.loads
    "[1, 2, {}]",
    '"a string"',
    "  1234567  ",
    "null",
]

INVALID = [
    "",
    "{",
    '{"a"',
    '{"a" 1}',
    '{"a":}',
    '{"a":1',
    '{"a":1 "b":2}',
    '{"a":1,}',
    '{"a":1}x',
    '{"a":1}\n\n  {"b": 2}',
    '{"a":[1,]}',
    '{"a":[1 2]}',
    '{"a":[',
    '{"a":[1',
    '{"a":["unterminated]}',
    '{\n  "a": 1,\n  "b": [\n    {"c": tru}\n  ]\n}',
    '{\n  "a": 1\n  "b": 2\n}',
    "{1: 2}",
    "[1,",
    "   [1, 2",
    '{"a": "\x01 control character"}',
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "document.json"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("text", VALID)
def test_reads_what_json_loads_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int, text: str
) -> None:
    monkeypatch.setattr(jsonstream, "_CHUNK", window)
    path = write(tmp_path, text)
    assert read_object(path, lambda key, members: None) == json.loads(text)


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("text", VALID)
def test_streamed_arrays_hand_over_each_element_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int, text: str
) -> None:
    monkeypatch.setattr(jsonstream, "_CHUNK", window)
    expected = json.loads(text)
    taken: dict[str, list[tuple[int, Any]]] = {}
    seen_before: dict[str, list[str]] = {}

    def streamed(key: str, members: dict[str, Any]) -> jsonstream.Element | None:
        seen_before[key] = list(members)
        return lambda index, value: taken.setdefault(key, []).append((index, value))

    document = read_object(write(tmp_path, text), streamed)
    if not isinstance(expected, dict):
        assert document == expected and not taken
        return
    arrays = {k for k, v in expected.items() if isinstance(v, list)}
    assert document == {k: [] if k in arrays else v for k, v in expected.items()}
    for key in arrays:
        assert taken.get(key, []) == list(enumerate(expected[key]))
    keys = list(expected)
    for key in arrays:
        if text.count(f'"{key}"') == 1:
            assert seen_before[key] == keys[: keys.index(key)]


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("text", INVALID)
def test_rejects_what_json_loads_rejects_with_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int, text: str
) -> None:
    monkeypatch.setattr(jsonstream, "_CHUNK", window)
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    path = write(tmp_path, text)
    for streamed in (lambda key, members: None, lambda key, members: lambda i, v: None):
        with pytest.raises(json.JSONDecodeError) as ours:
            read_object(path, streamed)
        assert str(ours.value) == str(theirs.value)
        assert (ours.value.pos, ours.value.lineno, ours.value.colno) == (
            theirs.value.pos,
            theirs.value.lineno,
            theirs.value.colno,
        )


def test_a_large_array_is_read_through_a_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each element is handed over before the file's end is read: the reader never holds
    more than a window and one element."""
    monkeypatch.setattr(jsonstream, "_CHUNK", 4096)
    elements = [{"pull": {"number": i, "body": "x" * 500}} for i in range(2000)]
    path = write(tmp_path, json.dumps({"forge": "github", "pulls": elements}, indent=2))
    size = path.stat().st_size
    windows: list[int] = []
    original = jsonstream._Reader._more

    def watched(reader: Any) -> None:
        original(reader)
        windows.append(len(reader.text))

    monkeypatch.setattr(jsonstream._Reader, "_more", watched)
    got: list[int] = []
    read_object(path, lambda key, members: lambda i, v: got.append(v["pull"]["number"]))
    assert got == list(range(2000))
    assert max(windows) < 3 * 4096 < size / 50
