"""Versioned migrations for the three databases.

Files live in ``include/sql/migrations/<logical_db>/NNNN_name.sql``. Each
database records what ran in its own ``schema_migrations`` table, so applying
twice changes nothing; a file whose checksum changed after it ran is an error.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from trend.config import LOGICAL_DATABASES, SQL_DIR, db_name, quote_identifier
from trend.db import connect

log = logging.getLogger(__name__)
MIGRATIONS_DIR = SQL_DIR / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    database: str
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self) -> list[str]:
        """Split on ';' at end of line. Our DDL has no procedures or triggers."""
        body = "\n".join(line for line in self.sql.splitlines() if not line.lstrip().startswith("--"))
        return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


def discover(database: str) -> list[Migration]:
    folder = MIGRATIONS_DIR / database
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path} must be named NNNN_name.sql")
        found.append(Migration(database, int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {folder}")
    return found


_TRACKING_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(128) NOT NULL,
  checksum CHAR(64) NOT NULL,
  applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
)"""


def migrate(databases: tuple[str, ...] = LOGICAL_DATABASES, target: int | None = None) -> dict[str, list[int]]:
    """Create the databases if needed and apply pending migrations. Returns what ran.

    ``target``: stop after this version (tests build a database at an older version with it).
    """
    applied: dict[str, list[int]] = {}
    server = connect()
    try:
        cur = server.cursor()
        for logical in databases:
            cur.execute(
                f"CREATE DATABASE IF NOT EXISTS {quote_identifier(db_name(logical))} "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        server.commit()
    finally:
        server.close()
    for logical in databases:
        applied[logical] = _migrate_one(logical, target)
    return applied


def _migrate_one(logical: str, target: int | None = None) -> list[int]:
    conn = connect(logical)
    ran = []
    try:
        cur = conn.cursor()
        cur.execute(_TRACKING_DDL)
        cur.execute("SELECT version, checksum FROM schema_migrations")
        done = dict(cur.fetchall())
        for migration in discover(logical):
            if target is not None and migration.version > target:
                break
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"{logical} migration {migration.version} ({migration.name}) changed "
                        "after it was applied; add a new migration instead of editing it"
                    )
                continue
            for statement in migration.statements():
                cur.execute(statement)
            cur.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            conn.commit()
            log.info("applied %s migration %04d_%s", logical, migration.version, migration.name)
            ran.append(migration.version)
    finally:
        conn.close()
    return ran


def drop_databases(databases: tuple[str, ...] = LOGICAL_DATABASES) -> None:
    """Drop the (prefixed) databases; used by tests and `make demo-reset`."""
    conn = connect()
    try:
        cur = conn.cursor()
        for logical in databases:
            cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(db_name(logical))}")
        conn.commit()
    finally:
        conn.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(migrate())
