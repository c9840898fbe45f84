"""JSON Lines of deployments, one per line, appended by any pipeline that applies:

    {"system": "terraform", "environment": "prod", "revision": "<sha>",
     "deployed_at": "2026-03-02T10:15:00Z", "actor": "ci", "automated": true, "kind": "apply"}

``system``, ``environment``, ``revision`` and ``deployed_at`` are required; ``actor``,
``automated``, ``kind`` (default ``apply``), ``url``, ``id`` (default: derived from the line),
``repo`` (the repository URL, needed when several repositories are audited) and ``forced`` are
optional; any other key is an error naming the line, so a typo never drops a field.
"""

from __future__ import annotations

import hashlib
import json

from auditor.deployments.fields import Obj
from auditor.deployments.interface import (
    Deployment,
    DeploymentError,
    DeploymentRead,
    DeploymentSourceKind,
)

REQUIRED = ("system", "environment", "revision", "deployed_at")
OPTIONAL = ("actor", "automated", "kind", "url", "id", "repo", "forced")


def looks_like_jsonl(first: object) -> bool:
    return isinstance(first, dict) and all(k in first for k in ("revision", "deployed_at"))


def read_jsonl(text: str, origin: str) -> DeploymentRead:
    deployments = []
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            last = number == len(lines) and not text.endswith("\n")
            why = "truncated (no end of line)" if last else "not a JSON object"
            raise DeploymentError(f"{origin}: line {number}: {why}") from None
        deployments.append(_line(Obj.of(data, origin, f"line {number}")))
    return DeploymentRead(origin, DeploymentSourceKind.PIPELINE, tuple(deployments))


def _line(obj: Obj) -> Deployment:
    for key in obj.data:
        if key not in REQUIRED + OPTIONAL:
            raise obj.fail(key, f"unknown key (known: {', '.join(REQUIRED + OPTIONAL)})")
    system = obj.text("system", required=True)
    environment = obj.text("environment", required=True)
    revision = obj.text("revision", required=True)
    deployed = obj.time("deployed_at", required=True)
    assert deployed is not None
    ident = (
        obj.text("id")
        or hashlib.sha256(
            "\0".join((system, environment, revision, deployed.isoformat())).encode()
        ).hexdigest()[:16]
    )
    return Deployment(
        source=f"pipeline:{system}/{environment}",
        id=ident,
        system=system,
        environment=environment,
        revision=revision,
        deployed_at=deployed,
        repo_url=obj.text("repo"),
        actor=obj.text("actor"),
        automated=obj.flag("automated"),
        kind=obj.text("kind") or "apply",
        forced=bool(obj.flag("forced")),
        url=obj.text("url"),
        origin=obj.origin,
    )
