"""Recognise what an infrastructure file is: by path first, by a cheap content sniff for YAML.

A file named like Helm values (``values.yaml``, ``values-prod.yaml``) that holds Kubernetes
objects is read by its content: a manifest, whatever its name."""

from __future__ import annotations

import functools
import re

import yaml as yaml_module

from auditor.infra.automaton import Automaton
from auditor.infra.globs import compile_path_globs, matches
from auditor.infra.model import FileKind

_SNIFF_BYTES = 256 * 1024
_YAML_LOADER: type[yaml_module.SafeLoader] = getattr(
    yaml_module, "CSafeLoader", yaml_module.SafeLoader
)

_BY_PATH: tuple[tuple[Automaton | None, FileKind], ...] = tuple(
    (compile_path_globs(patterns), kind)
    for patterns, kind in (
        ([".terraform.lock.hcl"], FileKind.TERRAFORM_LOCK),
        (["*.tf", "*.tf.json", "*.tofu", "*.tofu.json"], FileKind.TERRAFORM),
        (["*.tfvars", "*.tfvars.json"], FileKind.TERRAFORM_VARS),
        (["terragrunt.hcl", "terragrunt.hcl.json"], FileKind.TERRAGRUNT),
        (["*.sentinel", "sentinel.hcl"], FileKind.POLICY_SENTINEL),
        (["*.rego"], FileKind.POLICY_REGO),
        (["CODEOWNERS"], FileKind.CODEOWNERS),
        (
            ["**/.github/settings.{yml,yaml}", "**/.github/rulesets/**", "*branch-protection*"],
            FileKind.BRANCH_RULES,
        ),
        (
            ["**/.github/workflows/*.{yml,yaml}", "action.{yml,yaml}"],
            FileKind.GITHUB_ACTIONS,
        ),
        (
            [".gitlab-ci.yml", "*.gitlab-ci.yml", "**/.gitlab/ci/**.{yml,yaml}"],
            FileKind.GITLAB_CI,
        ),
        (
            [
                "Jenkinsfile",
                "Jenkinsfile.*",
                "**/.circleci/**",
                "**/.buildkite/**",
                "azure-pipelines*.{yml,yaml}",
                "bitbucket-pipelines.yml",
                ".drone.yml",
                ".travis.yml",
                "atlantis.{yml,yaml}",
                "cloudbuild*.{yml,yaml}",
                "buildspec*.{yml,yaml}",
                "**/.tekton/**.{yml,yaml}",
            ],
            FileKind.CI,
        ),
        (
            ["Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile"],
            FileKind.DOCKERFILE,
        ),
        (["Chart.yaml", "Chart.lock"], FileKind.HELM_CHART),
        (["{kustomization.yaml,kustomization.yml,Kustomization}"], FileKind.KUSTOMIZE),
        (
            ["values*.{yaml,yml}", "{*-values,*.values}.{yaml,yml}", "**/values/**.{yaml,yml}"],
            FileKind.HELM_VALUES,
        ),
        (["**/templates/**.tpl"], FileKind.HELM_TEMPLATE),
        (
            [
                "ansible.cfg",
                "**/playbooks/**.{yml,yaml}",
                "playbook*.{yml,yaml}",
                "site.{yml,yaml}",
                "**/roles/*/{tasks,handlers,defaults,vars,meta}/**.{yml,yaml}",
                "**/{group_vars,host_vars}/**",
            ],
            FileKind.ANSIBLE,
        ),
        (["*.template", "*.cfn.{yaml,yml,json}"], FileKind.CLOUDFORMATION),
    )
)

_YAML = re.compile(r"\.(ya?ml)$", re.IGNORECASE)
_SNIFFABLE = re.compile(r"\.(ya?ml|json)$", re.IGNORECASE)
_HELM_TEMPLATES_DIR = re.compile(r"(^|/)templates/")

_BY_CONTENT: tuple[tuple[re.Pattern[bytes], FileKind], ...] = (
    (
        re.compile(rb"^AWSTemplateFormatVersion|[\"']?Type[\"']?:\s*[\"']?AWS::", re.M),
        FileKind.CLOUDFORMATION,
    ),
    (re.compile(rb"^apiVersion:\s*[\"']?argoproj\.io/", re.M), FileKind.ARGOCD),
    (re.compile(rb"^apiVersion:\s*[\"']?[\w.-]*toolkit\.fluxcd\.io/", re.M), FileKind.FLUX),
    (re.compile(rb"^apiVersion:\s*[\"']?[\w.-]*kyverno\.io/", re.M), FileKind.POLICY_KYVERNO),
    (re.compile(rb"^apiVersion:\s*[\"']?[\w.-]*gatekeeper\.sh/", re.M), FileKind.POLICY_GATEKEEPER),
    (re.compile(rb"^- (hosts|import_playbook):", re.M), FileKind.ANSIBLE),
)
_K8S_API_VERSION = re.compile(rb"^apiVersion:", re.M)
_K8S_KIND = re.compile(rb"^kind:", re.M)
_TEMPLATE_MARK = re.compile(rb"\{\{")


def classify(path: str, content: bytes | None = None) -> FileKind:
    """The kind of the file at ``path``; ``content`` (either side of the change) refines YAML."""
    by_path, sniffable, yaml, helm_templates = _by_path(path)
    if by_path is FileKind.HELM_VALUES and content is not None and _objects(content):
        return _content_kind(content[:_SNIFF_BYTES]) or FileKind.KUBERNETES
    if by_path is not None:
        return by_path
    if content is None or not sniffable:
        return FileKind.OTHER
    head = content[:_SNIFF_BYTES]
    if found := _content_kind(head):
        return found
    if not yaml:
        return FileKind.OTHER
    if helm_templates and _TEMPLATE_MARK.search(head):
        return FileKind.HELM_TEMPLATE
    if _K8S_API_VERSION.search(head) and _K8S_KIND.search(head):
        return FileKind.KUBERNETES
    return FileKind.OTHER


def _content_kind(head: bytes) -> FileKind | None:
    for sniff, kind in _BY_CONTENT:
        if sniff.search(head):
            return kind
    return None


def _objects(content: bytes) -> bool:
    """Whether a file named like Helm values holds Kubernetes objects instead: every document
    a mapping with an ``apiVersion`` and a ``kind`` (a values file may set a ``kind:`` of its
    own, never both at the top of every document). Unreadable YAML stays values."""
    head = content[:_SNIFF_BYTES]
    if not (_K8S_API_VERSION.search(head) and _K8S_KIND.search(head)):
        return False
    try:
        documents = [d for d in yaml_module.load_all(content, Loader=_YAML_LOADER) if d is not None]
    except (yaml_module.YAMLError, ValueError):
        return False
    return bool(documents) and all(
        isinstance(d, dict)
        and isinstance(d.get("apiVersion"), str)
        and isinstance(d.get("kind"), str)
        for d in documents
    )


@functools.lru_cache(maxsize=16384)
def _by_path(path: str) -> tuple[FileKind | None, bool, bool, bool]:
    """What the path alone says (paths come back change after change): its kind, if the path
    decides it, else whether content may (YAML or JSON), whether YAML, whether in templates/."""
    for matcher, kind in _BY_PATH:
        if matches(matcher, path):
            return kind, False, False, False
    return (
        None,
        _SNIFFABLE.search(path) is not None,
        _YAML.search(path) is not None,
        _HELM_TEMPLATES_DIR.search(path) is not None,
    )
