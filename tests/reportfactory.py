"""A realistic synthetic :class:`Report` for renderer tests, hostile strings included.

Everything is drawn from a seeded generator, so the same arguments give the same report.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from auditor.evaluation.sampling import draw
from auditor.evidence.report import BranchScope, Report, RepositoryScope
from auditor.model import (
    Approval,
    BranchName,
    Change,
    ChangeFacts,
    ChangeType,
    Commit,
    CommitSha,
    Control,
    ControlResult,
    EventKind,
    FileChange,
    Finding,
    FrameworkRef,
    HistoryEvent,
    Identity,
    Person,
    RequestKind,
    RequestRef,
    ReviewEvidence,
    Severity,
    SignatureKind,
    Stamp,
    Status,
    Trailer,
    Waiver,
)

XSS_SUBJECT = "<script>window.__xss = 1</script> fix ingress"
XSS_AUTHOR = '<img src=x onerror="window.__xss = 1">Mallory'
FORMULA_SUBJECT = "=cmd|' /C calc'!A0"
RLO_PATH = "modules/evil\u202egnp.tf"
CONTROL_CHAR_PATH = "env/prod/\x07bell\x1b[31m.tf"
LONG_TOKEN = "x" * 40 + "".join(f"{i:04d}" for i in range(120))
GENERATED_AT = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
UNTIL = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)

REPOS = ("infra-live", "acme/terraform-modules", "k8s manifests & co")
CATEGORIES = ("network", "identity-access", "scaling", "secrets", "pipeline", "policy", "compute")
PATHS = (
    "network/vpc.tf",
    "iam/roles.tf",
    "k8s/deploy.yaml",
    "secrets/vault.hcl",
    ".github/workflows/ci.yml",
    "policy/opa.rego",
    "compute/asg.tf",
)
NAMES = ("Alice Ops", "Bob Sre", "Carol Sec", "Dan Dev", "Erin Net", "unknown <ghost@x>")
PEOPLE = (
    *(Person(key=f"p{i}", display=name, known=i != 5) for i, name in enumerate(NAMES)),
    Person(key="bot", display="renovate[bot]", known=True, is_bot=True),
)
MALLORY = Person(key="mallory", display=XSS_AUTHOR, known=False)

CONTROLS = (
    ("CHG-01", "Changes are peer reviewed", "independent_approval", Severity.HIGH,
     (("soc2", "CC8.1"), ("iso27001", "A.8.32"), ("pci-dss", "6.5.1"), ("nist-800-53", "CM-3"))),
    ("CHG-02", "Approval covers the merged content", "approval_covers_merge", Severity.HIGH,
     (("soc2", "CC8.1"), ("nist-800-53", "CM-3(2)"))),
    ("CHG-03", "Changes go through a change request", "has_change_request", Severity.MEDIUM,
     (("soc2", "CC8.1"), ("iso27001", "A.8.32"), ("pci-dss", "6.5.2"))),
    ("SEC-01", "Secret changes approved by security", "secret_reviewers", Severity.CRITICAL,
     (("soc2", "CC6.1"), ("pci-dss", "3.6.1"), ("nist-800-53", "SC-12"))),
    ("SIG-01", "Commits are signed", "signed_commits", Severity.LOW,
     (("nist-800-53", "CM-14"), ("iso27001", "A.8.28"))),
    ("SOD-01", "Author does not merge their own change", "separation_of_duties", Severity.MEDIUM,
     (("soc2", "CC8.1"), ("pci-dss", "6.5.4"))),
)  # fmt: skip
STATUS_WEIGHTS = (
    (Status.PASS, 70),
    (Status.FAIL, 10),
    (Status.UNKNOWN, 6),
    (Status.NOT_APPLICABLE, 10),
    (Status.WAIVED, 4),
)


def _sha(rng: random.Random) -> CommitSha:
    return CommitSha(f"{rng.getrandbits(160):040x}")


def _identity(person: Person) -> Identity:
    email = f"{person.key}@acme.example"
    return Identity(name=person.display, email=email, raw_name=person.display, raw_email=email)


MARKDOWN_BRANCHES = "`main` & `release/<*>`"  # control texts' Markdown, with characters to escape


def _controls() -> tuple[Control, ...]:
    return tuple(
        Control(
            id=cid,
            title=title,
            description=f"{title}. Evaluated on every change landing on {MARKDOWN_BRANCHES}.",
            procedure=f"For every change in the population, run the `{check}` check.",
            check=check,
            parameters={"min_approvals": 1, "paths": ["secrets/**"]} if cid == "SEC-01" else {},
            frameworks=tuple(FrameworkRef(f, r) for f, r in refs),
            severity=severity,
            source=f"controls/{cid.lower()}.yaml",
        )
        for cid, title, check, severity, refs in CONTROLS
    )


def _subject(rng: random.Random, index: int) -> str:
    special = {3: XSS_SUBJECT, 5: FORMULA_SUBJECT, 8: f"bump {LONG_TOKEN}", 13: "+1 -1 @here"}
    if index in special:
        return special[index]
    verb = rng.choice(("add", "tune", "remove", "rotate", "scale", "restrict"))
    thing = rng.choice(("subnet", "role", "replica count", "KMS key", "runner", "policy"))
    return f"{verb} {thing} #{index}"


def _files(rng: random.Random, index: int) -> tuple[FileChange, ...]:
    chosen = rng.sample(PATHS, rng.randint(1, 3))
    if index % 17 == 4:
        chosen = [RLO_PATH, CONTROL_CHAR_PATH, f"{LONG_TOKEN}.tf"]
    return tuple(
        FileChange(
            path=path,
            old_path=None,
            change_type=rng.choice((ChangeType.MODIFIED, ChangeType.ADDED, ChangeType.DELETED)),
            lines_added=rng.randint(0, 120),
            lines_deleted=rng.randint(0, 60),
            binary=False,
        )
        for path in chosen
    )


def _change(rng: random.Random, repo: str, index: int, landed: datetime) -> ChangeFacts:
    author = MALLORY if index % 29 == 7 else rng.choice(PEOPLE)
    merger = rng.choice(PEOPLE[:5])
    tz = timezone(timedelta(hours=rng.choice((-5, 0, 1, 2))))
    direct = index % 11 == 0
    number = None if direct else 1000 + index
    signature = rng.choice((SignatureKind.GPG, SignatureKind.SSH, SignatureKind.NONE))
    commit = Commit(
        sha=_sha(rng),
        parents=(_sha(rng),) if direct else (_sha(rng), _sha(rng)),
        author=Stamp(_identity(author), (landed - timedelta(hours=5)).astimezone(tz)),
        committer=Stamp(_identity(merger), landed.astimezone(tz)),
        subject=_subject(rng, index),
        body=f"Details for change {index}.\n\nCo-authored-by: Dan Dev <p3@acme.example>",
        trailers=(Trailer("Co-authored-by", "Dan Dev <p3@acme.example>"),),
        signature=signature,
        encoding="utf-8",
        is_bot=author.is_bot,
    )
    reviewers = rng.sample([p for p in PEOPLE[:5] if p != author], rng.randint(0, 2))
    approvals = tuple(
        Approval(
            reviewer=r,
            at=landed - timedelta(minutes=30 + 10 * i),
            commit=commit.sha,
            covers_merged_content=rng.random() > 0.1,
            independent=True,
        )
        for i, r in enumerate(reviewers)
    )
    base = f"https://github.com/acme/{repo}" if "/" not in repo else f"https://github.com/{repo}"
    files = _files(rng, index)
    return ChangeFacts(
        repo=repo,
        change=Change(
            commit=commit,
            files=files,
            request=None if direct else RequestRef(RequestKind.GITHUB_MERGE, 1000 + index),
            branch=BranchName("main"),
        ),
        evidence=ReviewEvidence.FORGE if not direct else ReviewEvidence.NONE,
        request_number=number,
        request_url=f"{base}/pull/{number}" if number else "",
        request_title=commit.subject if number else "",
        labels=("infra",),
        authors=(author,),
        committers=(merger,),
        approvals=approvals if number else (),
        merged_by=merger if number else None,
        merged_at=landed if number else None,
        contributors=(_identity(author),),
        categories=frozenset(rng.sample(CATEGORIES, rng.randint(1, 2))),
        environments=frozenset({rng.choice(("prod", "staging"))}),
        commits=(commit,),
        notes=("approval given before the last push",) if index % 23 == 0 else (),
    )


def _waivers() -> tuple[Waiver, ...]:
    return (
        Waiver(
            id="WVR-001",
            control="CHG-01",
            owner="Carol Sec",
            ticket="SEC-4411",
            reason="Emergency fix during incident INC-77; reviewed after the fact.",
            approved_by="CISO",
            expires=datetime(2026, 6, 30, tzinfo=UTC),
        ),
        Waiver(
            id="WVR-002",
            control="SIG-01",
            owner="Alice Ops",
            ticket="OPS-12",
            reason="Signing rolled out on 2026-02-01.",
            approved_by="CTO",
            expires=datetime(2026, 2, 1, tzinfo=UTC),
            path="**",
        ),
    )


def _findings(
    rng: random.Random, controls: tuple[Control, ...], changes: tuple[ChangeFacts, ...]
) -> tuple[Finding, ...]:
    statuses = [status for status, _ in STATUS_WEIGHTS]
    weights = [weight for _, weight in STATUS_WEIGHTS]
    findings = []
    for facts in changes:
        for control in controls:
            status = rng.choices(statuses, weights)[0]
            waiver = ""
            if status is Status.WAIVED:
                waiver = "WVR-001" if control.id == "CHG-01" else "WVR-002"
            reason = {
                Status.PASS: "1 independent approval",
                Status.FAIL: f"no independent approval by {facts.authors[0].display}",
                Status.UNKNOWN: "review data missing for this change",
                Status.NOT_APPLICABLE: "change does not touch the control's paths",
                Status.WAIVED: "waived: accepted exception",
            }[status]
            findings.append(
                Finding(
                    control_id=control.id,
                    repo=facts.repo,
                    change_id=facts.change_id,
                    commit=facts.change.sha,
                    change_request=facts.request_number,
                    status=status,
                    reason=reason,
                    framework_refs=control.frameworks,
                    severity=control.severity,
                    waiver_id=waiver,
                )
            )
    return tuple(findings)


def _results(
    controls: tuple[Control, ...], findings: tuple[Finding, ...]
) -> tuple[ControlResult, ...]:
    results = []
    for control in controls:
        mine = [f.status for f in findings if f.control_id == control.id]
        results.append(
            ControlResult(
                control=control,
                population=len(mine),
                passed=mine.count(Status.PASS),
                failed=mine.count(Status.FAIL),
                unknown=mine.count(Status.UNKNOWN),
                not_applicable=mine.count(Status.NOT_APPLICABLE),
                waived=mine.count(Status.WAIVED),
            )
        )
    return tuple(results)


def _scope(repo: str, changes: tuple[ChangeFacts, ...], index: int) -> RepositoryScope:
    head = max((c for c in changes if c.repo == repo), key=lambda c: c.change.landed_at)
    base = f"https://github.com/acme/{repo}" if "/" not in repo else f"https://github.com/{repo}"
    events: tuple[HistoryEvent, ...] = ()
    if index == 0:
        events = (
            HistoryEvent(
                kind=EventKind.HISTORY_REWRITTEN,
                branch=BranchName("main"),
                detected_at=datetime(2026, 2, 14, 12, tzinfo=UTC),
                old_tip=CommitSha("a" * 40),
                new_tip=CommitSha("b" * 40),
                lost=(CommitSha("c" * 40),),
            ),
        )
    return RepositoryScope(
        name=repo,
        path=f"/srv/git/{repo}",
        remote=f"{base}.git",
        branches=(BranchScope("main", head.change.sha),),
        review_source="github" if index != 2 else "offline:reviews.json",
        complete=index != 2,
        incomplete_reasons=() if index != 2 else ("review data truncated after 1000 requests",),
        commit_url=f"{base}/commit/{{sha}}" if index != 2 else "javascript:alert({sha})",
        request_url=f"{base}/pull/{{number}}",
        events=events,
    )


def build_report(changes: int = 300, seed: int = 7, sample: int = 25, repos: int = 3) -> Report:
    """A report over ``changes`` changes spread across the first ``repos`` of three repositories."""
    names = REPOS[:repos]
    rng = random.Random(seed)
    span = (UNTIL - SINCE).total_seconds()
    landed = sorted(SINCE + timedelta(seconds=rng.uniform(0, span)) for _ in range(changes))
    facts = tuple(
        _change(rng, names[i % len(names)], i, when.replace(microsecond=0))
        for i, when in enumerate(landed)
    )
    controls = _controls()
    findings = _findings(rng, controls, facts)
    return Report(
        organisation="Acme Corp <Infra & Platform>",
        generated_at=GENERATED_AT,
        tool_version="0.1.0",
        command="auditor report infra-live --framework soc2 --out pack",
        since=SINCE,
        until=UNTIL,
        frameworks=("soc2", "iso27001", "pci-dss", "nist-800-53"),
        repositories=tuple(_scope(repo, facts, i) for i, repo in enumerate(names)),
        changes=facts,
        findings=findings,
        controls=_results(controls, findings),
        sample=draw(findings, seed=str(seed), size=sample) if sample else (),
        sample_seed=str(seed),
        sample_size=sample or None,
        waivers=_waivers(),
        unmatched_waivers=(),
        expired_waivers=("WVR-002",),
        notes=("Review data for 'k8s manifests & co' comes from an exported file.",),
    )
