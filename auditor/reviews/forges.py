"""The forge registry: what auditor knows of each forge, in one table.

A review source is one module (an :class:`~auditor.reviews.http.ApiSource` subclass reading the
forge's REST API, e.g. :mod:`auditor.reviews.github`), one :class:`~auditor.reviews.interface.Forge`
member, and one :class:`ForgeEntry` in :data:`FORGES`. Everything else derives from the entry:
``--forge``'s choices and the config's, the token variable read (and masked in every output, see
:func:`auditor.redaction.register_token_variables`), the hosts whose API is derived from an origin
remote, the web links of commits and requests in the pack, the starter config's guesses, and the
source class that reads the API and parses its raw payloads (also from a review export).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from auditor.errors import UsageError
from auditor.redaction import register_token_variables
from auditor.reviews import github, gitlab
from auditor.reviews.http import ApiSource, AuthScheme
from auditor.reviews.interface import Forge

NO_FORGE = "none"
"""The ``--forge`` (and config ``forge``) value for no forge."""


@dataclass(frozen=True)
class ForgeEntry:
    """One forge: its name, credentials, hosts, web pages and source."""

    forge: Forge
    name: str
    """As messages name it: ``GitHub``."""
    token_variable: str
    """The environment variable its token is read from (and masked wherever it occurs)."""
    host: str
    """The forge's own public host (``github.com``): review data of a repository named only by
    ``OWNER/REPO`` is there, and an export's web links point there."""
    api: str
    """The REST API base of the public host."""
    api_hosts: frozenset[str]
    """The origin hosts whose API is :attr:`api`; for any other host the API is named with
    ``--forge-url``, never derived: the token goes where it points."""
    self_hosted_api: str
    """Where a self-hosted instance (GitHub Enterprise Server, self-managed GitLab) usually
    serves the API, under its host: the starter config's guess, for the user to check."""
    host_pattern: re.Pattern[str]
    """Hosts other than :attr:`api_hosts` that look like this forge's, when no review data says
    which forge it is (the web links of a pack without review data, the starter's guess)."""
    commit_page: str
    """A commit's web page under the repository's web URL, with ``{sha}``."""
    request_page: str
    """A pull or merge request's web page under the repository's web URL, with ``{number}``."""
    source: type[ApiSource]
    """Reads the API's raw payloads of merged requests, and parses them (also from an export)."""
    auth: AuthScheme
    headers: Mapping[str, str] = field(default_factory=dict)
    """Sent with every API request."""

    @property
    def value(self) -> str:
        """The word ``--forge``, the config, the store and the pack use: ``github``."""
        return self.forge.value

    def api_url_for(self, host: str) -> str | None:
        """The REST API base of ``host`` when it is the forge's public host, else None."""
        return self.api if host in self.api_hosts else None

    def looks_like(self, host: str) -> bool:
        return host in self.api_hosts or self.host_pattern.search(host) is not None

    def links(self, web_url: str) -> tuple[str, str]:
        """Templates of the commit and request pages of the repository at ``web_url``."""
        return f"{web_url}{self.commit_page}", f"{web_url}{self.request_page}"


FORGES: Mapping[Forge, ForgeEntry] = {
    entry.forge: entry
    for entry in (
        ForgeEntry(
            Forge.GITHUB,
            name="GitHub",
            token_variable="GITHUB_TOKEN",
            host="github.com",
            api=github.GITHUB_API,
            api_hosts=frozenset({"github.com", "www.github.com"}),
            self_hosted_api="/api/v3",
            host_pattern=re.compile(r"^github\."),
            commit_page="/commit/{sha}",
            request_page="/pull/{number}",
            source=github.GitHubSource,
            auth=AuthScheme.BEARER,
            headers=github.HEADERS,
        ),
        ForgeEntry(
            Forge.GITLAB,
            name="GitLab",
            token_variable="GITLAB_TOKEN",
            host="gitlab.com",
            api=gitlab.GITLAB_API,
            api_hosts=frozenset({"gitlab.com", "www.gitlab.com"}),
            self_hosted_api="/api/v4",
            host_pattern=re.compile(r"gitlab"),
            commit_page="/-/commit/{sha}",
            request_page="/-/merge_requests/{number}",
            source=gitlab.GitLabSource,
            auth=AuthScheme.PRIVATE_TOKEN,
        ),
    )
}
"""Every forge, in the order choices and messages list them."""

register_token_variables(entry.token_variable for entry in FORGES.values())


def forge_entry(forge: Forge) -> ForgeEntry:
    return FORGES[forge]


def forge_of_host(host: str) -> ForgeEntry | None:
    """The first forge whose :attr:`~ForgeEntry.host_pattern` ``host`` matches, if any."""
    return next((entry for entry in FORGES.values() if entry.looks_like(host)), None)


def forge_named(value: str) -> Forge | None:
    """The forge a ``--forge`` word names: None for ``none``; a :class:`UsageError` listing the
    choices for any other word."""
    if value == NO_FORGE:
        return None
    for forge in FORGES:
        if forge.value == value:
            return forge
    raise UsageError(f"expected one of {', '.join(FORGE_CHOICES)}, got {value!r}")


FORGE_CHOICES = (*(forge.value for forge in FORGES), NO_FORGE)
"""``--forge``'s choices, and the config's: every forge, then ``none``."""

TOKEN_VARIABLES = {forge: entry.token_variable for forge, entry in FORGES.items()}
"""The environment variable a caller reads each forge's token from."""


def forges_listed(conjunction: str = "or") -> str:
    """The forges' words for a message: ``github or gitlab``."""
    words = [forge.value for forge in FORGES]
    return ", ".join(words[:-1]) + f" {conjunction} {words[-1]}" if len(words) > 1 else words[0]
