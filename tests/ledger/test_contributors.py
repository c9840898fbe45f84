"""Who wrote a change, who merged it, and what trailers attest: the same people in every format.

One history audited from local Git alone, the shapes real projects have: GitHub merge commits
authored by the maintainer who clicked Merge (Dave, who wrote none of the commits), a squash
``(#N)`` with a ``Co-authored-by`` trailer, a rebase merge, dependabot's request merged by a
human, a release bot's direct push, a direct push carrying its author's own ``Reviewed-by``
trailer (and the same push without it), and a trailer a maintainer applied; ``.mailmap``
resolves old addresses.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gitrepo import BASE_TIME, GitRepo
from pypdf import PdfReader

from auditor.cli import run
from auditor.ledger.changes import read_commits
from auditor.ledger.commits import DEFAULT_BOTS
from auditor.ledger.contributors import contributions, display, merger
from auditor.render.json import evidence_bytes, load_evidence

ALICE = ("Alice Admin", "alice@example.com")
BOB = ("Bob Builder", "bob@example.com")
CAROL = ("Carol Coder", "carol@example.com")
DAVE = ("Dave Merger", "dave@example.com")
ERIN = ("Erin Eager", "erin@example.com")
WEB_FLOW = ("GitHub", "noreply@github.com")
DEPENDABOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
RELEASE_BOT = ("semantic-release-bot", "semantic-release-bot@martynus.net")
MAILMAP = (
    "Carol Coder <carol@example.com> <carol@laptop.local>\n"
    "Erin Eager <erin@example.com> <erin@old.example>\n"
)
SG = 'resource "aws_security_group" "{name}" {{\n  name = "{name}"\n}}\n'


def who(person: tuple[str, str]) -> str:
    return f"{person[0]} <{person[1]}>"


@dataclass
class Audit:
    shas: dict[str, str]
    pack: Path

    def csv(self, name: str) -> list[dict[str, str]]:
        text = (self.pack / "csv" / name).read_text(encoding="utf-8")
        return list(csv.DictReader(io.StringIO(text)))

    def change(self, step: str) -> dict[str, str]:
        (row,) = [r for r in self.csv("changes.csv") if r["commit"] == self.shas[step]]
        return row

    def finding(self, control: str, step: str) -> dict[str, str]:
        rows = self.csv("findings.csv")
        (row,) = [r for r in rows if r["control_id"] == control and r["commit"] == self.shas[step]]
        return row

    def evidence(self, step: str) -> dict[str, Any]:
        document = json.loads((self.pack / "evidence.json").read_text(encoding="utf-8"))
        (found,) = [
            c for c in document["changes"] if c["change"]["commit"]["sha"] == self.shas[step]
        ]
        return dict(found)

    def page(self, step: str) -> str:
        change_id = self.change(step)["change_id"]
        (page,) = [p for p in (self.pack / "changes").glob("*.html") if change_id in p.read_text()]
        return page.read_text(encoding="utf-8")


def _merge(repo: GitRepo, branch: str, message: str, merger: tuple[str, str]) -> str:
    """A merge commit as GitHub writes one: authored by the merger, committed by web-flow."""
    repo.clock += 3600
    stamp = f"@{repo.clock} +0000"
    repo.git(
        "merge", "-q", "--no-ff", "--no-gpg-sign", "-m", message, branch,
        env={
            "GIT_AUTHOR_NAME": merger[0], "GIT_AUTHOR_EMAIL": merger[1], "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": WEB_FLOW[0], "GIT_COMMITTER_EMAIL": WEB_FLOW[1],
            "GIT_COMMITTER_DATE": stamp,
        },
    )  # fmt: skip
    return repo.head()


def _pull(repo: GitRepo, number: int, author: tuple[str, str], name: str) -> str:
    """A request of ``author``'s two commits on a network file, merged by Dave."""
    branch = f"pr-{number}"
    repo.checkout("-b", branch)
    repo.commit(f"Add {name}", {f"network/{name}.tf": SG.format(name=name)}, author=author)
    repo.commit(f"Tag {name}", {f"network/{name}.tf": SG.format(name=f"{name}-x")}, author=author)
    repo.checkout("main")
    return _merge(repo, branch, f"Merge pull request #{number} from acme/{branch}", DAVE)


def build(repo: GitRepo) -> dict[str, str]:
    shas: dict[str, str] = {}
    repo.git("remote", "add", "origin", "https://github.com/acme/infra-live.git")
    repo.commit("Initial commit", {".mailmap": MAILMAP, "README.md": "hi\n"}, when=BASE_TIME)
    # Five sensitive (network) requests, all merged by Dave, who wrote none of them.
    shas["carol-merge"] = _pull(repo, 11, ("carol", "carol@laptop.local"), "web")
    shas["bob-merge"] = _pull(repo, 12, BOB, "db")
    _pull(repo, 13, ERIN, "cache")
    _pull(repo, 14, BOB, "queue")
    _pull(repo, 15, ERIN, "batch")
    shas["squash"] = repo.commit(
        "Open the API port (#16)\n\n* open it\n\n"
        f"Reviewed-by: {who(CAROL)}\nCo-authored-by: erin <erin@old.example>\n",
        {"network/api.tf": SG.format(name="api")},
        author=BOB,
        committer=WEB_FLOW,
    )
    shas["rebased"] = repo.commit(
        "Tune autoscaling", {"scaling.tf": "min = 2\n"}, author=ERIN, committer=WEB_FLOW
    )
    repo.checkout("-b", "dependabot/terraform/aws-5.1")
    repo.commit("Bump hashicorp/aws to 5.1", {"versions.tf": "5.1\n"}, author=DEPENDABOT)
    repo.checkout("main")
    shas["dependabot"] = _merge(
        repo, "dependabot/terraform/aws-5.1", "Merge pull request #17 from acme/dependabot", DAVE
    )
    shas["release"] = repo.commit(
        "chore(release): version 1.2.0 [skip ci]", {"CHANGELOG.md": "1.2.0\n"}, author=RELEASE_BOT
    )
    shas["own-trailer"] = repo.commit(
        f"Describe the backups\n\nReviewed-by: {who(BOB)}\n", {"docs/backup.md": "daily\n"}
    )
    shas["no-trailer"] = repo.commit("Describe the restores", {"docs/restore.md": "weekly\n"})
    shas["applied-trailer"] = repo.commit(
        f"Describe the backups better\n\nReviewed-by: {who(BOB)}\n",
        {"docs/backup.md": "hourly\n"},
        committer=CAROL,
    )
    return shas


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    root = tmp_path_factory.mktemp("contributors")
    repo = GitRepo(root / "infra-live")
    shas = build(repo)
    pack = root / "pack"
    argv = ["report", str(repo.path), "--store", str(root / "store"), "--out", str(pack), "-q",
            "--format", "pdf,html,csv,json", "--as-of", "2026-01-01T00:00:00Z",
            "--sample", "40", "--seed", "s"]  # fmt: skip
    assert run(argv) == 1  # controls fail (direct pushes, no review data)
    return Audit(shas, pack)


CONTRIBUTORS = {
    "carol-merge": [who(CAROL)],
    "bob-merge": [who(BOB)],
    "squash": [who(BOB), who(ERIN)],
    "rebased": [who(ERIN)],
    "dependabot": [who(DEPENDABOT)],
    "release": [who(RELEASE_BOT)],
    "own-trailer": [who(ALICE)],
    "applied-trailer": [who(ALICE)],
}


@pytest.mark.parametrize("step", sorted(CONTRIBUTORS))
def test_the_same_contributors_in_csv_json_and_html(audit: Audit, step: str) -> None:
    expected = CONTRIBUTORS[step]
    assert audit.change(step)["contributors"] == ";".join(expected)
    facts = audit.evidence(step)
    assert [f"{c['name']} <{c['email']}>" for c in facts["contributors"]] == expected
    page = html.unescape(audit.page(step))
    assert f"<dt>Contributors</dt><dd>{'; '.join(expected)}</dd>" in page
    table = (audit.pack / "changes.html").read_text(encoding="utf-8")
    rows = json.loads(re.search(r'(\{"rows":.*?\})</script>', table, re.S)[1])["rows"]  # type: ignore[index]
    (row,) = [r for r in rows if r["id"] == audit.change(step)["change_id"]]
    assert row["author"] == "; ".join(name.split(" <")[0] for name in expected)


def test_a_github_merge_credits_the_branch_authors_and_names_the_merger(audit: Audit) -> None:
    row = audit.change("carol-merge")
    assert (row["author_name"], row["merged_by"]) == ("Dave Merger", who(DAVE))
    assert row["contributors"] == who(CAROL)  # through .mailmap, not carol@laptop.local
    page = html.unescape(audit.page("carol-merge"))
    assert f"<dt>Merged by</dt><dd>{who(DAVE)}</dd>" in page


def test_knowledge_concentration_counts_who_wrote_not_who_merged(audit: Audit) -> None:
    (knw,) = [r for r in audit.csv("findings.csv") if r["control_id"] == "KNW-01"]
    # Six network changes: Bob wrote three (#12, #14, the squash), Erin three (#13, #15,
    # co-author of the squash), Carol one; Dave merged five of them and wrote none.
    assert knw["status"] == "pass"
    assert knw["reason"].startswith("Bob Builder <bob@example.com> contributed to 3 of 6")
    assert "Dave" not in knw["reason"]


def test_dependabot_request_merged_by_a_human_is_a_bot_change(audit: Audit) -> None:
    row = audit.change("dependabot")
    assert (row["is_bot"], row["merged_by"]) == ("true", who(DAVE))
    bot_policy = audit.finding("CHG-10", "dependabot")
    assert bot_policy["status"] == "unknown"  # no review data to show a human approved it
    human = audit.finding("CHG-10", "carol-merge")
    assert (human["status"], human["reason"]) == ("not_applicable", "not a bot change")


def test_a_release_bot_direct_push_is_a_bot_change(audit: Audit) -> None:
    row = audit.change("release")
    assert (row["is_bot"], row["merged_by"]) == ("true", "")
    assert audit.finding("CHG-10", "release")["reason"] != "not a bot change"


def test_an_authors_own_trailer_is_no_milder_than_no_trailer(audit: Audit) -> None:
    for control in ("CHG-02", "CHG-03", "CHG-05"):
        own = audit.finding(control, "own-trailer")
        bare = audit.finding(control, "no-trailer")
        assert own["status"] == bare["status"] == "unknown", control
    reason = audit.finding("CHG-02", "own-trailer")["reason"]
    assert "the Reviewed-by trailer naming Bob Builder <bob@example.com>" in reason
    assert "was committed by Alice Admin <alice@example.com>, a contributor" in reason
    assert "attested in the commit message" in reason


def test_a_trailer_in_a_commit_the_forge_made_does_not_count(audit: Audit) -> None:
    found = audit.finding("CHG-02", "squash")
    assert found["status"] == "unknown"
    assert found["reason"].startswith(
        f"names #16; no independent approval: the Reviewed-by trailer naming {who(CAROL)} was "
        "committed by the forge for a merger not recorded"
    )


def test_a_trailer_another_committer_applied_counts(audit: Audit) -> None:
    found = audit.finding("CHG-02", "applied-trailer")
    assert found["status"] == "pass"
    assert (
        "Bob Builder <bob@example.com> (attested by a Reviewed-by trailer in the commit "
        "message, committed by Carol Coder <carol@example.com>)"
    ) in found["reason"]
    assert audit.change("applied-trailer")["approvers"] == who(BOB)


def test_the_pdf_sample_names_the_contributors_and_the_merger(audit: Audit) -> None:
    reader = PdfReader(audit.pack / "report.pdf")
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert f"contributors {who(CAROL)}, merged by {who(DAVE)}" in text
    assert f"contributors {who(BOB)}; {who(ERIN)}" in text


def _commits(repo: GitRepo, *shas: str) -> list[Any]:
    return list(read_commits(repo.path, list(shas), lambda n, e: (n, e), DEFAULT_BOTS))


def test_a_merge_that_brought_in_nothing_else_is_written_by_its_author(repo: GitRepo) -> None:
    old = repo.commit("init", {"a": "1\n"})
    repo.commit("on main", {"b": "1\n"})
    env = {"GIT_AUTHOR_NAME": CAROL[0], "GIT_AUTHOR_EMAIL": CAROL[1]}
    # A merge whose second parent is already on main: it brings in no other commit.
    merge = repo.git("commit-tree", "HEAD^{tree}", "-p", "HEAD", "-p", old, "-m", "Merge", env=env)
    (commit,) = _commits(repo, merge)
    assert [display(c.identity) for c in contributions([commit], commit)] == [who(CAROL)]
    assert merger(commit) == commit.author.identity


def test_co_authors_without_an_email_and_the_forge_identity(repo: GitRepo) -> None:
    sha = repo.commit(
        "Edit on the web\n\nCo-authored-by: magreenbaum <magreenbaum>\n"
        "Co-authored-by: GitHub <noreply@github.com>\nCo-authored-by: Bob Builder\n",
        author=ALICE,
        committer=WEB_FLOW,
    )
    (commit,) = _commits(repo, sha)
    found = [display(c.identity) for c in contributions([commit], commit)]
    assert found == [who(ALICE), "magreenbaum <magreenbaum>", "Bob Builder"]
    assert merger(commit) is None  # not a merge: git records no merger


def test_evidence_reads_back_with_contributors_and_trailer_approvals(audit: Audit) -> None:
    path = audit.pack / "evidence.json"
    report = load_evidence(path)
    applied = [a for c in report.changes for a in c.approvals if a.applied_by is not None]
    assert {(a.trailer, a.applied_by.display) for a in applied if a.applied_by} == {
        ("Reviewed-by", who(ALICE)),
        ("Reviewed-by", who(CAROL)),
    }
    assert evidence_bytes(report) == path.read_bytes()
