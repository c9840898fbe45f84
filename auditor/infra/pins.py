"""Unpinned external references a change introduced: modules, providers, images, actions, charts.

Found in the lines the change added (container images in YAML and Dockerfiles, GitHub Actions
``uses:`` and the ``docker://`` image of an ``action.yml``, Helm chart versions and Argo CD
``targetRevision``) and in the Terraform blocks it
added or modified (module ``source``/``version``, ``required_providers``). References pinned to
content (an image digest, a 40-hex commit SHA) are not reported; the rest are, as ``version``
(a tag or exact version, which can be moved) or ``floating`` (``latest``, a branch, a range or
nothing at all), and the controls decide which they accept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from auditor.infra.entities import EntityMap
from auditor.infra.model import (
    FileKind,
    Operation,
    Pinning,
    Reference,
    RefKind,
    ResourceChange,
    ResourceKind,
)

_IMAGE_LINE = re.compile(r"""^\s*(?:-\s+)?["']?image["']?\s*:\s*["']?(?P<value>[^\s"'#]+)""")
_FROM_LINE = re.compile(
    r"^\s*FROM\s+(?:--platform=\S+\s+)?(?P<value>\S+)(?:\s+AS\s+(?P<stage>\S+))?", re.I
)
_USES_LINE = re.compile(r"""^\s*(?:-\s+)?uses\s*:\s*["']?(?P<value>[^\s"'#]+)""")
_CHART_KEY = re.compile(r"^\s*chart\s*:", re.M)
_REVISION_LINE = re.compile(r"""^\s*targetRevision\s*:\s*["']?(?P<value>[^\s"'#]*)""")
_VERSION_LINE = re.compile(r"""^\s*(?:-\s+)?version\s*:\s*["']?(?P<value>[^\s"'#]*)""")
_TEMPLATED = re.compile(r"\{\{|\$\{|\$\(|^\$")
_SHA = re.compile(r"^[0-9a-f]{40}$")
_EXACT_VERSION = re.compile(r"^v?\d+(?:\.\d+)*(?:[-+][\w.-]+)?$")
_FLOATING_VERSION = re.compile(r"[*xX^~<>|]|^$|\s")
_FLOATING_REFS = frozenset({"latest", "head", "main", "master", "develop", "trunk", "stable"})
_WORDS = ("image", "uses", "from", "targetrevision", "version")  # in every line of interest
_LOCAL_SOURCE = re.compile(r"^\.{1,2}/")
_GIT_SOURCE = re.compile(r"^(?:git::|git@|github\.com/|bitbucket\.org/|hg::)|\.git(?:$|[?/])")
_REGISTRY_SOURCE = re.compile(r"^(?:[\w.-]+/)?[\w-]+/[\w-]+/[\w-]+$")
_ACTION_METADATA = re.compile(r"(?:^|/)action\.ya?ml$")
_REF_PARAM = re.compile(r"[?&]ref=(?P<ref>[^&]+)")


def scan_lines(
    kind: FileKind, path: str, added: Sequence[tuple[int, str]], after: str
) -> list[Reference]:
    """References in the added lines of a YAML file, a Dockerfile or a workflow."""
    found: list[Reference] = []
    joined = "\n".join(line for _, line in added).lower()
    if not any(word in joined for word in _WORDS):
        return found
    if kind is FileKind.DOCKERFILE:
        stages = {
            m["stage"].lower()
            for m in map(_FROM_LINE.match, after.splitlines())
            if m and m["stage"]
        }
        for number, line in added:
            match = _FROM_LINE.match(line)
            if match and match["value"].lower() not in stages | {"scratch"}:
                found += _image(path, number, match["value"])
        return found
    if not path.endswith((".yaml", ".yml")):
        return found
    helm_source = bool(_CHART_KEY.search(after))
    action_metadata = kind is FileKind.GITHUB_ACTIONS and _ACTION_METADATA.search(path) is not None
    for number, line in added:
        if line.lstrip().startswith("#"):
            continue
        if match := _IMAGE_LINE.match(line):
            if action_metadata:
                found += _action_image(path, number, match["value"])
            else:
                found += _image(path, number, match["value"])
        elif (match := _USES_LINE.match(line)) and kind is FileKind.GITHUB_ACTIONS:
            found += _action(path, number, match["value"])
        elif (match := _REVISION_LINE.match(line)) and kind is FileKind.ARGOCD and helm_source:
            # a Git source tracking a branch is how GitOps works; a floating chart is not
            found += _chart(path, number, match["value"], "targetRevision")
        elif (match := _VERSION_LINE.match(line)) and kind in (FileKind.FLUX, FileKind.HELM_CHART):
            found += _chart(path, number, match["value"], "version")
    return found


def image_pinning(value: str) -> tuple[Pinning, str]:
    """How a container image reference is pinned, and why."""
    if "@sha256:" in value or "@sha512:" in value:
        return Pinning.DIGEST, "digest"
    name = value.rsplit("/", 1)[-1]
    if ":" not in name:
        return Pinning.FLOATING, "no tag or digest"
    tag = name.rsplit(":", 1)[1]
    if tag.lower() == "latest":
        return Pinning.FLOATING, "tag latest"
    return Pinning.VERSION, f"tag {tag}, no digest"


def _image(path: str, line: int, value: str) -> list[Reference]:
    if _TEMPLATED.search(value):
        return []
    pinning, detail = image_pinning(value)
    if pinning is Pinning.DIGEST:
        return []
    return [Reference(path, line, RefKind.IMAGE, value, pinning, detail)]


def _action_image(path: str, line: int, value: str) -> list[Reference]:
    """``runs.image`` of a Docker container action's ``action.yml``: a ``docker://`` image is
    pulled from a registry and judged; any other value is the path of a Dockerfile the runner
    builds from the action's own files (``Dockerfile``, ``./docker/Dockerfile``), not a
    reference to anything outside."""
    if not value.startswith("docker://"):
        return []
    return _image(path, line, value.removeprefix("docker://"))


def _action(path: str, line: int, value: str) -> list[Reference]:
    if value.startswith("./") or _TEMPLATED.search(value):
        return []
    if value.startswith("docker://"):
        return _image(path, line, value.removeprefix("docker://"))
    ref = value.partition("@")[2]
    if _SHA.match(ref):
        return []
    if not ref or ref.lower() in _FLOATING_REFS or not _EXACT_VERSION.match(ref):
        detail = f"ref {ref}, a branch or unknown ref" if ref else "no ref"
        return [Reference(path, line, RefKind.ACTION, value, Pinning.FLOATING, detail)]
    return [Reference(path, line, RefKind.ACTION, value, Pinning.VERSION, f"tag {ref}, not a SHA")]


def _chart(path: str, line: int, value: str, key: str) -> list[Reference]:
    if _TEMPLATED.search(value) or _SHA.match(value):
        return []
    if value.lower() in _FLOATING_REFS or _FLOATING_VERSION.search(value):
        detail = f"{key} {value or '(empty)'} floats"
        return [Reference(path, line, RefKind.CHART, value, Pinning.FLOATING, detail)]
    return []


def terraform_references(
    path: str, after: EntityMap, changes: Iterable[ResourceChange], text: str
) -> list[Reference]:
    """Module sources and provider constraints of the Terraform blocks a change added or
    modified that are not pinned: a registry module without ``version``, a Git module without
    ``?ref=``, a required provider without ``version``."""
    found: list[Reference] = []
    for change in changes:
        if change.operation is Operation.REMOVED or change.address not in after:
            continue
        entity = after[change.address]
        if change.kind is ResourceKind.MODULE:
            found += _module(path, change.address, entity.body, text)
        elif change.kind is ResourceKind.TERRAFORM:
            found += _providers(path, entity.body, text)
    return found


def _module(path: str, address: str, body: dict[str, object], text: str) -> list[Reference]:
    source = body.get("source")
    if not isinstance(source, str) or _LOCAL_SOURCE.match(source):
        return []
    line = _line_of(text, rf'^\s*module\s+"?{re.escape(address.split(".", 1)[1])}"?\s*\{{')
    if _GIT_SOURCE.search(source):
        ref = _REF_PARAM.search(source)
        if ref is None:
            return [Reference(path, line, RefKind.MODULE, source, Pinning.FLOATING, "no ?ref=")]
        if _SHA.match(ref["ref"]):
            return []
        detail = f"ref {ref['ref']}, not a commit SHA"
        return [Reference(path, line, RefKind.MODULE, source, Pinning.VERSION, detail)]
    if _REGISTRY_SOURCE.match(source):
        version = body.get("version")
        if not isinstance(version, str) or _FLOATING_VERSION.search(version.strip("= ")):
            detail = f"version {version}" if isinstance(version, str) else "no version"
            return [Reference(path, line, RefKind.MODULE, source, Pinning.FLOATING, detail)]
    return []


def _providers(path: str, body: dict[str, object], text: str) -> list[Reference]:
    found: list[Reference] = []
    blocks = body.get("required_providers", [])
    for block in blocks if isinstance(blocks, list) else [blocks]:
        for name, spec in block.items() if isinstance(block, dict) else ():
            version = spec.get("version") if isinstance(spec, dict) else spec
            if isinstance(version, str) and version.strip():
                continue
            source = spec.get("source") if isinstance(spec, dict) else None
            line = _line_of(text, rf"^\s*{re.escape(name)}\s*=")
            found.append(
                Reference(
                    path,
                    line,
                    RefKind.PROVIDER,
                    str(source or name),
                    Pinning.FLOATING,
                    f"provider {name} without a version constraint",
                )
            )
    return found


def _line_of(text: str, pattern: str) -> int:
    match = re.search(pattern, text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else 0
