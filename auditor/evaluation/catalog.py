"""The control catalog: ``controls/*.yaml`` → validated :class:`~auditor.model.Control` records.

A control file names its check and that check's parameters; the parameters are validated by
the check's own specs and stored with the defaults filled in. User directories are loaded
after the shipped catalog and replace shipped controls with the same ``id``. Every error is one
line naming the file and the key: :func:`validate_dir` returns all of them, :func:`load_catalog`
raises the first as a :class:`~auditor.errors.DefinitionError`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import DefinitionError, UsageError
from auditor.evaluation.checks import CHECKS
from auditor.evaluation.checks.evidence import any_path_matches
from auditor.evaluation.checks.params import (
    ParamError,
    Validator,
    describe,
    list_of,
    path_globs,
    text,
)
from auditor.evaluation.frameworks import FILE as FRAMEWORKS_FILE
from auditor.evaluation.frameworks import known_frameworks
from auditor.evaluation.yamlload import load_definition
from auditor.model import Control, FrameworkRef, Severity
from auditor.resources import controls_dir

REQUIRED = ("id", "title", "description", "procedure", "check", "severity", "frameworks")
OPTIONAL = ("parameters", "scope")
SCOPE = {"paths": path_globs, "branches": list_of(text), "repositories": list_of(text)}
SHIPPED = "controls"  # how a shipped control's source is named: controls/CHG-01-via-request.yaml
_ID = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")


@dataclass(frozen=True)
class Override:
    """Parameters of one control replaced for some repositories (globs) and/or paths (globs)."""

    parameters: Mapping[str, Any]
    repositories: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()

    @property
    def specificity(self) -> int:
        """Repositories and paths (3) > paths (2) > repositories (1) > neither (0)."""
        return 2 * bool(self.paths) + bool(self.repositories)

    def applies(self, repo: str, paths: Sequence[str]) -> bool:
        """Whether the override concerns ``repo`` and any of ``paths``."""
        if self.repositories and not _repo_matches(self.repositories, repo):
            return False
        return not self.paths or any_path_matches(self.paths, paths)


@functools.lru_cache(maxsize=1024)
def _repo_matches(patterns: tuple[str, ...], repo: str) -> bool:
    return any(fnmatchcase(repo, p) for p in patterns)


Overrides = Mapping[str, Sequence[Override]]
_OVERRIDE_KEYS = ("repositories", "paths", "parameters")


def parse_overrides(
    raw: Mapping[str, Any], catalog: Sequence[Control], *, source: str, key: str = "overrides"
) -> dict[str, tuple[Override, ...]]:
    """``{control_id: [{"repositories": [...], "paths": [...], "parameters": {...}}]}`` →
    :data:`Overrides`, each parameter validated by the control's check. Errors name ``source``
    and the key below ``key``."""
    controls = {c.id: c for c in catalog}
    out: dict[str, tuple[Override, ...]] = {}
    for control_id, entries in raw.items():
        where = f"{source}: {key}.{control_id}"
        control = controls.get(control_id)
        if control is None:
            raise DefinitionError(f"{where}: unknown control")
        if not isinstance(entries, list):
            raise DefinitionError(f"{where}: expected a list, got {describe(entries)}")
        out[control_id] = tuple(
            _override(entry, control, f"{where}[{index}]") for index, entry in enumerate(entries)
        )
    return out


def _override(entry: Any, control: Control, where: str) -> Override:
    if not isinstance(entry, Mapping):
        raise DefinitionError(f"{where}: expected a mapping, got {describe(entry)}")
    for name in entry:
        if name not in _OVERRIDE_KEYS:
            raise DefinitionError(
                f"{where}.{name}: unknown key; expected {', '.join(_OVERRIDE_KEYS)}"
            )
    raw = entry.get("parameters")
    if not isinstance(raw, Mapping):
        raise DefinitionError(f"{where}.parameters: expected a mapping, got {describe(raw)}")
    repositories = _field(list_of(text), entry, "repositories", where)
    paths = _field(path_globs, entry, "paths", where)
    try:
        parameters = CHECKS[control.check].resolve(raw, base={})
    except ParamError as err:
        raise DefinitionError(f"{where}.parameters.{err.key}: {err.message}") from None
    return Override(parameters, repositories, paths)


def _field(validate: Validator, entry: Mapping[str, Any], name: str, where: str) -> Any:
    try:
        return validate(entry.get(name, ()))
    except ParamError as err:
        raise DefinitionError(f"{where}.{name}{err.key}: {err.message}") from None


def effective_parameters(
    control: Control, overrides: Overrides, repo: str, paths: Sequence[str] = ()
) -> Mapping[str, Any]:
    """The control's parameters with the matching overrides applied key by key, least
    specific first, so the most specific match wins (the later one among equals)."""
    matching = [o for o in overrides.get(control.id, ()) if o.applies(repo, paths)]
    if not matching:
        return control.parameters
    merged = dict(control.parameters)
    for override in sorted(matching, key=lambda o: o.specificity):
        merged.update(override.parameters)
    return merged


def check_frameworks(names: Iterable[str], dirs: Sequence[Path] = ()) -> tuple[str, ...]:
    """``names`` when every one is known (shipped, or added by one of the control ``dirs``);
    otherwise a :class:`UsageError`."""
    names = tuple(names)
    known = known_frameworks(dirs)
    for name in names:
        if name not in known:
            raise UsageError(f"unknown framework {name!r}; known: {', '.join(known)}")
    return names


def load_catalog(
    dirs: Sequence[Path] = (), *, frameworks: Iterable[str] = (), shipped: bool = True
) -> tuple[Control, ...]:
    """The shipped controls (unless ``shipped`` is false) overridden by id by each of ``dirs``
    in turn, restricted to controls mapping to one of ``frameworks`` (all when empty)."""
    known = known_frameworks(dirs)
    wanted = set(check_frameworks(frameworks, dirs))
    by_id: dict[str, Control] = {}
    for directory, is_shipped in [(controls_dir(), True)] * shipped + [(d, False) for d in dirs]:
        controls, errors = _read_dir(directory, known)
        if errors:
            raise DefinitionError(errors[0])
        if is_shipped:  # named as shipped, never by this machine's install path
            controls = [replace(c, source=f"{SHIPPED}/{Path(c.source).name}") for c in controls]
        by_id.update((c.id, c) for c in controls)
    return tuple(
        c
        for _, c in sorted(by_id.items())
        if not wanted or any(r.framework in wanted for r in c.frameworks)
    )


def validate_dir(directory: Path) -> list[str]:
    """Every error of every control file in ``directory``, one line each, file and key named."""
    try:
        known = known_frameworks([directory])
    except DefinitionError as err:
        return [str(err)]
    controls, errors = _read_dir(directory, known)
    if not errors and not controls:
        return [f"{directory}: no control files (*.yaml)"]
    return errors


def _read_dir(directory: Path, known: Mapping[str, str]) -> tuple[list[Control], list[str]]:
    if not directory.is_dir():
        return [], [f"{directory}: not a directory"]
    controls: list[Control] = []
    errors: list[str] = []
    seen: dict[str, Path] = {}
    files = sorted(
        p
        for p in [*directory.glob("*.yaml"), *directory.glob("*.yml")]
        if p.name != FRAMEWORKS_FILE
    )
    root = directory.resolve()
    for path in files:
        if not path.resolve().is_relative_to(root):
            errors.append(f"{path}: leads outside the control directory; refused")
            continue
        control, problems = read_control(path, known)
        errors += problems
        if control is None:
            continue
        if control.id in seen:
            errors.append(f"{path}: id: {control.id!r} is already defined in {seen[control.id]}")
            continue
        seen[control.id] = path
        controls.append(control)
    return controls, errors


def read_control(
    path: Path, known: Mapping[str, str] | None = None
) -> tuple[Control | None, list[str]]:
    """The control defined in ``path`` and no errors, or None and every error found; its
    frameworks must be among ``known`` (default: the shipped ones)."""
    try:
        data = load_definition(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        return None, [f"{path}: cannot read: {err}"]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "syntax error"
        return None, [f"{path}: invalid YAML{where}: {problem}"]
    if not isinstance(data, Mapping):
        return None, [f"{path}: expected a mapping of control keys, got {describe(data)}"]
    return _Reader(path, data, known_frameworks() if known is None else known).control()


class _Reader:
    """Validates one control mapping, collecting every error instead of stopping at the first."""

    def __init__(self, path: Path, data: Mapping[Any, Any], known: Mapping[str, str]) -> None:
        self.path = path
        self.data = data
        self.known = known
        self.errors: list[str] = []

    def fail(self, key: str, message: str) -> None:
        self.errors.append(f"{self.path}: {key}: {message}")

    def control(self) -> tuple[Control | None, list[str]]:
        for key in self.data:
            if key not in REQUIRED and key not in OPTIONAL:
                self.fail(str(key), f"unknown key; expected {', '.join(REQUIRED + OPTIONAL)}")
        for key in REQUIRED:
            if key not in self.data:
                self.fail(key, "missing")
        texts = {k: self.text(k) for k in ("id", "title", "description", "procedure")}
        if texts["id"] and not _ID.match(texts["id"]):
            self.fail(
                "id", f"expected upper-case words joined by '-' (e.g. CHG-01), got {texts['id']!r}"
            )
        check, parameters = self.check()
        severity = self.severity()
        refs = self.frameworks()
        scope = self.scope()
        if self.errors or severity is None:
            return None, self.errors
        return (
            Control(
                id=texts["id"],
                title=texts["title"],
                description=texts["description"],
                procedure=texts["procedure"],
                check=check,
                parameters=parameters,
                frameworks=refs,
                severity=severity,
                scope=scope,
                source=str(self.path),
            ),
            [],
        )

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if key in self.data and (not isinstance(value, str) or not value.strip()):
            self.fail(key, f"expected a non-empty string, got {describe(value)}")
            return ""
        return value.strip() if isinstance(value, str) else ""

    def check(self) -> tuple[str, Mapping[str, Any]]:
        name = self.data.get("check")
        raw = self.data.get("parameters", {})
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            self.fail("parameters", f"expected a mapping, got {describe(raw)}")
            raw = {}
        if "check" not in self.data:
            return "", {}
        if not isinstance(name, str) or name not in CHECKS:
            self.fail(
                "check", f"unknown check {describe(name)}; known: {', '.join(sorted(CHECKS))}"
            )
            return "", {}
        try:
            return name, CHECKS[name].resolve(raw)
        except ParamError as err:
            self.fail(f"parameters.{err.key}", err.message)
            return name, {}

    def severity(self) -> Severity | None:
        value = self.data.get("severity")
        try:
            return Severity(value)
        except ValueError:
            if "severity" in self.data:
                allowed = ", ".join(s.value for s in Severity)
                self.fail("severity", f"expected one of {allowed}, got {describe(value)}")
            return None

    def frameworks(self) -> tuple[FrameworkRef, ...]:
        value = self.data.get("frameworks")
        if "frameworks" not in self.data:
            return ()
        if not isinstance(value, Mapping) or not value:
            self.fail("frameworks", f"expected a non-empty mapping, got {describe(value)}")
            return ()
        refs: list[FrameworkRef] = []
        for name, items in value.items():
            key = f"frameworks.{name}"
            if name not in self.known:
                self.fail(key, f"unknown framework; known: {', '.join(self.known)}")
            elif not isinstance(items, list) or not items:
                self.fail(key, f"expected a non-empty list of references, got {describe(items)}")
            else:
                for index, ref in enumerate(items):
                    if isinstance(ref, str) and ref.strip():
                        refs.append(FrameworkRef(str(name), ref.strip()))
                    else:
                        self.fail(f"{key}[{index}]", f"expected a string, got {describe(ref)}")
        return tuple(refs)

    def scope(self) -> Mapping[str, tuple[str, ...]]:
        value = self.data.get("scope") or {}
        if not isinstance(value, Mapping):
            self.fail("scope", f"expected a mapping, got {describe(value)}")
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for key, item in value.items():
            validate = SCOPE.get(str(key))
            if validate is None:
                self.fail(f"scope.{key}", f"unknown key; expected {', '.join(SCOPE)}")
                continue
            try:
                out[str(key)] = validate(item)
            except ParamError as err:
                self.fail(f"scope.{key}{err.key}", err.message)
        return out
