"""Records and Enums describing what a change did to one infrastructure file."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FileKind(Enum):
    """What an infrastructure file is, recognised from its path and, where needed, its content."""

    TERRAFORM = "terraform"
    TERRAFORM_VARS = "terraform-vars"
    TERRAFORM_LOCK = "terraform-lock"
    TERRAGRUNT = "terragrunt"
    KUBERNETES = "kubernetes"
    HELM_CHART = "helm-chart"
    HELM_VALUES = "helm-values"
    HELM_TEMPLATE = "helm-template"
    KUSTOMIZE = "kustomize"
    ARGOCD = "argocd"
    FLUX = "flux"
    ANSIBLE = "ansible"
    CLOUDFORMATION = "cloudformation"
    DOCKERFILE = "dockerfile"
    GITHUB_ACTIONS = "github-actions"
    GITLAB_CI = "gitlab-ci"
    CI = "ci"
    POLICY_REGO = "policy-rego"
    POLICY_KYVERNO = "policy-kyverno"
    POLICY_GATEKEEPER = "policy-gatekeeper"
    POLICY_SENTINEL = "policy-sentinel"
    CODEOWNERS = "codeowners"
    BRANCH_RULES = "branch-rules"
    OTHER = "other"


class Category(Enum):
    """Why a change matters to an auditor; a change may have several."""

    NETWORK = "network"
    IDENTITY_ACCESS = "identity-access"
    SCALING = "scaling"
    SECRETS = "secrets"
    PIPELINE = "pipeline"
    POLICY = "policy"
    COMPUTE = "compute"
    STORAGE = "storage"
    OBSERVABILITY = "observability"
    OTHER = "other"


class Operation(Enum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"


class ResourceKind(Enum):
    """The sort of thing a ResourceChange addresses."""

    RESOURCE = "resource"
    DATA = "data"
    MODULE = "module"
    VARIABLE = "variable"
    OUTPUT = "output"
    PROVIDER = "provider"
    LOCAL = "locals"
    TERRAFORM = "terraform"
    IMPORT = "import"
    MOVED = "moved"
    REMOVED = "removed"
    CHECK = "check"
    BLOCK = "block"
    LOCK = "lock"
    VALUE = "value"
    OBJECT = "object"


class SignalKind(Enum):
    """Notable changes an auditor should look at whatever their category."""

    PROVIDER_VERSION_CHANGED = "provider-version-changed"
    MODULE_SOURCE_CHANGED = "module-source-changed"
    MODULE_VERSION_CHANGED = "module-version-changed"
    IGNORE_CHANGES_ADDED = "ignore-changes-added"
    IMPORT_ADDED = "import-added"
    MOVED_ADDED = "moved-added"
    REMOVED_ADDED = "removed-added"
    ARGOCD_AUTO_SYNC_DISABLED = "argocd-auto-sync-disabled"
    ARGOCD_SELF_HEAL_DISABLED = "argocd-self-heal-disabled"
    FLUX_SUSPENDED = "flux-suspended"


class RefKind(Enum):
    """What an external reference a change introduced points at."""

    MODULE = "terraform-module"
    PROVIDER = "terraform-provider"
    IMAGE = "container-image"
    ACTION = "github-action"
    CHART = "helm-chart"


class Pinning(Enum):
    """How firmly a reference is pinned: to content (a digest or commit SHA), to a version or
    tag (which can be moved), or not at all (``latest``, a branch, a range, nothing)."""

    DIGEST = "digest"
    VERSION = "version"
    FLOATING = "floating"


class SecretKind(Enum):
    AWS_ACCESS_KEY_ID = "aws-access-key-id"
    AWS_SECRET_ACCESS_KEY = "aws-secret-access-key"
    PRIVATE_KEY = "private-key"
    GITHUB_TOKEN = "github-token"
    GITLAB_TOKEN = "gitlab-token"
    SLACK_TOKEN = "slack-token"
    SLACK_WEBHOOK = "slack-webhook"
    ASSIGNMENT = "secret-assignment"
    KUBERNETES_SECRET_DATA = "kubernetes-secret-data"


@dataclass(frozen=True)
class AttributeChange:
    """One changed field: a dotted path and its values as one line each (None: absent)."""

    path: str
    before: str | None
    after: str | None

    def __str__(self) -> str:
        return f"{self.path}: {_show(self.before)} → {_show(self.after)}"


def _show(value: str | None) -> str:
    return "(absent)" if value is None else value


@dataclass(frozen=True)
class ResourceChange:
    """A resource, block, object or value added, removed or modified in one file.

    ``address`` is Terraform-style (``aws_security_group.web``, ``module.vpc``, ``var.region``)
    or ``Kind/namespace/name`` for Kubernetes-style objects; ``type`` is the resource type,
    module source, ``group/Kind`` or provider source it was matched by.
    """

    address: str
    kind: ResourceKind
    operation: Operation
    type: str = ""
    changed_attributes: tuple[AttributeChange, ...] = ()
    categories: frozenset[Category] = frozenset()


@dataclass(frozen=True)
class Signal:
    """A drift or supply-chain signal: what, where, and a short detail for display."""

    kind: SignalKind
    address: str
    detail: str = ""


@dataclass(frozen=True)
class SecretHit:
    """A credential found in an added line; ``preview`` is the line with the value redacted."""

    path: str
    line: int
    kind: SecretKind
    preview: str


@dataclass(frozen=True)
class Reference:
    """An external dependency a change added or modified that is not pinned to content:
    where (``line`` 0 when only the block is known), what, its value and why."""

    path: str
    line: int
    kind: RefKind
    value: str
    pinning: Pinning
    detail: str = ""


@dataclass(frozen=True)
class FileAnalysis:
    """Everything learnt about one changed file. ``categories`` is never empty."""

    path: str
    old_path: str | None
    kind: FileKind
    categories: frozenset[Category]
    changes: tuple[ResourceChange, ...] = ()
    signals: tuple[Signal, ...] = ()
    secrets: tuple[SecretHit, ...] = ()
    errors: tuple[str, ...] = ()
    environment: str | None = None
    references: tuple[Reference, ...] = ()  # unpinned dependencies the change introduced
