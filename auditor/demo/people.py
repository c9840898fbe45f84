"""The people and bots of the sample organisation: accounts, Git identities and ``.mailmap``."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from random import Random

FIRST_NAMES = (
    "Alice", "Bongani", "Chen", "Diego", "Emma", "François", "Grace", "Hiroshi", "Ingrid",
    "Jamal", "Kavya", "Liam", "Marta", "Noah", "Olivia", "Priya", "Rafael", "Sofia", "Tomasz",
    "Yara",
)  # fmt: skip
LAST_NAMES = (
    "Nguyen", "Dlamini", "Wei", "Hernández", "Schulz", "Dubois", "O'Malley", "Tanaka",
    "Johansson", "Haddad", "Iyer", "Murphy", "Kowalska", "Fischer", "Brown", "Raman", "Costa",
    "Rossi", "Nowak", "Haddad-Smith",
)  # fmt: skip
ZONES = ((60, 120), (0, 60), (-300, -240), (330, 330), (540, 540), (120, 120), (-480, -420))
PERSONAL_HOSTS = ("fastmail.example", "proton.example", "mailbox.example")
WORK_DOMAIN = "acme.example"
NOREPLY = "users.noreply.github.com"


@dataclass(frozen=True)
class Account:
    """A forge account."""

    login: str
    id: int
    type: str
    """``User`` or ``Bot``, as GitHub spells it."""


@dataclass(frozen=True)
class Identity:
    """One ``Name <email>`` pair as it appears in commits."""

    name: str
    email: str
    account: Account | None
    """The forge account the email is linked to; None when the forge cannot resolve it."""
    mapped: bool = True
    """Whether ``.mailmap`` maps this identity to its owner's canonical one."""


@dataclass(frozen=True)
class Zone:
    """A UTC offset in minutes for winter and for summer (April to October)."""

    winter: int
    summer: int

    def offset(self, month: int) -> int:
        return self.summer if 4 <= month <= 10 else self.winter


@dataclass(frozen=True)
class Person:
    """An engineer with one forge account and several commit identities."""

    account: Account
    name: str
    identities: tuple[Identity, ...]
    """The canonical work identity first."""
    weights: tuple[int, ...]
    zone: Zone
    signs_off: bool
    signing: str
    """``pgp`` or ``ssh``: how this person signs their commits (the organisation requires it)."""

    @property
    def login(self) -> str:
        return self.account.login

    @property
    def work(self) -> Identity:
        return self.identities[0]

    def pick_identity(self, rng: Random) -> Identity:
        return rng.choices(self.identities, weights=self.weights)[0]


@dataclass(frozen=True)
class Bot:
    """An automation account that commits or opens pull requests."""

    identity: Identity
    zone: Zone = Zone(0, 0)
    signing: str | None = None
    """How it signs the commits it writes itself; None for an app that commits through the
    forge's API, where the forge signs (GitHub's web-flow key)."""

    @property
    def account(self) -> Account | None:
        return self.identity.account

    @property
    def name(self) -> str:
        return self.identity.name


Actor = Person | Bot


def _bot(
    name: str, email: str, login: str | None, account_id: int, signing: str | None = None
) -> Bot:
    account = Account(login, account_id, "Bot") if login else None
    return Bot(Identity(name, email, account, mapped=False), signing=signing)


RENOVATE = _bot("renovate[bot]", f"29139614+renovate[bot]@{NOREPLY}", "renovate[bot]", 29139614)
DEPENDABOT = _bot(
    "dependabot[bot]", f"49699333+dependabot[bot]@{NOREPLY}", "dependabot[bot]", 49699333
)
IMAGE_UPDATER = _bot("argocd-image-updater", "noreply@argoproj.io", None, 0, signing="ssh")
WEB_FLOW = Identity("GitHub", "noreply@github.com", Account("web-flow", 19864447, "User"))
CONTRACTOR = Identity("Jordan Blake", "jordan@blake-consulting.example", None, mapped=False)


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _slug(text: str) -> str:
    return "".join(char for char in ascii_fold(text).lower() if char.isalnum())


def build_people(rng: Random, count: int) -> tuple[Person, ...]:
    """``count`` people with distinct logins.

    The first has a noreply identity missing from ``.mailmap``. Everyone signs their commits:
    every third person with PGP, the others with SSH.
    """
    people: list[Person] = []
    logins: set[str] = set()
    for index in range(count):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index + index // len(FIRST_NAMES)) % len(LAST_NAMES)]
        login = f"{_slug(first)[0]}{_slug(last)}"
        while login in logins:
            login = f"{login}{index}"
        logins.add(login)
        account = Account(login, rng.randrange(1_000_000, 99_000_000), "User")
        signing = "pgp" if index % 3 == 1 else "ssh"
        people.append(_person(rng, account, (first, last), signing, unmapped_noreply=index == 0))
    return tuple(people)


def _person(
    rng: Random,
    account: Account,
    names: tuple[str, str],
    signing: str,
    unmapped_noreply: bool,
) -> Person:
    first, last = names
    name = f"{first} {last}"
    local = f"{_slug(first)}.{_slug(last)}"
    linked_personal = rng.random() < 0.5
    variant = ascii_fold(name) if ascii_fold(name) != name else f"{first[0]}. {last}"
    identities = (
        Identity(name, f"{local}@{WORK_DOMAIN}", account),
        Identity(variant, f"{local}@{WORK_DOMAIN}", account),
        Identity(name, f"{account.id}+{account.login}@{NOREPLY}", account, not unmapped_noreply),
        Identity(
            account.login,
            f"{_slug(first)[0]}{_slug(last)}@{rng.choice(PERSONAL_HOSTS)}",
            account if linked_personal else None,
        ),
    )
    return Person(
        account=account,
        name=name,
        identities=identities,
        weights=(72, 8, 10, 10),
        zone=Zone(*rng.choice(ZONES)),
        signs_off=rng.random() < 0.3,
        signing=signing,
    )


def mailmap(people: tuple[Person, ...]) -> str:
    """The ``.mailmap`` text mapping every mapped identity to its owner's work identity."""
    lines = ["# Canonical names and addresses for `git log --use-mailmap` and `git shortlog`.", ""]
    for person in sorted(people, key=lambda p: p.name):
        canonical = f"{person.name} <{person.work.email}>"
        lines.append(canonical)
        emails = sorted(
            {i.email for i in person.identities[1:] if i.mapped and i.email != person.work.email}
        )
        lines.extend(f"{canonical} <{email}>" for email in emails)
    return "\n".join(lines) + "\n"


def teams(people: tuple[Person, ...]) -> dict[str, tuple[Person, ...]]:
    """The CODEOWNERS teams: everyone is in platform and SRE; three people are the security
    team, two the platform leads."""
    return {
        "@acme/platform": people,
        "@acme/platform-leads": (people[1], people[-1]),
        "@acme/security": people[1:4],
        "@acme/sre": people,
    }
