from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from reportfactory import build_report

from auditor.errors import RenderError, UsageError
from auditor.render import Format, RenderOptions, parse_formats, verify_pack, write_pack
from auditor.render.templating import environment


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("packs")
    options = RenderOptions(formats=tuple(Format))
    first = write_pack(build_report(changes=40), root / "one", options).path
    second = write_pack(build_report(changes=40), root / "two", options).path
    return first, second


def test_layout(packs: tuple[Path, Path]) -> None:
    names = set(_files(packs[0]))
    expected = {
        "report.pdf", "index.html", "changes.html", "evidence.json", "MANIFEST.sha256",
        "oscal/assessment-results.json", "assets/site.css", "assets/changes.js",
        *(f"csv/{n}.csv" for n in ("changes", "commits", "findings", "controls", "sample")),
    }  # fmt: skip
    assert expected <= names
    assert sum(1 for n in names if n.startswith("changes/")) == 40
    assert not any(n.endswith(".partial") for n in (p.name for p in packs[0].parent.iterdir()))


def test_same_report_gives_identical_bytes(packs: tuple[Path, Path]) -> None:
    first, second = (_files(p) for p in packs)
    assert first.keys() == second.keys()
    assert [n for n in first if first[n] != second[n]] == []


def test_manifest_is_sha256sum_compatible(packs: tuple[Path, Path]) -> None:
    pack = packs[0]
    lines = (pack / "MANIFEST.sha256").read_text().splitlines()
    assert lines == sorted(lines, key=lambda line: line[66:])
    assert {line[66:] for line in lines} == set(_files(pack)) - {"MANIFEST.sha256"}
    run = subprocess.run(
        ["sha256sum", "--check", "--quiet", "--strict", "MANIFEST.sha256"],
        cwd=pack, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert verify_pack(pack) == []


def test_verify_names_every_changed_missing_and_added_file(
    packs: tuple[Path, Path], tmp_path: Path
) -> None:
    pack = tmp_path / "pack"
    for name, data in _files(packs[0]).items():
        (pack / name).parent.mkdir(parents=True, exist_ok=True)
        (pack / name).write_bytes(data)
    with (pack / "csv" / "findings.csv").open("ab") as stream:
        stream.write(b"x")
    (pack / "evidence.json").unlink()
    (pack / "csv" / "extra.csv").write_text("a,b\r\n")
    assert sorted(verify_pack(pack)) == [
        "added: csv/extra.csv",
        "changed: csv/findings.csv",
        "missing: evidence.json",
    ]
    (pack / "MANIFEST.sha256").write_text("nonsense\n")
    assert "malformed: MANIFEST.sha256 line 1" in verify_pack(pack)
    with pytest.raises(RenderError):
        verify_pack(tmp_path / "nowhere")


def test_refuses_to_overwrite_and_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not an empty directory"):
        write_pack(build_report(changes=5), out, RenderOptions(formats=(Format.CSV,)))
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_formats_subset_and_failure_is_atomic(tmp_path: Path) -> None:
    pack = write_pack(
        build_report(changes=5, sample=0), tmp_path / "csv", RenderOptions(formats=(Format.CSV,))
    )
    tables = [f"csv/{name}.csv" for name in ("changes", "commits", "controls", "findings")]
    assert sorted(_files(pack.path)) == ["MANIFEST.sha256", *tables]
    broken = tmp_path / "templates" / "html"
    broken.mkdir(parents=True)
    (broken / "index.html").write_text("{{ no_such_value }}")
    options = RenderOptions(formats=(Format.CSV, Format.HTML), template_dir=broken.parent)
    with pytest.raises(Exception, match="no_such_value"):
        write_pack(build_report(changes=5), tmp_path / "html", options)
    assert not (tmp_path / "html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csv", "templates"]


def test_formats_rendered_in_forked_processes_give_the_same_pack(
    packs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor import forked
    from auditor.render import html, pack

    monkeypatch.setattr(pack, "CONCURRENT_MIN_CHANGES", 1)
    monkeypatch.setattr(forked, "available_cores", lambda: 2)
    monkeypatch.setattr(html, "PARALLEL_MIN_CHANGES", 10)  # nested: change pages too
    monkeypatch.setattr(html, "available_cores", lambda: 2)
    shared: list[object] = []
    monkeypatch.setattr(forked, "_SHARED", _Watched(shared))
    options = RenderOptions(formats=tuple(Format))
    concurrent = write_pack(build_report(changes=40), tmp_path / "forked", options).path
    assert shared  # the formats really were handed to forked processes
    assert _files(concurrent) == _files(packs[0])
    broken = tmp_path / "templates" / "html"
    broken.mkdir(parents=True)
    (broken / "change.html").write_text("{{ no_such_value.x }}")
    options = RenderOptions(formats=tuple(Format), template_dir=broken.parent)
    with pytest.raises(RenderError, match="no_such_value"):
        write_pack(build_report(changes=40), tmp_path / "failed", options)
    assert not (tmp_path / "failed").exists()


class _Watched(list[object]):
    """A list that remembers what was ever put in it."""

    def __init__(self, seen: list[object]) -> None:
        super().__init__()
        self.seen = seen

    def __setitem__(self, key: Any, value: Any) -> None:
        self.seen.append(value)
        super().__setitem__(key, value)


def test_user_templates_override_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "_macros.html").write_text("{% macro status(value) %}[{{ value }}]{% endmacro %}")
    env = environment(tmp_path)
    html = env.from_string('{% from "_macros.html" import status %}{{ status("pass") }}').render()
    assert html == "[pass]"
    with pytest.raises(RenderError, match="template directory not found"):
        environment(tmp_path / "missing")


def test_environment_escapes_and_shows_invisible_characters() -> None:
    env = environment()
    text = env.from_string("{{ v }}").render(v="<b>a\u202eb\x07</b>")
    assert text == "&lt;b&gt;a⟨U+202E⟩b⟨U+0007⟩&lt;/b&gt;"


def test_parse_formats() -> None:
    assert parse_formats("json, pdf") == (Format.PDF, Format.JSON)
    assert parse_formats(",".join(f.value for f in Format)) == tuple(Format)
    with pytest.raises(UsageError, match="unknown format docx"):
        parse_formats("pdf,docx")
    with pytest.raises(UsageError):
        parse_formats("")


# What each registered format writes, alone in a pack (beside the manifest). A format added to
# the registry without a line here fails test_every_registered_format_writes_what_it_says.
WRITES = {
    "pdf": ("report.pdf",),
    "html": ("index.html", "changes.html", "sample.html", "assets/", "changes/", "controls/"),
    "csv": ("csv/",),
    "json": ("evidence.json",),
    "oscal": ("oscal/assessment-results.json",),
    "xlsx": ("workbook.xlsx",),
    "grc": ("grc/",),
    "attestation": ("attestations/",),
}


@pytest.mark.parametrize("fmt", tuple(Format), ids=lambda f: f.value)
def test_every_registered_format_writes_what_it_says(fmt: Format, tmp_path: Path) -> None:
    import importlib

    from auditor.render.interface import Renderer

    module = importlib.import_module(f"auditor.render.{fmt.value}")
    renderer = fmt.renderer()
    assert isinstance(renderer, Renderer) and renderer.format is fmt
    assert type(renderer).__module__ == module.__name__
    assert fmt.value in WRITES, f"say in WRITES what --format {fmt.value} writes"
    pack = write_pack(build_report(changes=3), tmp_path / "pack", RenderOptions(formats=(fmt,)))
    names = set(_files(pack.path)) - {"MANIFEST.sha256"}
    assert names, f"{fmt.value} wrote nothing"
    assert {n for n in names if not n.startswith(WRITES[fmt.value])} == set()
    for prefix in WRITES[fmt.value]:
        assert any(n.startswith(prefix) for n in names), f"{fmt.value}: no {prefix}"
    assert verify_pack(pack.path) == []


def test_the_registry_orders_the_pack_and_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from auditor.cli import run
    from auditor.render.interface import DEFAULT_FORMATS, Stage

    assert tuple(f for f in Format if f.default) == DEFAULT_FORMATS
    assert Format.PDF.stage is Stage.LAST and Format.CSV.stage is Stage.TABLES
    assert {f for f in Format if f.tables} == {Format.CSV, Format.PDF}
    assert run(["report", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"Comma-separated from {', '.join(f.value for f in Format)}." in help_text
    assert f"[default: {','.join(f.value for f in DEFAULT_FORMATS)}]" in help_text
    with pytest.raises(UsageError, match=f"choose from {','.join(f.value for f in Format)}"):
        parse_formats("docx")
