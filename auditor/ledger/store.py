"""The evidence store: one SQLite database holding the mined history of many repositories.

Facts about a commit (its metadata, its diff) are immutable and keyed by SHA, so they are
written as they are mined, in batches, each batch one transaction. What a branch looked like
(its first-parent chain, the chain of custody, its tip) is replaced in one final transaction, so
an interrupted run leaves the previous state intact and the next run resumes where it stopped.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.errors import StoreError
from auditor.git import RepoFacts
from auditor.ledger.commits import DEFAULT_BOTS, BotPolicy, commit_from_columns, request_ref
from auditor.model import (
    BranchName,
    Change,
    ChangeType,
    Commit,
    CommitSha,
    Completeness,
    CustodyLink,
    EventKind,
    FileChange,
    HistoryEvent,
    RepositoryRecord,
    RequestRef,
    RunRecord,
)
from auditor.outcome import Outcome

SCHEMA_VERSION = 12
DB_NAME = "evidence.sqlite"
BULK_CACHE_KIB = 64 * 1024

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE repositories (
        id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
        path TEXT NOT NULL, remote TEXT NOT NULL,
        incomplete TEXT NOT NULL DEFAULT '[]', mailmap TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE commits (
        repo_id INTEGER NOT NULL, sha TEXT NOT NULL, parents TEXT NOT NULL,
        author_name TEXT, author_email TEXT, author_raw_name TEXT, author_raw_email TEXT,
        author_time INTEGER, author_offset INTEGER,
        committer_name TEXT, committer_email TEXT,
        committer_raw_name TEXT, committer_raw_email TEXT,
        committer_time INTEGER, committer_offset INTEGER,
        subject TEXT, body TEXT, trailers TEXT, signature TEXT, encoding TEXT,
        PRIMARY KEY (repo_id, sha)
    ) WITHOUT ROWID;
    CREATE TABLE changes (
        repo_id INTEGER NOT NULL, sha TEXT NOT NULL, files TEXT NOT NULL,
        lines_added INTEGER NOT NULL, lines_deleted INTEGER NOT NULL,
        PRIMARY KEY (repo_id, sha)
    ) WITHOUT ROWID;
    CREATE TABLE branches (
        repo_id INTEGER NOT NULL, name TEXT NOT NULL, tip TEXT NOT NULL, mined_at INTEGER NOT NULL,
        PRIMARY KEY (repo_id, name)
    );
    CREATE TABLE chain (
        repo_id INTEGER NOT NULL, branch TEXT NOT NULL, position INTEGER NOT NULL,
        sha TEXT NOT NULL,
        PRIMARY KEY (repo_id, branch, position)
    ) WITHOUT ROWID;
    CREATE TABLE custody (
        repo_id INTEGER NOT NULL, branch TEXT NOT NULL, commit_sha TEXT NOT NULL,
        change_sha TEXT NOT NULL,
        PRIMARY KEY (repo_id, branch, commit_sha)
    ) WITHOUT ROWID;
    CREATE TABLE events (
        id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL, kind TEXT NOT NULL, branch TEXT NOT NULL,
        detected_at INTEGER NOT NULL, old_tip TEXT NOT NULL, new_tip TEXT NOT NULL,
        lost TEXT NOT NULL
    );
    """,
    2: """
    CREATE TABLE review_bundles (
        repo_id INTEGER NOT NULL, forge TEXT NOT NULL, number INTEGER NOT NULL,
        base_ref TEXT NOT NULL, updated_at TEXT NOT NULL, bundle TEXT NOT NULL,
        PRIMARY KEY (repo_id, forge, number)
    );
    CREATE TABLE review_cursors (
        repo_id INTEGER NOT NULL, forge TEXT NOT NULL, base_ref TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (repo_id, forge, base_ref)
    );
    CREATE TABLE http_cache (
        url TEXT PRIMARY KEY, etag TEXT NOT NULL, body TEXT NOT NULL, next_url TEXT
    );
    """,
    3: """
    CREATE TABLE analyses (
        repo_id INTEGER NOT NULL, sha TEXT NOT NULL, rules TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (repo_id, sha, rules)
    ) WITHOUT ROWID;
    """,
    4: """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY, as_of INTEGER NOT NULL, period TEXT NOT NULL,
        since INTEGER, until INTEGER, config TEXT NOT NULL, config_sha256 TEXT NOT NULL,
        tool_version TEXT NOT NULL, repositories TEXT NOT NULL, exit_code INTEGER NOT NULL,
        pack TEXT NOT NULL, manifest_sha256 TEXT NOT NULL,
        started_at INTEGER, finished_at INTEGER, notes TEXT NOT NULL DEFAULT '[]'
    );
    """,
    # Facts arrive in SHA order, that is in random order: tables clustered by SHA rewrote pages
    # all over the file on every batch. Rows now append, and a unique index finds them. The
    # chain gains an index by SHA (listing the commits of a period looked each one up by scan).
    5: """
    CREATE TABLE commits_v5 (
        repo_id INTEGER NOT NULL, sha TEXT NOT NULL, parents TEXT NOT NULL,
        author_name TEXT, author_email TEXT, author_raw_name TEXT, author_raw_email TEXT,
        author_time INTEGER, author_offset INTEGER,
        committer_name TEXT, committer_email TEXT,
        committer_raw_name TEXT, committer_raw_email TEXT,
        committer_time INTEGER, committer_offset INTEGER,
        subject TEXT, body TEXT, trailers TEXT, signature TEXT, encoding TEXT
    );
    INSERT INTO commits_v5 SELECT * FROM commits;
    DROP TABLE commits;
    ALTER TABLE commits_v5 RENAME TO commits;
    CREATE UNIQUE INDEX commits_by_sha ON commits (repo_id, sha);
    CREATE TABLE changes_v5 (
        repo_id INTEGER NOT NULL, sha TEXT NOT NULL, files TEXT NOT NULL,
        lines_added INTEGER NOT NULL, lines_deleted INTEGER NOT NULL
    );
    INSERT INTO changes_v5 SELECT * FROM changes;
    DROP TABLE changes;
    ALTER TABLE changes_v5 RENAME TO changes;
    CREATE UNIQUE INDEX changes_by_sha ON changes (repo_id, sha);
    CREATE TABLE custody_v5 (
        repo_id INTEGER NOT NULL, branch TEXT NOT NULL, commit_sha TEXT NOT NULL,
        change_sha TEXT NOT NULL
    );
    INSERT INTO custody_v5 SELECT * FROM custody;
    DROP TABLE custody;
    ALTER TABLE custody_v5 RENAME TO custody;
    CREATE UNIQUE INDEX custody_by_commit ON custody (repo_id, branch, commit_sha);
    CREATE TABLE analyses_v5 (
        repo_id INTEGER NOT NULL, sha TEXT NOT NULL, rules TEXT NOT NULL, data TEXT NOT NULL
    );
    INSERT INTO analyses_v5 SELECT * FROM analyses;
    DROP TABLE analyses;
    ALTER TABLE analyses_v5 RENAME TO analyses;
    CREATE UNIQUE INDEX analyses_by_sha ON analyses (repo_id, sha, rules);
    CREATE INDEX chain_by_sha ON chain (repo_id, branch, sha);
    """,
    # Identities, as the mailmap resolved them, kept apart, so that an incremental mine knows the
    # people it has seen without scanning every commit or reading the mailmap.
    6: """
    CREATE TABLE identities (
        repo_id INTEGER NOT NULL, raw_name TEXT NOT NULL, raw_email TEXT NOT NULL,
        name TEXT NOT NULL, email TEXT NOT NULL,
        PRIMARY KEY (repo_id, raw_name, raw_email)
    );
    INSERT OR IGNORE INTO identities
        SELECT repo_id, author_raw_name, author_raw_email, author_name, author_email FROM commits
        UNION
        SELECT repo_id, committer_raw_name, committer_raw_email, committer_name, committer_email
        FROM commits;
    """,
    # What of a commit object's headers could not be recorded as written (a NUL in a name, a
    # date or time zone no clock can show), and what was recorded instead. And the tip up to
    # which a branch's ledger was found whole by its commit objects' parents.
    7: """
    ALTER TABLE commits ADD COLUMN notes TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE branches ADD COLUMN checked TEXT NOT NULL DEFAULT '';
    """,
    # A change rewritten away from its branch (a force-push) stays in the populations of the
    # periods it landed in: where it stood on the chain, when the rewrite was found, and the
    # commits it had brought in that the rewrite made unreachable.
    8: """
    CREATE TABLE rewritten (
        repo_id INTEGER NOT NULL, branch TEXT NOT NULL, change_sha TEXT NOT NULL,
        position INTEGER NOT NULL, detected_at INTEGER NOT NULL,
        PRIMARY KEY (repo_id, branch, change_sha)
    );
    CREATE TABLE rewritten_custody (
        repo_id INTEGER NOT NULL, branch TEXT NOT NULL, commit_sha TEXT NOT NULL,
        change_sha TEXT NOT NULL,
        PRIMARY KEY (repo_id, branch, commit_sha)
    );
    """,
    # Runs chain: each names the run before it that wrote a pack, and that pack's manifest
    # digest. Runs recorded earlier were not chained (``chained`` 0).
    9: """
    ALTER TABLE runs ADD COLUMN previous_run INTEGER;
    ALTER TABLE runs ADD COLUMN previous_manifest_sha256 TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN chained INTEGER NOT NULL DEFAULT 0;
    """,
    # Deployments read from reconcilers and pipelines, kept past the reconciler's own history
    # limit: one row per source (an application, a Flux object, a pipeline system) and record
    # id; what each read saw of the system besides; the spans between two reads that neither
    # covers (more deployments happened than the source keeps); and per source, where what the
    # store holds begins (NULL: from the source's first deployment).
    10: """
    CREATE TABLE deployments (
        repo_id INTEGER NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL,
        deployed_at INTEGER NOT NULL, seq INTEGER, record TEXT NOT NULL,
        PRIMARY KEY (repo_id, source, id)
    ) WITHOUT ROWID;
    CREATE TABLE deployment_observations (
        repo_id INTEGER NOT NULL, source TEXT NOT NULL, observed_at INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (repo_id, source, observed_at)
    ) WITHOUT ROWID;
    CREATE TABLE deployment_gaps (
        repo_id INTEGER NOT NULL, source TEXT NOT NULL, after INTEGER NOT NULL,
        before INTEGER NOT NULL, detected_at INTEGER NOT NULL, reason TEXT NOT NULL,
        PRIMARY KEY (repo_id, source, after, before)
    ) WITHOUT ROWID;
    CREATE TABLE deployment_sources (
        repo_id INTEGER NOT NULL, source TEXT NOT NULL, covered_from INTEGER,
        PRIMARY KEY (repo_id, source)
    ) WITHOUT ROWID;
    """,
    # When each branch was first mined: INT-02 vouches for no rewrite before it. Stores from
    # before keep the earliest mining record they have: the branch's last mining or a rewrite
    # detected while mining it, whichever came first.
    11: """
    ALTER TABLE branches ADD COLUMN first_mined INTEGER;
    UPDATE branches SET first_mined = MIN(
        mined_at,
        COALESCE(
            (SELECT MIN(e.detected_at) FROM events e
             WHERE e.repo_id = branches.repo_id AND e.branch = branches.name),
            mined_at
        )
    );
    """,
    # Branch protection as the forge showed it at each collection, kept as a timeline (the
    # forge keeps no history of it), and the checks of each merged request.
    12: """
    CREATE TABLE protection_snapshots (
        repo_id INTEGER NOT NULL, forge TEXT NOT NULL, branch TEXT NOT NULL,
        collected_at TEXT NOT NULL, raw TEXT NOT NULL,
        PRIMARY KEY (repo_id, forge, branch, collected_at)
    );
    CREATE TABLE request_checks (
        repo_id INTEGER NOT NULL, forge TEXT NOT NULL, number INTEGER NOT NULL,
        head_sha TEXT NOT NULL, raw TEXT NOT NULL,
        PRIMARY KEY (repo_id, forge, number)
    );
    """,
}


_BUSY = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (primary result codes)


class Store:
    """The evidence store. Open it with :meth:`open`; use it as a context manager."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, directory: Path, *, create: bool = True) -> Store:
        path = directory / DB_NAME
        if not create and not path.exists():
            raise StoreError(f"{directory}: no evidence store here (run `auditor mine` first)")
        try:
            directory.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            store = cls(db, path)
            store._migrate()
            if create:  # a command that only reads (`runs`) may read a read-only store
                store._check_writable()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{path}: cannot open the evidence store: {exc}") from None
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    def _check_writable(self) -> None:
        """Fail at the start, not at the first write of a long run, when the database cannot
        be written (a read-only file, directory or disk): a write, rolled back. It does not
        wait for the lock: another process writing (busy) shows the database is writable."""
        timeout = self.db.execute("PRAGMA busy_timeout").fetchone()[0]
        self.db.execute("PRAGMA busy_timeout = 0")
        self.db.execute("BEGIN")
        try:
            self.db.execute("UPDATE meta SET value = value WHERE key = 'schema_version'")
        except sqlite3.OperationalError as err:
            if getattr(err, "sqlite_errorcode", 0) & 0xFF not in _BUSY:
                raise
        finally:
            self.db.execute("ROLLBACK")
            self.db.execute(f"PRAGMA busy_timeout = {int(timeout)}")

    def _migrate(self) -> None:
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store schema {version} is newer than this auditor supports "
                f"({SCHEMA_VERSION}); upgrade auditor"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for statement in _MIGRATIONS[target].split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(target),)
                )

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Many write transactions in a row: a larger page cache, one WAL checkpoint at the end.

        Every transaction still commits to the write-ahead log as usual, so an interruption
        loses at most the one in progress; only copying the log into the database waits.
        """
        cache = self.db.execute("PRAGMA cache_size").fetchone()[0]
        self.db.execute(f"PRAGMA cache_size = {BULK_CACHE_KIB * -1}")
        self.db.execute("PRAGMA wal_autocheckpoint = 0")
        try:
            yield
        finally:
            self.db.execute("PRAGMA wal_autocheckpoint = 1000")
            self.db.execute(f"PRAGMA cache_size = {int(cache)}")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- repositories -------------------------------------------------------------------------

    def upsert_repository(self, facts: RepoFacts) -> int:
        incomplete = json.dumps(list(facts.completeness.reasons))
        with self.transaction():
            self.db.execute(
                """INSERT INTO repositories (key, name, path, remote, incomplete) VALUES (?,?,?,?,?)
                   ON CONFLICT(key) DO UPDATE SET name=excluded.name, path=excluded.path,
                   remote=excluded.remote, incomplete=excluded.incomplete""",
                (facts.key, facts.name, str(facts.path), facts.remote_url, incomplete),
            )
        row = self.db.execute("SELECT id FROM repositories WHERE key = ?", (facts.key,)).fetchone()
        return int(row[0])

    def completeness(self, repo_id: int) -> Completeness:
        row = self.db.execute(
            "SELECT incomplete FROM repositories WHERE id = ?", (repo_id,)
        ).fetchone()
        reasons = tuple(json.loads(row[0])) if row else ()
        return Completeness(complete=not reasons, reasons=reasons)

    def mailmap_digest(self, repo_id: int) -> str:
        row = self.db.execute(
            "SELECT mailmap FROM repositories WHERE id = ?", (repo_id,)
        ).fetchone()
        return str(row[0]) if row else ""

    def set_mailmap_digest(self, repo_id: int, digest: str) -> None:
        self.db.execute("UPDATE repositories SET mailmap = ? WHERE id = ?", (digest, repo_id))

    def identities(self, repo_id: int) -> dict[tuple[str, str], tuple[str, str]]:
        """Raw name and email of everyone in the stored commits → their name and email as the
        mailmap resolved them."""
        rows = self.db.execute(
            "SELECT raw_name, raw_email, name, email FROM identities WHERE repo_id = ?", (repo_id,)
        )
        return {(raw_name, raw_email): (name, email) for raw_name, raw_email, name, email in rows}

    def raw_identities(self, repo_id: int) -> list[tuple[str, str]]:
        return list(self.identities(repo_id))

    def reresolve_identities(
        self, repo_id: int, resolved: Mapping[tuple[str, str], tuple[str, str]]
    ) -> None:
        self.db.executemany(
            "UPDATE identities SET name = ?, email = ?"
            " WHERE repo_id = ? AND raw_name = ? AND raw_email = ?",
            [(n, e, repo_id, rn, re) for (rn, re), (n, e) in resolved.items()],
        )
        for role in ("author", "committer"):
            self.db.executemany(
                f"""UPDATE commits SET {role}_name = ?, {role}_email = ?
                    WHERE repo_id = ? AND {role}_raw_name = ? AND {role}_raw_email = ?""",
                [(n, e, repo_id, rn, re) for (rn, re), (n, e) in resolved.items()],
            )

    # -- immutable facts ----------------------------------------------------------------------

    def missing(self, repo_id: int, table: str, shas: Iterable[str]) -> list[str]:
        """Those of ``shas`` (order kept) that ``table`` ("commits" or "changes") lacks."""
        assert table in ("commits", "changes")
        wanted = list(shas)
        present: set[str] = set()
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT sha FROM {table} WHERE repo_id = ? AND sha IN ({marks})", (repo_id, *part)
            )
            present.update(row[0] for row in rows)
        return [sha for sha in wanted if sha not in present]

    def add_commit_rows(self, repo_id: int, rows: Sequence[Sequence[object]]) -> None:
        """Store commits given as :func:`auditor.ledger.commits.commit_columns` rows."""
        self.db.executemany(
            "INSERT OR IGNORE INTO commits VALUES (?,?,?, ?,?,?,?,?,?, ?,?,?,?,?,?, ?,?,?,?,?, ?)",
            ((repo_id, *row) for row in rows),
        )
        people = {(repo_id, *row[4:6], *row[2:4]) for row in rows}
        people.update((repo_id, *row[10:12], *row[8:10]) for row in rows)
        self.db.executemany("INSERT OR IGNORE INTO identities VALUES (?,?,?,?,?)", people)

    def add_change_rows(self, repo_id: int, rows: Iterable[Sequence[object]]) -> None:
        """Store diffs given as :func:`auditor.ledger.changes.change_row` rows (sha, files, added,
        deleted)."""
        self.db.executemany(
            "INSERT OR IGNORE INTO changes VALUES (?,?,?,?,?)", ((repo_id, *row) for row in rows)
        )

    # -- branch state -------------------------------------------------------------------------

    def branch_tip(self, repo_id: int, branch: str) -> CommitSha | None:
        row = self.db.execute(
            "SELECT tip FROM branches WHERE repo_id = ? AND name = ?", (repo_id, branch)
        ).fetchone()
        return CommitSha(row[0]) if row else None

    def branch_names(self, repo_id: int) -> list[BranchName]:
        rows = self.db.execute(
            "SELECT name FROM branches WHERE repo_id = ? ORDER BY name", (repo_id,)
        )
        return [BranchName(row[0]) for row in rows]

    def chain_length(self, repo_id: int, branch: str) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM chain WHERE repo_id = ? AND branch = ?", (repo_id, branch)
        ).fetchone()
        return int(row[0])

    def chain_shas(self, repo_id: int, branch: str) -> set[str]:
        rows = self.db.execute(
            "SELECT sha FROM chain WHERE repo_id = ? AND branch = ?", (repo_id, branch)
        )
        return {row[0] for row in rows}

    def custody_commits(self, repo_id: int, branch: str) -> set[str]:
        rows = self.db.execute(
            "SELECT commit_sha FROM custody WHERE repo_id = ? AND branch = ?", (repo_id, branch)
        )
        return {row[0] for row in rows}

    def history_checked(self, repo_id: int, branch: str) -> bool:
        """Whether the branch's ledger, as it is now, was found whole (``mark_history_checked``)."""
        row = self.db.execute(
            "SELECT checked = tip FROM branches WHERE repo_id = ? AND name = ?", (repo_id, branch)
        ).fetchone()
        return bool(row and row[0])

    def mark_history_checked(self, repo_id: int, branch: str) -> None:
        """Record that the branch's ledger holds together at its tip (any update forgets it)."""
        self.db.execute(
            "UPDATE branches SET checked = tip WHERE repo_id = ? AND name = ?", (repo_id, branch)
        )

    def stored_history(
        self, repo_id: int, branch: str
    ) -> tuple[list[CommitSha], dict[CommitSha, tuple[CommitSha, ...]]]:
        """The branch's chain, oldest first, and every commit of its custody with the parents
        its commit object names."""
        chain = [
            CommitSha(row[0])
            for row in self.db.execute(
                "SELECT sha FROM chain WHERE repo_id = ? AND branch = ? ORDER BY position",
                (repo_id, branch),
            )
        ]
        rows = self.db.execute(
            """SELECT c.sha, c.parents FROM custody cu
               JOIN commits c ON c.repo_id = cu.repo_id AND c.sha = cu.commit_sha
               WHERE cu.repo_id = ? AND cu.branch = ?""",
            (repo_id, branch),
        )
        parents = {CommitSha(sha): tuple(CommitSha(p) for p in line.split()) for sha, line in rows}
        return chain, parents

    def chain_landings(self, repo_id: int, branch: str) -> list[tuple[str, int]]:
        """(sha, landed at in seconds since the epoch) of the branch's chain, oldest first."""
        rows = self.db.execute(
            """SELECT ch.sha, c.committer_time FROM chain ch
               JOIN commits c ON c.repo_id = ch.repo_id AND c.sha = ch.sha
               WHERE ch.repo_id = ? AND ch.branch = ? ORDER BY ch.position""",
            (repo_id, branch),
        )
        return [(str(sha), int(when)) for sha, when in rows]

    def custody_changes(self, repo_id: int, branch: str) -> dict[str, str]:
        """Every commit the branch's changes brought in → the change that brought it."""
        rows = self.db.execute(
            "SELECT commit_sha, change_sha FROM custody WHERE repo_id = ? AND branch = ?",
            (repo_id, branch),
        )
        return {str(c): str(ch) for c, ch in rows}

    def update_branch(
        self,
        repo_id: int,
        branch: str,
        tip: str,
        chain: Sequence[str],
        owners: Mapping[CommitSha, CommitSha],
        *,
        append: bool,
        mined_at: datetime,
        seen_at: datetime | None = None,
    ) -> None:
        """Record the branch's chain and custody; ``append`` extends, otherwise replaces.
        ``seen_at`` (default ``mined_at``) becomes the branch's first mining if it has none."""
        start = self.chain_length(repo_id, branch) if append else 0
        if not append:
            self.db.execute("DELETE FROM chain WHERE repo_id = ? AND branch = ?", (repo_id, branch))
            self.db.execute(
                "DELETE FROM custody WHERE repo_id = ? AND branch = ?", (repo_id, branch)
            )
        self.db.executemany(
            "INSERT INTO chain VALUES (?,?,?,?)",
            ((repo_id, branch, start + i, sha) for i, sha in enumerate(chain)),
        )
        self.db.executemany(
            "INSERT OR REPLACE INTO custody VALUES (?,?,?,?)",
            ((repo_id, branch, commit, change) for commit, change in owners.items()),
        )
        self.db.execute(
            """INSERT INTO branches (repo_id, name, tip, mined_at, first_mined)
               VALUES (?,?,?,?,?)
               ON CONFLICT (repo_id, name) DO UPDATE SET tip = excluded.tip,
                   mined_at = excluded.mined_at, checked = '',
                   first_mined = COALESCE(branches.first_mined, excluded.first_mined)""",
            (
                repo_id,
                branch,
                tip,
                int(mined_at.timestamp()),
                int((seen_at or mined_at).timestamp()),
            ),
        )

    def watches(self, repo_id: int) -> dict[BranchName, datetime | None]:
        """When each branch of the repository was first mined (None: not recorded)."""
        rows = self.db.execute(
            "SELECT name, first_mined FROM branches WHERE repo_id = ?", (repo_id,)
        )
        return {BranchName(name): _utc_or_none(first) for name, first in rows}

    def add_event(self, repo_id: int, event: HistoryEvent) -> None:
        self.db.execute(
            "INSERT INTO events (repo_id, kind, branch, detected_at, old_tip, new_tip, lost)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                repo_id,
                event.kind,
                event.branch,
                int(event.detected_at.timestamp()),
                event.old_tip,
                event.new_tip,
                json.dumps(list(event.lost)),
            ),
        )

    def keep_rewritten(self, repo_id: int, branch: str, event: HistoryEvent) -> int:
        """Keep the changes of the branch's current chain that ``event`` made unreachable, with
        the commits they brought in that it lost, before the chain is replaced; returns how
        many. A change kept by an earlier rewrite keeps its first detection time."""
        lost = set(event.lost)
        rows = self.db.execute(
            "SELECT position, sha FROM chain WHERE repo_id = ? AND branch = ?", (repo_id, branch)
        )
        dropped = {sha: position for position, sha in rows if sha in lost}
        detected = int(event.detected_at.timestamp())
        self.db.executemany(
            "INSERT OR IGNORE INTO rewritten VALUES (?,?,?,?,?)",
            ((repo_id, branch, sha, pos, detected) for sha, pos in dropped.items()),
        )
        custody = self.db.execute(
            "SELECT commit_sha, change_sha FROM custody WHERE repo_id = ? AND branch = ?",
            (repo_id, branch),
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO rewritten_custody VALUES (?,?,?,?)",
            (
                (repo_id, branch, commit, change)
                for commit, change in custody
                if change in dropped and commit in lost
            ),
        )
        return len(dropped)

    def events(self, repo_id: int) -> list[HistoryEvent]:
        rows = self.db.execute(
            "SELECT kind, branch, detected_at, old_tip, new_tip, lost FROM events"
            " WHERE repo_id = ? ORDER BY id",
            (repo_id,),
        )
        return [
            HistoryEvent(
                kind=EventKind(kind),
                branch=BranchName(branch),
                detected_at=datetime.fromtimestamp(detected, UTC),
                old_tip=CommitSha(old),
                new_tip=CommitSha(new),
                lost=tuple(CommitSha(s) for s in json.loads(lost)),
            )
            for kind, branch, detected, old, new, lost in rows
        ]

    # -- review data --------------------------------------------------------------------------

    def review_cursor(self, repo_id: int, forge: str, base_ref: str) -> str | None:
        row = self.db.execute(
            "SELECT updated_at FROM review_cursors"
            " WHERE repo_id = ? AND forge = ? AND base_ref = ?",
            (repo_id, forge, base_ref),
        ).fetchone()
        return str(row[0]) if row else None

    def add_review_bundles(
        self,
        repo_id: int,
        forge: str,
        base_ref: str,
        bundles: Iterable[tuple[int, str, Mapping[str, Any]]],
        cursor: str | None,
    ) -> None:
        """Store raw request payloads (number, updated_at, bundle) and advance the cursor."""
        self.db.executemany(
            "INSERT OR REPLACE INTO review_bundles VALUES (?,?,?,?,?,?)",
            (
                (repo_id, forge, number, base_ref, updated, json.dumps(bundle, sort_keys=True))
                for number, updated, bundle in bundles
            ),
        )
        if cursor is not None:
            self.db.execute(
                "INSERT OR REPLACE INTO review_cursors VALUES (?,?,?,?)",
                (repo_id, forge, base_ref, cursor),
            )

    def review_bundles(self, repo_id: int, forge: str, base_ref: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT bundle FROM review_bundles WHERE repo_id = ? AND forge = ? AND base_ref = ?"
            " ORDER BY number",
            (repo_id, forge, base_ref),
        )
        return [json.loads(row[0]) for row in rows]

    # -- deployments ----------------------------------------------------------------------------

    def deployment_source(self, repo_id: int, source: str) -> tuple[bool, int | None]:
        """Whether ``source`` was read before, and where what the store holds of it begins
        (seconds since the epoch; None: from its first deployment)."""
        row = self.db.execute(
            "SELECT covered_from FROM deployment_sources WHERE repo_id = ? AND source = ?",
            (repo_id, source),
        ).fetchone()
        return (row is not None, row[0] if row else None)

    def deployment_keys(self, repo_id: int, source: str) -> list[tuple[str, int, int | None]]:
        """(id, deployed_at, seq) of every deployment of ``source`` the store holds."""
        rows = self.db.execute(
            "SELECT id, deployed_at, seq FROM deployments WHERE repo_id = ? AND source = ?",
            (repo_id, source),
        )
        return [(str(r[0]), int(r[1]), r[2]) for r in rows]

    def add_deployments(
        self,
        repo_id: int,
        source: str,
        rows: Iterable[tuple[str, int, int | None, str]],
        *,
        covered_from: int | None,
        first_read: bool,
        gap: tuple[int, int, int, str] | None = None,
    ) -> None:
        """Keep what one read held of ``source``: deployments (id, deployed_at, seq, record;
        one already held keeps its first record), its coverage start on a first read, and a
        gap (after, before, detected_at, reason) when the read no longer overlaps the last."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO deployments VALUES (?,?,?,?,?,?)",
                ((repo_id, source, i, at, seq, record) for i, at, seq, record in rows),
            )
            if first_read:
                self.db.execute(
                    "INSERT OR IGNORE INTO deployment_sources VALUES (?,?,?)",
                    (repo_id, source, covered_from),
                )
            if gap is not None:
                self.db.execute(
                    "INSERT OR IGNORE INTO deployment_gaps VALUES (?,?,?,?,?,?)",
                    (repo_id, source, *gap),
                )

    def add_observation(self, repo_id: int, source: str, observed_at: int, record: str) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR IGNORE INTO deployment_observations VALUES (?,?,?,?)",
                (repo_id, source, observed_at, record),
            )

    def deployment_records(self, repo_id: int) -> list[str]:
        rows = self.db.execute(
            "SELECT record FROM deployments WHERE repo_id = ? ORDER BY deployed_at, source, id",
            (repo_id,),
        )
        return [str(r[0]) for r in rows]

    def observation_records(self, repo_id: int) -> list[str]:
        rows = self.db.execute(
            "SELECT record FROM deployment_observations WHERE repo_id = ?"
            " ORDER BY source, observed_at",
            (repo_id,),
        )
        return [str(r[0]) for r in rows]

    def deployment_gaps(self, repo_id: int) -> list[tuple[str, int, int, int, str]]:
        """(source, after, before, detected_at, reason) of every recorded gap."""
        rows = self.db.execute(
            "SELECT source, after, before, detected_at, reason FROM deployment_gaps"
            " WHERE repo_id = ? ORDER BY source, after",
            (repo_id,),
        )
        return [(str(r[0]), int(r[1]), int(r[2]), int(r[3]), str(r[4])) for r in rows]

    def deployment_coverage(self, repo_id: int) -> dict[str, int | None]:
        rows = self.db.execute(
            "SELECT source, covered_from FROM deployment_sources WHERE repo_id = ?", (repo_id,)
        )
        return {str(r[0]): r[1] for r in rows}

    # -- branch protection and request checks ---------------------------------------------------

    def add_snapshot(
        self, repo_id: int, forge: str, branch: str, collected_at: str, raw: Mapping[str, Any]
    ) -> None:
        """Keep one raw protection snapshot (a timeline: earlier ones stay)."""
        self.db.execute(
            "INSERT OR REPLACE INTO protection_snapshots VALUES (?,?,?,?,?)",
            (repo_id, forge, branch, collected_at, json.dumps(raw, sort_keys=True)),
        )

    def snapshots(self, repo_id: int, forge: str, branch: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT raw FROM protection_snapshots WHERE repo_id = ? AND forge = ? AND branch = ?"
            " ORDER BY collected_at",
            (repo_id, forge, branch),
        )
        return [json.loads(row[0]) for row in rows]

    def add_request_checks(
        self, repo_id: int, forge: str, rows: Iterable[tuple[int, str, Mapping[str, Any]]]
    ) -> None:
        """Keep the raw checks (number, head SHA, raw) of merged requests, replacing older."""
        self.db.executemany(
            "INSERT OR REPLACE INTO request_checks VALUES (?,?,?,?,?)",
            (
                (repo_id, forge, number, head, json.dumps(raw, sort_keys=True))
                for number, head, raw in rows
            ),
        )

    def request_checks(self, repo_id: int, forge: str) -> dict[int, tuple[str, dict[str, Any]]]:
        rows = self.db.execute(
            "SELECT number, head_sha, raw FROM request_checks WHERE repo_id = ? AND forge = ?"
            " ORDER BY number",
            (repo_id, forge),
        )
        return {int(n): (str(head), json.loads(raw)) for n, head, raw in rows}

    def cached_page(self, url: str) -> tuple[str, str, str | None] | None:
        row = self.db.execute(
            "SELECT etag, body, next_url FROM http_cache WHERE url = ?", (url,)
        ).fetchone()
        return (str(row[0]), str(row[1]), row[2]) if row else None

    def cache_page(self, url: str, etag: str, body: str, next_url: str | None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO http_cache VALUES (?,?,?,?)", (url, etag, body, next_url)
        )

    # -- infrastructure analyses --------------------------------------------------------------

    def analyses(self, repo_id: int, rules: str, shas: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(shas), 500):
            part = list(shas[start : start + 500])
            rows = self.db.execute(
                f"SELECT sha, data FROM analyses WHERE repo_id = ? AND rules = ?"
                f" AND sha IN ({','.join('?' * len(part))})",
                (repo_id, rules, *part),
            )
            found.update((str(sha), str(data)) for sha, data in rows)
        return found

    def add_analyses(self, repo_id: int, rules: str, data: Mapping[str, str]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO analyses VALUES (?,?,?,?)",
            ((repo_id, sha, rules, text) for sha, text in data.items()),
        )

    # -- scheduled runs -----------------------------------------------------------------------

    def add_run(self, run: RunRecord) -> int:
        """Record a scheduled run; returns its id."""
        with self.transaction():
            cursor = self.db.execute(
                "INSERT INTO runs (as_of, period, since, until, config, config_sha256,"
                " tool_version, repositories, exit_code, pack, manifest_sha256, started_at,"
                " finished_at, notes, previous_run, previous_manifest_sha256, chained)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    int(run.as_of.timestamp()),
                    run.period,
                    *_stamps(run.since, run.until),
                    run.config,
                    run.config_sha256,
                    run.tool_version,
                    run.repositories_json(),
                    _RUN_CODES[run.outcome],
                    run.pack,
                    run.manifest_sha256,
                    *_stamps(run.started_at, run.finished_at),
                    json.dumps(list(run.notes)),
                    run.previous_run,
                    run.previous_manifest_sha256,
                    int(run.chained),
                ),
            )
        return int(cursor.lastrowid or 0)

    def runs(self, limit: int | None = None) -> list[RunRecord]:
        """Recorded runs, oldest first (the newest ``limit`` when given)."""
        rows = self.db.execute(
            "SELECT * FROM (SELECT id, as_of, period, since, until, config, config_sha256,"
            " tool_version, repositories, exit_code, pack, manifest_sha256, started_at,"
            " finished_at, notes, previous_run, previous_manifest_sha256, chained"
            " FROM runs ORDER BY id DESC LIMIT ?) ORDER BY id",
            (-1 if limit is None else limit,),
        )
        return [
            RunRecord(
                id=int(rid),
                as_of=_utc(as_of),
                period=str(period),
                since=_utc_or_none(since),
                until=_utc_or_none(until),
                config=str(config),
                config_sha256=str(config_sha),
                tool_version=str(version),
                repositories=tuple(RepositoryRecord.decode(r) for r in json.loads(repos)),
                outcome=_RUN_OUTCOMES.get(int(code), Outcome.INTERNAL),
                pack=str(pack),
                manifest_sha256=str(manifest),
                started_at=_utc_or_none(started),
                finished_at=_utc_or_none(finished),
                notes=tuple(json.loads(notes)),
                previous_run=None if previous is None else int(previous),
                previous_manifest_sha256=str(previous_manifest),
                chained=bool(chained),
            )
            for (rid, as_of, period, since, until, config, config_sha, version, repos, code,
                 pack, manifest, started, finished, notes, previous, previous_manifest,
                 chained) in rows
        ]  # fmt: skip

    # -- reading the ledger -------------------------------------------------------------------

    def changes(
        self,
        repo_id: int,
        branch: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        bots: BotPolicy = DEFAULT_BOTS,
    ) -> Iterator[Change]:
        """The changes of a branch landed within ``[since, until]``, oldest first."""
        query = f"""SELECT {_COMMIT_COLUMNS}, d.files FROM chain ch
            JOIN commits c ON c.repo_id = ch.repo_id AND c.sha = ch.sha
            JOIN changes d ON d.repo_id = ch.repo_id AND d.sha = ch.sha
            WHERE ch.repo_id = ? AND ch.branch = ? {_period_sql(since, until)}
            ORDER BY ch.position"""
        for row in self.db.execute(query, (repo_id, branch, *_period_args(since, until))):
            commit = commit_from_columns(row[:-1], bots)
            files = tuple(_file_from_row(f) for f in json.loads(row[-1]))
            yield Change(
                commit=commit, files=files, request=_request(commit), branch=BranchName(branch)
            )

    def rewritten_changes(
        self,
        repo_id: int,
        branch: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        bots: BotPolicy = DEFAULT_BOTS,
    ) -> Iterator[Change]:
        """The changes that landed on a branch within ``[since, until]`` and were later rewritten
        away from it (and are not back on it), in the order they stood on it."""
        query = f"""SELECT {_COMMIT_COLUMNS}, d.files, rw.detected_at FROM rewritten rw
            JOIN commits c ON c.repo_id = rw.repo_id AND c.sha = rw.change_sha
            JOIN changes d ON d.repo_id = rw.repo_id AND d.sha = rw.change_sha
            WHERE rw.repo_id = ? AND rw.branch = ? {_period_sql(since, until)}
              AND NOT EXISTS (SELECT 1 FROM chain ch WHERE ch.repo_id = rw.repo_id
                              AND ch.branch = rw.branch AND ch.sha = rw.change_sha)
            ORDER BY rw.detected_at, rw.position"""
        for row in self.db.execute(query, (repo_id, branch, *_period_args(since, until))):
            commit = commit_from_columns(row[:-2], bots)
            yield Change(
                commit=commit,
                files=tuple(_file_from_row(f) for f in json.loads(row[-2])),
                request=_request(commit),
                branch=BranchName(branch),
                rewritten=_utc(row[-1]),
            )

    def rewritten_custody_in_period(
        self,
        repo_id: int,
        branch: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        bots: BotPolicy = DEFAULT_BOTS,
    ) -> Iterator[tuple[Commit, CustodyLink]]:
        """Every commit a rewritten-away change of the period had brought in (as
        :meth:`rewritten_changes` lists them), with that change."""
        query = f"""SELECT {_COMMIT_COLUMNS}, rc.change_sha FROM rewritten rw
            JOIN commits x ON x.repo_id = rw.repo_id AND x.sha = rw.change_sha
            JOIN rewritten_custody rc ON rc.repo_id = rw.repo_id AND rc.branch = rw.branch
                 AND rc.change_sha = rw.change_sha
            JOIN commits c ON c.repo_id = rc.repo_id AND c.sha = rc.commit_sha
            WHERE rw.repo_id = ? AND rw.branch = ? {_period_sql(since, until, alias="x")}
              AND NOT EXISTS (SELECT 1 FROM chain ch WHERE ch.repo_id = rw.repo_id
                              AND ch.branch = rw.branch AND ch.sha = rw.change_sha)
            ORDER BY rw.detected_at, rw.position, c.committer_time, c.sha"""
        for row in self.db.execute(query, (repo_id, branch, *_period_args(since, until))):
            commit = commit_from_columns(row[:-1], bots)
            yield commit, CustodyLink(commit=commit.sha, change=CommitSha(row[-1]))

    def head_at(
        self, repo_id: int, branch: str, when: datetime
    ) -> tuple[CommitSha, datetime] | None:
        """The last change that had landed on a branch at ``when``, and when it landed: the
        latest of its chain at or before then, or of those rewritten away after then; None
        when nothing had landed."""
        at = int(when.timestamp())
        found = self.db.execute(
            """SELECT sha, t FROM (
                SELECT ch.sha AS sha, c.committer_time AS t, ch.position AS p, 1 AS kept
                FROM chain ch JOIN commits c ON c.repo_id = ch.repo_id AND c.sha = ch.sha
                WHERE ch.repo_id = ? AND ch.branch = ? AND c.committer_time <= ?
                UNION ALL
                SELECT rw.change_sha, c.committer_time, rw.position, 0
                FROM rewritten rw JOIN commits c ON c.repo_id = rw.repo_id
                     AND c.sha = rw.change_sha
                WHERE rw.repo_id = ? AND rw.branch = ? AND c.committer_time <= ?
                  AND rw.detected_at > ?
            ) ORDER BY t DESC, kept DESC, p DESC LIMIT 1""",
            (repo_id, branch, at, repo_id, branch, at, at),
        ).fetchone()
        return (CommitSha(found[0]), _utc(found[1])) if found else None

    def custody_commits_in_period(
        self,
        repo_id: int,
        branch: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        bots: BotPolicy = DEFAULT_BOTS,
    ) -> Iterator[tuple[Commit, CustodyLink]]:
        """Every commit brought in by a change of the period, with that change, in chain order."""
        query = f"""SELECT {_COMMIT_COLUMNS}, cu.change_sha FROM chain ch
            JOIN commits x ON x.repo_id = ch.repo_id AND x.sha = ch.sha
            JOIN custody cu ON cu.repo_id = ch.repo_id AND cu.branch = ch.branch
                 AND cu.change_sha = ch.sha
            JOIN commits c ON c.repo_id = cu.repo_id AND c.sha = cu.commit_sha
            WHERE ch.repo_id = ? AND ch.branch = ? {_period_sql(since, until, alias="x")}
            ORDER BY ch.position, c.committer_time, c.sha"""
        for row in self.db.execute(query, (repo_id, branch, *_period_args(since, until))):
            commit = commit_from_columns(row[:-1], bots)
            yield commit, CustodyLink(commit=commit.sha, change=CommitSha(row[-1]))


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


_COMMIT_FIELDS = (
    "sha", "parents",
    "author_name", "author_email", "author_raw_name", "author_raw_email",
    "author_time", "author_offset",
    "committer_name", "committer_email", "committer_raw_name", "committer_raw_email",
    "committer_time", "committer_offset",
    "subject", "body", "trailers", "signature", "encoding", "notes",
)  # fmt: skip
_COMMIT_COLUMNS = ", ".join(f"c.{name}" for name in _COMMIT_FIELDS)


def _period_sql(since: datetime | None, until: datetime | None, alias: str = "c") -> str:
    sql = ""
    if since is not None:
        sql += f" AND {alias}.committer_time >= ?"
    if until is not None:
        sql += f" AND {alias}.committer_time <= ?"
    return sql


def _period_args(since: datetime | None, until: datetime | None) -> tuple[int, ...]:
    return tuple(int(t.timestamp()) for t in (since, until) if t is not None)


# A run's outcome, as the ``exit_code`` column has always held it: the number the run exited
# with (the documented exit codes; tests/ledger/test_store.py holds it to the CLI's table).
_RUN_CODES = {
    Outcome.PASSED: 0,
    Outcome.CONTROLS_FAILED: 1,
    Outcome.BAD_INPUT: 2,
    Outcome.INTERNAL: 3,
    Outcome.INCOMPLETE: 4,
    Outcome.INTERRUPTED: 130,
}
_RUN_OUTCOMES = {code: outcome for outcome, code in _RUN_CODES.items()}


def _stamps(*whens: datetime | None) -> tuple[int | None, ...]:
    return tuple(None if w is None else int(w.timestamp()) for w in whens)


def _utc(seconds: object) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)  # type: ignore[call-overload]


def _utc_or_none(seconds: object) -> datetime | None:
    return None if seconds is None else _utc(seconds)


def _file_from_row(row: list[object]) -> FileChange:
    path, old, kind, added, deleted, binary, submodule, old_blob, new_blob = row
    return FileChange(
        path=str(path),
        old_path=None if old is None else str(old),
        change_type=ChangeType(kind),
        lines_added=int(added),  # type: ignore[call-overload]
        lines_deleted=int(deleted),  # type: ignore[call-overload]
        binary=bool(binary),
        submodule=bool(submodule),
        old_blob=str(old_blob),
        new_blob=str(new_blob),
    )


def _request(commit: Commit) -> RequestRef | None:
    return request_ref(commit.subject, commit.body)
