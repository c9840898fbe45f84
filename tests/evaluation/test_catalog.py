from __future__ import annotations

from pathlib import Path

import pytest

from auditor.errors import DefinitionError, UsageError
from auditor.evaluation.catalog import (
    effective_parameters,
    load_catalog,
    parse_overrides,
    read_control,
    validate_dir,
)
from auditor.evaluation.checks import CHECKS
from auditor.evaluation.frameworks import known_frameworks
from auditor.model import Severity
from auditor.resources import controls_dir

GOOD = """\
id: ORG-01
title: A control of our own
description: Something.
procedure: Look at it.
check: independent-approvals
parameters:
  min_approvals: 2
severity: high
frameworks:
  soc2: [CC8.1]
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_control_loads_names_a_check_and_maps_a_framework() -> None:
    assert validate_dir(controls_dir()) == []
    catalog = load_catalog()
    assert len(catalog) == len(list(controls_dir().glob("*.yaml"))) - 1  # and frameworks.yaml
    for control in catalog:
        assert control.check in CHECKS
        assert control.frameworks
        assert {r.framework for r in control.frameworks} <= set(known_frameworks())
        assert Path(control.source).name.startswith(control.id + "-")
    assert {c.check for c in catalog} == set(CHECKS)


def test_framework_filter() -> None:
    pci = load_catalog(frameworks=["pci-dss"])
    assert pci and all(c.refs(["pci-dss"]) for c in pci)
    assert len(pci) < len(load_catalog())
    with pytest.raises(UsageError, match="unknown framework 'sox'"):
        load_catalog(frameworks=["sox"])


def test_user_directory_adds_and_overrides_by_id(tmp_path: Path) -> None:
    write(tmp_path, "org.yaml", GOOD)
    write(
        tmp_path,
        "chg.yaml",
        GOOD.replace("ORG-01", "CHG-02").replace("approvals: 2", "approvals: 3"),
    )
    catalog = {c.id: c for c in load_catalog([tmp_path])}
    assert catalog["ORG-01"].severity is Severity.HIGH
    assert catalog["CHG-02"].parameters["min_approvals"] == 3
    assert catalog["CHG-02"].source == str(tmp_path / "chg.yaml")
    assert [c.id for c in load_catalog([tmp_path], shipped=False)] == ["CHG-02", "ORG-01"]


BAD = {
    "params.yaml": (
        GOOD.replace("min_approvals: 2", "min_approvals: two"),
        "params.yaml: parameters.min_approvals: expected an integer, got 'two'",
    ),
    "unknown-key.yaml": (GOOD + "owner: me\n", "unknown-key.yaml: owner: unknown key"),
    "missing.yaml": (
        GOOD.replace("procedure: Look at it.\n", ""),
        "missing.yaml: procedure: missing",
    ),
    "check.yaml": (
        GOOD.replace("check: independent-approvals", "check: magic"),
        "check.yaml: check: unknown check 'magic'",
    ),
    "framework.yaml": (
        GOOD.replace("soc2:", "sox:"),
        "framework.yaml: frameworks.sox: unknown framework",
    ),
    "severity.yaml": (
        GOOD.replace("severity: high", "severity: urgent"),
        "severity.yaml: severity: expected one of low, medium, high, critical, got 'urgent'",
    ),
    "type.yaml": (
        GOOD.replace("title: A control of our own", "title: [a, b]"),
        "type.yaml: title: expected a non-empty string, got a list",
    ),
    "param-name.yaml": (
        GOOD.replace("min_approvals: 2", "min_aprovals: 2"),
        "param-name.yaml: parameters.min_aprovals: unknown parameter",
    ),
    "scope.yaml": (GOOD + "scope:\n  teams: [a]\n", "scope.yaml: scope.teams: unknown key"),
    "yaml.yaml": ("id: [unclosed\n", "yaml.yaml: invalid YAML at line"),
    "dup.yaml": (GOOD, "dup.yaml: id: 'ORG-01' is already defined in"),
}


def test_validate_dir_lists_every_error_naming_file_and_key(tmp_path: Path) -> None:
    write(tmp_path, "a-good.yaml", GOOD)
    for name, (text, _) in BAD.items():
        write(tmp_path, name, text)
    errors = validate_dir(tmp_path)
    assert len(errors) == len(BAD)
    for _, expected in BAD.values():
        assert any(e.startswith(str(tmp_path / expected.split(":")[0])) for e in errors)
        assert any(expected in e for e in errors), expected
    assert all("\n" not in e for e in errors)


def test_one_file_reports_all_its_errors(tmp_path: Path) -> None:
    text = GOOD.replace("severity: high", "severity: 3").replace("check: independent", "check: x")
    control, errors = read_control(write(tmp_path, "x.yaml", text))
    assert control is None
    assert [e.split(": ")[1] for e in errors] == ["check", "severity"]


def test_load_catalog_raises_the_first_error(tmp_path: Path) -> None:
    write(tmp_path, "params.yaml", BAD["params.yaml"][0])
    with pytest.raises(DefinitionError, match=r"params\.yaml: parameters\.min_approvals"):
        load_catalog([tmp_path])


def test_validate_dir_of_nothing(tmp_path: Path) -> None:
    assert validate_dir(tmp_path) == [f"{tmp_path}: no control files (*.yaml)"]
    assert validate_dir(tmp_path / "nope") == [f"{tmp_path / 'nope'}: not a directory"]


def test_overrides_most_specific_match_wins() -> None:
    catalog = load_catalog()
    control = next(c for c in catalog if c.id == "CHG-02")
    overrides = parse_overrides(
        {
            "CHG-02": [
                {"paths": ["envs/prod/**"], "parameters": {"min_approvals": 3}},
                {"repositories": ["infra-*"], "parameters": {"min_approvals": 2}},
                {
                    "repositories": ["infra-live"],
                    "paths": ["envs/prod/**"],
                    "parameters": {"min_approvals": 4},
                },
            ]
        },
        catalog,
        source="auditor.toml",
    )
    assert effective_parameters(control, overrides, "other", ["README.md"])["min_approvals"] == 1
    assert effective_parameters(control, overrides, "infra-x", ["a.tf"])["min_approvals"] == 2
    prod = ["envs/prod/vpc.tf"]
    assert effective_parameters(control, overrides, "infra-x", prod)["min_approvals"] == 3
    assert effective_parameters(control, overrides, "infra-live", prod)["min_approvals"] == 4
    assert effective_parameters(control, overrides, "infra-live", prod)["path_rules"] == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"NOPE-1": []}, "auditor.toml: overrides.NOPE-1: unknown control"),
        (
            {"CHG-02": [{"parameters": {"min_approvals": "two"}}]},
            "auditor.toml: overrides.CHG-02[0].parameters.min_approvals: expected an integer",
        ),
        (
            {"CHG-02": [{"paths": "envs/**", "parameters": {}}]},
            "auditor.toml: overrides.CHG-02[0].paths: expected a list",
        ),
        (
            {"CHG-02": [{"branches": ["main"], "parameters": {}}]},
            "auditor.toml: overrides.CHG-02[0].branches: unknown key",
        ),
    ],
)
def test_override_errors_name_source_and_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(DefinitionError) as err:
        parse_overrides(raw, load_catalog(), source="auditor.toml")
    assert str(err.value).startswith(message)


def test_the_shipped_frameworks_are_data_beside_the_controls() -> None:
    assert dict(known_frameworks()) == {
        "soc2": "SOC 2, 2017 Trust Services Criteria (revised points of focus, 2022)",
        "iso27001": "ISO/IEC 27001:2022 Annex A",
        "pci-dss": "PCI DSS v4.0.1",
        "nist-800-53": "NIST SP 800-53 Rev. 5",
    }


def test_a_directory_adds_a_framework_its_controls_and_later_directories_map_to(
    tmp_path: Path,
) -> None:
    write(tmp_path / "a", "frameworks.yaml", "sox: SOX ITGC\nsoc2: SOC 2 (our edition)\n")
    write(tmp_path / "a", "org.yaml", GOOD.replace("soc2:", "sox:"))
    write(tmp_path / "b", "org2.yaml", GOOD.replace("ORG-01", "ORG-02").replace("soc2:", "sox:"))
    dirs = [tmp_path / "a", tmp_path / "b"]
    assert list(known_frameworks(dirs)) == ["soc2", "iso27001", "pci-dss", "nist-800-53", "sox"]
    assert known_frameworks(dirs)["soc2"] == "SOC 2 (our edition)"
    sox = load_catalog(dirs, frameworks=["sox"])
    assert [(c.id, [str(r) for r in c.frameworks]) for c in sox] == [
        ("ORG-01", ["sox:CC8.1"]), ("ORG-02", ["sox:CC8.1"])
    ]  # fmt: skip
    assert validate_dir(tmp_path / "a") == []
    # without the directory that adds it, the framework is unknown
    assert validate_dir(tmp_path / "b") == [
        f"{tmp_path / 'b' / 'org2.yaml'}: frameworks.sox: unknown framework; "
        "known: soc2, iso27001, pci-dss, nist-800-53"
    ]
    with pytest.raises(UsageError, match="unknown framework 'sox'"):
        load_catalog([tmp_path / "b"], frameworks=["sox"])


def test_a_bad_frameworks_file_is_one_error_naming_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "frameworks.yaml", "sox: ''\n")
    write(tmp_path, "org.yaml", GOOD)
    assert validate_dir(tmp_path) == [f"{path}: sox: expected a label (text), got ''"]
    with pytest.raises(DefinitionError, match=r"frameworks\.yaml: sox: expected a label"):
        load_catalog([tmp_path])
