"""Argo CD's API (``GET /api/v1/applications``) served locally, answers shaped like Argo CD's."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from deployfixtures import application, history_entry

from auditor.deployments.interface import DeploymentError, DeploymentSourceKind
from auditor.deployments.read import read_argocd_api
from auditor.outcome import Outcome

TOKEN = "argocd-token-0123456789"
A = "a" * 40


class ArgoCD(ThreadingHTTPServer):
    answers: list[tuple[int, Any]]
    seen: list[tuple[str, str]]


class Handler(BaseHTTPRequestHandler):
    server: ArgoCD

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization", "")))
        status, body = self.server.answers.pop(0)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def argocd() -> Iterator[ArgoCD]:
    server = ArgoCD(("127.0.0.1", 0), Handler)
    server.answers, server.seen = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: ArgoCD) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_lists_applications_with_the_token(argocd: ArgoCD, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGOCD_AUTH_TOKEN", TOKEN)
    app = application("payments", [history_entry(3, A, "2026-03-01T10:00:00Z", automated=True)])
    argocd.answers.append((200, {"metadata": {"resourceVersion": "1"}, "items": [app]}))
    with pytest.warns(UserWarning, match="unencrypted"):
        read = read_argocd_api(url(argocd))
    assert read.kind is DeploymentSourceKind.ARGOCD
    assert [(d.source, d.id, d.revision) for d in read.deployments] == [
        ("argocd:argocd/payments", "3", A)
    ]
    assert argocd.seen == [("/api/v1/applications", f"Bearer {TOKEN}")]


def test_refused_token_is_a_gap_without_the_token(
    argocd: ArgoCD, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGOCD_AUTH_TOKEN", TOKEN)
    message = "invalid session: token signature is invalid"
    argocd.answers.append((401, {"error": message, "code": 16, "message": message}))
    with pytest.warns(UserWarning), pytest.raises(DeploymentError) as caught:
        read_argocd_api(url(argocd))
    text = str(caught.value)
    assert "Argo CD refused the credentials (401)" in text and "/api/v1/applications" in text
    assert TOKEN not in text and caught.value.outcome is Outcome.INCOMPLETE


def test_unreachable_api_is_a_gap() -> None:
    with pytest.raises(DeploymentError, match=r"Argo CD cannot reach http://127\.0\.0\.1:9/"):
        read_argocd_api("http://127.0.0.1:9", token="")
