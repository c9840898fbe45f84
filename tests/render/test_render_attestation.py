"""Attestations: the in-toto Statement of the controls' verdicts and the SLSA source VSA."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from forgerepo import PERIOD_START, build
from gitrepo import GitRepo
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from reportfactory import build_report

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.evidence.report import BranchScope, Report
from auditor.model import Control, ControlResult, Finding, FrameworkRef, Status
from auditor.render import RenderOptions, parse_formats, verify_pack, write_pack
from auditor.render.attestation import (
    CONTROLS_PREDICATE,
    SOURCE_POLICY,
    branch_verdicts,
    resource_uri,
    source_levels,
)

SCHEMAS = Path(__file__).parent / "schemas"
PASS, FAIL, UNKNOWN = Status.PASS, Status.FAIL, Status.UNKNOWN
ALL = ("CHG-01", "CHG-02", "INT-02", "CFG-01")
README = Path(__file__).parents[2] / "README.md"


def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def _validator(name: str) -> Draft202012Validator:
    registry: Registry = Registry()
    for file in ("in-toto-statement-v1.schema.json", "slsa-verification-summary-v1.schema.json"):
        schema = _schema(file)
        Draft202012Validator.check_schema(schema)
        registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
    return Draft202012Validator(_schema(name), registry=registry)


def _pack(tmp_path: Path, report: Report, formats: str = "attestation,csv,json") -> Path:
    return write_pack(report, tmp_path / "pack", RenderOptions(formats=parse_formats(formats))).path


def _documents(pack: Path, suffix: str) -> dict[str, dict[str, Any]]:
    return {
        p.relative_to(pack).as_posix(): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((pack / "attestations").rglob(f"*{suffix}"))
    }


def _statements(pack: Path) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in _documents(pack, ".intoto.json").items() if ".source-vsa." not in k}


def test_a_statement_and_a_vsa_per_branch_validate(tmp_path: Path) -> None:
    report = build_report(changes=60)
    pack = _pack(tmp_path, report)
    statements = _statements(pack)
    vsas = _documents(pack, ".source-vsa.intoto.json")
    heads = {(r.name, b.name): b.head for r in report.repositories for b in r.branches}
    assert len(statements) == len(vsas) == len(heads) == 3
    statement_schema = _validator("in-toto-statement-v1.schema.json")
    vsa_schema = _validator("slsa-verification-summary-v1.schema.json")
    for name, statement in statements.items():
        assert not [e.message for e in statement_schema.iter_errors(statement)], name
        assert statement["predicateType"] == CONTROLS_PREDICATE
        predicate = statement["predicate"]
        (subject,) = statement["subject"]
        head = heads[(predicate["repository"], predicate["branch"])]
        assert subject["digest"] == {"gitCommit": head} and predicate["head"] == head
        assert subject["annotations"]["source_refs"] == [f"refs/heads/{predicate['branch']}"]
        vsa_name = name.replace(".intoto.json", ".source-vsa.intoto.json")
        vsa = vsas[vsa_name]
        assert not [e.message for e in vsa_schema.iter_errors(vsa)], vsa_name
        assert vsa["subject"] == statement["subject"]
        (source,) = vsa["predicate"]["inputAttestations"]
        assert source["name"] == Path(name).name
        assert source["digest"]["sha256"] == hashlib.sha256((pack / name).read_bytes()).hexdigest()
        assert vsa["predicate"]["verifiedLevels"] == predicate["sourceLevels"]["claimed"]


def test_the_schemas_reject_what_the_formats_forbid(tmp_path: Path) -> None:
    pack = _pack(tmp_path, build_report(changes=10))
    vsa = next(iter(_documents(pack, ".source-vsa.intoto.json").values()))
    schema = _validator("slsa-verification-summary-v1.schema.json")
    for broken in (
        {**vsa, "subject": [{"name": "x"}]},  # a subject without its digest
        {**vsa, "predicate": {**vsa["predicate"], "verificationResult": "OK"}},
        {**vsa, "predicate": {**vsa["predicate"], "verifiedLevels": ["SLSA_CUSTOM"]}},
        {**vsa, "_type": "https://in-toto.io/Statement/v0.1"},
    ):
        assert list(schema.iter_errors(broken))


def test_the_manifest_digest_is_that_of_the_files_before_the_attestations(tmp_path: Path) -> None:
    pack = _pack(tmp_path, build_report(changes=30), "attestation,grc,csv,json,html,pdf")
    assert verify_pack(pack) == []
    lines = (pack / "MANIFEST.sha256").read_text(encoding="utf-8").splitlines(keepends=True)
    # The README's recipe: grep -v -e '  attestations/' -e '  report.pdf$' MANIFEST.sha256
    kept = [
        line
        for line in lines
        if "  attestations/" not in line and not line.endswith("  report.pdf\n")
    ]
    digest = hashlib.sha256("".join(kept).encode()).hexdigest()
    for statement in _statements(pack).values():
        manifest = statement["predicate"]["manifest"]
        assert manifest["digest"] == {"sha256": digest}
        assert manifest["files"] == len(kept)
    assert any("  grc/" in line for line in kept)  # the GRC import is written before them


def test_a_single_branchs_verdicts_are_the_controls_csv(tmp_path: Path) -> None:
    report = build_report(changes=40, repos=1)
    pack = _pack(tmp_path, report)
    with (pack / "csv" / "controls.csv").open(encoding="utf-8", newline="") as stream:
        table = {row["control_id"]: row for row in csv.DictReader(stream)}
    (statement,) = _statements(pack).values()
    for control in statement["predicate"]["controls"]:
        row = table[control["id"]]
        assert control["status"] == row["status"]
        for ours, theirs in (("passed", "passed"), ("failed", "failed"), ("unknown", "unknown"),
                             ("notApplicable", "not_applicable"), ("waived", "waived"),
                             ("population", "population")):  # fmt: skip
            assert str(control[ours]) == row[theirs], (control["id"], ours)


def test_each_repositorys_verdicts_are_its_findings(tmp_path: Path) -> None:
    pack = _pack(tmp_path, build_report(changes=60))
    with (pack / "csv" / "findings.csv").open(encoding="utf-8", newline="") as stream:
        findings = list(csv.DictReader(stream))
    for statement in _statements(pack).values():
        predicate = statement["predicate"]
        for control in predicate["controls"]:
            mine = [
                row["status"]
                for row in findings
                if row["repo"] == predicate["repository"] and row["control_id"] == control["id"]
            ]
            counted = {
                "passed": mine.count("pass"),
                "failed": mine.count("fail"),
                "unknown": mine.count("unknown"),
                "notApplicable": mine.count("not_applicable"),
                "waived": mine.count("waived"),
            }
            assert {k: control[k] for k in counted} == counted
            assert control["population"] == len(mine) - counted["notApplicable"]


def test_a_branch_where_nothing_landed_is_not_attested(tmp_path: Path) -> None:
    report = build_report(changes=20)
    first = report.repositories[0]
    empty = dataclasses.replace(first, branches=(*first.branches, BranchScope("release", "")))
    report = dataclasses.replace(report, repositories=(empty, *report.repositories[1:]))
    names = sorted(_statements(_pack(tmp_path, report)))
    assert len(names) == 3 and not any("release" in n for n in names)


def _levelled(statuses: dict[str, Status]) -> Report:
    """A one-repository report whose controls CHG-01, CHG-02, INT-02, CFG-01 (those named in
    ``statuses``) have the given result on every change (INT-02, CFG-01: on the repository)."""
    base = build_report(changes=3, repos=1, sample=0)
    findings: list[Finding] = []
    controls: list[ControlResult] = []
    for cid, status in statuses.items():
        control = Control(cid, cid, "", "", "check", {}, (FrameworkRef("soc2", "CC8.1"),))
        repository_level = cid in ("INT-02", "CFG-01")
        targets = (
            [("", "")] if repository_level else [(c.change_id, c.change.sha) for c in base.changes]
        )
        mine = [
            Finding(cid, base.repositories[0].name, change, sha, None, status, "why")
            for change, sha in targets
        ]
        findings += mine
        n = len(mine)
        counts = {s: n if s is status else 0 for s in Status}
        controls.append(
            ControlResult(
                control,
                n - counts[Status.NOT_APPLICABLE],
                counts[Status.PASS],
                counts[Status.FAIL],
                counts[Status.UNKNOWN],
                counts[Status.NOT_APPLICABLE],
                counts[Status.WAIVED],
            )
        )
    return dataclasses.replace(base, findings=tuple(findings), controls=tuple(controls))


def _levels(statuses: dict[str, Status]) -> tuple[list[str], list[str]]:
    (verdicts,) = branch_verdicts(_levelled(statuses))
    return source_levels(verdicts)


@pytest.mark.parametrize(
    ("statuses", "claimed", "not_claimed"),
    [
        (dict.fromkeys(ALL, PASS), ["SLSA_SOURCE_LEVEL_2", "SLSA_SOURCE_TWO_PARTY_REVIEWED"], []),
        ({"CHG-01": PASS, "CHG-02": PASS, "INT-02": PASS}, ["SLSA_SOURCE_LEVEL_1",
         "SLSA_SOURCE_TWO_PARTY_REVIEWED"],
         ["SLSA_SOURCE_LEVEL_2 not claimed: CFG-01 not evaluated"]),
        ({**dict.fromkeys(ALL, PASS), "INT-02": FAIL}, ["SLSA_SOURCE_LEVEL_1",
         "SLSA_SOURCE_TWO_PARTY_REVIEWED"], ["SLSA_SOURCE_LEVEL_2 not claimed: INT-02 fail"]),
        ({**dict.fromkeys(ALL, PASS), "CHG-02": UNKNOWN}, ["SLSA_SOURCE_LEVEL_2"],
         ["SLSA_SOURCE_TWO_PARTY_REVIEWED not claimed: CHG-02 unknown"]),
        ({}, ["SLSA_SOURCE_LEVEL_1"], [
            "SLSA_SOURCE_LEVEL_2 not claimed: CFG-01 not evaluated, INT-02 not evaluated",
            "SLSA_SOURCE_TWO_PARTY_REVIEWED not claimed: CHG-01 not evaluated,"
            " CHG-02 not evaluated",
        ]),
    ],
    ids=["everything", "no-protection-evidence", "rewritten", "review-unknown", "nothing"],
)  # fmt: skip
def test_only_the_levels_the_evidence_supports(
    statuses: dict[str, Status], claimed: list[str], not_claimed: list[str]
) -> None:
    assert _levels(statuses) == (claimed, not_claimed)


def _score(levels: list[str]) -> tuple[int, int]:
    level = max(int(x[-1]) for x in levels if x.startswith("SLSA_SOURCE_LEVEL_"))
    return level, int("SLSA_SOURCE_TWO_PARTY_REVIEWED" in levels)


def test_a_worse_result_never_claims_more() -> None:
    everything = _score(_levels(dict.fromkeys(ALL, PASS))[0])
    assert everything == (2, 1)
    for cid in ALL:
        for worse in (FAIL, UNKNOWN, Status.NOT_APPLICABLE):
            fewer = _score(_levels({**dict.fromkeys(ALL, PASS), cid: worse})[0])
            assert fewer[0] <= everything[0] and fewer[1] <= everything[1]
            assert fewer != everything, (cid, worse)


def test_two_party_review_needs_a_change() -> None:
    report = _levelled({"CHG-01": PASS, "CHG-02": PASS})
    (verdicts,) = branch_verdicts(dataclasses.replace(report, changes=()))
    claimed, not_claimed = source_levels(verdicts)
    assert "SLSA_SOURCE_TWO_PARTY_REVIEWED" not in claimed
    assert any("no change in the period" in reason for reason in not_claimed)


def test_resource_uri_never_names_a_local_path() -> None:
    scope = build_report(changes=5, repos=1).repositories[0]
    assert resource_uri(scope) == "git+https://github.com/acme/infra-live.git"
    ssh = dataclasses.replace(scope, remote="git@github.com:acme/infra-live.git")
    assert resource_uri(ssh) == "git+ssh://git@github.com/acme/infra-live.git"
    local = dataclasses.replace(scope, name="k8s manifests & co", remote="local path …/a/b")
    assert resource_uri(local) == "urn:auditor:repository:k8s%20manifests%20%26%20co"


def test_the_readme_states_the_policy_the_vsa_cites() -> None:
    assert SOURCE_POLICY in README.read_text(encoding="utf-8")


def test_two_renders_are_byte_identical(tmp_path: Path) -> None:
    one = _pack(tmp_path / "a", build_report(changes=30))
    two = _pack(tmp_path / "b", build_report(changes=30))
    names = sorted(p.relative_to(one).as_posix() for p in (one / "attestations").rglob("*.json"))
    assert names and all((one / n).read_bytes() == (two / n).read_bytes() for n in names)


def test_report_of_a_real_history_with_the_shipped_catalog(repo: GitRepo, tmp_path: Path) -> None:
    history = build(repo, "github")
    export = history.write_export(tmp_path / "reviews.json")
    out = tmp_path / "pack"
    args = [history.path, "--store", tmp_path / "store", "--since", PERIOD_START,
            "--reviews-file", export, "--as-of", "2026-04-01T00:00:00Z",
            "--format", "attestation,json,html", "--out", out, "-q"]  # fmt: skip
    assert run(["report", *map(str, args)]) == ExitCode.CONTROLS_FAILED
    assert verify_pack(out) == []
    evidence = json.loads((out / "evidence.json").read_text(encoding="utf-8"))
    (branch,) = evidence["repositories"][0]["branches"]
    (statement,) = _statements(out).values()
    assert statement["subject"][0]["digest"] == {"gitCommit": branch["head"]}
    assert len(branch["head"]) == 40
    (vsa,) = _documents(out, ".source-vsa.intoto.json").values()
    assert not list(_validator("slsa-verification-summary-v1.schema.json").iter_errors(vsa))
    # Its review data shows main protected throughout (CFG-01 passes), but the store first
    # mined the branch now, so INT-02 cannot vouch for the period: level 1.
    assert vsa["predicate"]["verifiedLevels"] == ["SLSA_SOURCE_LEVEL_1"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="attestations/' in index
