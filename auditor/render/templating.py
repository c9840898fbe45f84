"""The one Jinja environment of the renderers: strict, autoescaped, user templates first."""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from auditor.errors import RenderError
from auditor.render.text import visible
from auditor.resources import templates_dir


def _finalize(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def environment(user_dir: Path | None = None) -> Environment:
    """Templates from ``user_dir`` (when given) override the shipped ones of the same name.

    Every printed string is escaped and has its invisible characters made visible.
    """
    loaders = []
    if user_dir is not None:
        if not user_dir.is_dir():
            raise RenderError(f"template directory not found: {user_dir}")
        loaders.append(FileSystemLoader(user_dir))
    loaders.append(FileSystemLoader(templates_dir()))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


def read_asset(env: Environment, name: str) -> str:
    """The text of a non-template file (CSS, JavaScript) found through the same loaders."""
    if env.loader is None:
        raise RenderError(f"no template loader to read {name}")
    source, _, _ = env.loader.get_source(env, name)
    return source
