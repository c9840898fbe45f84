from __future__ import annotations

import pytest

from auditor.infra import (
    Category,
    FileAnalysis,
    FileKind,
    Operation,
    ResourceChange,
    ResourceKind,
    analyse_file,
    kubernetes,
)

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: web
          image: shop/web:1.4.0
        - name: proxy
          image: envoy:1.29
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ports:
    - port: 80
"""
ROLE = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
rules:
  - verbs: [get]
    resources: [pods]
"""


def analyse(before: str | None, after: str | None, path: str = "k8s/shop/web.yaml") -> FileAnalysis:
    return analyse_file(
        path,
        None,
        None if before is None else before.encode(),
        None if after is None else after.encode(),
    )


def changes(result: FileAnalysis) -> dict[str, ResourceChange]:
    return {change.address: change for change in result.changes}


def attrs(change: ResourceChange) -> dict[str, tuple[str | None, str | None]]:
    return {a.path: (a.before, a.after) for a in change.changed_attributes}


def test_multi_document_added_removed_modified() -> None:
    before = "---\n".join([DEPLOY, SERVICE])
    after = "---\n".join([DEPLOY.replace("replicas: 3", "replicas: 6"), ROLE])
    result = analyse(before, after)
    assert result.kind is FileKind.KUBERNETES
    found = {a: (c.operation, c.type) for a, c in changes(result).items()}
    assert found == {
        "Deployment/shop/web": (Operation.MODIFIED, "apps/Deployment"),
        "Service/shop/web": (Operation.REMOVED, "Service"),
        "ClusterRole//reader": (Operation.ADDED, "rbac.authorization.k8s.io/ClusterRole"),
    }
    assert all(c.kind is ResourceKind.OBJECT for c in result.changes)
    assert result.categories == {Category.SCALING, Category.NETWORK, Category.IDENTITY_ACCESS}


def test_replicas_only_change_is_scaling() -> None:
    result = analyse(DEPLOY, DEPLOY.replace("replicas: 3", "replicas: 6"))
    change = result.changes[0]
    assert attrs(change) == {"spec.replicas": ("3", "6")}
    assert str(change.changed_attributes[0]) == "spec.replicas: 3 → 6"
    assert result.categories == {Category.SCALING}


def test_container_list_keyed_by_name() -> None:
    after = DEPLOY.replace("shop/web:1.4.0", "shop/web:1.5.0").replace(
        "        - name: web\n",
        "        - name: sidecar\n          image: log:1\n        - name: web\n",
    )
    change = analyse(DEPLOY, after).changes[0]
    assert attrs(change) == {
        "spec.template.spec.containers[name=web].image": ("shop/web:1.4.0", "shop/web:1.5.0"),
        "spec.template.spec.containers[name=sidecar]": (
            None,
            '{"name": "sidecar", "image": "log:1"}',
        ),
    }
    assert change.categories == {Category.COMPUTE}


def test_unkeyed_list_reports_only_changed_items() -> None:
    before = ROLE
    after = ROLE.replace(
        "  - verbs: [get]", "  - verbs: [list]\n    resources: [secrets]\n  - verbs: [get]"
    )
    change = analyse(before, after).changes[0]
    assert attrs(change) == {"rules[0]": (None, '{"verbs": ["list"], "resources": ["secrets"]}')}
    assert change.categories == {Category.IDENTITY_ACCESS}


def test_secret_values_are_redacted_in_changes() -> None:
    before = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata:\n  user: YWRtaW4=\n"
    after = before.replace("YWRtaW4=", "cm9vdA==")
    change = analyse(before, after).changes[0]
    assert attrs(change) == {"data.user": ("<redacted>", "<redacted>")}
    assert change.categories == {Category.SECRETS}


def test_helm_values_diffed_by_dotted_path() -> None:
    before = (
        "replicaCount: 2\nimage:\n  repository: shop/web\n  tag: 1.4.0\n"
        "ingress:\n  enabled: false\n"
    )
    after = before.replace("replicaCount: 2", "replicaCount: 4").replace(
        "enabled: false", "enabled: true"
    )
    result = analyse(before, after, "charts/web/values-prod.yaml")
    assert result.kind is FileKind.HELM_VALUES
    found = {c.address: (c.kind, attrs(c)) for c in result.changes}
    assert found == {
        "replicaCount": (ResourceKind.VALUE, {"replicaCount": ("2", "4")}),
        "ingress": (ResourceKind.VALUE, {"ingress.enabled": ("false", "true")}),
    }
    assert result.categories == {Category.SCALING, Category.NETWORK}
    assert result.environment == "prod"


def test_kustomization_image_change() -> None:
    before = "resources: [../../base]\nimages:\n  - name: shop/web\n    newTag: 1.4.0\n"
    after = before.replace("1.4.0", "1.5.0")
    result = analyse(before, after, "overlays/prod/kustomization.yaml")
    change = result.changes[0]
    assert (result.kind, change.address) == (
        FileKind.KUSTOMIZE,
        "Kustomization overlays/prod/kustomization.yaml",  # it has no name: its file says which
    )
    assert attrs(change) == {"images[name=shop/web].newTag": ("1.4.0", "1.5.0")}
    assert result.categories == {Category.COMPUTE}
    assert result.environment == "prod"


def test_argocd_and_flux_objects_are_pipeline() -> None:
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop\n"
        "  namespace: argocd\nspec:\n  source:\n    targetRevision: v1\n"
    )
    result = analyse(app, app.replace("v1", "v2"), "apps/shop.yaml")
    assert result.kind is FileKind.ARGOCD
    assert result.changes[0].address == "Application/argocd/shop"
    assert result.categories == {Category.PIPELINE}
    flux = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web}\n"
    added = analyse(None, flux, "clusters/prod/web.yaml")
    assert (added.kind, added.categories, added.environment) == (
        FileKind.FLUX,
        {Category.PIPELINE},
        "prod",
    )


def test_kyverno_policy_is_policy() -> None:
    policy = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: no-latest}\n"
    result = analyse(None, policy, "policies/no-latest.yaml")
    assert (result.kind, result.categories) == (FileKind.POLICY_KYVERNO, {Category.POLICY})


def test_helm_template_that_is_not_yaml_falls_back_to_path() -> None:
    template = (
        "{{- if .Values.ingress.enabled }}\napiVersion: networking.k8s.io/v1\nkind: Ingress\n"
        'metadata:\n  name: {{ include "web.fullname" . }}\n  labels:\n'
        '    {{- include "web.labels" . | nindent 4 }}\n{{- end }}\n'
    )
    result = analyse(None, template, "charts/web/templates/ingress.yaml")
    assert result.kind is FileKind.HELM_TEMPLATE
    assert result.changes == ()
    assert result.errors and result.errors[0].startswith(
        "charts/web/templates/ingress.yaml: cannot parse after:"
    )
    assert result.categories == {Category.NETWORK}


def test_malformed_yaml_reports_line() -> None:
    result = analyse(DEPLOY, DEPLOY.replace("  replicas: 3", "  replicas: [3"))
    assert result.changes == ()
    assert len(result.errors) == 1
    assert result.errors[0].startswith("k8s/shop/web.yaml: cannot parse after:")
    assert "line" in result.errors[0]


YAML_STREAMS = [
    "a: 1\nb: '1'\nc: \"1\"\nd: 1.5\ne: yes\nf: 'yes'\ng: ~\nh: null\ni: 2001-12-14\nj: 0x1F\n",
    "a: '1'\nb: 1\n",  # quoted first, then plain: the plain one stays an int
    "---\nkind: A\n---\n---\nkind: B\nlist: [1, '2', three, 4.0, .inf, -.nan]\n",
    "base: &b {x: 1, y: two}\nuse: *b\nmerged:\n  <<: *b\n  z: 3\n",  # an alias, a merge key
    "tagged: !!str 12\nset: !!set {a, b}\nbinary: !!binary aGk=\nempty:\n",
    "true: false\n1: one\n~: none\n",
]


def test_load_documents_reads_exactly_what_safe_load_all_reads() -> None:
    import math

    import yaml

    from auditor.infra.kubernetes import load_documents

    def same(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
            return math.isnan(b)
        if isinstance(a, dict) and isinstance(b, dict):
            return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        return type(a) is type(b) and a == b

    for _ in range(2):  # the second time, every plain scalar's tag is remembered
        for text in YAML_STREAMS:
            expected = list(yaml.safe_load_all(text))
            assert same(load_documents(text), expected), text


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("Deployment/shop/web", "Deployment/shop/web"),
        ("Namespace//shop", "Namespace//shop"),
        ("Kustomization//", "Kustomization k/kustomization.yaml"),
        ("ConfigMap/shop/", "ConfigMap/shop k/kustomization.yaml"),
        ("document[2]", "document[2]"),
    ],
)
def test_an_unnamed_object_is_addressed_by_its_file(address: str, expected: str) -> None:
    assert kubernetes.located(address, "k/kustomization.yaml") == expected
