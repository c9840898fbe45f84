from __future__ import annotations

import pytest

from auditor.infra import EnvironmentPatterns, Rules, environment_of


@pytest.mark.parametrize(
    ("path", "environment"),
    [
        ("envs/prod/main.tf", "prod"),
        ("infra/environments/staging/network/vpc.tf", "staging"),
        ("clusters/eu-west-1/apps/web.yaml", "eu-west-1"),
        ("k8s/overlays/qa/kustomization.yaml", "qa"),
        ("live/production/vpc/terragrunt.hcl", "production"),
        ("charts/web/values-dev.yaml", "dev"),
        ("tfvars/staging.tfvars", "staging"),
        ("modules/vpc/main.tf", None),
        ("README.md", None),
    ],
)
def test_default_environment_patterns(path: str, environment: str | None) -> None:
    assert environment_of(path, Rules.default().environments) == environment


def test_custom_patterns_are_tried_first() -> None:
    patterns = EnvironmentPatterns(["accounts/<env>/**", "**/{env,envs}/<env>/**"], ["prod"])
    assert environment_of("accounts/payments-prod/iam.tf", patterns) == "payments-prod"
    assert environment_of("x/envs/sandbox/main.tf", patterns) == "sandbox"
    assert environment_of("x/prod/main.tf", patterns) == "prod"
    assert environment_of("x/staging/main.tf", patterns) is None
