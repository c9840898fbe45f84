"""Raw answers of a forge, as the store and the review export keep them: ``{"status": 200,
"body": ...}`` for what the forge said, refusals (``403``, ``404``) included, or ``{"error":
"..."}`` when it could not be read at all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auditor.errors import ForgeError
from auditor.guard.interface import Collection
from auditor.reviews.http import ForgeClient, ForgeRefusal, Params
from auditor.reviews.interface import Payload

Raw = dict[str, Any]
"""A raw snapshot or checks bundle, as the forge answered, with its collection time."""


def answer(client: ForgeClient, path: str, params: Params | None = None, *, pages: str = "") -> Raw:
    """The raw answer to one GET: ``pages`` = ``list`` follows a paginated list, the name of a
    key follows a paginated object whose ``key`` holds the items (GitHub check runs)."""
    try:
        if pages == "list":
            body: Any = client.collect(path, params)
        elif pages:
            documents = list(client.documents(path, params))
            body = dict(documents[0]) if documents else {}
            body[pages] = [item for document in documents for item in document.get(pages, [])]
        else:
            body = client.get(path, params)
    except ForgeRefusal as err:
        return {"status": err.status, "body": err.body, "error": str(err)}
    except ForgeError as err:
        return {"error": str(err)}
    return {"status": 200, "body": body}


@dataclass(frozen=True)
class Answer:
    """A raw answer, read back."""

    status: int | None
    body: Any
    error: str

    @classmethod
    def of(cls, raw: Payload, key: str) -> Answer:
        item = raw.obj(key)
        return cls(item.opt_number("status"), item.data.get("body"), item.opt_text("error") or "")

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def refused(self) -> bool:
        return self.status in (401, 403, 404)

    def message(self) -> str:
        if isinstance(self.body, Mapping) and isinstance(self.body.get("message"), str):
            return str(self.body["message"])
        return ""

    def failure(self, what: str) -> tuple[Collection, str]:
        """How a collection that got this answer for ``what`` went, and why."""
        if self.status is None:
            return Collection.FAILED, f"{what}: {self.error or 'not read'}"
        if self.refused:
            return Collection.DENIED, f"{what}: {self.error or f'refused ({self.status})'}"
        return Collection.FAILED, f"{what}: {self.error or f'answered {self.status}'}"
