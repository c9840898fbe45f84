from __future__ import annotations

import pytest

from auditor.infra import Category, analyse_file


def tf(resource_type: str) -> bytes:
    return f'resource "{resource_type}" "x" {{\n  name = "x"\n}}\n'.encode()


def k8s(api_version: str, kind: str) -> bytes:
    return f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\n".encode()


C = Category


@pytest.mark.parametrize(
    ("path", "content", "expected"),
    [
        ("net.tf", tf("aws_security_group"), {C.NETWORK}),
        ("net.tf", tf("aws_route53_record"), {C.NETWORK}),
        ("net.tf", tf("google_compute_firewall"), {C.NETWORK}),
        ("net.tf", tf("azurerm_network_security_group"), {C.NETWORK}),
        ("k.yaml", k8s("networking.k8s.io/v1", "NetworkPolicy"), {C.NETWORK}),
        ("k.yaml", k8s("networking.k8s.io/v1", "Ingress"), {C.NETWORK}),
        ("iam.tf", tf("aws_iam_role_policy"), {C.IDENTITY_ACCESS}),
        ("iam.tf", tf("google_project_iam_member"), {C.IDENTITY_ACCESS}),
        ("iam.tf", tf("aws_kms_key"), {C.IDENTITY_ACCESS, C.SECRETS}),
        ("k.yaml", k8s("rbac.authorization.k8s.io/v1", "RoleBinding"), {C.IDENTITY_ACCESS}),
        ("k.yaml", k8s("v1", "ServiceAccount"), {C.IDENTITY_ACCESS}),
        ("asg.tf", tf("aws_autoscaling_group"), {C.SCALING}),
        ("gke.tf", tf("google_container_node_pool"), {C.SCALING}),
        ("k.yaml", k8s("autoscaling/v2", "HorizontalPodAutoscaler"), {C.SCALING}),
        ("s.tf", tf("aws_secretsmanager_secret_version"), {C.SECRETS}),
        ("k.yaml", k8s("bitnami.com/v1alpha1", "SealedSecret"), {C.SECRETS}),
        ("k.yaml", k8s("external-secrets.io/v1beta1", "ExternalSecret"), {C.SECRETS}),
        (".github/workflows/ci.yml", b"on: push\n", {C.PIPELINE}),
        (".gitlab-ci.yml", b"stages: [build]\n", {C.PIPELINE}),
        ("cb.tf", tf("aws_codebuild_project"), {C.PIPELINE}),
        ("k.yaml", k8s("argoproj.io/v1alpha1", "ApplicationSet"), {C.PIPELINE}),
        ("policy/deny.rego", b"package main\n", {C.POLICY}),
        ("CODEOWNERS", b"* @acme/platform\n", {C.POLICY}),
        ("bp.tf", tf("github_branch_protection"), {C.POLICY}),
        ("k.yaml", k8s("constraints.gatekeeper.sh/v1beta1", "K8sRequiredLabels"), {C.POLICY}),
        ("fn.tf", tf("aws_lambda_function"), {C.COMPUTE}),
        ("Dockerfile", b"FROM alpine\n", {C.COMPUTE}),
        ("k.yaml", k8s("apps/v1", "StatefulSet"), {C.COMPUTE}),
        ("db.tf", tf("aws_db_instance"), {C.STORAGE}),
        ("s3.tf", tf("aws_s3_bucket"), {C.STORAGE}),
        ("k.yaml", k8s("v1", "PersistentVolumeClaim"), {C.STORAGE}),
        ("mon.tf", tf("aws_cloudwatch_metric_alarm"), {C.OBSERVABILITY}),
        ("mon.tf", tf("datadog_monitor"), {C.OBSERVABILITY}),
        ("k.yaml", k8s("monitoring.coreos.com/v1", "PrometheusRule"), {C.OBSERVABILITY}),
        ("README.md", b"# infra\n", {C.OTHER}),
        ("k.yaml", k8s("v1", "ConfigMap"), {C.OTHER}),
        ("x.tf", tf("random_pet"), {C.OTHER}),
    ],
)
def test_added_file_categories(path: str, content: bytes, expected: set[Category]) -> None:
    assert analyse_file(path, None, None, content).categories == expected


def test_removed_file_is_categorised_from_its_old_content() -> None:
    result = analyse_file("net.tf", None, tf("aws_security_group"), None)
    assert result.categories == {C.NETWORK}


@pytest.mark.parametrize(
    ("field", "before", "after", "expected"),
    [
        ("desired_capacity", "2", "4", {C.SCALING}),
        ("vpc_security_group_ids", '["sg-1"]', '["sg-2"]', {C.NETWORK}),
        ("iam_instance_profile", '"a"', '"b"', {C.IDENTITY_ACCESS}),
        ("user_data", '"a"', '"b"', {C.COMPUTE}),
        ("monitoring", "false", "true", {C.OBSERVABILITY}),
        ("ebs_optimized", "false", "true", {C.COMPUTE}),
    ],
)
def test_modified_fields_refine_type_categories(
    field: str, before: str, after: str, expected: set[Category]
) -> None:
    text = 'resource "aws_instance" "x" {\n  %s = %s\n}\n'
    result = analyse_file(
        "main.tf", None, (text % (field, before)).encode(), (text % (field, after)).encode()
    )
    assert result.categories == expected


def test_comment_only_change_uses_path_hints() -> None:
    before = tf("aws_instance")
    result = analyse_file("modules/firewall/main.tf", None, before, b"# note\n" + before)
    assert result.changes == ()
    assert result.categories == {C.NETWORK}
