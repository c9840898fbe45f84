"""Credentials under attack: every test builds the attack (a repository, a hostile local server
on 127.0.0.1) and asserts the exit code, the one-line message and that no credential was written
anywhere: standard output and error, the store, the pack, the export file, a crash report."""

from __future__ import annotations

import base64
import json
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from forge_server import Episode, ForgeServer
from forgerepo import GITHUB_REPO, PERIOD_START, ForgeRepo, build
from gitrepo import GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.crashes import crash_report
from auditor.errors import RepositoryError, UsageError
from auditor.redaction import redact, secret_parameters
from auditor.runs.clones import CloneURL, mirror
from auditor.runs.credential import answer

TOKEN = "ghp_AttackT0kenValue0123456789"
PASSWORD = "clone-S3cret-0123456789"
QUERY_SECRET = "qs-S3cret-9876543210"
AS_OF = "2026-04-01T00:00:00Z"


@dataclass
class Output:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.err.splitlines()


def call(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Output:
    capsys.readouterr()
    code = run([str(a) for a in args])
    captured = capsys.readouterr()
    return Output(code, captured.out, captured.err)


def written_with(root: Path, *secrets: str) -> list[str]:
    """The files under ``root`` that hold any of ``secrets``, in any case."""
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and any(s.lower().encode() in path.read_bytes().lower() for s in secrets)
    )


@pytest.fixture(autouse=True)
def crash_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Crash reports (and every other temporary file) land under the test's directory."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    return TOKEN


# -- 1. a clone password goes only to the clone URL's protocol, host, port and path -------------


@dataclass
class GitServer:
    """A plain HTTP server that records each request's Authorization header and answers 401
    asking for Basic credentials, or 302 to ``redirect_to`` (same path)."""

    redirect_to: str | None = None
    seen: list[tuple[str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                server.seen.append((self.path, self.headers.get("Authorization")))
                if server.redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to + self.path)
                else:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def git_servers() -> Iterator[tuple[GitServer, GitServer]]:
    """``(target, redirector)``: the redirector answers 302 to the target, on another port."""
    target = GitServer()
    redirector = GitServer(redirect_to=target.url)
    yield target, redirector
    redirector.close()
    target.close()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def clone_config(directory: Path, url: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "auditor.toml"
    config.write_text(
        f'[audit]\nperiod = "last-quarter"\nformats = ["json"]\n\n[[repository]]\nurl = "{url}"\n',
        encoding="utf-8",
    )
    return config


def test_a_redirect_target_receives_no_clone_password(
    tmp_path: Path,
    git_servers: tuple[GitServer, GitServer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target, redirector = git_servers
    monkeypatch.setenv("AUDITOR_CLONE_PASSWORD", PASSWORD)
    url = f"{redirector.url}/acme/infra.git".replace("://", "://ci:${AUDITOR_CLONE_PASSWORD}@")
    config = clone_config(tmp_path / "ops", url)

    result = call(capsys, "run", "--config", config, "--as-of", AS_OF, "--jobs", "1")

    assert result.code == ExitCode.INCOMPLETE
    assert redirector.seen and target.seen, "git followed the redirect"
    assert [auth for _, auth in redirector.seen + target.seen] == [None] * (
        len(redirector.seen) + len(target.seen)
    )
    (line,) = [line for line in result.lines if "not audited" in line]
    assert f"{redirector.url}/acme/infra.git: git clone failed" in line
    assert (
        result.lines.count(
            f"warning: the password of {redirector.url}/acme/infra.git is sent unencrypted over "
            "plain http://; use https://"
        )
        == 1
    )
    assert PASSWORD not in result.err + result.out
    assert written_with(tmp_path, PASSWORD) == []


def test_the_configured_host_receives_the_clone_password(
    tmp_path: Path, git_servers: tuple[GitServer, GitServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    target, _ = git_servers
    monkeypatch.setenv("AUDITOR_CLONE_PASSWORD", PASSWORD)
    url = f"{target.url}/acme/infra.git".replace("://", "://ci:${AUDITOR_CLONE_PASSWORD}@")

    with pytest.raises(RepositoryError, match="git clone failed") as failed:
        mirror(url, tmp_path / "clones")

    assert [auth for _, auth in target.seen] == [None, basic("ci", PASSWORD)]
    assert PASSWORD not in str(failed.value)
    assert written_with(tmp_path, PASSWORD) == []


URL = "https://git.example.com:8443/acme/infra.git"
ENV = {
    "AUDITOR_GIT_URL": URL,
    "AUDITOR_GIT_USERNAME": "ci",
    "AUDITOR_GIT_PASSWORD": PASSWORD,
}


@pytest.mark.parametrize(
    ("action", "request_text", "answered"),
    [
        ("get", "protocol=https\nhost=git.example.com:8443\npath=acme/infra.git\n\n", True),
        ("get", "protocol=https\nhost=GIT.example.com:8443\n", True),  # git gave no path
        ("get", "protocol=https\nhost=attacker.example:8443\npath=acme/infra.git\n", False),
        ("get", "protocol=https\nhost=git.example.com\npath=acme/infra.git\n", False),
        ("get", "protocol=https\nhost=git.example.com:9443\npath=acme/infra.git\n", False),
        ("get", "protocol=http\nhost=git.example.com:8443\npath=acme/infra.git\n", False),
        ("get", "protocol=https\nhost=git.example.com:8443\npath=other/repo.git\n", False),
        ("get", "", False),
        ("store", "protocol=https\nhost=git.example.com:8443\npath=acme/infra.git\n", False),
    ],
    ids=[
        "same-url",
        "no-path",
        "other-host",
        "default-port",
        "other-port",
        "plain-http",
        "other-path",
        "nothing-asked",
        "store",
    ],
)
def test_the_credential_helper_answers_only_for_its_url(
    action: str, request_text: str, answered: bool
) -> None:
    expected = f"username=ci\npassword={PASSWORD}\n" if answered else ""
    assert answer(action, request_text, ENV) == expected


# -- 13. a clone URL starting with '-' never reaches git as an option -------------------------


def test_a_clone_url_starting_with_a_dash_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planted = tmp_path / "planted"
    config = clone_config(tmp_path / "ops", f"--upload-pack=touch {planted}")

    result = call(capsys, "run", "--config", config, "--as-of", AS_OF)

    assert result.code == ExitCode.USAGE
    assert result.lines == [
        f"auditor: error: {config}:6: repository[0].url: '--upload-pack=touch {planted}' "
        "starts with '-', which git would take for an option"
    ]
    assert not planted.exists()
    with pytest.raises(UsageError, match=r"^url: '-x' starts with '-'"):
        CloneURL.parse("-x")


# -- 8. token-like query strings and user information never leave the process ----------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://ci:tok3n@host/x.git", "https://host/x.git"),
        ("https://host/x.git?private_token=abc&ref=main", "https://host/x.git?private_token=***&ref=main"),
        ("https://h/api?access_token=abc#frag", "https://h/api?access_token=***#frag"),
        ("https://h/a?X-Amz-Signature=f00&X-Amz-Credential=k3y", "https://h/a?X-Amz-Signature=***&X-Amz-Credential=***"),
        ("api_key=1 client_secret=2 sig=4", "api_key=*** client_secret=*** sig=***"),
        ("--password=hunter22 auth=5", "--password=*** auth=***"),
        ("keyword=kept page=2 per_page=5", "keyword=kept page=2 per_page=5"),
        (f"Authorization: Bearer {TOKEN}", "Authorization: Bearer ***"),
        (f"http://%5Bbearer%20{TOKEN.lower()}/", "http://%5Bbearer%20***/"),
        ("git@github.com:acme/infra.git", "git@github.com:acme/infra.git"),
    ],
)  # fmt: skip
def test_redact_removes_every_kind_of_credential(text: str, expected: str) -> None:
    assert redact(text, (TOKEN,)) == expected


def test_secret_parameters_are_named_in_order() -> None:
    url = "https://h/x.git?ref=main&private_token=a&Access_Token=b&private_token=c"
    assert secret_parameters(url) == ["private_token", "Access_Token"]


def test_an_origin_with_a_token_query_is_refused(
    repo: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.commit("Initial commit", {"main.tf": "# infra\n"})
    origin = f"https://git.example.com/acme/infra.git?private_token={QUERY_SECRET}"
    repo.git("remote", "add", "origin", origin)

    result = call(capsys, "mine", repo.path, "--store", tmp_path / "store")

    assert result.code == ExitCode.USAGE
    assert result.lines == [
        f"auditor: error: {repo.path}: remote.origin.url: "
        "https://git.example.com/acme/infra.git?private_token=*** carries a credential in its "
        "query (private_token); remove it (a credential helper or the URL's password keeps it)"
    ]
    assert written_with(tmp_path / "store", QUERY_SECRET) == []


def test_a_config_url_with_a_token_query_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"https://git.example.com/acme/infra.git?access_token={QUERY_SECRET}"
    config = clone_config(tmp_path / "ops", url)

    result = call(capsys, "run", "--config", config, "--as-of", AS_OF)

    assert result.code == ExitCode.USAGE
    assert result.lines == [
        f"auditor: error: {config}:6: repository[0].url: "
        "https://git.example.com/acme/infra.git?access_token=*** carries a credential in its "
        "query (access_token); give it as the URL's password instead, as ${NAME} read from "
        "the environment"
    ]
    assert written_with(tmp_path, QUERY_SECRET) == [config.relative_to(tmp_path).as_posix()]


def test_a_config_forge_url_with_a_token_query_is_refused(
    tmp_path: Path, repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.commit("Initial commit", {"main.tf": "# infra\n"})
    config = tmp_path / "auditor.toml"
    config.write_text(
        f'[audit]\nperiod = "last-quarter"\n\n[[repository]]\npath = "{repo.path}"\n'
        f'forge = "gitlab"\nforge_url = "https://git.acme.io/api/v4?private_token={QUERY_SECRET}"\n',
        encoding="utf-8",
    )

    result = call(capsys, "run", "--config", config, "--as-of", AS_OF)

    assert result.code == ExitCode.USAGE
    assert result.lines == [
        f"auditor: error: {config}:7: repository[0].forge_url: "
        "'https://git.acme.io/api/v4?private_token=***': an API base URL takes no user, "
        "password, query or fragment (the token comes from GITHUB_TOKEN or GITLAB_TOKEN)"
    ]


@pytest.fixture
def history(repo: GitRepo) -> ForgeRepo:
    return build(repo, "github")


@pytest.fixture
def server(history: ForgeRepo) -> Iterator[ForgeServer]:
    with ForgeServer(token=TOKEN, page_size=1) as forge:
        forge.github[GITHUB_REPO] = history.bundles
        yield forge


def export(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, out: Path, store: Path, *extra: str
) -> Output:
    return call(
        capsys, "reviews", "export", history.path, "-o", out, "--store", store,
        "--forge", "github", "--as-of", AS_OF, *extra,
    )  # fmt: skip


def test_a_forge_url_with_a_token_query_is_refused_and_never_written(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    server: ForgeServer,
    tmp_path: Path,
    token: str,
) -> None:
    out = tmp_path / "reviews.json"
    forge_url = f"{server.url}?access_token={QUERY_SECRET}"

    result = export(capsys, history, out, tmp_path / "store", "--forge-url", forge_url)

    assert result.code == ExitCode.USAGE
    assert result.lines == [
        f"auditor: error: Invalid value for '--forge-url': '{server.url}?access_token=***': an "
        "API base URL takes no user, password, query or fragment (the token comes from "
        "GITHUB_TOKEN or GITLAB_TOKEN) (see 'auditor reviews export --help')"
    ]
    assert not out.exists() and server.requests == []
    assert written_with(tmp_path, QUERY_SECRET, token) == []


def test_an_organisation_holding_the_token_is_redacted_in_the_pack(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path, token: str
) -> None:
    pack = tmp_path / "pack"

    result = call(
        capsys, "report", history.path, "--store", tmp_path / "store", "--out", pack,
        "--format", "csv,json,html", "--as-of", AS_OF, "--organisation", f"Acme {token}",
    )  # fmt: skip

    assert result.code == ExitCode.CONTROLS_FAILED, result.err
    assert json.loads((pack / "evidence.json").read_text())["organisation"] == "Acme ***"
    assert written_with(tmp_path, token) == []
    assert token not in result.out + result.err


# -- 13. a forge token goes only to a known forge host or the URL the user gave --------------


def test_the_token_is_never_sent_to_a_host_the_origin_names(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, tmp_path: Path, token: str
) -> None:
    with ForgeServer() as server:
        history = build(repo, "github")
        history.repo.git("remote", "set-url", "origin", f"{server.url}/{GITHUB_REPO}.git")
        host = server.url.removeprefix("http://").split(":")[0]

        result = call(capsys, "check", history.path, "--store", tmp_path / "s", "--forge", "github")

    assert result.code == ExitCode.USAGE
    assert result.lines == [
        f"auditor: error: --forge github: the origin's host {host} is not github.com; name its "
        "API with --forge-url (config: forge_url), the only place the token is sent"
    ]
    assert server.requests == []
    assert written_with(tmp_path, token) == []


def test_a_token_over_plain_http_is_warned_about_once(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    server: ForgeServer,
    tmp_path: Path,
    token: str,
) -> None:
    history.repo.git("branch", "release")
    out = tmp_path / "reviews.json"
    branches = ("--branch", "main", "--branch", "release")

    result = export(capsys, history, out, tmp_path / "s", "--forge-url", server.url, *branches)

    assert result.code == ExitCode.OK, result.err
    warning = (
        f"warning: the GitHub token is sent unencrypted over plain http:// to {server.url}/; "
        "use https://"
    )
    assert result.lines.count(warning) == 1 and result.lines[0] == warning
    assert len({r.path for r in server.requests if r.path.endswith("/pulls")}) == 1
    assert len([r for r in server.requests if r.path.endswith("/pulls")]) >= 2  # two branches
    assert written_with(tmp_path, token) == []


def test_a_run_in_worker_processes_warns_once_about_plain_http(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    server: ForgeServer,
    tmp_path: Path,
    token: str,
) -> None:
    other = GitRepo(tmp_path / "other")
    other.commit("Initial commit", {"main.tf": "# other\n"})
    forge = f'forge = "github"\nforge_url = "{server.url}"\n'
    config = tmp_path / "ops" / "auditor.toml"
    config.parent.mkdir()
    config.write_text(
        '[audit]\nperiod = "last-quarter"\nformats = ["json"]\n\n'
        f'[[repository]]\npath = "{history.path}"\n{forge}\n'
        f'[[repository]]\npath = "{other.path}"\n{forge}forge_repo = "{GITHUB_REPO}"\n',
        encoding="utf-8",
    )

    result = call(capsys, "run", "--config", config, "--as-of", AS_OF, "--jobs", "2")

    assert result.code == ExitCode.OK, result.err
    warning = (
        f"warning: the GitHub token is sent unencrypted over plain http:// to {server.url}/; "
        "use https://"
    )
    assert result.lines.count(warning) == 1
    assert not any("AuditorWarning" in line for line in result.lines)  # no raw Python display
    listings = [r for r in server.requests if r.path.endswith("/pulls") and "page" not in r.query]
    assert len(listings) == 2  # both repositories' workers sent the token
    assert written_with(tmp_path, token) == []


def test_no_warning_without_a_token(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with ForgeServer(page_size=1) as open_server:
        open_server.github[GITHUB_REPO] = history.bundles
        result = export(
            capsys, history, tmp_path / "r.json", tmp_path / "s", "--forge-url", open_server.url
        )
    assert result.code == ExitCode.OK, result.err
    assert not any(line.startswith("warning:") for line in result.lines)


# -- 5. every forge response failure is a forge error (exit 4), the token never shown ---------

DEEP = b"[" * 100_000 + b"]" * 100_000
ATTACKS = {
    "link-invalid-url-echoing-the-token": Episode(
        headers={"Link": '<http://x:{authorization}/>; rel="next"'}, body=[]
    ),
    "link-host-echoing-the-token": Episode(
        headers={"Link": '<http://[{authorization}>; rel="next"'}, body=[]
    ),
    "link-that-is-the-token": Episode(headers={"Link": '<{authorization}>; rel="next"'}, body=[]),
    "link-on-the-origin-carrying-the-token": Episode(
        headers={"Link": '<{origin}/repos/acme/infra-live/pulls?c={authorization}>; rel="next"'},
        body=[],
    ),
    "link-with-a-token-parameter": Episode(
        headers={"Link": '<{origin}/repos/acme/infra-live/pulls?access_token=x1y2>; rel="next"'},
        body=[],
    ),
    "json-nested-100000-deep": Episode(raw=DEEP),
    "error-body-nested-100000-deep": Episode(status=422, raw=DEEP),
    "error-message-of-a-megabyte": Episode(status=422, body={"message": "m" * 1_000_000}),
    "not-json": Episode(raw=b"<html>Bearer " + TOKEN.encode() + b"</html>"),
    "an-object-for-a-list": Episode(body={"message": f"token {TOKEN} accepted"}),
    "a-number-for-a-request": Episode(body=[17]),
    "a-bad-timestamp": Episode(body={"number": 1, "merged_at": "2026-13-45T25:61:00Z"}),
    "a-huge-value": Episode(body={"number": 1, "merged_at": ["x" * 1_000_000]}),
}  # fmt: skip
WHERE = {"a-bad-timestamp": r"/pulls/1$", "a-huge-value": r"/pulls/1$"}  # others: the listing
REASONS = {
    "link-invalid-url-echoing-the-token": r"GitHub sent an invalid pagination link for \S+ \(",
    "link-host-echoing-the-token": (
        r"GitHub pagination link leaves http://127\.0\.0\.1:\d+/: %5Bbearer%20\*\*\*$"
    ),
    "link-that-is-the-token": r"GitHub pagination link leaves http://127\.0\.0\.1:\d+/:$",
    "link-on-the-origin-carrying-the-token": (
        r"GitHub sent a pagination link carrying a credential: \S+\?c=Bearer%20\*\*\*$"
    ),
    "link-with-a-token-parameter": (
        r"GitHub sent a pagination link carrying a credential: \S+\?access_token=\*\*\*$"
    ),
    "json-nested-100000-deep": r"GitHub sent JSON nested too deeply to read for \S+$",
    "error-body-nested-100000-deep": r"GitHub answered \(422\) for \S+$",
    "error-message-of-a-megabyte": r"GitHub answered \(422\) for \S+: m{300}…$",
    "not-json": r"GitHub sent invalid JSON for \S+$",
    "an-object-for-a-list": r"GitHub sent no list for \S+$",
    "a-number-for-a-request": r"github sent an unexpected payload for acme/infra-live: "
    r"pulls\[0\]: expected an object$",
    "a-bad-timestamp": r"github sent an unexpected payload for acme/infra-live: "
    r"pull\.merged_at: not a timestamp: '2026-13-45T25:61:00Z'$",
    "a-huge-value": r"github sent an unexpected payload for acme/infra-live: "
    r"pull\.merged_at: unexpected value \['x{1,20}\.\.\.x{1,20}'\]$",  # shortened, not 1 MB
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_hostile_forge_answer_is_a_forge_error(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    server: ForgeServer,
    tmp_path: Path,
    token: str,
    crash_dir: Path,
    attack: str,
) -> None:
    episode = ATTACKS[attack]
    episode.headers = {k: v.replace("{origin}", server.url) for k, v in episode.headers.items()}
    server.script(WHERE.get(attack, r"/pulls\?"), episode)
    out = tmp_path / "reviews.json"

    result = export(capsys, history, out, tmp_path / "store", "--forge-url", server.url)

    assert result.code == ExitCode.INCOMPLETE
    plain_http, warning, summary = result.lines
    assert plain_http.startswith("warning: the GitHub token is sent unencrypted")
    prefix = f"warning: {GITHUB_REPO}: evidence incomplete: "
    assert warning.startswith(prefix) and re.match(REASONS[attack], warning[len(prefix) :])
    assert (
        summary == f"0 merged requests of {GITHUB_REPO} (main) written to {out}, marked incomplete"
    )
    assert list(crash_dir.iterdir()) == []
    assert token not in result.out + result.err
    assert written_with(tmp_path, token) == []
    assert json.loads(out.read_text())["complete"] is False


def test_a_reviews_file_nested_100000_deep_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path, crash_dir: Path
) -> None:
    reviews = tmp_path / "reviews.json"
    reviews.write_bytes(DEEP)

    result = call(
        capsys, "check", history.path, "--store", tmp_path / "s", "--reviews-file", reviews
    )

    assert result.code == ExitCode.USAGE
    assert result.lines == [f"auditor: error: {reviews}: JSON nested too deeply to read"]
    assert list(crash_dir.iterdir()) == []


def test_a_forge_redirect_is_not_followed_with_the_token(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    server: ForgeServer,
    tmp_path: Path,
    token: str,
) -> None:
    with ForgeServer() as elsewhere:
        server.script(r"/pulls\?", Episode(302, {"Location": f"{elsewhere.url}/steal"}))
        result = export(
            capsys, history, tmp_path / "r.json", tmp_path / "s", "--forge-url", server.url
        )

    assert result.code == ExitCode.INCOMPLETE
    assert re.fullmatch(
        rf"warning: {GITHUB_REPO}: evidence incomplete: GitHub answered \(302\) for \S+",
        result.lines[1],
    )
    assert elsewhere.requests == []


def test_a_token_the_forge_echoes_in_a_body_is_masked_before_it_is_kept(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, tmp_path: Path, token: str
) -> None:
    history = build(repo, "github")
    history.bundles[0]["pull"]["title"] = f"echo {token}"
    history.bundles[1]["pull"]["title"] = f"echo {token.lower()}"
    with ForgeServer(token=token, page_size=1) as server:
        server.github[GITHUB_REPO] = history.bundles
        out = tmp_path / "reviews.json"
        result = export(capsys, history, out, tmp_path / "store", "--forge-url", server.url)

    assert result.code == ExitCode.OK, result.err
    titles = [b["pull"]["title"] for b in json.loads(out.read_text())["pulls"]]
    assert titles.count("echo ***") == 2
    assert written_with(tmp_path, token) == []


def test_a_crash_report_holds_no_credential(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    tmp_path: Path,
    token: str,
    crash_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import auditor.reviews.collect

    def bug(*args: object, **kw: object) -> None:  # an internal error quoting credentials
        raise RuntimeError(
            f"bug near Bearer {token} and https://ci:{PASSWORD}@git.example.com/x.git"
            f"?private_token={QUERY_SECRET}"
        )

    monkeypatch.setattr(auditor.reviews.collect, "open_forge", bug)

    result = export(
        capsys, history, tmp_path / "r.json", tmp_path / "store", "--forge-url", "https://h.test"
    )

    assert result.code == ExitCode.INTERNAL
    (line,) = result.lines
    (report,) = crash_dir.iterdir()
    assert line == (
        "auditor: internal error: RuntimeError: bug near Bearer *** and "
        f"https://git.example.com/x.git?private_token=*** (details in {report})"
    )
    text = report.read_text()
    assert "RuntimeError: bug near Bearer ***" in text
    assert [s for s in (token, PASSWORD, QUERY_SECRET) if s in text] == []
    assert crash_report(ValueError(token)).read_text().strip().endswith("ValueError: ***")


# -- 6. review data for another repository is refused unless the user names the mapping -------


def test_review_data_of_another_repository_is_refused(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    document = history.export()
    document["repository"] = "other/repo"
    reviews = tmp_path / "reviews.json"
    reviews.write_text(json.dumps(document), encoding="utf-8")
    check = ("check", history.path, "--since", PERIOD_START, "--format", "json", "-q")
    check += ("--reviews-file", str(reviews))

    refused = call(capsys, *check, "--store", tmp_path / "s1")
    mapped = call(capsys, *check, "--store", tmp_path / "s2", "--forge-repo", "other/repo")
    wrong_map = call(capsys, *check, "--store", tmp_path / "s3", "--forge-repo", "acme/x")

    assert refused.code == ExitCode.USAGE and refused.out == ""
    assert refused.lines == [
        f"auditor: error: {reviews}: review data of other/repo, but the audited repository is "
        f"{GITHUB_REPO}; if they are the same repository, pass --forge-repo other/repo "
        "(config: forge_repo)"
    ]
    assert wrong_map.code == ExitCode.USAGE
    assert wrong_map.lines == [
        f"auditor: error: {reviews}: review data of other/repo, but --forge-repo names acme/x; "
        "if they are the same repository, pass --forge-repo other/repo (config: forge_repo)"
    ]
    own = tmp_path / "own.json"
    history.write_export(own)
    same = call(capsys, *check[:-1], str(own), "--store", tmp_path / "s4")
    assert mapped.code == same.code == ExitCode.CONTROLS_FAILED
    assert json.loads(mapped.out) == json.loads(same.out)


def test_review_data_for_a_repository_without_origin_needs_the_mapping(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    history.repo.git("remote", "remove", "origin")
    reviews = history.write_export(tmp_path / "reviews.json")
    check = ("check", history.path, "--since", PERIOD_START, "-q", "--reviews-file", reviews)

    refused = call(capsys, *check, "--store", tmp_path / "s1")
    mapped = call(capsys, *check, "--store", tmp_path / "s2", "--forge-repo", GITHUB_REPO)

    assert refused.code == ExitCode.USAGE
    assert refused.lines == [
        f"auditor: error: {reviews}: review data of {GITHUB_REPO}, but the audited "
        "repository's origin does not name a forge repository; if it is "
        f"{GITHUB_REPO}, pass --forge-repo {GITHUB_REPO} (config: forge_repo)"
    ]
    assert mapped.code == ExitCode.CONTROLS_FAILED, mapped.err
