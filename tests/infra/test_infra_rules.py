from __future__ import annotations

from pathlib import Path

import pytest

from auditor.errors import DefinitionError
from auditor.infra import Category, FileKind, ResourceKind, Rules, analyse_file


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "auditor-rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_rules_extend_the_defaults(tmp_path: Path) -> None:
    rules = Rules.load(
        write(
            tmp_path,
            """
file_kinds:
  observability: [dockerfile]
paths:
  secrets: ["vault/**"]
resource_types:
  network: ["acme_firewall_*"]
kinds:
  compute: ["acme.io/Worker"]
fields:
  - categories: [observability]
    match: ["spec.telemetry.**"]
    types: ["acme.io/*"]
environments:
  patterns: ["accounts/<env>/**"]
""",
        )
    )
    assert rules.type_categories(ResourceKind.RESOURCE, "acme_firewall_rule") == {Category.NETWORK}
    assert rules.type_categories(ResourceKind.RESOURCE, "aws_security_group") == {Category.NETWORK}
    assert rules.type_categories(ResourceKind.OBJECT, "acme.io/Worker") == {Category.COMPUTE}
    assert rules.field_categories("spec.telemetry.rate", "acme.io/Worker") == {
        Category.OBSERVABILITY
    }
    assert rules.field_categories("spec.telemetry.rate", "apps/Deployment") == frozenset()
    assert rules.file_kinds[FileKind.DOCKERFILE] == {Category.COMPUTE, Category.OBSERVABILITY}
    assert rules.path_categories("vault/policy.hcl") == {Category.SECRETS}
    assert rules.environments.environment_of("accounts/shared/main.tf") == "shared"
    assert rules.environments.environment_of("envs/prod/main.tf") == "prod"
    added = analyse_file("main.tf", None, None, b'resource "acme_firewall_rule" "r" {}\n', rules)
    assert added.categories == {Category.NETWORK}


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("resource_types:\n  netwrk: [x]\n", "resource_types.netwrk: unknown Category 'netwrk'"),
        ("kinds: [Deployment]\n", "kinds: must be a mapping"),
        ("paths:\n  secrets: []\n", "paths.secrets: must be a string or a non-empty list"),
        ("paths:\n  secrets: [1]\n", "paths.secrets[0]: must be a non-empty string"),
        ("file_kinds:\n  policy: [opa]\n", "file_kinds.policy[0]: unknown FileKind 'opa'"),
        ("fields:\n  - match: [a]\n", "fields[0].categories: missing"),
        (
            "fields:\n  - match: [a]\n    categories: [x]\n",
            "fields[0].categories[0]: unknown Category",
        ),
        (
            "fields:\n  - match: [a]\n    categories: [other]\n    on: [x]\n",
            "fields[0].True: keys must",
        ),
        (
            "fields:\n  - match: [a]\n    categories: [other]\n    typs: [x]\n",
            "fields[0].typs: unknown key",
        ),
        ("environments:\n  patterns: [envs/**]\n", "environments.patterns[0]: must contain <env>"),
        ("resource-types: {}\n", "resource-types: unknown key"),
        ("kinds: [unclosed\n", "invalid YAML"),
    ],
)
def test_invalid_rules_name_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DefinitionError) as caught:
        Rules.load(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert key in str(caught.value)


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot read rules file"):
        Rules.load(tmp_path / "absent.yaml")


def test_default_rules_are_shared() -> None:
    assert Rules.default() is Rules.default()
