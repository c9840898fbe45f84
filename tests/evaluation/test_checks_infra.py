"""The checks over the infrastructure analysis: code owners, secrets, pins, drift, concentration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.evaluation.checks import CHECKS, ChangeCheck, CheckContext, Outcome, RepositoryCheck
from auditor.evaluation.checks.infra import concentration
from auditor.evaluation.checks.params import ParamError
from auditor.infra import (
    Category,
    FileAnalysis,
    FileKind,
    Pinning,
    Reference,
    RefKind,
    SecretHit,
    SecretKind,
    Signal,
    SignalKind,
    analyse_file,
)
from auditor.infra.codeowners import CodeOwners
from auditor.model import (
    Approval,
    BranchName,
    Change,
    ChangeFacts,
    ChangeType,
    Commit,
    CommitSha,
    FileChange,
    Identity,
    Person,
    ReviewEvidence,
    SignatureKind,
    Stamp,
    Status,
)

T0 = datetime(2025, 3, 2, 10, 0, tzinfo=UTC)
PARENT = "ab12cd34" + "0" * 32
CTX = CheckContext(as_of=T0)
OWNERS = CodeOwners.parse(
    "* @acme/platform\n/envs/prod/ @alice ops@acme.example\n/envs/prod/iam/ @acme/security\n",
    ".github/CODEOWNERS",
)


def person(key: str) -> Person:
    return Person(key, key.split(":")[-1], True, is_bot=key.endswith("[bot]"))


def approval(key: str, independent: bool = True) -> Approval:
    return Approval(person(key), T0, None, True, independent)


def facts(
    *paths: str,
    categories: tuple[str, ...] = ("network",),
    approvals: tuple[Approval, ...] = (),
    authors: tuple[str, ...] = ("login:bob",),
    files: tuple[FileAnalysis, ...] | None = None,
    change_type: ChangeType = ChangeType.MODIFIED,
    **extra: Any,
) -> ChangeFacts:
    paths = paths or ("envs/prod/network/main.tf",)
    who = Identity("Bob", "bob@acme.example", "Bob", "bob@acme.example")
    landing = Commit(
        CommitSha("f" * 40), (CommitSha(PARENT),), Stamp(who, T0), Stamp(who, T0),
        "change", "", (), SignatureKind.NONE, "utf-8", False,
    )  # fmt: skip
    changed = tuple(FileChange(p, None, change_type, 1, 0, False) for p in paths)
    analysed = files if files is not None else tuple(
        FileAnalysis(p, None, FileKind.TERRAFORM, frozenset({Category.NETWORK})) for p in paths
    )  # fmt: skip
    handles = {a.reviewer.key for a in approvals}
    return ChangeFacts(
        repo="infra",
        change=Change(landing, changed, None, BranchName("main")),
        evidence=extra.pop("evidence", ReviewEvidence.FORGE),
        request_number=7,
        authors=tuple(person(a) for a in authors),
        approvals=approvals,
        categories=frozenset(categories),
        infra_files=analysed,
        codeowners=extra.pop("codeowners", OWNERS),
        handles=extra.pop(
            "handles",
            tuple(sorted((k, frozenset({"@" + k.split(":")[-1]})) for k in handles)),
        ),
        **extra,
    )


def run(name: str, subject: ChangeFacts, **params: Any) -> Outcome:
    entry = CHECKS[name]
    assert isinstance(entry, ChangeCheck)
    return entry.fn(subject, entry.resolve(params), CTX)


# -- codeowner-approval


def test_code_owner_approval_passes_and_names_the_rule() -> None:
    outcome = run("codeowner-approval", facts(approvals=(approval("login:alice"),)))
    assert outcome.status is Status.PASS
    assert "alice for envs/prod/network/main.tf by rule /envs/prod/ (line 2)" in outcome.reason


def test_approval_by_a_non_owner_fails() -> None:
    mallory = (("login:mallory", frozenset({"@mallory", "mallory@acme.example"})),)
    subject = facts(approvals=(approval("login:mallory"),), handles=mallory)
    outcome = run("codeowner-approval", subject)
    assert outcome.status is Status.FAIL
    assert "owners @alice ops@acme.example" in outcome.reason
    assert ".github/CODEOWNERS at ab12cd3" in outcome.reason


def test_an_owner_who_is_not_independent_does_not_count() -> None:
    outcome = run("codeowner-approval", facts(approvals=(approval("login:alice", False),)))
    assert outcome.status is Status.FAIL


def test_team_owners_need_a_mapping_else_unknown() -> None:
    subject = facts("envs/prod/iam/roles.tf", approvals=(approval("login:sam"),))
    unknown = run("codeowner-approval", subject)
    assert unknown.status is Status.UNKNOWN
    assert "team @acme/security (not mapped" in unknown.reason
    mapped = run("codeowner-approval", subject, teams={"@acme/security": ["sam", "lee"]})
    assert mapped.status is Status.PASS
    other = run("codeowner-approval", subject, teams={"@acme/security": ["lee"]})
    assert other.status is Status.FAIL


def test_email_owner_matches_through_the_roster_handles() -> None:
    subject = facts(
        approvals=(approval("ops-person"),),
        handles=(("ops-person", frozenset({"@ops", "ops@acme.example"})),),
    )
    assert run("codeowner-approval", subject).status is Status.PASS


def test_email_owner_with_an_approver_of_unknown_email_is_unknown() -> None:
    subject = facts(approvals=(approval("login:ops"),))
    outcome = run("codeowner-approval", subject)
    assert outcome.status is Status.UNKNOWN
    assert "owner ops@acme.example (no email known for ops)" in outcome.reason


def test_code_owners_not_applicable_missing_file_and_missing_reviews() -> None:
    plain = facts("README.md", categories=("other",))
    assert run("codeowner-approval", plain).status is Status.NOT_APPLICABLE
    no_file = facts(codeowners=None)
    assert run("codeowner-approval", no_file).status is Status.FAIL
    assert run("codeowner-approval", no_file, when_missing="unknown").status is Status.UNKNOWN
    no_reviews = facts(evidence=ReviewEvidence.NONE)
    assert run("codeowner-approval", no_reviews).status is Status.UNKNOWN


def test_sensitive_by_path_and_unowned_paths() -> None:
    subject = facts("policies/opa/x.rego", categories=("other",), codeowners=CodeOwners.parse(""))
    assert run("codeowner-approval", subject).status is Status.NOT_APPLICABLE
    outcome = run("codeowner-approval", subject, paths=["policies/**"])
    assert outcome.status is Status.FAIL
    assert "no code owner for policies/opa/x.rego" in outcome.reason


def test_teams_parameter_is_validated() -> None:
    with pytest.raises(ParamError, match="team such as"):
        CHECKS["codeowner-approval"].resolve({"teams": {"platform": ["a"]}})


# -- no-plaintext-secrets


def test_secrets_fail_with_path_and_line_never_the_value() -> None:
    value = "AKIAQ3EGRIVBXEXAMPLQ"[:4] + "Q3EGRIVBXZT7LMNP"
    before = b'region = "eu-west-1"\n'
    after = before + f'access_key = "{value}"\n'.encode()
    analysed = analyse_file("envs/prod/terraform.tfvars", None, before, after)
    outcome = run("no-plaintext-secrets", facts("envs/prod/terraform.tfvars", files=(analysed,)))
    assert outcome.status is Status.FAIL
    assert "envs/prod/terraform.tfvars:2 (aws-access-key-id)" in outcome.reason
    assert value not in outcome.reason and "Q3EGRIVB" not in outcome.reason


def test_credential_files_and_allowed_paths() -> None:
    added = facts("certs/tls.key", "tests/fixtures/fake.pem", change_type=ChangeType.ADDED)
    outcome = run("no-plaintext-secrets", added, allow_paths=["tests/**"])
    assert outcome.status is Status.FAIL
    assert "certs/tls.key (credential file added)" in outcome.reason
    assert "fake.pem" not in outcome.reason
    removed = facts("certs/tls.key", change_type=ChangeType.DELETED)
    assert run("no-plaintext-secrets", removed).status is Status.PASS


def test_secrets_unknown_when_not_analysed_or_not_scanned() -> None:
    assert run("no-plaintext-secrets", facts(files=())).status is Status.UNKNOWN
    big = FileAnalysis(
        "dump.yaml", None, FileKind.OTHER, frozenset({Category.OTHER}),
        errors=("dump.yaml: after not analysed: 3000000 bytes is over the limit",),
    )  # fmt: skip
    outcome = run("no-plaintext-secrets", facts("dump.yaml", files=(big,)))
    assert outcome.status is Status.UNKNOWN and "dump.yaml" in outcome.reason


def test_a_masked_hit_is_reported_by_kind() -> None:
    hit = SecretHit("a.yaml", 3, SecretKind.PRIVATE_KEY, "[REDACTED]")
    analysed = FileAnalysis("a.yaml", None, FileKind.OTHER, frozenset(), secrets=(hit,))
    outcome = run("no-plaintext-secrets", facts("a.yaml", files=(analysed,)))
    assert outcome.reason == "1 plain-text credential added (values masked): a.yaml:3 (private-key)"


# -- pinned-references


def refs(*items: Reference) -> ChangeFacts:
    analysed = FileAnalysis("f", None, FileKind.OTHER, frozenset(), references=items)
    return facts("f", files=(analysed,))


IMAGE = Reference("k8s/a.yaml", 9, RefKind.IMAGE, "api:1.2", Pinning.VERSION, "tag 1.2")
LATEST = Reference("k8s/a.yaml", 12, RefKind.IMAGE, "api:latest", Pinning.FLOATING, "tag latest")
ACTION = Reference("ci.yml", 4, RefKind.ACTION, "a/b@v4", Pinning.VERSION, "tag v4, not a SHA")


def test_pins_policy_per_kind() -> None:
    assert run("pinned-references", refs(IMAGE)).status is Status.PASS
    assert run("pinned-references", refs(IMAGE), images="digest").status is Status.FAIL
    assert run("pinned-references", refs(ACTION)).status is Status.FAIL
    assert run("pinned-references", refs(ACTION), actions="tag").status is Status.PASS
    floating = run("pinned-references", refs(LATEST, IMAGE), images="tag")
    assert floating.reason == (
        "1 unpinned reference added: k8s/a.yaml:12 container-image api:latest (tag latest)"
    )
    only_actions = run("pinned-references", refs(LATEST), kinds=["github-action"])
    assert only_actions.status is Status.PASS


# -- drift-signals


def test_drift_signals_are_listed_for_review() -> None:
    analysed = FileAnalysis(
        "envs/prod/storage.tf", None, FileKind.TERRAFORM, frozenset(),
        signals=(
            Signal(SignalKind.IMPORT_ADDED, "import.aws_s3_bucket.logs"),
            Signal(SignalKind.PROVIDER_VERSION_CHANGED, "provider.aws", "5.0 → 5.1"),
        ),
    )  # fmt: skip
    outcome = run("drift-signals", facts("envs/prod/storage.tf", files=(analysed,)))
    assert outcome.status is Status.FAIL
    assert outcome.reason == (
        "for review, work outside the pipeline: import block added: "
        "import.aws_s3_bucket.logs in envs/prod/storage.tf"
    )
    assert run("drift-signals", facts()).status is Status.PASS
    ignored = run("drift-signals", facts("x", files=(analysed,)), kinds=["flux-suspended"])
    assert ignored.status is Status.PASS


# -- knowledge-concentration


def test_concentration_fails_above_the_share_and_lists_single_person_areas() -> None:
    params = CHECKS["knowledge-concentration"].resolve({})
    changes = [facts(authors=("login:alice",)) for _ in range(4)]
    changes.append(facts(authors=("login:bob",), categories=("network", "policy")))
    changes.append(facts(categories=("compute",)))  # not sensitive
    outcome = concentration(changes, params)
    assert outcome.status is Status.FAIL
    assert outcome.reason == (
        "alice contributed to 4 of 5 sensitive changes (80%, above 50%); "
        "areas changed by one person only: policy (bob)"
    )
    spread = changes[:2] + [facts(authors=(f"login:p{i}",)) for i in range(3)]
    assert concentration(spread, params).status is Status.PASS
    assert concentration(changes[:3], params).status is Status.NOT_APPLICABLE


def test_concentration_leaves_bots_out() -> None:
    params = CHECKS["knowledge-concentration"].resolve({"min_changes": 2})
    bots = [facts(authors=("login:renovate[bot]",)) for _ in range(5)]
    people = [facts(authors=("login:alice",)), facts(authors=("login:bob",))]
    assert concentration(bots + people, params).status is Status.PASS


def test_concentration_as_a_repository_check_sees_the_period() -> None:
    from auditor.evaluation.catalog import load_catalog
    from auditor.evaluation.evaluate import evaluate

    [control] = [c for c in load_catalog() if c.check == "knowledge-concentration"]
    changes = [facts(authors=("login:alice",)) for _ in range(6)]
    evaluation = evaluate([control], {"acme/infra": changes}, {}, as_of=T0)
    [finding] = evaluation.findings
    assert finding.status is Status.FAIL
    assert finding.reason.startswith("alice contributed to 6 of 6 sensitive changes (100%")
    assert isinstance(CHECKS["knowledge-concentration"], RepositoryCheck)
