"""The join of deployments to the ledger: what each deployment brought, where each change ran."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from auditor.deployments.interface import CoverageGap, Deployment, DeploymentHistory, Observation
from auditor.deployments.join import Chain, join

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SHAS = tuple(hashlib.sha1(str(n).encode()).hexdigest() for n in range(1, 7))
CHAIN = Chain("main", SHAS, tuple(T0 + timedelta(hours=n) for n in range(6)))
FILES = {SHAS[0]: ["k8s/a.yaml"], SHAS[1]: ["docs/x.md"], SHAS[2]: ["k8s/b.yaml"],
         SHAS[3]: ["k8s/c.yaml"], SHAS[4]: ["k8s/d.yaml"], SHAS[5]: ["k8s/e.yaml"]}  # fmt: skip


def dep(n: int, sha: str, hours: float, **kw: object) -> Deployment:
    fields = {"source": "argocd:argocd/web", "id": str(n), "system": "web", "environment": "prod",
              "revision": sha, "deployed_at": T0 + timedelta(hours=hours), "seq": n,
              "automated": True, "path": "k8s"}  # fmt: skip
    fields.update(kw)
    return Deployment(**fields)  # type: ignore[arg-type]


def test_each_deployment_brings_the_changes_since_the_previous_one() -> None:
    history = DeploymentHistory(
        deployments=(
            dep(1, SHAS[0], 0.1),
            dep(2, SHAS[3], 3.2),  # brings 1..3, but 1 (docs) is not under k8s
            dep(3, SHAS[2], 3.5),  # a rollback
            dep(4, SHAS[5][:10], 5.3),  # an abbreviated revision
        )
    )
    changes = [(s, CHAIN.landed[i]) for i, s in enumerate(SHAS)]
    joined = join(history, [CHAIN], since=None, until=None, changes=changes, paths=FILES)
    first, second, back, last = joined.placed
    assert first.brought == (SHAS[0],)
    assert second.brought == (SHAS[2], SHAS[3]) and second.change == SHAS[3]
    assert back.rollback and back.brought == ()
    assert last.commit == SHAS[5]
    assert last.brought == (SHAS[3], SHAS[4], SHAS[5])  # since the rollback: 3 again
    assert last.head == SHAS[5] and second.head == SHAS[3]
    assert back.until == last.deployment.deployed_at
    # where each change first ran, and its lead time
    runs = joined.by_change
    assert SHAS[1] not in runs  # a docs change never ran on the k8s application
    assert runs[SHAS[2]][0].deployed_at == T0 + timedelta(hours=3.2)
    assert runs[SHAS[2]][0].lead_time == timedelta(hours=1.2)
    assert runs[SHAS[4]][0].lead_time == timedelta(hours=1.3)


def test_off_branch_revisions_and_gaps() -> None:
    feature = "f" * 40
    chain = Chain("main", SHAS, CHAIN.landed, {feature: SHAS[4]})
    gap = CoverageGap("argocd:argocd/web", T0 + timedelta(hours=1), T0 + timedelta(hours=4), "lost")
    history = DeploymentHistory(
        deployments=(
            dep(1, SHAS[0], 0.5),
            dep(9, SHAS[4], 4.5),
            dep(10, feature, 4.7, automated=None, actor="eve"),
            dep(11, "e" * 40, 4.8),
        ),
        coverage_gaps=(gap,),
    )
    joined = join(history, [chain], since=T0 + timedelta(hours=2), until=None)
    after_gap, off, unknown = joined.placed  # the first deployment is before the period
    assert after_gap.after_gap == gap and after_gap.brought == (SHAS[4],)
    assert not off.on_branch and off.feature_change == SHAS[4] and off.head == SHAS[4]
    assert unknown.commit == "e" * 40 and unknown.feature_change == "" and not unknown.on_branch
    assert joined.period_gaps == (gap,)
    assert "deployments of argocd:argocd/web from 2026-03-01T01:00:00Z" in joined.gap_lines[0]


def test_out_of_sync_spans_from_successive_reads() -> None:
    def seen(hours: float, in_sync: bool | None, automated: bool = True) -> Observation:
        return Observation("argocd:argocd/web", T0 + timedelta(hours=hours), "web", "prod",
                           in_sync=in_sync, automated=automated, self_heal=True)  # fmt: skip

    history = DeploymentHistory(
        deployments=(dep(1, SHAS[0], 0.5), dep(2, SHAS[1], 10)),
        observations=(
            seen(1, True),
            seen(2, False),
            seen(3, False),
            seen(5, True),
            seen(11, False, automated=False),
        ),
    )
    first, second = join(history, [CHAIN], since=None, until=None).placed
    (span,) = first.out_of_sync
    assert span.duration == timedelta(hours=3) and not span.ongoing
    assert [o.observed_at.hour for o in first.observations] == [1, 2, 3, 5]
    (still,) = second.out_of_sync
    assert still.ongoing and [o.automated for o in second.observations] == [False]
