"""Validation of the config document into :class:`~auditor.runs.config.Config`, line by line.

:mod:`tomllib` parses; :class:`Reader` checks every key and value against what ``auditor run``
knows and raises the first problem as a one-line :class:`~auditor.errors.DefinitionError` naming
the file, the line (found by :mod:`auditor.runs.config.tomllines`) and the key. Control overrides
(``[[overrides."CHG-01"]]``, and the same under a ``[[repository]]``, where they concern that
repository only) are validated by :func:`auditor.evaluation.catalog.parse_overrides` against the
check each control names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from auditor.deployments.interface import DeploymentOptions
from auditor.errors import DefinitionError, UsageError
from auditor.evaluation.catalog import Override, load_catalog, parse_overrides
from auditor.evaluation.frameworks import known_frameworks
from auditor.facts.signatures import SignerKeys
from auditor.infra.scope import PLACEHOLDER
from auditor.ledger.period import Period, named_period
from auditor.model import Severity
from auditor.render.interface import DEFAULT_FORMATS, Format, HeaderProfile
from auditor.reviews import Forge, check_api_url
from auditor.reviews.collect import ForgeOptions
from auditor.reviews.forges import FORGE_CHOICES, forge_named
from auditor.runs.clones import clone_url_problem
from auditor.runs.config import Config, PeriodChoice, RepositoryConfig
from auditor.runs.config.tomllines import KeyPath, dotted, key_error, key_lines

TOP_KEYS = ("audit", "repository", "overrides")
AUDIT_KEYS = (
    "organisation", "period", "since", "until", "frameworks", "formats", "output", "store",
    "waivers", "roster", "controls_dirs", "rules", "header_profile", "sample", "seed",
    "fail_on", "jobs", "bots", "default_bots", "allowed_signers", "gpg_keys", "signing_key",
)  # fmt: skip
REPOSITORY_KEYS = (
    "path", "url", "name", "branches", "forge", "forge_url", "forge_repo", "reviews_file",
    "environments", "rules", "overrides", "deployments", "argocd_url",
)  # fmt: skip
T = TypeVar("T")
_SENTINEL = "\x00config"
_KEY_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class Reader:
    """Validates the parsed document, raising the first error with its line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.base = path.resolve().parent
        self.lines = key_lines(text)

    def error(self, key: KeyPath, message: str) -> DefinitionError:
        return key_error(self.path, self.lines, key, message)

    # -- the document ---------------------------------------------------------------------------

    def config(self, data: dict[str, Any], digest: str) -> Config:
        self.known(data, (), TOP_KEYS)
        audit = self.table(data.get("audit", {}), ("audit",))
        self.known(audit, ("audit",), AUDIT_KEYS)
        base = Config(path=self.path, sha256=digest, repositories=(), lines=self.lines)
        config = replace(
            base,
            organisation=self.get(audit, ("audit", "organisation"), _string, ""),
            period=self.period(audit),
            frameworks=self.frameworks(
                audit, self.paths(audit, ("audit", "controls_dirs"), kind="dir")
            ),
            formats=self.formats(audit),
            output=self.get(
                audit, ("audit", "output"), self.path_of("place"), self.base / "audit-packs"
            ),
            store=self.get(
                audit, ("audit", "store"), self.path_of("place"), self.base / ".auditor"
            ),
            waivers=self.get(audit, ("audit", "waivers"), self.path_of("file"), None),
            roster=self.get(audit, ("audit", "roster"), self.path_of("file"), None),
            signers=SignerKeys(
                self.get(audit, ("audit", "allowed_signers"), self.path_of("file"), None),
                self.get(audit, ("audit", "gpg_keys"), self.path_of("file"), None),
            ),
            signing_key=self.get(audit, ("audit", "signing_key"), self.path_of("file"), None),
            controls_dirs=self.paths(audit, ("audit", "controls_dirs"), kind="dir"),
            rules=self.paths(audit, ("audit", "rules"), kind="file"),
            header_profile=self.get(
                audit, ("audit", "header_profile"), _enum(HeaderProfile), HeaderProfile.SNAKE
            ),
            sample=self.get(audit, ("audit", "sample"), _integer(1), None),
            seed=self.get(audit, ("audit", "seed"), _seed, None),
            fail_on=self.fail_on(audit),
            jobs=self.get(audit, ("audit", "jobs"), _integer(1, 256), None),
            bots=self.get(audit, ("audit", "bots"), _list(_regex), base.bots),
            default_bots=self.get(audit, ("audit", "default_bots"), _boolean, True),
        )
        catalog = load_catalog(config.controls_dirs)
        repos = data.get("repository")
        if repos is None:
            raise self.error((), "no [[repository]]: name at least one repository to audit")
        if not isinstance(repos, list) or not repos:
            raise self.error(("repository",), "expected [[repository]] tables")
        repositories = tuple(self.repository(r, i, catalog) for i, r in enumerate(repos))
        self.unique_names(repositories)
        overrides = self.overrides(data.get("overrides", {}), ("overrides",), catalog)
        return replace(config, repositories=repositories, overrides=overrides)

    def repository(self, raw: Any, index: int, catalog: Any) -> RepositoryConfig:
        key: KeyPath = ("repository", index)
        entry = self.table(raw, key)
        self.known(entry, key, REPOSITORY_KEYS)
        if ("path" in entry) == ("url" in entry):
            raise self.error(key, "give exactly one of path (a local repository) or url")
        url = self.get(entry, (*key, "url"), _clone_url, None)
        forge = ForgeOptions(
            forge=self.get(entry, (*key, "forge"), _forge, None),
            forge_url=self.get(entry, (*key, "forge_url"), _forge_url, None),
            forge_repo=self.get(entry, (*key, "forge_repo"), _forge_repo, None),
            reviews_file=self.get(entry, (*key, "reviews_file"), self.path_of("file"), None),
        )
        return RepositoryConfig(
            index=index,
            path=self.get(entry, (*key, "path"), self.path_of(), None),
            url=url,
            name=self.get(entry, (*key, "name"), _name, ""),
            branches=self.get(entry, (*key, "branches"), _list(_string), ()),
            forge=forge,
            environments=self.get(entry, (*key, "environments"), _list(_env_pattern), ()),
            rules=self.paths(entry, (*key, "rules"), kind="file"),
            overrides=self.overrides(entry.get("overrides", {}), (*key, "overrides"), catalog),
            deployments=DeploymentOptions(
                files=self.paths(entry, (*key, "deployments"), kind="file"),
                argocd_urls=tuple(
                    u for u in [self.get(entry, (*key, "argocd_url"), _forge_url, None)] if u
                ),
            ),
        )

    def unique_names(self, repositories: tuple[RepositoryConfig, ...]) -> None:
        seen: dict[str, int] = {}
        for repo in repositories:
            if repo.name and repo.name in seen:
                raise self.error(
                    ("repository", repo.index, "name"),
                    f"{repo.name!r} is already the name of repository[{seen[repo.name]}]",
                )
            seen.setdefault(repo.name, repo.index)

    def overrides(self, raw: Any, key: KeyPath, catalog: Any) -> dict[str, tuple[Override, ...]]:
        table = self.table(raw, key)
        per_repository = key[0] == "repository"
        out: dict[str, tuple[Override, ...]] = {}
        for control, entries in table.items():
            if not isinstance(entries, list):
                raise self.error((*key, control), 'expected [[overrides."ID"]] tables')
            parsed: list[Override] = []
            for index, entry in enumerate(entries):
                where = (*key, control, index)
                if per_repository and isinstance(entry, dict) and "repositories" in entry:
                    raise self.error(
                        (*where, "repositories"),
                        "not allowed here: these overrides concern this repository only",
                    )
                try:
                    found = parse_overrides(
                        {control: [entry]}, catalog, source=_SENTINEL, key=dotted(key)
                    )
                except DefinitionError as err:
                    raise self.located(str(err), key, control, index) from None
                parsed += found[control]
            out[control] = tuple(parsed)
        return out

    def located(self, message: str, key: KeyPath, control: str, index: int) -> DefinitionError:
        """An error of :func:`parse_overrides`, which saw the entry alone (at ``[0]``), as an
        error naming the entry's real key and line."""
        text = message.removeprefix(f"{_SENTINEL}: ")
        keytext, _, why = text.partition(": ")
        path: KeyPath = tuple(
            int(number) if number else name for name, number in _KEY_TOKEN.findall(keytext)
        )
        here = len(key) + 1  # where the entry's index sits in the path
        if path[:here] != (*key, control):
            return self.error((*key, control, index), text)
        if path[here : here + 1] == (0,):
            path = (*key, control, index, *path[here + 1 :])
        return self.error(path, why)

    # -- [audit] values -------------------------------------------------------------------------

    def period(self, audit: dict[str, Any]) -> PeriodChoice:
        if "period" in audit and ("since" in audit or "until" in audit):
            raise self.error(("audit", "period"), "give either period or since/until, not both")
        name = self.get(audit, ("audit", "period"), _string, None)
        if name is not None:
            try:
                named_period(name, datetime.now(UTC))
            except UsageError as err:
                raise self.error(("audit", "period"), str(err)) from None
            return PeriodChoice(name=name)
        since = self.get(audit, ("audit", "since"), _when, None)
        until = self.get(audit, ("audit", "until"), _when, None)
        for which, value in (("since", since), ("until", until)):
            try:
                Period.parse(value, None)
            except UsageError as err:
                raise self.error(("audit", which), str(err).removeprefix("--since: ")) from None
        try:
            Period.parse(since, until)
        except UsageError:
            raise self.error(("audit", "since"), f"{since} is after until ({until})") from None
        return PeriodChoice(since=since, until=until)

    def frameworks(self, audit: dict[str, Any], dirs: tuple[Path, ...]) -> tuple[str, ...]:
        names: tuple[str, ...] = self.get(audit, ("audit", "frameworks"), _list(_string), ())
        known = known_frameworks(dirs) if names else {}
        for index, name in enumerate(names):
            if name not in known:
                raise self.error(
                    ("audit", "frameworks", index),
                    f"unknown framework {name!r}; known: {', '.join(known)}",
                )
        return names

    def formats(self, audit: dict[str, Any]) -> tuple[Format, ...]:
        names: tuple[str, ...] = self.get(audit, ("audit", "formats"), _comma_list, ())
        if "formats" in audit and not names:
            raise self.error(("audit", "formats"), "name at least one format")
        known = {f.value: f for f in Format}
        for index, name in enumerate(names):
            if name not in known:
                raise self.error(
                    ("audit", "formats", index) if isinstance(audit["formats"], list) else
                    ("audit", "formats"),
                    f"unknown format {name!r}; choose from {', '.join(known)}",
                )  # fmt: skip
        return tuple(f for f in Format if f.value in names) if names else DEFAULT_FORMATS

    def fail_on(self, audit: dict[str, Any]) -> frozenset[Severity]:
        names: tuple[str, ...] = self.get(audit, ("audit", "fail_on"), _comma_list, ())
        choices = [s.value for s in Severity]
        for index, name in enumerate(names):
            if name not in choices:
                raise self.error(
                    ("audit", "fail_on", index) if isinstance(audit["fail_on"], list) else
                    ("audit", "fail_on"),
                    f"unknown severity {name!r}; expected {', '.join(choices)}",
                )  # fmt: skip
        return frozenset(Severity(n) for n in names) if names else frozenset(Severity)

    # -- shapes ---------------------------------------------------------------------------------

    def get(
        self, table: dict[str, Any], key: KeyPath, convert: Callable[[Any], T], default: T
    ) -> T:
        """``table[key[-1]]`` converted, or ``default`` when absent; a bad value names ``key``."""
        name = key[-1]
        assert isinstance(name, str)
        if name not in table:
            return default
        try:
            return convert(table[name])
        except _Invalid as err:
            raise self.error((*key, *err.below), err.message) from None

    def table(self, value: Any, key: KeyPath) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {_describe(value)}")
        return value

    def known(self, table: dict[str, Any], key: KeyPath, allowed: tuple[str, ...]) -> None:
        for name in table:
            if name not in allowed:
                raise self.error((*key, name), f"unknown key; expected one of {', '.join(allowed)}")

    def path_of(self, kind: str | None = None) -> Callable[[Any], Path]:
        """A path relative to the config file: a ``file``, a ``dir``, a ``place`` for one (a
        directory, or nothing yet), or anything (``None``)."""

        def convert(value: Any) -> Path:
            path = Path(_string(value)).expanduser()
            path = path if path.is_absolute() else self.base / path
            if kind == "file" and not path.is_file():
                raise _Invalid(f"no such file: {path}")
            if kind == "dir" and not path.is_dir():
                raise _Invalid(f"no such directory: {path}")
            if kind == "place" and (path.exists() or path.is_symlink()) and not path.is_dir():
                raise _Invalid(f"{path} exists and is not a directory")
            return path

        return convert

    def paths(self, table: dict[str, Any], key: KeyPath, *, kind: str) -> tuple[Path, ...]:
        result: tuple[Path, ...] = self.get(table, key, _list(self.path_of(kind)), ())
        return result


class _Invalid(ValueError):
    """A value of the wrong type or form; ``below`` locates it inside the key (list items)."""

    def __init__(self, message: str, below: KeyPath = ()) -> None:
        super().__init__(message)
        self.message = message
        self.below = below


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, datetime | date):
        return f"a date ({value.isoformat()})"
    return repr(value)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_describe(value)}")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {_describe(value)}")
    return value


def _name(value: Any) -> str:
    text = _string(value).strip()
    if not text:
        raise _Invalid("expected a non-empty name")
    return text


def _list(item: Callable[[Any], T]) -> Callable[[Any], tuple[T, ...]]:
    def convert(value: Any) -> tuple[T, ...]:
        if not isinstance(value, list):
            raise _Invalid(f"expected an array, got {_describe(value)}")
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item(element))
            except _Invalid as err:
                raise _Invalid(err.message, (index, *err.below)) from None
        return tuple(out)

    return convert


def _comma_list(value: Any) -> tuple[str, ...]:
    """An array of strings, or one comma-separated string."""
    if isinstance(value, str):
        return tuple(part.strip().lower() for part in value.split(",") if part.strip())
    return tuple(s.strip().lower() for s in _list(_string)(value))


def _integer(minimum: int, maximum: int | None = None) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(f"expected an integer, got {_describe(value)}")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"from {minimum} to {maximum}" if maximum else f"of at least {minimum}"
            raise _Invalid(f"expected an integer {bound}, got {value}")
        return value

    return convert


def _enum(kind: Any) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        choices = [member.value for member in kind]
        if value not in choices:
            raise _Invalid(f"expected one of {', '.join(choices)}, got {_describe(value)}")
        return kind(value)

    return convert


def _forge(value: Any) -> Forge | None:
    if value not in FORGE_CHOICES:
        raise _Invalid(f"expected one of {', '.join(FORGE_CHOICES)}, got {_describe(value)}")
    return forge_named(value)


def _seed(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Invalid(f"expected a string or an integer, got {_describe(value)}")
    return str(value)


def _regex(value: Any) -> str:
    text = _string(value)
    try:
        re.compile(text)
    except re.error as err:
        raise _Invalid(f"invalid regular expression {text!r}: {err}") from None
    return text


def _when(value: Any) -> str:
    """A TOML date or date-time, or a string ``--since``/``--until`` accept."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return _string(value)


def _clone_url(value: Any) -> str:
    problem = clone_url_problem(_string(value))
    if problem is not None:
        raise _Invalid(problem)
    return str(value)


def _forge_url(value: Any) -> str:
    try:
        return check_api_url(_string(value))
    except UsageError as err:
        raise _Invalid(str(err)) from None


def _forge_repo(value: Any) -> str:
    text = _string(value).strip("/")
    owner, _, name = text.rpartition("/")
    if not owner or not name:
        raise _Invalid(f"expected OWNER/REPO, got {value!r}")
    return text


def _env_pattern(value: Any) -> str:
    text = _string(value)
    if text.count(PLACEHOLDER) != 1:
        raise _Invalid(f"must contain {PLACEHOLDER} exactly once, e.g. 'envs/{PLACEHOLDER}/**'")
    return text
