"""The sample repository's deployment records: the pipeline that applies every change to prod
(``deployments.jsonl``) and an Argo CD export of the application onboarded last
(``argocd-apps.json``), with two planted violations:

- ``unapproved-deployment``: an engineer applied a pull request's branch from their laptop
  before anyone approved it (a revision off ``main``: DEP-01, and a manual apply of another
  revision than the branch's head: DEP-02);
- ``manual-forced-sync``: someone switched Argo CD's automated sync off and force-synced the
  application back to an older revision by hand (DEP-02).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from auditor.demo.gitwrite import git_env, run_git
from auditor.demo.history import History, Planted
from auditor.demo.kubernetes import REPO_URL

PIPELINE_FILE = "deployments.jsonl"
ARGOCD_FILE = "argocd-apps.json"
MINUTE = 60
HOUR = 3600
WINDOW = 60 * 86400  # the Argo CD application was onboarded in the last 60 days


@dataclass(frozen=True)
class Landing:
    sha: str
    at: int
    files: tuple[str, ...]


def write_deployments(
    target: Path, repository: Path, history: History, end: int
) -> tuple[Planted, ...]:
    """Write both records into ``target``; return the violations planted in them."""
    with tempfile.TemporaryDirectory(prefix="auditor-demo-") as home:
        chain = _chain(repository, git_env(Path(home)))
    planted_changes = {p.change for p in history.planted}
    unapproved, lines = _pipeline(chain, history, planted_changes)
    (target / PIPELINE_FILE).write_text(
        "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines), encoding="utf-8"
    )
    forced, export = _argocd(chain, planted_changes, history, end)
    (target / ARGOCD_FILE).write_text(json.dumps(export, indent=2) + "\n", encoding="utf-8")
    return unapproved, forced


def _chain(repository: Path, env: dict[str, str]) -> list[Landing]:
    """``main``'s first-parent chain, oldest first, with the files each change touched."""
    out = run_git(
        repository, env, "log", "--first-parent", "--diff-merges=first-parent", "--reverse",
        "--name-only", "--format=>%H %ct", "main",
    )  # fmt: skip
    chain: list[Landing] = []
    sha, at, files = "", 0, list[str]()
    for line in out.splitlines():
        if line.startswith(">"):
            if sha:
                chain.append(Landing(sha, at, tuple(files)))
            sha, stamp = line[1:].split()
            at, files = int(stamp), []
        elif line.strip():
            files.append(line.strip())
    if sha:
        chain.append(Landing(sha, at, tuple(files)))
    return chain


def _stamp(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pipeline(
    chain: Sequence[Landing], history: History, planted: set[str]
) -> tuple[Planted, list[dict[str, object]]]:
    lines: list[dict[str, object]] = [
        {
            "system": "terraform",
            "environment": "prod",
            "revision": landing.sha,
            "deployed_at": _stamp(landing.at + (4 + i % 9) * MINUTE),
            "actor": "ci-runner",
            "automated": True,
            "kind": "apply",
            "url": f"https://ci.acme.example/acme/infra-live/jobs/{1000 + i}",
        }
        for i, landing in enumerate(chain)
    ]
    candidates = [p for p in history.pulls if p.merge_sha not in planted and p.commits]
    pull = candidates[len(candidates) // 2]
    commit = pull.commits[0]
    when = pull.plan.commit_times[0] + 20 * MINUTE
    actor = getattr(pull.plan.author, "login", "") or "an-engineer"
    lines.append(
        {
            "system": "terraform",
            "environment": "prod",
            "revision": commit.sha,
            "deployed_at": _stamp(when),
            "actor": actor,
            "automated": False,
            "kind": "apply",
        }
    )
    lines.sort(key=lambda line: (str(line["deployed_at"]), str(line["revision"])))
    note = (
        f"{actor} applied the branch of pull request #{pull.plan.number} to prod from a"
        " workstation before it was approved or merged"
    )
    return Planted("unapproved-deployment", None, commit.sha, note, commit.sha), lines


def _argocd(
    chain: Sequence[Landing], planted: set[str], history: History, end: int
) -> tuple[Planted, dict[str, object]]:
    """The application of the app whose prod overlay changed most in the last 60 days (and
    never by a planted change): its automated syncs, then a manual forced rollback."""
    last = chain[-1].at
    best: tuple[int, str, list[Landing]] | None = None
    apps = sorted({f.split("/")[2] for c in chain for f in c.files if f.startswith("k8s/apps/")})
    for app in apps:
        path = f"k8s/apps/{app}/overlays/prod"
        touching = [c for c in chain if any(f.startswith(path + "/") for f in c.files)]
        if len(touching) < 3 or any(c.sha in planted for c in touching):
            continue
        recent = [c for c in touching if c.at >= last - WINDOW] or touching
        score = len(recent)
        if best is None or score > best[0]:
            best = (score, app, recent[-5:] if len(recent) >= 3 else touching[-5:])
    if best is None:
        raise ValueError("the demo history has no application to deploy")
    _, app, synced = best
    path = f"k8s/apps/{app}/overlays/prod"
    entries = [
        _entry(i, c.sha, c.at + 3 * MINUTE, path, automated=True)
        for i, c in enumerate(synced, start=1)
    ]
    person = next(p for p in history.people if p.login)
    back = synced[-2]
    manual = min(synced[-1].at + 30 * MINUTE + 3 * MINUTE, end - HOUR)
    started = manual - 40
    entries.append(_entry(len(entries) + 1, back.sha, manual, path, started=started,
                          user=person.login))  # fmt: skip
    source = {"repoURL": REPO_URL, "path": path, "targetRevision": "main"}
    destination = {"server": "https://kubernetes.default.svc", "namespace": app}
    application = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": f"{app}-prod",
            "namespace": "argocd",
            "creationTimestamp": _stamp(synced[0].at),
        },
        "spec": {
            "project": "default",
            "source": source,
            "destination": destination,
            "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},  # automated: switched off
        },
        "status": {
            "sync": {
                "status": "OutOfSync",
                "comparedTo": {"source": source, "destination": destination},
                "revision": back.sha,
            },
            "health": {"status": "Healthy"},
            "history": entries,
            "reconciledAt": _stamp(manual + 5 * MINUTE),
            "operationState": {
                "operation": {
                    "sync": {
                        "revision": back.sha,
                        "prune": True,
                        "syncStrategy": {"hook": {"force": True}},
                    },
                    "initiatedBy": {"username": person.login},
                    "retry": {},
                },
                "phase": "Succeeded",
                "message": "successfully synced (all tasks run)",
                "syncResult": {"revision": back.sha, "source": source, "resources": []},
                "startedAt": _stamp(started),
                "finishedAt": _stamp(manual),
            },
            "sourceType": "Kustomize",
        },
    }
    note = (
        f"{person.login} switched automated sync of {app}-prod off and force-synced it back to"
        f" {back.sha[:12]}, an older revision than main's head"
    )
    export: dict[str, object] = {
        "apiVersion": "v1", "kind": "List", "items": [application], "metadata": {}
    }  # fmt: skip
    return Planted("manual-forced-sync", None, back.sha, note, back.sha), export


def _entry(
    ident: int, sha: str, at: int, path: str, *, automated: bool = False,
    started: int | None = None, user: str = "",
) -> dict[str, object]:  # fmt: skip
    return {
        "id": ident,
        "revision": sha,
        "deployedAt": _stamp(at),
        "deployStartedAt": _stamp(started if started is not None else at - 20),
        "source": {"repoURL": REPO_URL, "path": path, "targetRevision": "main"},
        "initiatedBy": {"automated": True} if automated else {"username": user},
    }
