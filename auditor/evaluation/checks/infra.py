"""Checks on what a change did to the infrastructure, from its analysis (``auditor/infra``).

Code-owner approval of sensitive changes, plain-text credentials, unpinned dependencies, drift
signals (work done outside the pipeline), and knowledge concentration over the period. Reasons
name paths, line numbers and addresses, never a credential's value.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from auditor.evaluation.checks import evidence as ev
from auditor.evaluation.checks.params import (
    CATEGORIES,
    Param,
    ParamError,
    boolean,
    choice,
    describe,
    integer,
    list_of,
    path_globs,
    text,
)
from auditor.evaluation.checks.registry import (
    CheckContext,
    Outcome,
    Params,
    check,
    repository_check,
)
from auditor.infra.codeowners import Ownership
from auditor.infra.model import Pinning, Reference, RefKind, SignalKind
from auditor.model import Approval, ChangeFacts, ChangeType, Person, Status

SENSITIVE = ("network", "identity-access", "secrets", "policy")
DRIFT_SIGNALS = (
    SignalKind.IMPORT_ADDED,
    SignalKind.MOVED_ADDED,
    SignalKind.REMOVED_ADDED,
    SignalKind.IGNORE_CHANGES_ADDED,
    SignalKind.ARGOCD_AUTO_SYNC_DISABLED,
    SignalKind.ARGOCD_SELF_HEAL_DISABLED,
    SignalKind.FLUX_SUSPENDED,
)
CREDENTIAL_FILES = (
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_{rsa,dsa,ecdsa,ed25519}",
    ".env",
    ".env.*",
    "*.env",
    "credentials",
    "credentials.json",
    "*.tfstate",
    "*.tfstate.backup",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".git-credentials",
    "kubeconfig",
)
_SHOWN = 5
_SIGNAL_WORDS = {
    SignalKind.IMPORT_ADDED: "import block added",
    SignalKind.MOVED_ADDED: "moved block added",
    SignalKind.REMOVED_ADDED: "removed block added (resource left out of state)",
    SignalKind.IGNORE_CHANGES_ADDED: "lifecycle ignore_changes added",
    SignalKind.ARGOCD_AUTO_SYNC_DISABLED: "Argo CD automated sync turned off",
    SignalKind.ARGOCD_SELF_HEAL_DISABLED: "Argo CD self-heal turned off",
    SignalKind.FLUX_SUSPENDED: "Flux reconciliation suspended",
}


def _categories_param() -> Param:
    return Param(
        list_of(choice(*CATEGORIES)), SENSITIVE, "change categories that make a change sensitive"
    )


def _paths_param() -> Param:
    return Param(path_globs, (), "globs over paths that make a change sensitive")


def sensitive(facts: ChangeFacts, params: Params) -> str:
    """What makes the change sensitive (its categories, else a path), or ``""``."""
    categories = sorted(facts.categories & set(params["categories"]))
    if categories:
        return ", ".join(categories)
    paths = ev.matching_paths(params["paths"], ev.change_paths(facts))
    return f"path {paths[0]}" if paths else ""


def _listed(items: Sequence[str]) -> str:
    shown = "; ".join(items[:_SHOWN])
    return shown + (f"; and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _not_analysed(facts: ChangeFacts) -> Outcome | None:
    if facts.change.files and not facts.infra_files:
        return Outcome(Status.UNKNOWN, "the change's files were not analysed")
    return None


# -- code owners ------------------------------------------------------------------------------


def _teams(value: Any) -> dict[str, tuple[str, ...]]:
    """``{"@org/team": ["alice", "@bob", "carol@example.com"]}`` → normalised handles."""
    if not isinstance(value, Mapping):
        raise ParamError(f"expected a mapping of team to members, got {describe(value)}")
    out: dict[str, tuple[str, ...]] = {}
    for team, members in value.items():
        name = text(team)
        if not name.startswith("@") or "/" not in name:
            raise ParamError("expected a team such as @org/team", f".{name}")
        try:
            listed = list_of(text)(members)
        except ParamError as err:
            raise err.under(f".{name}") from None
        out[name.lower()] = tuple(_handle(m) for m in listed)
    return out


def _handle(owner: str) -> str:
    owner = owner.strip().lower()
    return owner if owner.startswith("@") or "@" in owner else f"@{owner}"


@check(
    "codeowner-approval",
    categories=_categories_param(),
    paths=_paths_param(),
    teams=Param(_teams, {}, "CODEOWNERS teams (@org/team) mapped to their members' logins/emails"),
    when_missing=Param(
        choice("fail", "unknown"),
        "fail",
        "the result when the repository has no CODEOWNERS file at the change",
    ),
)
def codeowner_approval(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    what = sensitive(facts, params)
    if not what:
        return Outcome(Status.NOT_APPLICABLE, "not a sensitive change (categories and paths)")
    missing = ev.review_data_missing(facts)
    if missing:
        return missing
    owners = facts.codeowners
    parent = ev.short(facts.change.commit.parents[0]) if facts.change.commit.parents else "root"
    if owners is None:
        status = Status.FAIL if params["when_missing"] == "fail" else Status.UNKNOWN
        return Outcome(status, f"{what} change; no CODEOWNERS file at its parent {parent}")
    where = f"{owners.source} at {parent}"
    ownerships = [
        o for path in ev.change_paths(facts) for o in owners.owners_of(path) if not o.optional
    ]
    owned = [o for o in ownerships if o.owners]
    if not owned:
        paths = ", ".join(dict.fromkeys(ev.change_paths(facts)))
        return Outcome(Status.FAIL, f"{what} change; no code owner for {paths} in {where}")
    handles = dict(facts.handles)
    approvals = ev.distinct_reviewers(facts.independent_approvals)
    teams: Mapping[str, tuple[str, ...]] = params["teams"]
    approved, open_, unresolved = [], [], []
    for ownership in _distinct(owned):
        members = _members(ownership.owners, teams)
        by = [a for a in approvals if handles.get(a.reviewer.key, frozenset()) & members]
        rule = f"{ownership.rule} (line {ownership.line})"
        if by:
            approved.append(f"{by[0].reviewer.display} for {ownership.path} by rule {rule}")
            continue
        open_.append(f"{ownership.path} (owners {' '.join(ownership.owners)}, rule {rule})")
        unresolved += _unresolvable(ownership.owners, teams, approvals, handles)
    if not open_:
        return Outcome(Status.PASS, f"{what} change approved by code owner " + "; ".join(approved))
    reason = f"{what} change; no independent approval by a code owner of " + _listed(open_)
    reason += f" in {where}"
    if unresolved:
        listed = ", ".join(dict.fromkeys(unresolved))
        return Outcome(Status.UNKNOWN, f"{reason}; cannot resolve {listed}")
    return Outcome(Status.FAIL, reason)


def _distinct(ownerships: Iterable[Ownership]) -> list[Ownership]:
    seen: dict[tuple[str, tuple[str, ...]], Ownership] = {}
    for ownership in ownerships:
        seen.setdefault((ownership.section, ownership.owners), ownership)
    return list(seen.values())


def _members(owners: Iterable[str], teams: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    found: set[str] = set()
    for owner in owners:
        handle = _handle(owner)
        found.add(handle)
        found.update(teams.get(handle, ()))
    return frozenset(found)


def _unresolvable(
    owners: Iterable[str],
    teams: Mapping[str, tuple[str, ...]],
    approvals: Sequence[Approval],
    handles: Mapping[str, frozenset[str]],
) -> list[str]:
    """Owners that could have been an approver without our knowing: unmapped teams, and
    email owners when an approver's emails are unknown."""
    out = []
    for owner in owners:
        handle = _handle(owner)
        if handle.startswith("@") and "/" in handle and handle not in teams:
            out.append(f"team {owner} (not mapped to people by the teams parameter)")
        elif not handle.startswith("@"):
            blind = [
                a.reviewer.display
                for a in approvals
                if not any("@" in h[1:] for h in handles.get(a.reviewer.key, ()))
            ]
            if blind:
                out.append(f"owner {owner} (no email known for {', '.join(sorted(blind))})")
    return out


# -- plain-text credentials -------------------------------------------------------------------


@check(
    "no-plaintext-secrets",
    credential_files=Param(path_globs, CREDENTIAL_FILES, "globs of files that are credentials"),
    allow_paths=Param(path_globs, (), "globs of paths exempt (test fixtures, documentation)"),
)
def no_plaintext_secrets(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    not_analysed = _not_analysed(facts)
    if not_analysed:
        return not_analysed
    allowed = params["allow_paths"]
    found = [
        f"{hit.path}:{hit.line} ({hit.kind.value})"
        for file in facts.infra_files
        for hit in file.secrets
        if not ev.path_matches(allowed, hit.path)
    ]
    found += [
        f"{f.path} (credential file {f.change_type.value})"
        for f in facts.change.files
        if f.change_type is not ChangeType.DELETED
        and ev.path_matches(params["credential_files"], f.path)
        and not ev.path_matches(allowed, f.path)
    ]
    if found:
        noun = "credential" if len(found) == 1 else "credentials"
        return Outcome(
            Status.FAIL, f"{len(found)} plain-text {noun} added (values masked): {_listed(found)}"
        )
    unscanned = [e for f in facts.infra_files for e in f.errors if "not analysed" in e]
    if unscanned:
        return Outcome(Status.UNKNOWN, f"no credential found; not scanned: {_listed(unscanned)}")
    scanned = sum(1 for f in facts.change.files if not f.binary and not f.submodule)
    noun = "file" if scanned == 1 else "files"
    return Outcome(Status.PASS, f"no credential in the lines added to {scanned} text {noun}")


# -- reproducibility --------------------------------------------------------------------------


@check(
    "pinned-references",
    images=Param(
        choice("tag", "digest"), "tag", "tag: a version tag suffices; digest: images need @sha256"
    ),
    actions=Param(choice("sha", "tag"), "sha", "sha: GitHub Actions pinned to a full commit SHA"),
    modules=Param(
        choice("version", "sha"), "version", "sha: Git module sources need ?ref=<commit SHA>"
    ),
    kinds=Param(
        list_of(choice(*(k.value for k in RefKind))),
        tuple(k.value for k in RefKind),
        "kinds of reference checked",
    ),
)
def pinned_references(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    not_analysed = _not_analysed(facts)
    if not_analysed:
        return not_analysed
    kinds = set(params["kinds"])
    unpinned = [
        ref
        for file in facts.infra_files
        for ref in file.references
        if ref.kind.value in kinds and not _accepted(ref, params)
    ]
    if not unpinned:
        return Outcome(Status.PASS, "no unpinned module, provider, image, action or chart added")
    items = [_reference(r) for r in unpinned]
    noun = "reference" if len(items) == 1 else "references"
    return Outcome(Status.FAIL, f"{len(items)} unpinned {noun} added: {_listed(items)}")


def _accepted(ref: Reference, params: Params) -> bool:
    if ref.pinning is not Pinning.VERSION:
        return False
    policy = {
        RefKind.IMAGE: params["images"] == "tag",
        RefKind.ACTION: params["actions"] == "tag",
        RefKind.MODULE: params["modules"] == "version",
    }
    return policy.get(ref.kind, True)


def _reference(ref: Reference) -> str:
    where = f"{ref.path}:{ref.line}" if ref.line else ref.path
    return f"{where} {ref.kind.value} {ref.value} ({ref.detail})"


# -- drift ------------------------------------------------------------------------------------


@check(
    "drift-signals",
    kinds=Param(
        list_of(choice(*(k.value for k in DRIFT_SIGNALS))),
        tuple(k.value for k in DRIFT_SIGNALS),
        "signals of work done outside the pipeline that the auditor reviews",
    ),
)
def drift_signals(facts: ChangeFacts, params: Params, ctx: CheckContext) -> Outcome:
    not_analysed = _not_analysed(facts)
    if not_analysed:
        return not_analysed
    kinds = set(params["kinds"])
    found = [
        f"{_SIGNAL_WORDS.get(s.kind, s.kind.value)}: {s.address}"
        + (f" ({s.detail})" if s.detail else "")
        + f" in {file.path}"
        for file in facts.infra_files
        for s in file.signals
        if s.kind.value in kinds
    ]
    if not found:
        return Outcome(
            Status.PASS, "no drift signal (imports, moves, ignored changes, paused sync)"
        )
    return Outcome(Status.FAIL, f"for review, work outside the pipeline: {_listed(found)}")


# -- knowledge concentration ------------------------------------------------------------------


@repository_check(
    "knowledge-concentration",
    categories=_categories_param(),
    paths=_paths_param(),
    max_share=Param(
        integer(1), 50, "the highest share (%) of sensitive changes one person may contribute to"
    ),
    min_changes=Param(integer(1), 5, "below this many sensitive changes the check does not apply"),
    exclude_bots=Param(boolean, True, "leave out changes whose contributors are all bots"),
)
def knowledge_concentration(params: Params, ctx: CheckContext) -> Outcome:
    return concentration(ctx.changes, params)


def concentration(changes: Iterable[ChangeFacts], params: Params) -> Outcome:
    """The share of the sensitive changes the most frequent contributor (author or co-author
    of their commits) contributed to, and the areas (categories) only one person changed."""
    chosen = [
        f
        for f in changes
        if sensitive(f, params) and not (params["exclude_bots"] and f.is_bot_change)
    ]
    if len(chosen) < params["min_changes"]:
        return Outcome(
            Status.NOT_APPLICABLE,
            f"{len(chosen)} sensitive changes in the period, fewer than {params['min_changes']}",
        )
    people: dict[str, Person] = {}
    counts: Counter[str] = Counter()
    areas: dict[str, set[str]] = defaultdict(set)
    for facts in chosen:
        authors = {p.key: p for p in facts.authors if not p.is_bot}
        people.update(authors)
        counts.update(authors.keys())
        for category in facts.categories & set(params["categories"]):
            areas[category].update(authors)
    if not counts:
        return Outcome(Status.UNKNOWN, "the contributors of the sensitive changes are not recorded")
    key, top = min(counts.items(), key=lambda item: (-item[1], item[0]))
    share = 100 * top / len(chosen)
    figure = (
        f"{people[key].display} contributed to {top} of {len(chosen)} sensitive changes "
        f"({share:.0f}%"
    )
    single = [
        f"{area} ({people[next(iter(keys))].display})"
        for area, keys in sorted(areas.items())
        if len(keys) == 1
    ]
    silos = f"; areas changed by one person only: {', '.join(single)}" if single else ""
    if share > params["max_share"]:
        return Outcome(Status.FAIL, f"{figure}, above {params['max_share']}%){silos}")
    return Outcome(Status.PASS, f"{figure}, at most {params['max_share']}%){silos}")
