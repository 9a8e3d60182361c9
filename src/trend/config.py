"""Runtime configuration read from the environment, in one place.

Database names can carry a prefix (``TP_DB_PREFIX``) so that test runs and
parallel developers never share tables; production leaves it empty.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

REPO_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = REPO_ROOT / "include" / "sql"

LOGICAL_DATABASES = ("gb_console", "analyzer_v2", "ds_analyzer")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_]{1,64}$")

DEFAULT_MYSQL_URL = "mysql://root@127.0.0.1:3306"


class ConfigError(ValueError):
    """A configuration value is missing or malformed."""


def db_prefix() -> str:
    prefix = os.environ.get("TP_DB_PREFIX", "")
    if prefix and not _IDENTIFIER.match(prefix):
        raise ConfigError(f"TP_DB_PREFIX {prefix!r} must be letters, digits or _")
    return prefix


def db_name(logical: str) -> str:
    """Physical database name for one of the three logical databases."""
    if logical not in LOGICAL_DATABASES:
        raise ConfigError(f"unknown database {logical!r}; expected one of {LOGICAL_DATABASES}")
    return f"{db_prefix()}{logical}"


def quote_identifier(name: str) -> str:
    """Backtick-quote a database/table identifier after validating it.

    Identifiers cannot be bound as SQL parameters, so we only ever format
    names that pass this check.
    """
    if not _IDENTIFIER.match(name):
        raise ConfigError(f"refusing unsafe SQL identifier {name!r}")
    return f"`{name}`"


@dataclass(frozen=True)
class MysqlSettings:
    host: str
    port: int
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> MysqlSettings:
        parsed = urlparse(url)
        if parsed.scheme not in ("mysql", "mariadb"):
            raise ConfigError("MYSQL_URL must look like mysql://user[:password]@host[:port]")
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 3306,
            user=unquote(parsed.username or "root"),
            password=unquote(parsed.password or ""),
        )

    def url(self) -> str:
        """The ``mysql://`` URL ``from_url`` reads (password included: for environments, never logs)."""
        auth = quote(self.user, safe="") + (f":{quote(self.password, safe='')}" if self.password else "")
        return f"mysql://{auth}@{self.host}:{self.port}"

    @classmethod
    def from_env(cls) -> MysqlSettings:
        return cls.from_url(os.environ.get("MYSQL_URL", DEFAULT_MYSQL_URL))

    def jdbc_url(self, database: str) -> str:
        """JDBC URL for the MariaDB Connector/J that Debian ships."""
        return (
            f"jdbc:mysql://{self.host}:{self.port}/{database}"
            "?permitMysqlScheme&useBulkStmts=true&rewriteBatchedStatements=true"
        )

    def __repr__(self) -> str:  # never print the password
        return f"MysqlSettings(host={self.host!r}, port={self.port}, user={self.user!r})"
