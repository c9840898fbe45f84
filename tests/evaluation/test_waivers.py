from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.errors import DefinitionError
from auditor.evaluation.waivers import expired, load_waivers, matches
from auditor.model import Finding, Status

GOOD = """\
waivers:
  - id: W-1
    control: CHG-02
    change: 1A2B3C4
    owner: platform-team
    ticket: SEC-12
    reason: Break-glass fix during the outage.
    approved_by: ciso@acme.example
    expires: 2025-06-30
  - id: W-2
    control: CHG-07
    path: docs/**
    owner: docs
    ticket: DOC-1
    reason: Documentation needs no ticket.
    approved_by: cto
    expires: 2026-01-01
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def finding(control: str = "CHG-02", commit: str = "1a2b3c4d5e6f", request: int = 7) -> Finding:
    return Finding(control, "infra", f"infra@{commit[:12]}", commit, request, Status.FAIL, "x")


def test_load_and_match(tmp_path: Path) -> None:
    first, second = load_waivers(write(tmp_path, GOOD))
    assert first.change == "1A2B3C4"
    assert first.expires == datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)
    assert matches(first, finding())
    assert not matches(first, finding(control="CHG-03"))
    assert not matches(first, finding(commit="9999999"))
    by_id = replace(first, change="infra@1a2b3c4d")
    assert matches(by_id, finding())
    assert not matches(replace(by_id, change="apps@1a2b3c4d"), finding())
    assert matches(second, finding("CHG-07"), ["docs/a.md", "docs/b/c.md"])
    assert not matches(second, finding("CHG-07"), ["docs/a.md", "main.tf"])
    assert not matches(second, finding("CHG-07"), [])


def test_a_request_waiver_needs_the_request_linked_not_merely_named(tmp_path: Path) -> None:
    first, _ = load_waivers(write(tmp_path, GOOD))
    by_request = replace(first, change="", request=7)
    assert matches(by_request, finding())
    assert not matches(by_request, finding(request=8))
    # a direct push whose message says "(#7)" does not inherit request #7's waiver
    assert not matches(by_request, finding(), request_linked=False)
    assert matches(first, finding(), request_linked=False), "a change waiver still applies"


def test_expiry_is_inclusive_of_the_day(tmp_path: Path) -> None:
    waiver = load_waivers(write(tmp_path, GOOD))[0]
    assert not expired(waiver, datetime(2025, 6, 30, 23, 0, tzinfo=UTC))
    assert expired(waiver, datetime(2025, 7, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    expires: 2025-06-30\n", "    expires: soon\n", "waivers[0].expires: expected a date"),
        ("    owner: platform-team\n", "", "waivers[0].owner: missing"),
        ("    change: 1A2B3C4\n", "", "waivers[0]: expected exactly one of change, request, path"),
        ("    change: 1A2B3C4\n", "    change: HEAD\n", "waivers[0].change: expected a commit SHA"),
        ("    change: 1A2B3C4\n", "    request: '7'\n", "waivers[0].request: expected a request"),
        ("- id: W-2\n", "- id: W-1\n", "waivers[1].id: duplicate id 'W-1'"),
        ("    ticket: DOC-1\n", "    ticket: DOC-1\n    team: x\n", "waivers[1].team: unknown key"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(DefinitionError) as err:
        load_waivers(path)
    assert str(err.value).startswith(f"{path}: {message}")


def test_not_a_waivers_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="expected a mapping with one key, waivers"):
        load_waivers(write(tmp_path, "- id: W-1\n"))


def test_the_readme_example_is_a_valid_waivers_file(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("#### Waivers", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    [waiver] = load_waivers(write(tmp_path, example))
    assert (waiver.id, waiver.control) == ("WVR-2026-007", "CHG-02")
    assert waiver.change == "infra-live@3f2a9c1d0b7e"
    assert waiver.approved_by == "Dana Whitfield (CISO)"
    assert waiver.expires == datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
    for key in ("approved_by", "expires", "owner", "ticket", "reason"):  # the keys it documents
        assert f"`{key}`" in section.split("### ", 1)[0]
