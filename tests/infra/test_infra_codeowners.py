"""CODEOWNERS: gitignore-style patterns, last match wins, GitLab sections, owner syntax."""

from __future__ import annotations

import pytest

from auditor.infra.codeowners import CodeOwners

FILE = """# Owners
*                 @acme/platform
/envs/prod/       @alice bob@example.com   # production
docs/*            @writers
**/logs           @logger
apps/             @apps
*.tf              @terraform
/envs/prod/iam/
\\#notes           @hash

[Security][2] @security
/envs/**/iam/     @sec-lead
/k8s/rbac/

^[Docs]
*.md              @writer
"""


@pytest.fixture(scope="module")
def owners() -> CodeOwners:
    return CodeOwners.parse(FILE, ".github/CODEOWNERS", "c0ffee")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("envs/prod/network/main.tf", ("@terraform",)),  # the last matching rule wins
        ("envs/prod/values.yaml", ("@alice", "bob@example.com")),
        ("docs/guide.txt", ("@writers",)),
        ("docs/deep/guide.txt", ("@acme/platform",)),  # docs/* owns only its own files
        ("a/b/logs/x.log", ("@logger",)),
        ("x/apps/y/z.yaml", ("@apps",)),  # a directory pattern matches at any depth
        ("envs/prod/iam/main.tf", ()),  # a rule without owners leaves the path unowned
        ("#notes", ("@hash",)),
    ],
)
def test_last_matching_rule_of_the_default_section(
    owners: CodeOwners, path: str, expected: tuple[str, ...]
) -> None:
    default = [o for o in owners.owners_of(path) if o.section == ""]
    assert default[0].owners == expected


def test_sections_apply_independently_with_default_owners(owners: CodeOwners) -> None:
    found = {o.section: o for o in owners.owners_of("envs/dev/iam/roles.tf")}
    assert found["Security"].owners == ("@sec-lead",)
    assert found["Security"].line == 12
    assert not found["Security"].optional
    assert owners.owners_of("k8s/rbac/role.yaml")[-1].owners == ("@security",)
    docs = {o.section: o for o in owners.owners_of("README.md")}
    assert docs["Docs"].optional and docs["Docs"].owners == ("@writer",)


def test_bad_owners_are_reported_not_guessed() -> None:
    parsed = CodeOwners.parse("*.tf @ok not-an-owner\n")
    assert parsed.rules[0].owners == ("@ok",)
    assert parsed.problems == ("line 1: not an owner: not-an-owner",)


def test_negations_are_ignored() -> None:
    parsed = CodeOwners.parse("* @all\n!secret.txt\n")
    assert parsed.owners_of("secret.txt")[0].owners == ("@all",)
