"""Analysis of mined changes: parallel equals serial, stored once, CODEOWNERS at parents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pytest
from gitrepo import GitRepo

from auditor.infra import Rules
from auditor.ledger import analysis
from auditor.ledger.analysis import analyse, analyse_many, codeowners_at, encode, rules_digest
from auditor.ledger.mining import mine
from auditor.ledger.store import Store
from auditor.model import Change

NOW = datetime(2026, 1, 1, tzinfo=UTC)

SG = """resource "aws_security_group" "web" {{
  name = "web"
  ingress {{
    from_port   = {port}
    cidr_blocks = ["{cidr}"]
  }}
}}

module "vpc" {{
  source  = "terraform-aws-modules/vpc/aws"
  version = "{version}"
}}
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: {replicas}
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:{tag}
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
"""


def build(repo: GitRepo) -> None:
    repo.commit("init", {"CODEOWNERS": "* @acme/platform\n/envs/prod/ @alice\n"})
    for step in range(8):
        files: dict[str, str | bytes | None] = {
            f"envs/{env}/network.tf": SG.format(
                port=443 + step, cidr=f"10.{step}.0.0/16", version=f"5.{step}.0"
            )
            for env in ("dev", "prod")
        }
        files["k8s/api.yaml"] = DEPLOYMENT.format(replicas=step + 1, tag=f"1.{step}")
        if step == 3:
            files["envs/prod/broken.tf"] = 'resource "x" "y" {\n  a = \n'
            files["CODEOWNERS"] = "* @acme/platform\n/envs/prod/ @carol\n"
        if step == 5:
            files["envs/prod/broken.tf"] = None
            files["envs/dev/network.tf"] = None
        repo.commit(f"step {step}", files)


class Mined(NamedTuple):
    repo: GitRepo
    store: Store
    repo_id: int
    changes: list[Change]


@pytest.fixture
def mined(repo: GitRepo, tmp_path: Path) -> Iterator[Mined]:
    build(repo)
    with Store.open(tmp_path / "store") as store:
        result = mine(store, repo.path, now=NOW)
        changes = list(store.changes(result.repo_id, result.branches[0].branch))
        yield Mined(repo, store, result.repo_id, changes)


def test_parallel_analysis_equals_serial(mined: Mined) -> None:
    repo, _store, _repo_id, changes = mined
    blobs = analysis._read_blobs(repo.path, analysis._wanted_blobs(changes))
    work = [analysis._work(c, blobs) for c in changes]
    serial = analyse_many(work, Rules.default(), jobs=1)
    parallel = analyse_many(work, Rules.default(), jobs=2, min_parallel=1)
    assert parallel == serial  # the analyses, and their encodings made by the workers
    assert all(encoded == encode(a) for a, encoded in parallel)
    analyses = [a for a, _ in serial]
    assert len(analyses) == len(changes) == 9
    errors = [e for a in analyses for f in a.files for e in f.errors]
    assert any("envs/prod/broken.tf: cannot parse after" in e for e in errors)
    modified = {r.address for a in analyses[2:] for _f, r in a.resources}
    assert {"aws_security_group.web", "module.vpc", "Deployment/shop/api"} <= modified


def test_files_are_grouped_by_path_in_order() -> None:
    def work(path: str) -> tuple[str, None, None, bytes]:
        return (path, None, None, b"x")

    changes = [[work("a"), work("b")], [work("a")], [work("c"), work("b")], [work("a")]]
    groups = analysis._groups_by_path(changes, 2)
    placed = [place for group in groups for place, _ in group]
    assert sorted(placed) == [
        (c, f) for c, change in enumerate(changes) for f in range(len(change))
    ]
    paths = [{w[0] for _, w in group} for group in groups]
    assert paths == [{"a"}, {"b", "c"}]  # every version of a path in one group, sizes 3 and 3
    assert all([p for p, _ in group] == sorted(p for p, _ in group) for group in groups)


def test_analysis_is_stored_and_read_back(
    mined: Mined,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, store, repo_id, changes = mined
    monkeypatch.setattr(analysis, "PARALLEL_MIN_FILES", 1)
    first = analyse(store, repo_id, repo.path, changes, Rules.default(), rules_digest(), jobs=2)

    def fail(*args: object, **kwargs: object) -> object:
        raise AssertionError("analysed twice")

    monkeypatch.setattr(analysis, "analyse_many", fail)
    again = analyse(store, repo_id, repo.path, changes, Rules.default(), rules_digest())
    assert {k: encode(v) for k, v in again.items()} == {k: encode(v) for k, v in first.items()}


def test_codeowners_are_read_at_each_commit(mined: Mined) -> None:
    repo, _store, _repo_id, changes = mined
    parents = [c.commit.parents[0] for c in changes if c.commit.parents]
    found = codeowners_at(repo.path, [*parents, "0" * 40])
    owners = [found[p] for p in parents]
    assert all(o is not None and o.source == "CODEOWNERS" for o in owners)
    prod = [o.owners_of("envs/prod/network.tf")[0].owners for o in owners if o]
    assert prod[0] == ("@alice",) and prod[-1] == ("@carol",)
    assert found["0" * 40] is None


def test_a_file_grown_too_large_is_reported_not_taken_for_deleted(
    repo: GitRepo, tmp_path: Path
) -> None:
    small = SG.format(port=443, cidr="10.0.0.0/16", version="5.0.0")
    huge = small + "#" * (analysis.MAX_BLOB + 1)
    repo.commit("init", {"network.tf": small})
    repo.commit("grow", {"network.tf": huge})
    repo.commit("shrink", {"network.tf": small})
    with Store.open(tmp_path / "store") as store:
        result = mine(store, repo.path, now=NOW)
        changes = list(store.changes(result.repo_id, result.branches[0].branch))
        found = analyse(store, result.repo_id, repo.path, changes, Rules.default(), "digest")
    grow, shrink = (found[c.sha].files[0] for c in changes[1:])
    size = len(huge.encode())
    assert grow.errors == (
        f"network.tf: after not analysed: {size} bytes is over the {analysis.MAX_BLOB} byte limit",
    )
    assert shrink.errors[0].startswith(f"network.tf: before not analysed: {size} bytes")
    assert grow.changes == shrink.changes == ()  # not "every resource removed", then "added"


def test_codeowners_first_location_wins_at_each_commit(repo: GitRepo) -> None:
    none = repo.commit("nothing yet", {"README.md": "hello\n"})
    docs = repo.commit("docs owners", {"docs/CODEOWNERS": "* @docs\n"})
    root = repo.commit("root owners", {"CODEOWNERS": "* @root\n"})
    github = repo.commit("github owners", {".github/CODEOWNERS": "* @github\n"})
    found = codeowners_at(repo.path, [none, docs, root, github])
    assert found[none] is None
    sources = {c: (o.source, o.commit) for c, o in found.items() if o is not None}
    assert sources == {
        docs: ("docs/CODEOWNERS", docs),
        root: ("CODEOWNERS", root),
        github: (".github/CODEOWNERS", github),
    }
