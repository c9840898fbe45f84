"""Kubernetes-style YAML (manifests, Kustomize, Argo CD, Flux, policies) and nested values files."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import yaml

from auditor.infra.diff import sensitive_name
from auditor.infra.entities import Entity, EntityMap
from auditor.infra.model import (
    FileKind,
    Operation,
    ResourceChange,
    ResourceKind,
    Signal,
    SignalKind,
)

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_TAGS: dict[str, str] = {}  # the tag of each plain scalar seen: keys and values recur
_PLAIN_TAGS_MAX = 100_000


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """The safe loader, remembering the implicit tag of plain scalars.

    PyYAML resolves every plain scalar by trying the implicit resolvers' regexes in Python; a
    plain scalar's tag depends on its text alone (the safe loader has no path resolvers)."""

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is not yaml.ScalarNode or not implicit[0]:
            return super().resolve(kind, value, implicit)
        tag = _PLAIN_TAGS.get(value)
        if tag is None:
            if len(_PLAIN_TAGS) >= _PLAIN_TAGS_MAX:
                _PLAIN_TAGS.clear()
            tag = _PLAIN_TAGS[value] = super().resolve(kind, value, implicit)
        return tag


_SECRET_FIELDS = ("data", "stringData", "spec.encryptedData")
_SECRET_KINDS = frozenset({"Secret", "bitnami.com/SealedSecret"})
_IMPLIED_KIND = {FileKind.KUSTOMIZE: ("kustomize.config.k8s.io/v1beta1", "Kustomization")}


def parse_objects(kind: FileKind, text: str) -> EntityMap:
    """Objects of a multi-document YAML file by ``Kind/namespace/name``; raises on bad YAML."""
    return objects_of(kind, load_documents(text))


def load_documents(text: str) -> list[object]:
    """The documents of a YAML stream, exactly as ``yaml.safe_load_all`` reads them; raises
    ``yaml.YAMLError`` on bad YAML.

    Documents are composed by the (C) parser and built by :func:`_build`, several times faster
    than PyYAML's generic constructor; a document using anything beyond plain mappings,
    sequences and scalars (merge keys, sets, custom tags) is read the standard way instead."""
    loader = _Loader(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            documents.append(None if node is None else _build(node, {}))
        return documents
    except _Unusual:
        return list(yaml.load_all(text, Loader=_Loader))
    finally:
        loader.dispose()


class _Unusual(Exception):
    """A node :func:`_build` leaves to PyYAML's own constructor."""


_SCALARS = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS: dict[str, Callable[[yaml.ScalarNode], object]] = {
    "tag:yaml.org,2002:null": _SCALARS.construct_yaml_null,
    "tag:yaml.org,2002:bool": _SCALARS.construct_yaml_bool,
    "tag:yaml.org,2002:int": _SCALARS.construct_yaml_int,
    "tag:yaml.org,2002:float": _SCALARS.construct_yaml_float,
    "tag:yaml.org,2002:timestamp": _SCALARS.construct_yaml_timestamp,
}


def _build(node: yaml.Node, built: dict[int, object]) -> object:
    """The Python value of a composed node, as ``SafeConstructor`` builds it."""
    if id(node) in built:  # an alias: the same object, as PyYAML gives
        return built[id(node)]
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _STR:
            return node.value
        construct = _SCALAR_TAGS.get(node.tag)
        if construct is None:
            raise _Unusual(node.tag)
        value = construct(node)
    elif isinstance(node, yaml.SequenceNode) and node.tag == "tag:yaml.org,2002:seq":
        items: list[object] = []
        built[id(node)] = items
        items.extend(_build(item, built) for item in node.value)
        return items
    elif isinstance(node, yaml.MappingNode) and node.tag == "tag:yaml.org,2002:map":
        mapping: dict[object, object] = {}
        built[id(node)] = mapping
        for key_node, value_node in node.value:
            key = _build(key_node, built)
            if isinstance(key, list | dict) or key_node.tag == "tag:yaml.org,2002:merge":
                raise _Unusual("merge or unhashable key")
            mapping[key] = _build(value_node, built)
        return mapping
    else:
        raise _Unusual(node.tag)
    built[id(node)] = value
    return value


def objects_of(kind: FileKind, documents: Iterable[object]) -> EntityMap:
    """Objects of the documents of a stream (read by :func:`load_documents`), in order."""
    entities: EntityMap = {}
    for index, document in enumerate(documents):
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


def located(address: str, path: str) -> str:
    """An object's address with the file's path where the object has no name: a
    ``kustomization.yaml`` names none, and ``Kustomization//`` would say nothing of which."""
    head, _, name = address.rpartition("/")
    if name or not head:
        return address
    kind, _, namespace = head.partition("/")
    return f"{kind}/{namespace} {path}" if namespace else f"{kind} {path}"


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


_ARGO_TYPES = frozenset({"argoproj.io/Application", "argoproj.io/ApplicationSet"})
_FLUX_GROUP = ".toolkit.fluxcd.io/"


def signals(after: EntityMap, changes: Iterable[ResourceChange]) -> tuple[Signal, ...]:
    """GitOps reconciliation turned off: Argo CD automated sync or self-heal disabled, Flux
    objects suspended."""
    found: list[Signal] = []
    for change in changes:
        if change.type in _ARGO_TYPES and change.operation is Operation.MODIFIED:
            found += _argo(change)
        elif _FLUX_GROUP in change.type and change.operation is not Operation.REMOVED:
            entity = after.get(change.address)
            spec = entity.body.get("spec") if entity else None
            suspended = isinstance(spec, dict) and spec.get("suspend") is True
            was = [a for a in change.changed_attributes if a.path == "spec.suspend"]
            if suspended and (change.operation is Operation.ADDED or was):
                found.append(
                    Signal(SignalKind.FLUX_SUSPENDED, change.address, "spec.suspend: true")
                )
    return tuple(found)


def _argo(change: ResourceChange) -> list[Signal]:
    found: list[Signal] = []
    for attribute in change.changed_attributes:
        path, before, after = attribute.path, attribute.before, attribute.after
        if path.endswith("syncPolicy.automated.selfHeal") and before == "true" and after != "true":
            kind = SignalKind.ARGOCD_SELF_HEAL_DISABLED
        elif (
            (path.endswith("syncPolicy.automated") and before is not None and after is None)
            or (path.endswith("syncPolicy") and "automated" in (before or "") and after is None)
            or (path.endswith("syncPolicy.automated.enabled") and after == "false")
        ):
            kind = SignalKind.ARGOCD_AUTO_SYNC_DISABLED
        else:
            continue
        found.append(Signal(kind, change.address, str(attribute)))
    return found
