"""The files on main, and the changes people and bots make to them on their branches.

A branch's files are main's files seen through its ``overlay`` (path → content, or None for a
path the branch deleted); a direct push uses an empty overlay.
"""

from __future__ import annotations

import re
from collections import defaultdict
from random import Random

from auditor.demo import messages
from auditor.demo.content import (
    TEAMS,
    action_pin,
    actions_bump,
    app_onboarding,
    diagram,
    edit_file,
    rename_target,
    scope_of,
)
from auditor.demo.kubernetes import bump
from auditor.demo.objects import Changes, Overlay
from auditor.demo.terraform import iam_statement, provider_bump

Change = tuple[Overlay, str]
"""The changed paths and a short summary for the commit subject."""


class Editor:
    def __init__(self, rng: Random, initial: dict[str, bytes]) -> None:
        self.rng = rng
        self.initial = initial
        self.files: dict[str, bytes] = {}
        self.index: dict[str, set[str]] = defaultdict(set)

    def record(self, changes: Changes) -> None:
        """Apply changes that landed on main."""
        for path, content in changes.items():
            if content is None:
                self.files.pop(path, None)
                self.index[scope_of(path)].discard(path)
            else:
                self.files[path] = content
                self.index[scope_of(path)].add(path)

    def paths(self, scope: str, overlay: Overlay) -> list[str]:
        paths = set(self.index[scope])
        for path, content in overlay.items():
            if scope_of(path) == scope:
                (paths.add if content is not None else paths.discard)(path)
        return sorted(paths)

    def read(self, path: str, overlay: Overlay) -> str:
        content = overlay[path] if path in overlay else self.files.get(path)
        return (content or b"").decode()

    def import_all(self) -> Change:
        return dict(self.initial), "import existing infrastructure configuration"

    def onboard(self, app: str) -> Change:
        rng = self.rng
        files = app_onboarding(app, rng.choice(TEAMS), rng.random() < 0.3, rng)
        return {path: text.encode() for path, text in files.items()}, "onboard service"

    def leak(self, scope: str, overlay: Overlay) -> Change:
        path = f"{scope}/terraform.tfvars"
        text = self.read(path, overlay) + messages.leaked_credentials(self.rng)
        return {path: text.encode()}, "add bootstrap credentials for build agents"

    def grant(self, scope: str, overlay: Overlay) -> Change:
        """A new statement in an IAM policy of the root module at ``scope``."""
        for path in self.paths(scope, overlay):
            if path.endswith(".tf") and (edit := iam_statement(self.rng, self.read(path, overlay))):
                return {path: edit.text.encode()}, edit.summary
        raise AssertionError(f"no IAM policy document in {scope}")

    def human(self, scope: str, overlay: Overlay) -> Change:
        """One human edit inside ``scope``: usually a content change, sometimes a move."""
        rng = self.rng
        paths = self.paths(scope, overlay)
        if rng.random() < 0.03:
            moved = self._rename(paths, overlay)
            if moved:
                return moved
        if scope == "docs" and rng.random() < 0.3:
            return {"docs/architecture.png": diagram(rng)}, "update architecture diagram"
        texts = [path for path in paths if not path.endswith(".png")]
        for path in rng.sample(texts, min(len(texts), 12)):
            edit = edit_file(rng, path, self.read(path, overlay))
            if edit is not None:
                return {path: edit.text.encode()}, edit.summary
        path = texts[0]
        return {path: (self.read(path, overlay) + "\n").encode()}, f"tidy {_name(path)}"

    def _rename(self, paths: list[str], overlay: Overlay) -> Change | None:
        moves = [(old, new) for old in paths if (new := rename_target(old)) and new not in paths]
        if not moves:
            return None
        old, new = self.rng.choice(moves)
        comment = "" if old.endswith(".md") else "# Owned by the platform team.\n"
        changes: Overlay = {old: None, new: (comment + self.read(old, overlay)).encode()}
        kustomization = old.rsplit("/", 1)[0] + "/kustomization.yaml"
        listing = self.read(kustomization, overlay)
        if listing and old.endswith(".yaml"):
            updated = listing.replace(f"- {_name(old)}\n", f"- {_name(new)}\n")
            changes[kustomization] = updated.encode()
        return changes, f"move {_name(old)} to {_name(new)}"

    def image_update(self, scope: str) -> Change:
        """argocd-image-updater's write-back: a new tag in a non-production overlay."""
        app = _name(scope)
        env = self.rng.choice(("dev", "staging"))
        path = f"{scope}/overlays/{env}/kustomization.yaml"
        text = self.read(path, {})
        match = re.search(r"newTag: (\S+)", text)
        assert match is not None
        old = match.group(1)
        new = bump(old, self.rng)
        changes: Overlay = {path: text.replace(f"newTag: {old}", f"newTag: {new}").encode()}
        message = (
            f"build: automatic update of {app}-{env}\n\n"
            f"updates image acme/{app} tag '{old}' to '{new}'\n"
        )
        return changes, message

    def renovate(self, scope: str, overlay: Overlay) -> Change:
        """Renovate's update of a chart dependency or of the AWS provider of a root module."""
        if scope.startswith("charts/"):
            path = f"{scope}/Chart.yaml"
            text = self.read(path, overlay)
            match = re.search(r"- name: redis\n    version: (\S+)", text)
            assert match is not None
            new = bump(match.group(1), self.rng)
            updated = text[: match.start(1)] + new + text[match.end(1) :]
            return {path: updated.encode()}, f"update helm release redis to v{new}"
        names = (".terraform.lock.hcl", "versions.tf")
        bumped = provider_bump(
            self.rng, {name: self.read(f"{scope}/{name}", overlay) for name in names}
        )
        assert bumped is not None
        changed, version = bumped
        return (
            {f"{scope}/{name}": text.encode() for name, text in changed.items()},
            f"update terraform aws to v{version}",
        )

    def dependabot(self, overlay: Overlay) -> Change:
        """Dependabot's bump of one GitHub Action in every workflow that uses it."""
        paths = [p for p in self.paths(".github", overlay) if p.startswith(".github/workflows/")]
        texts = {path: self.read(path, overlay) for path in paths}
        bumped = actions_bump(self.rng, texts[paths[0]])
        assert bumped is not None
        action, old, new = bumped
        changes: Overlay = {}
        for path, text in texts.items():
            updated = text.replace(action_pin(action, old), action_pin(action, new))
            if updated != text:
                changes[path] = updated.encode()
        return changes, f"bump {action} from {old} to {new}"


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]
