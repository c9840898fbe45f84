"""Unpinned references and GitOps drift signals found in what a change added."""

from __future__ import annotations

from auditor.infra import FileAnalysis, Pinning, RefKind, SignalKind, analyse_file

SHA = "8f4b7f84864484a7bf31766abe9204da3cbe65b3"


def analyse(path: str, before: str | None, after: str) -> FileAnalysis:
    return analyse_file(path, None, None if before is None else before.encode(), after.encode())


def refs(result: FileAnalysis) -> list[tuple[int, RefKind, str, Pinning]]:
    return [(r.line, r.kind, r.value, r.pinning) for r in result.references]


def test_images_in_added_lines_only() -> None:
    before = "kind: Deployment\napiVersion: apps/v1\nspec:\n  image: nginx\n"
    after = before + (
        "  sidecar:\n    image: envoy:latest\n    other:\n      image: redis:7.2\n"
        f"      image: busybox@sha256:{'a' * 64}\n      image: '{{{{ .Values.image }}}}'\n"
    )
    assert refs(analyse("k8s/app.yaml", before, after)) == [
        (6, RefKind.IMAGE, "envoy:latest", Pinning.FLOATING),
        (8, RefKind.IMAGE, "redis:7.2", Pinning.VERSION),
    ]


def test_dockerfile_from_lines_skip_stages_and_scratch() -> None:
    text = "FROM golang:1.22 AS build\nFROM build\nFROM scratch\nFROM alpine\n"
    assert refs(analyse("Dockerfile", None, text)) == [
        (1, RefKind.IMAGE, "golang:1.22", Pinning.VERSION),
        (4, RefKind.IMAGE, "alpine", Pinning.FLOATING),
    ]


def test_github_actions_pinned_by_sha_tag_or_branch() -> None:
    text = (
        "jobs:\n  a:\n    steps:\n"
        f"      - uses: actions/checkout@{SHA}\n"
        "      - uses: actions/setup-python@v5\n"
        "      - uses: acme/deploy@main\n"
        "      - uses: ./.github/actions/local\n"
        "      - uses: docker://alpine:latest\n"
    )
    assert refs(analyse(".github/workflows/ci.yml", None, text)) == [
        (5, RefKind.ACTION, "actions/setup-python@v5", Pinning.VERSION),
        (6, RefKind.ACTION, "acme/deploy@main", Pinning.FLOATING),
        (8, RefKind.IMAGE, "alpine:latest", Pinning.FLOATING),
    ]


def test_a_docker_actions_local_dockerfile_is_not_an_image_reference() -> None:
    """``runs.image`` of an ``action.yml`` (GitHub's metadata syntax): a Dockerfile path is built
    from the action's own files; only a ``docker://`` image comes from a registry."""
    action = (
        "name: 'Lint'\ndescription: 'Lints'\nruns:\n  using: 'docker'\n  image: '{image}'\n"
        "  args:\n    - ${{{{ inputs.path }}}}\n"
    )
    for local in ("Dockerfile", "./Dockerfile", "docker/Dockerfile", "./build/Dockerfile"):
        assert refs(analyse("action.yml", None, action.format(image=local))) == [], local
        assert refs(analyse("lint/action.yaml", None, action.format(image=local))) == [], local
    pulled = action.format(image="docker://ghcr.io/acme/lint:latest")
    assert refs(analyse("action.yml", None, pulled)) == [
        (5, RefKind.IMAGE, "ghcr.io/acme/lint:latest", Pinning.FLOATING)
    ]
    pinned = action.format(image=f"docker://alpine@sha256:{'b' * 64}")
    assert refs(analyse(".github/actions/lint/action.yml", None, pinned)) == []
    # a workflow's job container is an image reference, with or without docker://
    workflow = "jobs:\n  a:\n    container:\n      image: node:latest\n"
    assert refs(analyse(".github/workflows/ci.yml", None, workflow)) == [
        (4, RefKind.IMAGE, "node:latest", Pinning.FLOATING)
    ]


def test_chart_versions_and_target_revisions_that_float() -> None:
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\n"
        "spec:\n  source:\n    chart: redis\n    targetRevision: {rev}\n"
    )
    exact = analyse("argocd/a.yaml", None, app.format(rev="1.4.2"))
    floating = analyse("argocd/a.yaml", app.format(rev="1.4.2"), app.format(rev="HEAD"))
    assert refs(exact) == []
    assert refs(floating) == [(8, RefKind.CHART, "HEAD", Pinning.FLOATING)]
    # A Git source following a branch is how GitOps deploys: not a floating reference.
    git_app = app.replace("    chart: redis\n", "    path: apps/web\n")
    tracking = analyse("argocd/a.yaml", git_app.format(rev="1.4.2"), git_app.format(rev="main"))
    assert refs(tracking) == []
    chart = "apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n  - name: redis\n"
    ranged = analyse("charts/web/Chart.yaml", None, chart + "    version: ^17.0.0\n")
    assert refs(ranged) == [(6, RefKind.CHART, "^17.0.0", Pinning.FLOATING)]


def test_terraform_modules_and_providers() -> None:
    text = (
        'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n'
        'module "pinned" {\n  source  = "terraform-aws-modules/vpc/aws"\n  version = "5.1.0"\n}\n'
        'module "git" {\n  source = "git::https://example.com/m.git?ref=v1.2.0"\n}\n'
        f'module "sha" {{\n  source = "git::https://example.com/m.git?ref={SHA}"\n}}\n'
        'module "local" {\n  source = "../modules/x"\n}\n'
        "terraform {\n  required_providers {\n"
        '    aws = {\n      source = "hashicorp/aws"\n    }\n'
        '    random = {\n      source  = "hashicorp/random"\n      version = "~> 3.0"\n    }\n'
        "  }\n}\n"
    )
    found = analyse("main.tf", None, text).references
    assert [(r.line, r.kind, r.pinning, r.detail) for r in found] == [
        (1, RefKind.MODULE, Pinning.FLOATING, "no version"),
        (8, RefKind.MODULE, Pinning.VERSION, "ref v1.2.0, not a commit SHA"),
        (19, RefKind.PROVIDER, Pinning.FLOATING, "provider aws without a version constraint"),
    ]


def test_unchanged_module_is_not_reported_again() -> None:
    module = 'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n'
    result = analyse("main.tf", module, module + 'resource "a" "b" {}\n')
    assert result.references == ()


def test_argocd_self_heal_and_auto_sync_turned_off() -> None:
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n"
        "  namespace: argocd\nspec:\n  syncPolicy:\n{policy}"
    )
    healing = "    automated:\n      prune: true\n      selfHeal: true\n"
    manual = "    syncOptions: [CreateNamespace=true]\n"
    no_heal = analyse(
        "argocd/web.yaml",
        app.format(policy=healing),
        app.format(policy=healing.replace("selfHeal: true", "selfHeal: false")),
    )
    no_sync = analyse("argocd/web.yaml", app.format(policy=healing), app.format(policy=manual))
    assert [s.kind for s in no_heal.signals] == [SignalKind.ARGOCD_SELF_HEAL_DISABLED]
    assert [s.kind for s in no_sync.signals] == [SignalKind.ARGOCD_AUTO_SYNC_DISABLED]
    assert no_sync.signals[0].address == "Application/argocd/web"


def test_flux_suspend_added() -> None:
    release = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n"
        "  namespace: apps\nspec:\n  interval: 5m\n"
    )
    suspended = analyse("clusters/prod/podinfo.yaml", release, release + "  suspend: true\n")
    new = analyse("clusters/prod/podinfo.yaml", None, release + "  suspend: true\n")
    resumed = analyse("clusters/prod/podinfo.yaml", release + "  suspend: true\n", release)
    assert [s.kind for s in suspended.signals] == [SignalKind.FLUX_SUSPENDED]
    assert [s.kind for s in new.signals] == [SignalKind.FLUX_SUSPENDED]
    assert resumed.signals == ()
