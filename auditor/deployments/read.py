"""A deployments file, recognised from its content, or Argo CD's API, read into a
:class:`DeploymentRead`. Anything unreadable is a :class:`DeploymentError` naming the source."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from auditor.deployments.argocd import is_application, read_applications
from auditor.deployments.fields import Obj
from auditor.deployments.flux import is_flux_object, read_flux
from auditor.deployments.interface import DeploymentError, DeploymentRead, DeploymentSourceKind
from auditor.deployments.jsonl import looks_like_jsonl, read_jsonl

TOKEN_VARIABLE = "ARGOCD_AUTH_TOKEN"
APPLICATIONS_PATH = "/api/v1/applications"
WHAT = "an Argo CD applications export, a Flux export, or JSON Lines of deployments"


def read_deployments_file(path: Path) -> DeploymentRead:
    """The deployments of one file; its kind is told from what it holds."""
    origin = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        why = err.strerror if isinstance(err, OSError) and err.strerror else "not UTF-8 text"
        raise DeploymentError(f"{origin}: cannot read the deployments file: {why}") from None
    return read_deployments_text(text, origin)


def read_deployments_text(text: str, origin: str) -> DeploymentRead:
    if not text.strip():
        return DeploymentRead(origin, DeploymentSourceKind.PIPELINE)
    try:
        document: Any = json.loads(text)
    except RecursionError:
        raise DeploymentError(f"{origin}: JSON nested too deeply to read") from None
    except ValueError:
        first = text.lstrip().split("\n", 1)[0]
        if first.startswith("{") and _first_line_is_deployment(first):
            return read_jsonl(text, origin)
        raise DeploymentError(
            f"{origin}: not valid JSON (truncated?) and not JSON Lines of deployments"
        ) from None
    if looks_like_jsonl(document):
        return read_jsonl(text, origin)
    return read_objects(document, origin)


def read_objects(document: Any, origin: str) -> DeploymentRead:
    """A Kubernetes ``List``, an API list answer, a JSON array, or one object."""
    if isinstance(document, dict) and "items" in document:
        items, where = document["items"], "items"
        if not isinstance(items, list):
            raise DeploymentError(f"{origin}: items: expected a list")
    elif isinstance(document, list):
        items, where = document, ""
    elif isinstance(document, dict) and "kind" in document:
        items, where = [document], ""
    else:
        raise DeploymentError(f"{origin}: not {WHAT}")
    if not items:
        raise DeploymentError(
            f"{origin}: holds no object (an empty export; a wrong namespace or query?)"
        )
    objs = [Obj.of(item, origin, f"{where}[{i}]") for i, item in enumerate(items)]
    if is_application(items[0]):
        return read_applications(objs, origin)
    if is_flux_object(items[0]):
        return read_flux(objs, origin)
    first = objs[0]
    kind = first.text("kind") if isinstance(first.data.get("kind"), str) else ""
    raise DeploymentError(
        f"{origin}: {first.where or 'document'}: {kind or 'an object'} is not {WHAT}"
    )


def _first_line_is_deployment(line: str) -> bool:
    try:
        return looks_like_jsonl(json.loads(line))
    except ValueError:
        return False


def read_argocd_api(
    base_url: str, *, token: str | None = None, transport: Any = None
) -> DeploymentRead:
    """Every application Argo CD's API lists (``GET /api/v1/applications``), authenticated with
    ``token`` or ``ARGOCD_AUTH_TOKEN``. A refusal or an unreachable server is a gap."""
    from auditor.errors import ForgeError
    from auditor.reviews.http import ForgeClient, RetryPolicy

    token = token if token is not None else os.environ.get(TOKEN_VARIABLE) or None
    try:
        with ForgeClient(
            base_url, name="Argo CD", token=token, transport=transport, retry=RetryPolicy(3, 0.5)
        ) as client:
            document = client.get(APPLICATIONS_PATH)
            origin = client.url(APPLICATIONS_PATH)
    except ForgeError as err:
        raise DeploymentError(str(err)) from None
    return read_objects(document, origin)
