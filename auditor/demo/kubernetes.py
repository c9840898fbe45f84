"""Kubernetes manifests, Kustomize overlays, Helm charts and Argo CD applications."""

from __future__ import annotations

import re
from random import Random

from auditor.demo.terraform import Edit, TextOp

REPO_URL = "https://github.com/acme/infra-live.git"
REGISTRY = "ghcr.io/acme"
ENV_NAMES = ("dev", "staging", "prod")
CONFIG_KEYS = (
    "FEATURE_NEW_CHECKOUT",
    "CACHE_TTL_SECONDS",
    "UPSTREAM_TIMEOUT_MS",
    "TRACE_SAMPLE_RATE",
)
VERBS = ("get", "list", "watch", "patch", "update")
RESOURCES = ("configmaps", "deployments", "pods", "jobs", "services", "ingresses")


def version(rng: Random) -> str:
    return f"{rng.randint(0, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 30)}"


def bump(tag: str, rng: Random) -> str:
    major, minor, patch = (int(part) for part in tag.split("."))
    if rng.random() < 0.7:
        return f"{major}.{minor}.{patch + 1}"
    return f"{major}.{minor + 1}.0"


def app_files(app: str, team: str, web: bool, rng: Random) -> dict[str, str]:
    """``k8s/apps/<app>/``: a Kustomize base and one overlay per environment."""
    tag = version(rng)
    base = {
        "deployment.yaml": _deployment(app, tag),
        "service.yaml": _service(app),
        "serviceaccount.yaml": _service_account(app, team),
        "configmap.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config\n"
        'data:\n  LOG_LEVEL: info\n  PORT: "8080"\n',
        "hpa.yaml": _hpa(app),
        "networkpolicy.yaml": _network_policy(app),
    }
    if web:
        base["ingress.yaml"] = _ingress(app)
    listed = "".join(f"  - {name}\n" for name in sorted(base))
    base["kustomization.yaml"] = (
        f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n{listed}"
    )
    files = {f"base/{name}": text for name, text in base.items()}
    for index, env in enumerate(ENV_NAMES):
        files[f"overlays/{env}/kustomization.yaml"] = (
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"namespace: {team}-{env}\nresources:\n  - ../../base\n"
            "patches:\n  - path: replicas.yaml\n"
            f"images:\n  - name: {REGISTRY}/{app}\n    newTag: {tag}\n"
        )
        files[f"overlays/{env}/replicas.yaml"] = (
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n"
            f"spec:\n  replicas: {index + 1}\n"
        )
    return files


def _deployment(app: str, tag: str) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  labels:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/part-of: acme
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
    spec:
      serviceAccountName: {app}
      containers:
        - name: {app}
          image: {REGISTRY}/{app}:{tag}
          ports:
            - name: http
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: {app}-config
          resources:
            requests:
              cpu: 250m
              memory: 256Mi
            limits:
              memory: 512Mi
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
"""


def _service(app: str) -> str:
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\nspec:\n  selector:\n"
        f"    app.kubernetes.io/name: {app}\n  ports:\n    - name: http\n      port: 80\n"
        "      targetPort: http\n"
    )


def _service_account(app: str, team: str) -> str:
    return (
        f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {app}\n  annotations:\n"
        f"    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/{team}-{app}\n"
    )


def _hpa(app: str) -> str:
    return f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {app}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {app}
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
"""


def _network_policy(app: str) -> str:
    return f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {app}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {app}
  policyTypes:
    - Ingress
  ingress:
{_peer("namespaceSelector", "kubernetes.io/metadata.name", "ingress-nginx", 8080)}"""


def _peer(selector: str, label: str, value: str, port: int) -> str:
    return (
        f"    - from:\n        - {selector}:\n            matchLabels:\n"
        f"              {label}: {value}\n      ports:\n        - protocol: TCP\n"
        f"          port: {port}\n"
    )


def _ingress(app: str) -> str:
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {app}
  annotations:
    cert-manager.io/cluster-issuer: letsencrypt
spec:
  ingressClassName: nginx
  tls:
    - hosts:
        - {app}.acme.example
      secretName: {app}-tls
  rules:
{_ingress_rule(app, app)}"""


def _ingress_rule(host: str, service: str) -> str:
    return (
        f"    - host: {host}.acme.example\n      http:\n        paths:\n          - path: /\n"
        "            pathType: Prefix\n            backend:\n              service:\n"
        f"                name: {service}\n                port:\n                  name: http\n"
    )


def role_files(team: str) -> dict[str, str]:
    """``k8s/platform/rbac/``: one Role and RoleBinding per team."""
    role = (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n"
        f"  name: {team}-deployer\n  namespace: {team}-prod\nrules:\n"
        + _rule("apps", "deployments", ("get", "list", "patch"))
    )
    binding = (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n"
        f"  name: {team}-deployer\n  namespace: {team}-prod\nroleRef:\n"
        f"  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: {team}-deployer\n"
        f"subjects:\n  - kind: Group\n    name: acme:{team}\n"
        "    apiGroup: rbac.authorization.k8s.io\n"
    )
    return {f"{team}-role.yaml": role, f"{team}-rolebinding.yaml": binding}


def _rule(group: str, resource: str, verbs: tuple[str, ...]) -> str:
    listed = "".join(f"      - {verb}\n" for verb in verbs)
    return (
        f'  - apiGroups:\n      - "{group}"\n    resources:\n      - {resource}\n'
        f"    verbs:\n{listed}"
    )


def namespaces(teams: list[str]) -> str:
    docs = [
        f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {team}-{env}\n  labels:\n"
        f"    acme.example/team: {team}\n"
        for team in teams
        for env in ENV_NAMES
    ]
    return "---\n".join(docs)


def chart_files(chart: str, rng: Random) -> dict[str, str]:
    """``charts/<chart>/``: a Helm chart with one values file per environment."""
    tag = version(rng)
    files = {
        "Chart.yaml": f"apiVersion: v2\nname: {chart}\ndescription: Helm chart for {chart}\n"
        f'type: application\nversion: 0.{rng.randint(1, 9)}.0\nappVersion: "{tag}"\n'
        "dependencies:\n  - name: redis\n    version: 19.6.4\n"
        "    repository: https://charts.bitnami.com/bitnami\n    condition: redis.enabled\n",
        "values.yaml": f"replicaCount: 1\nimage:\n  repository: {REGISTRY}/{chart}\n"
        f'  tag: "{tag}"\n  pullPolicy: IfNotPresent\nservice:\n  port: 80\nredis:\n'
        "  enabled: false\nresources:\n  requests:\n    cpu: 100m\n    memory: 128Mi\n",
        ".helmignore": ".git/\n*.swp\n*.bak\n",
        "templates/_helpers.tpl": f'{{{{- define "{chart}.fullname" -}}}}\n'
        f"{{{{ .Release.Name }}}}-{chart}\n{{{{- end }}}}\n",
        "templates/deployment.yaml": _chart_deployment(chart),
    }
    for index, env in enumerate(ENV_NAMES):
        files[f"values-{env}.yaml"] = (
            f'replicaCount: {index + 1}\nimage:\n  tag: "{tag}"\nresources:\n  requests:\n'
            f"    memory: {128 * (index + 1)}Mi\n"
        )
    return files


def _chart_deployment(chart: str) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ include "{chart}.fullname" . }}}}
spec:
  replicas: {{{{ .Values.replicaCount }}}}
  template:
    spec:
      containers:
        - name: {chart}
          image: "{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}"
          resources:
            {{{{- toYaml .Values.resources | nindent 12 }}}}
"""


def application(name: str, team: str, env: str, path: str, helm: bool) -> str:
    """An Argo CD Application; non-production ones let the image updater write back to Git."""
    annotations = ""
    if env != "prod" and not helm:
        annotations = (
            "  annotations:\n"
            f"    argocd-image-updater.argoproj.io/image-list: app={REGISTRY}/{name}\n"
            "    argocd-image-updater.argoproj.io/write-back-method: git\n"
        )
    values = f"    helm:\n      valueFiles:\n        - values-{env}.yaml\n" if helm else ""
    sync = "    automated:\n      prune: true\n      selfHeal: true\n" if env != "prod" else ""
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n"
        f"  name: {name}-{env}\n  namespace: argocd\n{annotations}spec:\n  project: {team}\n"
        f"  source:\n    repoURL: {REPO_URL}\n    targetRevision: main\n    path: {path}\n{values}"
        "  destination:\n    server: https://kubernetes.default.svc\n"
        f"    namespace: {team}-{env}\n  syncPolicy:\n{sync}    syncOptions:\n"
        "      - CreateNamespace=true\n"
    )


def project(team: str) -> str:
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n"
        f"  name: {team}\n  namespace: argocd\nspec:\n  sourceRepos:\n    - {REPO_URL}\n"
        f"  destinations:\n    - namespace: {team}-*\n      server: https://kubernetes.default.svc\n"
    )


def _int_field(key: str, low: int, high: int, label: str) -> TextOp:
    pattern = re.compile(rf"^(\s*{key}: )(\d+)$", re.MULTILINE)

    def op(rng: Random, text: str) -> Edit | None:
        match = pattern.search(text)
        if match is None:
            return None
        value = rng.randint(low, high)
        if value == int(match.group(2)):
            value += 1
        new = text[: match.start(2)] + str(value) + text[match.end(2) :]
        return Edit(new, f"{label} {value}")

    return op


def image_tag(rng: Random, text: str) -> Edit | None:
    match = re.search(r'((?:newTag|tag): "?)(\d+\.\d+\.\d+)', text)
    if match is None:
        return None
    tag = bump(match.group(2), rng)
    new = text[: match.start(2)] + tag + text[match.end(2) :]
    return Edit(new, f"roll image to {tag}")


def _config_key(rng: Random, text: str) -> Edit | None:
    if "kind: ConfigMap" not in text:
        return None
    key = rng.choice(CONFIG_KEYS)
    value = rng.choice(('"true"', '"false"', '"300"', '"0.1"', '"2500"'))
    if f"  {key}:" in text:
        new = re.sub(rf"^  {key}: .*$", f"  {key}: {value}", text, flags=re.MULTILINE)
    else:
        new = text + f"  {key}: {value}\n"
    return Edit(new, f"set {key}={value.strip(chr(34))}")


def _log_level(rng: Random, text: str) -> Edit | None:
    match = re.search(r"LOG_LEVEL: (\w+)", text)
    if match is None:
        return None
    level = "debug" if match.group(1) != "debug" else "info"
    return Edit(text[: match.start(1)] + level + text[match.end(1) :], f"log level {level}")


def _allow_peer(rng: Random, text: str) -> Edit | None:
    if "kind: NetworkPolicy" not in text:
        return None
    peer = rng.choice(("api-gateway", "payments-worker", "prometheus", "orders-api"))
    port = rng.choice((8080, 9090, 8443))
    return Edit(
        text + _peer("podSelector", "app.kubernetes.io/name", peer, port),
        f"allow ingress from {peer} on {port}",
    )


def _rbac_rule(rng: Random, text: str) -> Edit | None:
    if "kind: Role\n" not in text:
        return None
    resource = rng.choice(RESOURCES)
    verbs = tuple(sorted(rng.sample(VERBS, 2)))
    group = "" if resource in ("configmaps", "pods", "services") else "apps"
    return Edit(text + _rule(group, resource, verbs), f"grant {'/'.join(verbs)} on {resource}")


def _ingress_host(rng: Random, text: str) -> Edit | None:
    match = re.search(r"kind: Ingress\nmetadata:\n  name: ([\w-]+)", text)
    if match is None:
        return None
    host = f"{match.group(1)}-{rng.choice(('beta', 'eu', 'internal', 'v2'))}"
    return Edit(text + _ingress_rule(host, match.group(1)), f"route {host}.acme.example")


def _memory(rng: Random, text: str) -> Edit | None:
    match = re.search(r"memory: (\d+)Mi", text)
    if match is None:
        return None
    value = rng.choice((128, 256, 384, 512, 768, 1024))
    new = text[: match.start(1)] + str(value) + text[match.end(1) :]
    return Edit(new, f"memory request {value}Mi")


def _sync_option(rng: Random, text: str) -> Edit | None:
    if "kind: Application\n" not in text:
        return None
    option = rng.choice(("ServerSideApply=true", "PruneLast=true", "ApplyOutOfSyncOnly=true"))
    if option in text:
        return None
    return Edit(text + f"      - {option}\n", f"sync with {option}")


def _destination(rng: Random, text: str) -> Edit | None:
    match = re.search(r"kind: AppProject\nmetadata:\n  name: ([\w-]+)", text)
    if match is None:
        return None
    namespace = f"{match.group(1)}-{rng.choice(('sandbox', 'perf', 'preview', 'batch'))}"
    if namespace in text:
        return None
    return Edit(
        text + f"    - namespace: {namespace}\n      server: https://kubernetes.default.svc\n",
        f"allow deployments to {namespace}",
    )


KUBERNETES_OPS: tuple[TextOp, ...] = (
    _int_field("replicas", 1, 8, "scale to"),
    _int_field("replicaCount", 1, 6, "scale to"),
    _int_field("maxReplicas", 4, 30, "max replicas"),
    _int_field("averageUtilization", 50, 85, "target CPU"),
    image_tag,
    _config_key,
    _log_level,
    _allow_peer,
    _rbac_rule,
    _ingress_host,
    _memory,
    _sync_option,
    _destination,
)
"""Edits people make; turning off self-heal is not one of them in a well-run GitOps setup."""
