from __future__ import annotations

import pytest

from auditor.infra import Category, SecretKind, analyse_file
from auditor.infra.secrets import REDACTED, added_lines, scan

# Test credentials are assembled at run time so the sources hold no token-shaped strings.
AWS_KEY_ID = "AKIA" + "Q3EGXK7T2LPZR5VN"
AWS_SECRET = "wJ8rXUtnFEMI/K7MDENG/bPxRfiCY9z2Kq7TmX4p"
GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"
GITLAB = "glpat-" + "x9Yb7Zc5Wd3Ve1Uf2Tg4"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
WEBHOOK = "https://hooks.slack.com/services/" + "T0123ABCD/B0123ABCD/aBcDeFgHiJkLmNoPqRsTuVwX"
PASSWORD = "Zr8#qLp2!vWx9Tk"


@pytest.mark.parametrize(
    ("line", "kind", "secret"),
    [
        (f'aws_access_key_id = "{AWS_KEY_ID}"', SecretKind.AWS_ACCESS_KEY_ID, AWS_KEY_ID),
        (f"aws_secret_access_key={AWS_SECRET}", SecretKind.AWS_SECRET_ACCESS_KEY, AWS_SECRET),
        ("-----BEGIN RSA PRIVATE KEY-----", SecretKind.PRIVATE_KEY, None),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", SecretKind.PRIVATE_KEY, None),
        (f"GITHUB_TOKEN: {GITHUB}", SecretKind.GITHUB_TOKEN, GITHUB),
        (f"token = {GITHUB_PAT}", SecretKind.GITHUB_TOKEN, GITHUB_PAT),
        (f"export GL={GITLAB}", SecretKind.GITLAB_TOKEN, GITLAB),
        (f'slack_token: "{SLACK}"', SecretKind.SLACK_TOKEN, SLACK),
        (f"url: {WEBHOOK}", SecretKind.SLACK_WEBHOOK, WEBHOOK),
        (f'  password = "{PASSWORD}"', SecretKind.ASSIGNMENT, PASSWORD),
        (f"DB_PASSWORD={PASSWORD}", SecretKind.ASSIGNMENT, PASSWORD),
        (f'"clientSecret": "{PASSWORD}"', SecretKind.ASSIGNMENT, PASSWORD),
        (f"api_key: '{PASSWORD}'", SecretKind.ASSIGNMENT, PASSWORD),
    ],
)
def test_detects_and_redacts(line: str, kind: SecretKind, secret: str | None) -> None:
    hits = scan("app/config", None, f"first: line\n{line}\n")
    assert [(h.path, h.line, h.kind) for h in hits] == [("app/config", 2, kind)]
    if secret is not None:
        assert secret not in hits[0].preview
        assert secret[-12:] not in hits[0].preview
        assert REDACTED in hits[0].preview


@pytest.mark.parametrize(
    "line",
    [
        "password = var.db_password",
        'password = "${var.db_password}"',
        "password: {{ .Values.db.password }}",
        'password: "{{ .Values.db.password }}"',
        "password: ref+vault://secret/db#password",
        "password: changeme",
        'password = ""',
        "password: <your-password>",
        "password: aaaaaaaaaaaa",
        "db_password_secret_name: prod/db/password-rotation",
        "secretKeyRef:",
        "token_ttl: 3600",
        "password: ENC[AES256_GCM,data:abc,iv:def]",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "password: !vault |",
        "create_access_key = try(each.value.create_access_key, var.defaults.access_key, true)",
        'secret_string = lookup(each.value, "secret_string", null)',
    ],
)
def test_ignores_references_placeholders_and_low_entropy(line: str) -> None:
    assert scan("main.tf", None, line + "\n") == ()


def test_only_added_lines_are_scanned() -> None:
    before = f'password = "{PASSWORD}"\nregion = "eu"\n'
    after = f'region = "us"\npassword = "{PASSWORD}"\n'
    assert scan("main.tf", before, after) == ()
    assert added_lines(before, after) == [(1, 'region = "us"')]


def test_several_secrets_on_one_line_are_all_redacted() -> None:
    hits = scan("x.env", None, f"K={AWS_KEY_ID} T={GITHUB}\n")
    assert len(hits) == 1
    assert AWS_KEY_ID[4:] not in hits[0].preview and GITHUB[4:] not in hits[0].preview


def test_kubernetes_secret_data_entries() -> None:
    manifest = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata:\n  mode: fast\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  user: YWRtaW4=\n"
        "  pass: cm9vdA==\nstringData:\n  url: '{{ .Values.url }}'\n"
    )
    hits = scan("k8s/db.yaml", None, manifest)
    assert [(h.line, h.kind, h.preview) for h in hits] == [
        (12, SecretKind.KUBERNETES_SECRET_DATA, f"user: {REDACTED}"),
        (13, SecretKind.KUBERNETES_SECRET_DATA, f"pass: {REDACTED}"),
    ]


def test_analysis_reports_hits_and_secrets_category() -> None:
    before = b'resource "aws_db_instance" "db" {\n  engine = "postgres"\n}\n'
    after = before.replace(b"engine", f'password = "{PASSWORD}"\n  engine'.encode())
    result = analyse_file("modules/db/main.tf", None, before, after)
    assert [(h.line, h.kind) for h in result.secrets] == [(2, SecretKind.ASSIGNMENT)]
    assert Category.SECRETS in result.categories
    assert PASSWORD not in repr(result)


@pytest.mark.parametrize("path", ["deploy/id_rsa", "certs/tls.pem", ".env", "gcp/credentials.json"])
def test_credential_looking_files_are_secrets(path: str) -> None:
    result = analyse_file(path, None, None, b"placeholder\n")
    assert result.categories == {Category.SECRETS}


def test_added_lines_are_the_lines_before_lacked_however_lines_end() -> None:
    from collections import Counter

    from auditor.infra.secrets import added_lines

    def reference(before: str | None, after: str) -> list[tuple[int, str]]:
        remaining = Counter(before.splitlines()) if before else Counter[str]()
        added = []
        for number, line in enumerate(after.splitlines(), start=1):
            if remaining[line] > 0:
                remaining[line] -= 1
            else:
                added.append((number, line))
        return added

    cases = [
        ("a\nb\nc\n", "a\nb\nX\nc\n"),
        ("a\r\nb\r\n", "a\r\nb\r\nc\r\n"),
        ("a\rb\n", "a\rc\n"),  # a lone carriage return ends a line too
        ("a\u2028b", "a\u2028b\u2028b"),
        ("x\na\n", "a\nx\na\n"),  # a repeated line: the later one is the addition
        ("same\n", "same\n"),
        ("", "new\n"),
        (None, "new\nlines"),
        ("a\nb", "a\nbc"),  # the common start ends inside a line
    ]
    for before, after in cases:
        assert added_lines(before, after) == reference(before, after), (before, after)
