"""The file tree of the sample GitOps monorepo and the edits that change it."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from random import Random

from auditor.demo import kubernetes as k8s
from auditor.demo import terraform as tf
from auditor.demo.terraform import Edit

APP_WORDS = (
    "payments", "orders", "ledger", "catalog", "search", "checkout", "billing", "identity",
    "notifications", "inventory", "pricing", "shipping", "reporting", "fraud", "accounts",
    "gateway", "media", "loyalty", "pricing-engine", "warehouse",
)  # fmt: skip
APP_KINDS = ("api", "worker", "web", "scheduler", "consumer")
TEAMS = ("platform", "commerce", "finance", "growth", "data")
CHARTS = ("ingress-gateway", "metrics-exporter", "feature-flags")
ACTIONS_PATTERN = r"uses: ([\w-]+/[\w-]+)@[0-9a-f]{40} # v(\d+)\.(\d+)\.(\d+)"
"""An action pinned to a commit SHA, its version in a comment (as Dependabot keeps them)."""
RENAMES = {
    "hpa.yaml": "horizontalpodautoscaler.yaml",
    "networkpolicy.yaml": "network-policy.yaml",
    "serviceaccount.yaml": "service-account.yaml",
}
PNG_SIZE = (48, 32)
SECURITY_OWNED = (
    "/envs/*/iam/",
    "/envs/*/network/",
    "/envs/*/storage/",
    "/modules/iam-role/",
    "/modules/vpc/",
    "/k8s/platform/rbac/",
    "/k8s/apps/*/base/networkpolicy.yaml",
    "/k8s/apps/*/base/network-policy.yaml",
    "/k8s/apps/*/base/ingress.yaml",
    "/k8s/apps/*/base/service.yaml",
    "/k8s/apps/*/base/serviceaccount.yaml",
    "/k8s/apps/*/base/service-account.yaml",
    "/argocd/",
    "/.github/CODEOWNERS",
)
"""CODEOWNERS patterns of the security team: a change touching one needs its approval as well
(network, identity and access, bucket policies, secrets handling, the review rules themselves)."""


@dataclass(frozen=True)
class Layout:
    """What the repository contains: environments, Terraform components, apps and teams."""

    apps: tuple[str, ...]
    teams: dict[str, str]
    """App → owning team."""

    @classmethod
    def for_size(cls, files: int) -> Layout:
        apps = tuple(app_name(index) for index in range(max(3, -(-(files - 230) // 16))))
        return cls(apps, {app: TEAMS[index % len(TEAMS)] for index, app in enumerate(apps)})


def app_name(index: int) -> str:
    word = APP_WORDS[index % len(APP_WORDS)]
    kind = APP_KINDS[(index // len(APP_WORDS)) % len(APP_KINDS)]
    cycle = index // (len(APP_WORDS) * len(APP_KINDS))
    return f"{word}-{kind}" if cycle == 0 else f"{word}-{kind}-{cycle + 1}"


def scope_of(path: str) -> str:
    """The unit of work a path belongs to: one pull request changes one scope at a time."""
    parts = path.split("/")
    if parts[0] in ("envs", "k8s") and len(parts) > 3:
        return "/".join(parts[:3])
    if parts[0] in ("modules", "charts") and len(parts) > 2:
        return "/".join(parts[:2])
    if parts[0] in ("argocd", ".github", "docs"):
        return parts[0]
    return "."


def initial_files(layout: Layout, rng: Random, mailmap: str) -> dict[str, bytes]:
    files: dict[str, str] = {}
    for env in tf.ENVS:
        for component in tf.COMPONENTS:
            files |= _under(f"envs/{env}/{component}", tf.component_files(env, component, rng))
    for module in tf.MODULES:
        files |= _under(f"modules/{module}", tf.module_files(module))
    for index, app in enumerate(layout.apps):
        team = layout.teams[app]
        files |= app_onboarding(app, team, index % 3 == 0, rng)
    teams = sorted(set(layout.teams.values()))
    for team in teams:
        files |= _under("k8s/platform/rbac", k8s.role_files(team))
        files[f"argocd/projects/{team}.yaml"] = k8s.project(team)
    files["k8s/platform/namespaces/namespaces.yaml"] = k8s.namespaces(teams)
    for chart in CHARTS:
        files |= _under(f"charts/{chart}", k8s.chart_files(chart, rng))
        for env in k8s.ENV_NAMES:
            files[f"argocd/applications/{chart}-{env}.yaml"] = k8s.application(
                chart, "platform", env, f"charts/{chart}", helm=True
            )
    files |= _repository_files(mailmap)
    encoded = {path: text.encode() for path, text in sorted(files.items())}
    encoded["docs/architecture.png"] = diagram(rng)
    return encoded


def app_onboarding(app: str, team: str, web: bool, rng: Random) -> dict[str, str]:
    files = _under(f"k8s/apps/{app}", k8s.app_files(app, team, web, rng))
    for env in k8s.ENV_NAMES:
        files[f"argocd/applications/{app}-{env}.yaml"] = k8s.application(
            app, team, env, f"k8s/apps/{app}/overlays/{env}", helm=False
        )
    return files


def _under(prefix: str, files: dict[str, str]) -> dict[str, str]:
    return {f"{prefix}/{name}": text for name, text in files.items()}


def _repository_files(mailmap: str) -> dict[str, str]:
    return {
        "README.md": "# infra-live\n\nTerraform, Kubernetes and Argo CD configuration for every "
        "Acme environment.\n\nChanges go through pull requests; see `.github/CODEOWNERS`.\n",
        ".mailmap": mailmap,
        ".gitattributes": "*.png binary\n*.tf text eol=lf\n",
        ".github/CODEOWNERS": _codeowners(),
        ".github/dependabot.yml": "version: 2\nupdates:\n  - package-ecosystem: github-actions\n"
        "    directory: /\n    schedule:\n      interval: weekly\n    commit-message:\n"
        "      prefix: OPS-77\n",
        ".github/workflows/terraform.yml": _terraform_workflow(),
        ".github/workflows/kubeconform.yml": _kubeconform_workflow(),
        "renovate.json": '{\n  "$schema": "https://docs.renovatebot.com/renovate-schema.json",\n'
        '  "extends": ["config:recommended"],\n  "prBodyNotes": ["Refs: OPS-412"],\n'
        '  "terraform": {"enabled": true}\n}\n',
        "scripts/fmt-check.sh": "#!/bin/sh\nset -eu\n"
        "terraform fmt -check -recursive envs modules\n",
        "docs/runbooks/rotate-credentials.md": "# Rotating credentials\n\n1. Open a ticket.\n",
        "docs/runbooks/incident-response.md": "# Incident response\n\n1. Page the on-call.\n",
    }


def _codeowners() -> str:
    lines = ["* @acme/platform", "/envs/prod/ @acme/platform-leads", "/k8s/apps/ @acme/sre"]
    lines += ["/.github/ @acme/platform-leads"]
    lines += [f"{pattern} @acme/security" for pattern in SECURITY_OWNED]
    return "\n".join(lines) + "\n"


def security_owned(path: str) -> bool:
    """Whether the security team owns ``path`` in CODEOWNERS (last matching rule wins there;
    the security rules come last)."""
    for pattern in SECURITY_OWNED:
        glob = pattern.lstrip("/") + ("*" if pattern.endswith("/") else "")
        if fnmatchcase(path, glob):
            return True
    return False


def _pinned(workflow: str) -> str:
    """``workflow`` with each ``uses: owner/action@vX.Y.Z`` pinned to its commit SHA."""
    return re.sub(
        r"uses: ([\w-]+/[\w-]+)@v(\d+\.\d+\.\d+)",
        lambda m: f"uses: {action_pin(m.group(1), m.group(2))}",
        workflow,
    )


def action_pin(action: str, version: str) -> str:
    """``owner/action@<sha> # vX.Y.Z``: the SHA stands for the release's commit."""
    sha = hashlib.sha1(f"{action}@v{version}".encode()).hexdigest()
    return f"{action}@{sha} # v{version}"


def _terraform_workflow() -> str:
    return _pinned("""name: terraform
on:
  pull_request:
    paths:
      - "envs/**"
      - "modules/**"
  push:
    branches:
      - main
permissions:
  contents: read
  id-token: write
  pull-requests: write
jobs:
  plan:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        env: [dev, staging, prod]
    steps:
      - uses: actions/checkout@v4.1.1
      - uses: hashicorp/setup-terraform@v3.0.0
        with:
          terraform_version: 1.8.5
      - run: ./scripts/fmt-check.sh
      - run: terraform -chdir=envs/${{ matrix.env }}/network init -input=false
      - run: terraform -chdir=envs/${{ matrix.env }}/network plan -input=false
""")


def _kubeconform_workflow() -> str:
    return _pinned("""name: kubeconform
on:
  pull_request:
    paths:
      - "k8s/**"
jobs:
  validate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4.1.1
      - run: kustomize build k8s/apps/payments-api/overlays/prod | kubeconform -strict
""")


def diagram(rng: Random) -> bytes:
    """A small grey-scale PNG, deflated with stored blocks so its bytes never vary."""
    width, height = PNG_SIZE
    rows = b"".join(b"\0" + rng.randbytes(width) for _ in range(height))
    stored = b"\x01" + struct.pack("<HH", len(rows), len(rows) ^ 0xFFFF) + rows
    data = b"\x78\x01" + stored + struct.pack(">I", zlib.adler32(rows))

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def edit_file(rng: Random, path: str, text: str) -> Edit | None:
    """One plausible edit of ``path``, or None when nothing applies."""
    if path.endswith(".tf"):
        ops: Iterable[tf.TextOp] = tf.TERRAFORM_OPS
    elif path.endswith(".yaml") and "/templates/" not in path:
        ops = k8s.KUBERNETES_OPS
    elif path.endswith(".md"):
        return Edit(text + f"\n{rng.choice(_NOTES)}\n", "update runbook")
    else:
        return None
    shuffled = list(ops)
    rng.shuffle(shuffled)
    for op in shuffled:
        edit = op(rng, text)
        if edit is not None and edit.text != text:
            return edit
    return None


_NOTES = (
    "Check the Grafana dashboard before and after the change.",
    "Escalate to #platform-oncall if the plan shows replacements.",
    "Record the ticket number in the pull request title.",
    "Use `terraform plan -target` only with approval from a lead.",
)


def rename_target(path: str) -> str | None:
    """Where a file is moved when a team tidies its layout, or None if it stays."""
    folder, _, name = path.rpartition("/")
    if name in RENAMES:
        return f"{folder}/{RENAMES[name]}"
    if name == "main.tf" and path.startswith("envs/"):
        return f"{folder}/{folder.rsplit('/', 1)[1]}.tf"
    if path.startswith("docs/runbooks/") and not name.startswith("runbook-"):
        return f"{folder}/runbook-{name}"
    return None


def actions_bump(rng: Random, text: str) -> tuple[str, str, str] | None:
    """A newer version of one GitHub Action used in ``text``: ``(owner/name, old, new)``."""
    matches = list(re.finditer(ACTIONS_PATTERN, text))
    if not matches:
        return None
    match = rng.choice(matches)
    major, minor, patch = (int(part) for part in match.groups()[1:])
    old = f"{major}.{minor}.{patch}"
    new = f"{major}.{minor}.{patch + 1}" if rng.random() < 0.7 else f"{major}.{minor + 1}.0"
    return match.group(1), old, new
