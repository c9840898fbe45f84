"""Kubernetes-style YAML (manifests, Kustomize, Argo CD, Flux, policies) and nested values files."""

from __future__ import annotations

import yaml

from auditor.infra.diff import sensitive_name
from auditor.infra.entities import Entity, EntityMap
from auditor.infra.model import FileKind, ResourceKind

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SECRET_FIELDS = ("data", "stringData", "spec.encryptedData")
_SECRET_KINDS = frozenset({"Secret", "bitnami.com/SealedSecret"})
_IMPLIED_KIND = {FileKind.KUSTOMIZE: ("kustomize.config.k8s.io/v1beta1", "Kustomization")}


def parse_objects(kind: FileKind, text: str) -> EntityMap:
    """Objects of a multi-document YAML file by ``Kind/namespace/name``; raises on bad YAML."""
    entities: EntityMap = {}
    for index, document in enumerate(yaml.load_all(text, Loader=_Loader)):
        if document is None:
            continue
        if not isinstance(document, dict):
            raise ValueError(f"document {index + 1} is not a mapping")
        items = document.get("items") if document.get("kind") == "List" else [document]
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                entity = _object(kind, item, index)
                entities[entity.address] = entity
    return entities


def _object(kind: FileKind, document: dict[str, object], index: int) -> Entity:
    api_version, object_kind = _IMPLIED_KIND.get(kind, ("", ""))
    api_version = str(document.get("apiVersion") or api_version)
    object_kind = str(document.get("kind") or object_kind)
    if not object_kind:
        return Entity(ResourceKind.OBJECT, f"document[{index + 1}]", "", document)
    metadata = document.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name = metadata.get("name") or metadata.get("generateName") or ""
    namespace = metadata.get("namespace") or ""
    group = api_version.rpartition("/")[0]
    type_ = f"{group}/{object_kind}" if group else object_kind
    sensitive = _secret_field if type_ in _SECRET_KINDS else sensitive_name
    address = f"{object_kind}/{namespace}/{name}"
    return Entity(ResourceKind.OBJECT, address, type_, document, sensitive)


def _secret_field(path: str) -> bool:
    return path.startswith(_SECRET_FIELDS) or sensitive_name(path)


def parse_values(text: str) -> EntityMap:
    """A nested values file (Helm values, Chart.yaml) as one entity per top-level key."""
    document = yaml.load(text, Loader=_Loader)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ValueError("top level is not a mapping")
    return {
        str(key): Entity(ResourceKind.VALUE, str(key), "", {str(key): value})
        for key, value in document.items()
    }
