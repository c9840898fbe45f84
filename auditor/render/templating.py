"""The one Jinja environment of the renderers: strict, autoescaped, user templates first.

A user's template directory is data, not code: with one, every template renders in Jinja's
sandbox (no attributes starting with ``_``, no unsafe callables: nothing reaches Python's
internals or the shell), and a file of the directory that resolves outside it (a link to
``/etc/passwd``) or is not UTF-8 text is refused with a :class:`RenderError` naming it.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from auditor.errors import RenderError
from auditor.evidence.words import counted, noun, status_text
from auditor.render.text import cell, long_cell, markdown_inline, visible
from auditor.resources import templates_dir

_REMOTE_FRAME = re.compile(r'File "([^"\n]+\.(?:html|css|js))", line (\d+)')


def _finalize(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


class UserLoader(FileSystemLoader):
    """The templates of a user's directory: only regular UTF-8 files that resolve inside it."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.directory = directory
        self.root = directory.resolve()

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = self.directory.joinpath(*split_template_path(template))
        exists = path.is_symlink() or path.exists()
        if exists and not path.resolve().is_relative_to(self.root):
            raise RenderError(f"{path}: leads outside the template directory; refused")
        try:
            return super().get_source(environment, template)
        except UnicodeDecodeError:
            raise RenderError(f"{path}: not UTF-8 text; a template or asset must be") from None


def environment(user_dir: Path | None = None) -> Environment:
    """Templates from ``user_dir`` (when given) override the shipped ones of the same name.

    Every printed string is escaped and has its invisible characters made visible. With
    ``user_dir``, templates render sandboxed (see the module's documentation). The filter
    ``status_text`` writes a status value in words (see
    :func:`~auditor.evidence.words.status_text`); ``markdown`` renders a control text's code
    spans (:func:`~auditor.render.text.markdown_inline`);
    ``counted(n, "change")`` and ``noun(n, "change")`` state counts (see
    :mod:`auditor.evidence.words`).
    """
    loaders: list[FileSystemLoader] = []
    kind: type[Environment] = Environment
    if user_dir is not None:
        if not user_dir.is_dir():
            raise RenderError(f"template directory not found: {user_dir}")
        loaders.append(UserLoader(user_dir))
        kind = SandboxedEnvironment
    loaders.append(FileSystemLoader(templates_dir()))
    env = kind(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["cell"] = cell  # ``{{ e.subject|cell }}``: what a table cell shows of a text
    env.filters["long_cell"] = long_cell
    env.filters["status_text"] = status_text
    env.filters["markdown"] = markdown_inline
    env.globals.update(counted=counted, noun=noun)
    return env


def read_asset(env: Environment, name: str) -> str:
    """The text of a non-template file (CSS, JavaScript) found through the same loaders."""
    if env.loader is None:
        raise RenderError(f"no template loader to read {name}")
    source, _, _ = env.loader.get_source(env, name)
    return source


def _where(err: BaseException) -> tuple[str, int | None]:
    """The innermost template file and line of ``err``'s traceback (Jinja maps them back)."""
    if isinstance(err, TemplateSyntaxError):
        return err.filename or err.name or "", err.lineno
    frames = [
        f
        for f in traceback.extract_tb(err.__traceback__)
        if f.filename.endswith((".html", ".css", ".js"))
    ]
    if frames:
        return frames[-1].filename, frames[-1].lineno
    remote = _REMOTE_FRAME.findall(str(err.__cause__ or ""))  # raised in a forked renderer,
    return (remote[-1][0], int(remote[-1][1])) if remote else ("", None)  # its traceback text


def template_problem(err: BaseException, user_dir: Path | None) -> str | None:
    """A one-line message when ``err`` comes from a template, else ``None`` (a bug of ours).

    Jinja's own errors always qualify; any other error qualifies only when it was raised in a
    template of ``user_dir``, which the user wrote.
    """
    if isinstance(err, TemplateNotFound):
        return f"template not found: {err.name}"
    if isinstance(err, RenderError):  # already one line naming the file
        return str(err)
    filename, line = _where(err)
    in_user_dir = bool(
        filename and user_dir and Path(filename).resolve().is_relative_to(user_dir.resolve())
    )
    if not isinstance(err, TemplateError) and not in_user_dir:
        return None
    at = f"{filename}, line {line}" if filename and line else filename or "a template"
    message = " ".join(str(getattr(err, "message", None) or err).split())
    return f"template error in {at}: {message or type(err).__name__}"
