from __future__ import annotations

import pytest

from auditor.infra import FileKind, classify

K8S = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("envs/prod/main.tf", FileKind.TERRAFORM),
        ("stack/main.tf.json", FileKind.TERRAFORM),
        ("modules/vpc/main.tofu", FileKind.TERRAFORM),
        ("envs/prod/terraform.tfvars", FileKind.TERRAFORM_VARS),
        ("prod.auto.tfvars.json", FileKind.TERRAFORM_VARS),
        ("envs/prod/.terraform.lock.hcl", FileKind.TERRAFORM_LOCK),
        ("live/prod/vpc/terragrunt.hcl", FileKind.TERRAGRUNT),
        ("charts/web/Chart.yaml", FileKind.HELM_CHART),
        ("charts/web/values.yaml", FileKind.HELM_VALUES),
        ("charts/web/values-prod.yaml", FileKind.HELM_VALUES),
        ("charts/web/templates/_helpers.tpl", FileKind.HELM_TEMPLATE),
        ("overlays/prod/kustomization.yaml", FileKind.KUSTOMIZE),
        ("Dockerfile", FileKind.DOCKERFILE),
        ("images/api/Dockerfile.prod", FileKind.DOCKERFILE),
        (".github/workflows/deploy.yml", FileKind.GITHUB_ACTIONS),
        (".gitlab-ci.yml", FileKind.GITLAB_CI),
        ("Jenkinsfile", FileKind.CI),
        (".circleci/config.yml", FileKind.CI),
        ("policies/deny_public.rego", FileKind.POLICY_REGO),
        ("sentinel/restrict.sentinel", FileKind.POLICY_SENTINEL),
        (".github/CODEOWNERS", FileKind.CODEOWNERS),
        (".github/settings.yml", FileKind.BRANCH_RULES),
        (".github/rulesets/main.json", FileKind.BRANCH_RULES),
        ("ansible/playbooks/site.yml", FileKind.ANSIBLE),
        ("ansible/roles/web/tasks/main.yml", FileKind.ANSIBLE),
        ("cfn/network.template", FileKind.CLOUDFORMATION),
        ("README.md", FileKind.OTHER),
        ("k8s/deploy.yaml", FileKind.OTHER),
    ],
)
def test_classify_by_path(path: str, kind: FileKind) -> None:
    assert classify(path) is kind


@pytest.mark.parametrize(
    ("path", "content", "kind"),
    [
        ("k8s/deploy.yaml", K8S, FileKind.KUBERNETES),
        (
            "apps/web.yaml",
            b"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web}\n",
            FileKind.ARGOCD,
        ),
        (
            "clusters/prod/apps.yaml",
            b"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n",
            FileKind.FLUX,
        ),
        (
            "policy/no-latest.yaml",
            b"apiVersion: kyverno.io/v1\nkind: ClusterPolicy\n",
            FileKind.POLICY_KYVERNO,
        ),
        (
            "gatekeeper/required-labels.yaml",
            b"apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\n",
            FileKind.POLICY_GATEKEEPER,
        ),
        (
            "cfn/stack.yaml",
            b"AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n",
            FileKind.CLOUDFORMATION,
        ),
        ("deploy/site.yaml", b"- hosts: web\n  tasks: []\n", FileKind.ANSIBLE),
        (
            "charts/web/templates/deploy.yaml",
            b"{{- if .Values.on }}\n" + K8S,
            FileKind.HELM_TEMPLATE,
        ),
        ("config/app.yaml", b"logLevel: debug\n", FileKind.OTHER),
        ("k8s/deploy.json", K8S, FileKind.OTHER),
    ],
)
def test_classify_sniffs_yaml_content(path: str, content: bytes, kind: FileKind) -> None:
    assert classify(path, content) is kind


def test_path_kind_wins_over_content() -> None:
    assert classify("overlays/prod/kustomization.yaml", K8S) is FileKind.KUSTOMIZE


@pytest.mark.parametrize(
    ("path", "content", "kind"),
    [
        # objects in a file named like values: manifests, as Flux and Argo CD examples keep them
        ("apps/podinfo/values.yaml", K8S, FileKind.KUBERNETES),
        (
            "apps/values-prod.yaml",
            K8S + b"---\n" + K8S.replace(b"web", b"api"),
            FileKind.KUBERNETES,
        ),
        (
            "infrastructure/values/redis.yaml",
            b"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: r\n",
            FileKind.FLUX,
        ),
        # real values stay values: a top-level kind: of the chart's own, nested objects, or YAML
        # that does not read
        (
            "charts/fluent-bit/values.yaml",
            b"kind: DaemonSet\nimage:\n  tag: 3.0\n",
            FileKind.HELM_VALUES,
        ),
        (
            "charts/web/values.yaml",
            b"replicaCount: 2\nextraObjects:\n- apiVersion: v1\n  kind: ConfigMap\n",
            FileKind.HELM_VALUES,
        ),
        (
            "charts/web/values.yaml",
            b"apiVersion: v1\nkind: ConfigMap\n---\nreplicaCount: 2\n",
            FileKind.HELM_VALUES,
        ),
        ("charts/web/values.yaml", b"apiVersion: v1\nkind: [\n", FileKind.HELM_VALUES),
    ],
)
def test_a_values_file_holding_kubernetes_objects_is_a_manifest(
    path: str, content: bytes, kind: FileKind
) -> None:
    assert classify(path, content) is kind
